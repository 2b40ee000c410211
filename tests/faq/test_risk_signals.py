"""Signal classes of faq/risk.py, one table of Chinese and English phrasings each.

Each live phrasing must raise its reason; each generic counterpart must raise none. The
phrasings are written the way members write: colloquial, no punctuation, Traditional
characters, full-width, typos, mixed languages.
"""

from __future__ import annotations

import pytest

from faq.engine import TriageEngine
from faq.loader import load_knowledge_base
from faq.normalize import fold
from faq.risk import assess, risk_reasons

SIGNALS: dict[str, list[str]] = {
    "lawyer_letter": [
        "昨天对方律师事务所寄来一份律师函",
        "老板刚签收了一封律师函 是深圳一家公司发的",
        "收到律師函了 說我們網站上的圖片侵權",
        "客户那边转来一封警告函",
        "大牌已经发来警告",
        "对方寄了存证信函过来",
        "美国那边有个律师发邮件给我们",
        "我们收到了一个cease and desist letter",
        "we got a letter from their lawyers yesterday",
        "They sent us a C&D over the name of our new product line",
        "my boss just got a demand letter from Philips' lawyers",
        "we recieved a cease and desist leter from apple",
        "How should I reply to the warning letter we got last week from Bosch?",
        "Got an email from an IP law firm in the US today about our product",
        "opposing counsel wants a settlement",
        "a lawyer from hong kong sent email say our plush bear copy their character",
        "对方律所发函称我方官网使用的字体侵权",
        "we get C&D from german company about our bottle design",
        "we receive letter from law firm in shanghai on behalf of a brand",
        "lawyer of apple brand contact our sales manager by wechat",
        "we need somebody to write reply to the C&D before 30th",
    ],
    "lawsuit": [
        "法院寄来传票 下个月开庭",
        "收到杭州中院的应诉通知书和起诉状",
        "公司被起訴侵犯商標權 下週要交答辯狀",
        "我们被一家深圳公司起诉了 说我们的耳机外观侵权",
        "亚马逊美国站的店被拉进schedule A的案子里了",
        "亞馬遜TRO 凍結了帳戶",
        "我们是被告 一审输了 商标侵权的",
        "got a court summons today re trademark infringement",
        "we were served with a complaint in the Hangzhou court",
        "our company has been named as defendant in a patent case",
        "we have been summoned to court in Guangzhou over a design patent",
        "the court granted their preliminary injunction on our patent case",
        "After the mediation failed they filed suit over the trademark",
        "we were named in a lawsuit in the US District Court with 200 other sellers",
        "need urgent help: court hearing in Suzhou tomorrow on a utility model dispute",
        "法院判决下来了 我们要赔8万 还能上诉吗",
        "court paper came today from shenzhen court",
        "we recieved summon from ningbo intermediate court",
        "they file lawsuit to us in hangzhou internet court",
        "we are sued in US by a brand, they ask 100k",
        "we are in TRO case in illinois, paypal frozen",
        "judge hearing is next month, we need lawyer",
        "我们被拉进了一个美国的诉讼 账户钱冻住了",
    ],
    "accused": [
        "我们去投诉他 结果他们反过来投诉我们侵权",
        "a taiwan brand says our slogan is same as their trademark",
        "对方说我们的包装抄袭他们的",
        "工商局的人说我们门店卖的包是假货",
        "有家公司让我们三日内下架所有侵权产品",
        "展会上被人投诉侵权了",
        "被拼多多判定售假 罚了保证金",
        "专利权人说我们的产品落入他们的权利要求",
        "A Japanese company is accusing us of copying their packaging",
        "a big brand says our logo is confusingly similar and asks us to rebrand",
        "They say our software uses their code without a licence",
        "a competitor filed a complaint with the market supervision bureau against us "
        "for trademark infringement",
        "Someone is threatening to report our taobao shop for infringement unless we pay",
        "we must respond to their patent infringement claim",
        "律师函里说我们的产品名称侵犯了他们的注册商标 让我们十天内改名",
        "市场监督管理局来电 说有人举报我们商标侵权",
        "a customer told us the product may infringe a patent in europe",
        "customer in germany tell us our lamp infringe design patent",
        "their lawyer say stop sell the phone case",
    ],
    "detained_goods": [
        "宁波海关把我们出口的一柜货扣了",
        "出口到德国的一批货被当地海关扣留了 说是假冒商标",
        "客户说德国海关扣了我们发过去的货",
        "市场监管局来我们店里查假冒商标",
        "our container was detained by ningbo customs",
        "customs at Shanghai port is holding 5 containers of our LED lights",
        "EU customs destroyed our shipment claiming it was counterfeit",
        "shipment stuck at customs because of a trademark dispute",
        "CBP seized our shipment at LA port",
        "we are being investigated by the market regulator for selling fake branded goods",
        "shipment stop at customs because of trademark, need documents",
        "container detained in rotterdam for suspected trademark infringement",
        "我们店里的货被市场监管局拿走了 说是商标侵权",
    ],
    "taken_down": [
        "我们天猫店被投诉侵权 三个链接都下架了",
        "1688上我们的产品链接被人恶意投诉删掉了",
        "淘宝店被投诉售假 扣了12分",
        "our products on Temu were taken down after an infringement complaint",
        "eBay removed 40 of our listings due to a VeRO report",
        "ebay VeRO took down all 120 of our listings",
        "our shopee shop was suspended for IP violation",
        "amazon remove 3 of our asin yesterday, they say copyright issue",
        "walmart shop suspended after rights owner complaint",
        "IPR complaint on alibaba, our products offline",
        "ebay delist our items due to VeRO",
        "tiktok shop take down our video for copyright claim",
    ],
    "frozen_account": [
        "拼多多店铺因为知识产权投诉被封了 钱也提不出来",
        "亚马逊账号被冻结了 说我们侵犯了别人的外观专利",
        "PayPal froze our account after a brand filed an IP complaint",
    ],
    "right_challenged": [
        "our invalidation response for the utility model is due soon",
        "我们的外观专利被对方提了无效宣告请求",
        "我们的商标被一个香港公司异议了",
        "我们的实用新型被人无效掉了",
        "someone filed an invalidation request against our design patent",
        "our trademark is being challenged for non-use by a company in Shanghai",
        "we received a notice of opposition against our TM application",
        "our utility model was declared invalid after the other side's request",
        "刚收到专利局的无效宣告请求受理通知 对方是我们的竞争对手",
        "our trademark get non-use cancellation from competitor",
    ],
    "ownership_dispute": [
        "合作的研究所用他们单位的名义把我们的配方申请了专利",
        "the lab we worked with filed it only in the institute's name",
        "前员工离职后拿我们的技术用他自己名字申请了专利",
        "软著被前员工拿去以他个人名义登记了",
        "员工说那个发明是他下班在家做的 不肯签转让",
        "离职工程师要求公司给他专利奖励",
        "our former R&D manager filed a patent on our technology",
        "an ex-partner kept our domain and trademark after we split up",
        "my partner and i split up, he took the trademark certificate",
        "our employee filed the patent in his own name while working here",
        "An engineer who left says he is owed inventor remuneration for the patent",
        "chinese partner register our brand in china, contract ended",
        "代理商偷偷把我们的商标注册了",
    ],
    "partner_misuse": [
        "代工厂拿我们开的模具给别的客户做同样的货",
        "the factory is making the same cup for another customer with our molds",
        "合作的工厂偷偷把我们的模具拿去生产卖给别人",
        "合伙人退出后 用我们共同的商标开了新公司",
        "原来的合伙人现在用我们的商标开网店",
        "our supplier is now selling our patented blender under his own brand",
        "we are in a dispute with our former licensee who keeps using our brand",
        "supplier sell our mould product to other buyer without permission",
    ],
    "trade_secret": [
        "技术总监跳槽后把我们的配方泄露给新公司了",
        "我们员工私下把公司的产品设计图卖给了别的厂",
        "研发总监离职后入职竞争对手 三个月后对方就推出了跟我们一样的产品",
        "our former sales director stole customer lists and formulas",
        "a former engineer took our CAD drawings to a competitor",
        "we think our former partner is selling our recipe to a competitor",
        "our ex-designer posted our unreleased designs online and is selling them",
        "公司技术员把图纸拍照发给了竞争对手",
        "离职销售带走了我们的客户资料",
        "ex employee bring our customer list to new company",
        "离职的设计师把我们的设计稿发到网上卖",
    ],
    "own_infringement": [
        "我们准备做一款跟戴森很像的吹风机 会不会侵权",
        "我们这款产品用了别人专利里的结构 只改了一点点 还算侵权吗",
        "专利号CN202320456789.1 这个专利我们的产品能绕开吗",
        "我们做了一款和乐高兼容的积木 会被告吗",
        "does our new bluetooth speaker infringe their patent",
        "Is our product 'BlueWave' infringing the trademark 'Blue Wave'",
        "is our company at risk if we keep selling the old model after their patent was granted",
        "is it ok if we copy the shape of an expired design patent from Philips?",
        "请问专家能不能帮我们看看对方的专利 我们的新款会不会落入保护范围",
    ],
    "clearance": [
        "我们新产品下个月上市 想先查一下会不会侵犯别人专利",
        "能不能帮我们查查这个商标能不能用",
        "FTO检索能帮我们做吗",
        "can you do a freedom to operate search for our new e-bike",
        "can you tell me if our new packaging conflicts with Coca-Cola's trademark",
        "can we launch our new scooter in Germany? a competitor there holds a similar "
        "design patent",
        "need check if our new design infringe any patent before launch",
        "is our new logo ok to use? it look like nike a bit",
    ],
    "intent_to_sue": [
        "我们要不要直接起诉那家店",
        "should we sue them or just complain to the platform",
        "我们想告宁波一家公司抄袭我们的包装设计",
        "那家店一直卖我们的假货 我们要起诉他",
        "准备跟对方打官司 他们用了我们软件的源代码",
        "我们想告抄袭我们外观的那几家工厂",
        "We want to sue the factory that copied our mold",
        "we want to take XYZ Trading to court for copying our trademark",
        "planning to take legal action against a former distributor using our brand",
        "同行抄袭我们的包装 已经公证购买了 准备下个月起诉",
        "my design was copied by a big retailer, i want them to pay",
        "competitor copy our product exactly and sell on 1688, we want take action",
        "found a factory in yiwu making fake of our brand, want to stop them",
        "how we can make them pay for copy our catalog pictures",
    ],
    "contract_review": [
        "美国买家要我们签不侵权保证 这个协议能不能签",
        "the buyer wants unlimited liability for IP in the PO terms, should we sign",
        "我们和一家台湾公司签商标许可协议 帮我们看下许可费这条",
        "软件委托开发合同里著作权归属这条能帮我们改一下吗",
        "please look over the patent license agreement our partner sent us",
        "can you draft a trademark assignment contract for our deal",
        "a Korean buyer wants us to assign the trademark to them as part of the OEM deal",
        "想请专家帮我们审一下跟德国经销商的独家代理合同 里面有商标使用条款",
        "we want to license our utility model, need help drafting the agreement",
        "pls review our license agreement before sign",
        "please check agreement with our OEM factory about who own the mould design",
    ],
    "case_work": [
        "申请号2024105551234的发明专利收到审查意见通知书了 能帮答复吗",
        "我们的发明专利申请收到驳回决定了 能帮我们弄吗",
        "A seller is using our registered trademark, please take this case",
        "help us respond to the trademark opposition",
    ],
    "challenge_right": [
        "竞争对手的实用新型专利我们觉得根本不该授权 想提无效",
        "我们想对那个抢注我们商标的人提无效",
        "we'd like to invalidate a competitor's utility model patent",
        "our trademark application got rejected by cnipa last week, want to appeal",
        "我们的商标被驳回了 帮我们看看能不能复审",
    ],
    "case_number": [
        "专利号ZL202110234567.8 能不能帮看看",
        "我们的商标注册号是第12345678号",
        "案号(2025)浙02民初1234号 的专利案子",
        "got a refusal for our trademark application no. 68234511",
    ],
    "money": [
        "对方要我们赔30万 说我们用了他们的专利",
        "ＸＸ公司说我们侵犯商标权，要求赔偿２０万",
        "对方起诉我们要求赔偿一百万 专利的",
        "they are asking us for 300,000 rmb compensation for using their font",
        "a photographer's agency wants $1,200 for an image we used",
        "received a demand from a patent assertion entity for 25k",
    ],
    "demand": [
        "对方拿着专利证书来找我们 让我们交授权费",
        "代理商在越南把我们的商标注册了 现在要我们出钱买回来",
        "they want us to pay to buy our trademark back",
        "the licensee stopped paying royalties for our patent",
        "we signed an exclusive license for our trademark, they stopped paying after 6 months",
        "getty images ask us pay for photo on our website",
        "the licensee stop paying royalty since march",
        "they want us pay 30000 usd license fee or remove products",
    ],
    "sales_volume": [
        "隔壁厂抄我们的款 在拼多多上卖了三万多单",
        "淘宝有家店卖我们的同款商品 月销五千多件",
        "有人盗用我们的商标开店 月流水几十万",
        "Lianda is selling exact copies of our charger, sold 20k units already",
        "There is a fake version of our app with our logo, 100k downloads",
        "有人在闲鱼上卖我们的课程视频 盗版了几百份",
        "我们的发明专利被竞争对手用了 他们的年销售额过亿",
    ],
    "deadline": [
        "下周五前要回复对方 商标的事",
        "律师函要我们七个工作日内书面回复 说我们侵权",
        "我们成了被告 法院让我们十五日内提交答辩状",
        "对方起诉我们 开庭时间定在12月5日 专利的",
        "they give us 10 days to respond about the patent",
        "Received a cease and desist, they want us to stop selling by friday",
        "our trademark was opposed by Bluefin Foods, opposition filed 2 Sept",
        "cnipa examiner reject our invention claims, office action reply due next month",
    ],
    "lapsed_right": [
        "商标宽展期上周已经过了 一直没续",
        "查了一下我们的专利显示已终止 年费忘交了",
        "our trademark's grace period ran out in march, can we still save it",
        "my utility model patent has already lapsed, the agent never paid the fee",
    ],
    "rebuffed": [
        "跟对方沟通了好几次都不肯下架",
        "找博主私信了 他还说是他自己原创的",
        "we messaged the seller twice but they refuse to remove the photos",
        "the factory ignored our letter and keeps shipping",
    ],
    "transaction": [
        "有家上市公司想买我们的专利 估值怎么算",
        "我们打算打包收购一家破产企业的二十多件专利",
        "we are negotiating with a korean firm over royalties for our patent",
        "a fund wants to buy 8 of our trademarks, need a valuation",
    ],
    "bespoke_service": [
        "想请你们帮我们做一下中东市场的商标布局",
        "能不能为我们公司制定一个专利规划",
        "can your experts help us plan our patent filings for the US market",
    ],
    "named_party": [
        "永康有家厂把我们的保温杯外观照抄了",
        "a workshop in dongguan is casting our statue design",
        "慈溪市某某电器有限公司抢注了我们的商标",
        "有家店铺未经授权卖我们的产品 这家店叫xx家居专营店",
        "XYZ Co., Ltd. copied our trademark",
        "a competitor called BrightHome is using our product photos",
        "is our logo too close to haier's registered mark",
        "对方公司叫明达电子 抄了我们的充电器外观",
    ],
}

GENERIC = [
    "商标过期了几个月还能补救吗",
    "宽展期过了还能续展吗",
    "专利年费没交专利会终止吗",
    "what happens after the grace period ends",
    "宁波的公司怎么注册商标",
    "can a hong kong company register trademark in china",
    "以个人名义申请商标可以吗",
    "专利可以转让给别的公司吗",
    "你们都能帮企业做啥",
    "合同里的不侵权担保条款一般怎么写",
    "商标被抢注了对方不理怎么办",
    "收到律师函一般怎么办",
    "收到律师函后多久要回复",
    "律师函有法律效力吗",
    "被人说侵权了一般怎么处理",
    "被人告侵权的话 一般第一步做什么",
    "收到海关的侵权嫌疑通知后一般要做什么",
    "海关扣了货以后 权利人要交担保吗",
    "海关备案有效期多久",
    "什么是临时禁令",
    "亚马逊TRO是什么",
    "跨境电商被TRO了一般多久能解冻",
    "商标被驳回了还有办法吗",
    "被人搶註商標 可以提異議嗎",
    "商标被别人抢注了 一般怎么处理",
    "怎么证明我们的商标一直在用 防止被撤三",
    "我们的产品被仿了怎么办",
    "专利被宣告无效的概率大吗",
    "专利年费下周截止 还没交 会怎样",
    "我们的商标快到期了 要怎么续展",
    "商标被人用了 我们可以告他吗",
    "过了几年还能告侵权吗",
    "what should we do if we receive a cease and desist letter",
    "what does a cease and desist letter mean",
    "what is a TRO on amazon",
    "what is the limitation period for infringement in china",
    "what are statutory damages for trademark infringement",
    "what happens if our trademark is opposed",
    "how do I know if someone filed an opposition against my trademark",
    "can we be sued for using a font",
    "is it infringement to sell genuine products bought abroad",
    "infringement started years ago can we still sue",
    "what evidence do we need to sue a counterfeiter",
    "we want compensation which route",
    "our trademark expires next month, how do we renew",
    "got a letter asking us to pay patent fees, is it real",
    "what is the typical settlement amount for a trademark infringement case in china",
    "can the association represent us in court",
    "How do we get infringing listings removed from an e-commerce platform?",
    "我们想知道侵权赔偿一般怎么算",
    "someone copied our packaging design, what should we do first",
    "how long do customs keep detained goods",
    "FTO是什么",
    "是不是所有产品都要做侵权检索",
    "we plan to exhibit at a fair next month, should we file patents first",
    "跟对方有点纠纷 想先调解不想打官司 协会能帮忙吗",
    "想要赔偿应该走什么途径",
    "员工离职后带走的技术资料怎么保护",
    "what is a GBC case",
    "收到海关通知后要在几天内回复",
    "合伙人散伙后商标归谁",
    "can we let a patent lapse by not paying",
    "what is a TRO in general",
    "what is FTO search",
    "how long is limitation period for ip infringement in china",
    "what should our company do when receive a lawyer letter",
    "how to file a complaint on amazon against fake sellers",
    "how do we reply to a cease and desist letter",
    "what is the process if customs detain goods for suspected infringement",
    "can a distributor register our brand in another country",
    "what if the other side offers a settlement",
]


@pytest.mark.parametrize(
    ("reason", "text"),
    [(reason, text) for reason, texts in SIGNALS.items() for text in texts],
)
def test_signal_fires(reason: str, text: str) -> None:
    assert f"risk:{reason}" in risk_reasons(fold(text), in_remit=True)


@pytest.mark.parametrize("text", GENERIC)
def test_generic_question_is_not_a_case(text: str) -> None:
    assert risk_reasons(fold(text), in_remit=True) == ()


@pytest.mark.parametrize(
    "text",
    [
        "如果收到律师函 我们该怎么办",
        "要是对方起诉我们侵权 赔偿怎么算",
        "what if a former distributor registers our brand first",
        "if we get a cease and desist letter what should we do",
        "被起诉侵权的话 要准备什么",
    ],
)
def test_hypothetical_framing_makes_it_generic(text: str) -> None:
    assert risk_reasons(fold(text), in_remit=True) == ()


@pytest.mark.parametrize(
    "text",
    [
        "我们刚收到律师函 一般怎么处理",  # 刚: it happened
        "收到律师函 一般怎么处理 对方要我们赔20万",  # a fact
        "we just got a cease and desist, what do companies usually do",
    ],
)
def test_general_wording_does_not_hide_a_live_case(text: str) -> None:
    assert risk_reasons(fold(text), in_remit=True) != ()


def test_context_needs_a_fact() -> None:
    # "someone copies our product" is the inf-what-to-do topic …
    assert risk_reasons(fold("有人卖我们的山寨货 怎么办"), in_remit=True) == ()
    # … with a sales figure or a named company it is a case
    assert "risk:sales_volume" in risk_reasons(
        fold("有人卖我们的山寨货 月销两千多件"), in_remit=True
    )
    assert "risk:infringed" in risk_reasons(
        fold("宁波某某电器有限公司一直在卖跟我们一模一样的产品"), in_remit=False
    )


def test_ip_evidence_from_the_signal_itself() -> None:
    # no lexicon evidence, but an accusation of copying is about IP
    folded = fold("A Japanese company is accusing us of copying their packaging")
    assert risk_reasons(folded, in_remit=False) == ("risk:accused",)
    # a complaint about something else is not
    assert (
        risk_reasons(fold("they threaten to sue us over the late delivery"), in_remit=False) == ()
    )


def test_customs_paperwork_is_logistics() -> None:
    folded = fold("our shipment was held at customs because the invoice was wrong")
    assert risk_reasons(folded, in_remit=True) == ()
    folded = fold("our shipment was held at customs, they say the logo is fake")
    assert "risk:detained_goods" in risk_reasons(folded, in_remit=True)


@pytest.mark.parametrize(
    ("text", "matter"),
    [
        ("我们收到律师函 说我们侵犯外观专利", "dispute"),
        ("我们新产品下个月上市 想先查一下会不会侵犯别人专利 能帮做个FTO分析吗", "right"),
        ("前员工离职后拿我们的技术用他自己名字申请了专利", "right"),
        ("我们准备收购一家公司 想请专家帮忙做一下它名下商标专利的尽职调查", "service"),
        ("a photographer is demanding 30000 rmb because we used his photo", "weak_dispute"),
    ],
)
def test_kind_of_matter(text: str, matter: str) -> None:
    assert matter in assess(fold(text), in_remit=True).matters


@pytest.fixture(scope="module")
def engine() -> TriageEngine:
    return TriageEngine(load_knowledge_base())


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # disputes, accusations and enforcement: infringement whatever the right
        ("对方律师发来邮件说我们的包装抄袭他们 要我们月底前给答复", "infringement"),
        ("our amazon listings were removed after a design patent complaint", "infringement"),
        ("we want to take XYZ Trading to court for copying our trademark", "infringement"),
        ("专利号CN202320456789.1 这个专利我们的产品能绕开吗", "infringement"),
        ("an ex-employee took our source code to a rival startup", "infringement"),
        # the member's own right: its category
        ("我们的商标注册号是第12345678号 被人提了无效宣告", "trademark"),
        ("我们的外观专利被对方提了无效宣告请求 要一个月内答复", "patent"),
        ("软件委托开发合同里著作权归属这条能帮我们改一下吗 下周要签", "copyright"),
        ("can you do a freedom to operate search for our new e-bike", "patent"),
        (
            "is our new logo too similar to haier's registered mark? we launch in 2 weeks",
            "trademark",
        ),
        (
            "Someone registered our brand in Vietnam and now they want us to pay to buy it back",
            "trademark",
        ),
        ("our patent licensee hasn't paid royalties for 2 years, 300,000 rmb owed", "patent"),
        # association services
        (
            "can your expert visit our factory next tuesday to check our patent portfolio?",
            "general",
        ),
    ],
)
def test_escalation_category(engine: TriageEngine, text: str, category: str) -> None:
    decision = engine.triage(text)
    assert (decision.action, decision.category) == ("escalate", category)


@pytest.mark.parametrize(
    "text",
    [
        "我们公司跟宁波华美贸易有限公司的货款纠纷 对方欠我们80万",
        "客户说我们的产品质量不行 要求退货赔偿2万",
        "我们被员工告到劳动仲裁了 要赔2万",
        "our landlord is suing us for unpaid rent",
        "the landlord filed case against us for the rent",
        "we are sued by former employee for overtime pay",
        "pls review our lease agreement with the landlord",
        "our customer in Dubai owes us $50,000, how do we collect",
        "the customs broker charged us 3000 rmb extra for the declaration",
        "下周五开会 帮我订个会议室",
        "我们的快递被海关退回了 说地址不对",
        "the bank froze our account because of a tax audit",
    ],
)
def test_everyday_business_with_money_and_dates_falls_back(
    engine: TriageEngine, text: str
) -> None:
    decision = engine.triage(text)
    assert (decision.action, decision.answer) == ("fallback", None)
