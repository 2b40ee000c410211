"""Signs that a message is about the member's own live case, which an expert must handle.

The rule: a generic "what do we do if…" question gets the FAQ answer; a concrete
situation is escalated even when an FAQ matches, because a confident generic answer to
a live case is the costliest mistake.

How a message is read
---------------------
Rules run on `fold`ed text (Simplified, half-width, lower case, punctuation kept). Each
rule is one *signal class* with Chinese and English patterns built from the shared
vocabulary below, and belongs to one of four groups:

EVENT    something already happened to the member: a lawyer's letter or court papers
         received, an accusation, goods held by customs or a regulator, listings taken
         down or an account frozen, their own right attacked, taken or lapsed past its
         grace period, the other side already approached and refusing. One event is
         enough.
REQUEST  the member asks for case work on their own matter: "does our product
         infringe", a freedom-to-operate search, "we want to sue them", review or draft
         their contract, challenge a named right, write their reply, value or trade
         their rights, plan their filings. One is enough.
FACT     a concrete specific: a sum of money, a sales figure, a date or deadline, a
         named company or one placed by its town ("慈溪一家厂"), a patent/trademark/case
         number, a demand for payment. A fact
         escalates in an IP message that names a party ("we", "they"): "法定赔偿最高500万吗"
         is generic, "他们要我们赔500万" is not.
CONTEXT  a situation that alone is a FAQ topic ("someone copies our product", "a
         designer says the copyright is his", "customs notified us", "an office action
         on our application") and becomes a live case only together with a FACT.

Conditions a rule may carry (see `RiskRule`):
- needs_remit: only in a message the lexicon finds to be about IP — unless a rule
  with `ip_evidence` fired: "accusing us of copying", "customs held our shipment",
  "前员工带走了图纸" show by themselves that the message is about IP;
- needs_party: the message names us or the other side;
- unless: a pattern that cancels the rule (a renewal date is not a deadline; customs
  holding goods over an invoice, with no word of IP, is logistics);
- supersedes: for the category only ("FTO: 会不会侵犯别人专利" is about the patent).

Framing makes a match generic: a hypothetical before it ("如果", "what if", "if we…",
not "tell me if…") or a conditional clause ending in "的话"; and a general or
definitional question anywhere ("一般", "什么是", "in general", "what is a") turns the
*soft* events (the FAQ topics: a letter, an accusation, a takedown, being sued, a
clearance search) into a general question unless a FACT or a word such as 刚 /
yesterday shows that it happened.

Each rule also says which kind of matter it is, which decides the category of the
escalation (see `Matter` and `faq/engine.py`): a dispute with another party is an
infringement matter whatever the right; a matter about the member's own right
(ownership, validity, a contract, clearance) takes that right's category; a request
for an association service is general. A context that fired without a fact still
says which kind of matter the message is.

The phrasings behind each class are tabled in tests/faq/test_risk_signals.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GENERAL",
    "HYPOTHETICAL",
    "PARTY",
    "RULES",
    "Matter",
    "RiskAssessment",
    "RiskRule",
    "assess",
    "risk_reasons",
]

# "dispute": infringement whatever the right; "right": the category of the right it is
# about; "service": general; "weak_dispute": infringement unless a "right" rule fired;
# "neutral": says nothing about the category.
Matter = Literal["dispute", "right", "service", "weak_dispute", "neutral"]
Group = Literal["event", "request", "fact", "context"]

# \b of Python's re treats hanzi as word characters, so "被GBC起诉" has no \b around
# "gbc"; the rules use this ASCII word boundary instead.
_ASCII_BOUNDARY = r"(?:(?<![a-z0-9])(?=[a-z0-9])|(?<=[a-z0-9])(?![a-z0-9]))"


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


def _compile(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns).replace(r"\b", _ASCII_BOUNDARY))


# ---------------------------------------------------------------------------------------
# Vocabulary. Chinese first, then English; each is a regex alternation.

_WE = _alt("我们", "我司", "我公司", "本公司", "我厂", "我方", "咱们", "咱", "我")
_THEY = _alt(
    "对方", "他们", "她们", "人家", "别人", "有人", "竞争对手", "同行", "原告", "律师",
    "品牌方", "权利人", "厂家", "那家", "这家", "一家", "某",
)  # fmt: skip
# Words that date a message to a real event ("刚", "昨天").
_WHEN = _alt(
    "刚", "今天", "昨天", "前天", "前几天", "这两天", "上周", "上星期", "上个月", "已经",
    "早上", "上午", "下午", "刚才", "今早",
)  # fmt: skip
_LIVE = _alt(_WE, _WHEN, "公司", "老板", "最近")
_RECEIVE = _alt("收到", "接到", "拿到", "签收", "收了", "接了")
_SEND = _alt(
    "发来", "寄来", "送来", "发了", "寄了", "发出", "发过来", "寄过来", "递来", "转来", "转给我们",
    "转发", "给我们发", "给我司发", "送达",
)  # fmt: skip
_LETTER = _alt(
    "律师函", "律师信", "警告函", "警告信", "告知函", "催告函", "通知函", "侵权函", "侵权通知",
    "侵权告知", "函件", "律师声明", "存证信函", "cease and desist", "cease-and-desist", "c&d",
    "lawyer letter", "warning letter",
)  # fmt: skip
_INFRINGE = _alt(
    "侵权", "侵犯", "侵害", "假冒", "仿冒", "抄袭", "盗用", "山寨", "盗版", "冒用", "盗图", "假货",
    "是假的", "售假", "落入", "撞款", "仿", "抄",
)  # fmt: skip
_SIMILAR = _alt("近似", "相似", "雷同", "一样", "撞", "很像", "太像")
_STOP = _alt(
    "停止", "停产", "停售", "停用", "下架", "删除", "销毁", "撤展", "撤回", "撤下", "道歉",
    "更名", "改名", "换包装", "召回", "不得", "不要再", "别再",
)  # fmt: skip
_PAY = _alt(
    "赔", "付", "支付", "给钱", "转账", "交钱", "买回", "出钱", "补偿", "加钱", "和解费",
    "授权费", "许可费",
)  # fmt: skip
_GOODS = _alt(
    "货", "柜", "集装箱", "产品", "商品", "展品", "样品", "一批", "包裹", "快递", "订单", "箱"
)
_HOLD = _alt(
    "扣", "查封", "封存", "没收", "查获", "拦", "卡住", "卡在", "暂扣", "查扣", "扣留", "扣押",
    "封", "查了", "拿走", "带走", "搬走", "收走", "拉走",
)  # fmt: skip
_REGULATOR = _alt(
    "市场监管局", "市场监督管理局", "市监局", "工商局", "工商", "执法人员", "执法队", "质监局",
    "公安", "警察", "稽查", "综合执法", "amr",
)  # fmt: skip
_SHOP = _alt(
    "链接", "商品", "产品", "店铺", "网店", "店", "listing", "asin", "宝贝", "页面", "视频",
    "作品", "账号", "账户", "帖子", "笔记", "展位", "摊位",
)  # fmt: skip
_PLATFORM = _alt(
    "平台", "亚马逊", "淘宝", "天猫", "京东", "拼多多", "抖音", "速卖通", "阿里", "1688",
    "temu", "shein", "ebay", "shopee", "lazada", "tiktok", "小红书", "amazon",
)  # fmt: skip
_TAKE_DOWN = _alt(
    "下架", "删除", "删了", "删掉", "屏蔽", "下了", "封", "冻结", "移除", "撤下", "扣分", "限流",
    "处罚", "关闭", "关掉",
)  # fmt: skip
_EX = _alt(
    "前员工", "离职员工", "原员工", "老员工", "前同事", "前合伙人", "离职的", "已离职", "辞职的",
    "跳槽的", "跳槽", "离职", "辞职",
    r"前(?:技术|研发|销售|设计|生产)?(?:经理|总监|工程师|主管|员工|设计师|股东|总工)",
)  # fmt: skip
_SECRETS = _alt(
    "客户名单", "客户资料", "客户信息", "图纸", "配方", "源代码", "源码", "代码", "软件",
    "技术资料", "核心技术", "工艺", "数据", "设计图", "模具", "商业秘密", "技术秘密", "报价",
    "技术", "设计稿", "设计文件",
)  # fmt: skip
_OUR_THING = _alt(
    "产品", "商品", "款式", "同款", "新款", "爆款", "设计", "商标", "品牌", "牌子", "logo", "图片",
    "照片", "图", "视频", "包装", "外观", "专利", "技术", "作品", "文案", "名字", "货", "软件",
    "代码",
)  # fmt: skip
# Places members name the other side by ("慈溪一家厂", "a company in hangzhou").
_PLACE_ZH = _alt(
    "宁波", "慈溪", "余姚", "奉化", "象山", "宁海", "鄞州", "海曙", "江北", "北仑", "镇海",
    "杭州", "温州", "台州", "绍兴", "金华", "义乌", "永康", "嘉兴", "湖州", "舟山", "丽水",
    "衢州", "上海", "北京", "深圳", "广州", "东莞", "佛山", "中山", "汕头", "苏州", "无锡",
    "常州", "南京", "厦门", "泉州", "晋江", "福州", "青岛", "天津", "重庆", "成都", "武汉",
    "香港", "台湾", "澳门", "本地", "隔壁", "附近", "同城",
)  # fmt: skip
_PLACE_EN = (
    r"(?:ningbo|cixi|yuyao|fenghua|xiangshan|ninghai|yinzhou|beilun|zhenhai|hangzhou|wenzhou"
    r"|taizhou|shaoxing|jinhua|yiwu|yongkang|jiaxing|huzhou|zhoushan|shanghai|beijing"
    r"|shenzhen|guangzhou|dongguan|foshan|zhongshan|shantou|suzhou|wuxi|changzhou|nanjing"
    r"|xiamen|quanzhou|jinjiang|fuzhou|qingdao|tianjin|chongqing|chengdu|wuhan|hong kong"
    r"|taiwan|macau)"
)
_FIRM_ZH = _alt(
    "公司", "厂", "工厂", "企业", "卖家", "商家", "店铺", "网店", "经销商", "贸易商", "代理商",
    "工作室", "品牌", "老板", "同行",
)  # fmt: skip
_FIRM_EN = (
    r"(?:company|companies|factory|factories|firm|trader|seller|supplier|manufacturer|shop"
    r"|store|vendor|competitor|distributor|workshop|brand|guy|plant|exporter)"
)
_NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千]+)"
_CN_NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十几][一二两三四五六七八九十百千几]*多?)"
_WEEKDAY = r"(?:周|星期|礼拜)[一二三四五六日天末]"
_DEMAND = r"(?:要求|要|须|需|得|必须|需要|限|限期|让|给|回复|答复|提交|交)"

_EN_OUR = r"\b(?:our|my)\b"
_EN_INFRINGE = (
    r"(?:infring\w*|counterfeit\w*|cop(?:y|ies|ied|ying)|violat\w*|stole|steal\w*|stolen"
    r"|pirat\w*|knock\w*|fakes?|imitat\w*|ripp\w* off|plagiari\w*|too close|confusingly"
    r"|similar|identical|passing off|unauthori[sz]ed|(?:uses?|used|using) their"
    r"|without (?:a |their |any )?(?:licen[cs]e|permission|authori[sz]ation|consent))"
)
_EN_LETTER = (
    r"(?:cease[- ]and[- ]desist|cease & desist|c ?& ?d\b|lawyer'?s? letter|attorney'?s? letter"
    r"|legal letter|legal notice|demand letter|warning letter|letter of demand"
    r"|infringement notice|notice of infringement|demand (?:from|for)\b"
    r"|letter from (?:(?:their|the|a|an|[a-z0-9&.-]+'?s?) )?(?:\w+ )?"
    r"(?:lawyers?|attorneys?|law firm|counsel|solicitors?|legal))"
)
_EN_RECEIVED = (
    r"\b(?:got|gotten|received|recieved|recived|have received|'ve received|were sent|was sent"
    r"|been sent"
    r"|were served|was served|been served|got served|hit with|slapped with|were handed"
    r"|just got"
    # non-native present tense with its subject: "we get C&D", "our factory receive letter"
    r"|(?:we|i|our (?:\w+ )?(?:company|factory|shop|store|office|boss))\s+(?:also |just |now )?"
    r"(?:get|gets|receive|receives|recieve|recieved|receiving|getting))\b"
)
_EN_GOODS = (
    r"\b(?:goods|shipments?|containers?|products?|cargo|parcels?|consignments?|exports?"
    r"|orders?|items|boxes|pallets|stock|inventory|merchandise|samples)\b"
)
_EN_HELD = (
    r"(?:detained|seized|held|stopped|confiscated|impounded|blocked|stuck|held up|flagged"
    r"|withheld|destroyed)"
)
_EN_REMOVED = (
    r"(?:removed|taken down|taken off|delisted|blocked|suspended|deactivated|disabled|closed"
    r"|banned|pulled|frozen|locked|restricted|deleted|withheld|on hold|shut down)"
)
_EN_SHOP = (
    r"(?:listings?|products?|store|shop|storefront|links?|asins?|accounts?|items?|page"
    r"|videos?|posts?|funds|payments?|money|balance|payouts?|wallet|skus?)"
)
_EN_SECRETS = (
    r"(?:customer (?:list|data|database|contacts)|client (?:list|data)|drawings|formulas?"
    r"|formulae|source code|code|recipes?|blueprints?|designs?|trade secrets?"
    r"|technical (?:data|documents|files)|know-how|confidential \w+|files|data|molds?|moulds?)"
)
_MONTHS_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])\.?"
)
_WEEKDAY_EN = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs"
    r"|fri)(?![a-z])"
)

# ---------------------------------------------------------------------------------------
# Framing.

# A hypothetical framing before the matched words makes the question generic.
HYPOTHETICAL = _compile(
    r"如果|假如|假设|万一|要是|倘若|若是|一旦",
    # "tell me if our logo conflicts" asks whether, it supposes nothing
    r"\bwhat if\b|(?<!tell me )(?<!tell us )(?<!confirm )(?<!advise )(?<!you check )"
    r"(?<!please check )(?<!pls check )(?<!to check )(?<!need check )(?<!check )"
    r"(?<!wonder )(?<!ask )(?<!confirm )(?<!sure )"
    r"\bif (?:we|i|you|a|an|someone|somebody|the|our|they"
    r"|it|one|my|he|she)\b",
    r"\bsuppose\b|\bin case\b|\bin the event\b|\bhypothetical\w*",
    r"\bwhen (?:we|you|a|an|someone|one|they|companies|a company|i) "
    r"(?:receive|get|are|is|find|face)\b",
)
# "被人告侵权的话": the clause before 的话 is the condition.
_CONDITIONAL_END = re.compile(r"的话")
_CLAUSE_BREAK = re.compile(r"[\s,，。;；!！?？、]")
# A general question: soft events become generic (unless `_HAPPENED` or a fact).
GENERAL = _compile(
    r"一般|通常|常见|一般来说|什么是|是什么|什么意思|什么叫|是啥",
    r"\bin general\b|\bgenerally\b|\btypically\b|\busually\b|\bnormally\b|\bcommon(?:ly)?\b"
    r"|\bwhat (?:is|are) (?:a|an|the)\b|\bwhat does\b.{0,30}\bmean\b"
    r"|\bwhat(?:'s| is) (?:fto|tro|ipr|vero|gbc|c&d|pct|schedule a)\b",
)
_HAPPENED = _compile(_WHEN, r"\b(?:just|today|yesterday|this morning|last week|already)\b")
# Words that make a message about a live case between the member and another party.
PARTY = _compile(
    _WE, _THEY, r"收到|接到|要求|索赔|和解|损失|罚",
    r"\b(?:we|our|ours|us|they|their|them|he|she|his|her|my|i|someone|somebody)\b|other side"
    r"|\bdemand\w*|\bclaim\w*",
    r"\bsettle\w*|\bloss\w*|\bfine[sd]?\b",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RiskRule:
    reason: str  # the part of the reason code after "risk:"
    group: Group
    matter: Matter
    pattern: re.Pattern[str]
    needs_remit: bool  # only in a message that is otherwise about IP
    needs_party: bool  # only when the message names us or the other side
    soft: bool  # "一般 / in general" makes it generic (see GENERAL)
    ip_evidence: bool  # the match itself shows that the message is about IP
    framed: bool  # a hypothetical before the match makes it generic
    supersedes: tuple[str, ...]  # rules whose kind of matter this one overrides
    unless: re.Pattern[str] | None  # the rule does not fire when this occurs anywhere


def _rule(
    reason: str,
    group: Group,
    matter: Matter,
    *patterns: str,
    needs_remit: bool = True,
    needs_party: bool = False,
    soft: bool = False,
    ip_evidence: bool = False,
    framed: bool = True,
    supersedes: tuple[str, ...] = (),
    unless: str | None = None,
) -> RiskRule:
    return RiskRule(
        reason,
        group,
        matter,
        _compile(*patterns),
        needs_remit,
        needs_party,
        soft,
        ip_evidence,
        framed,
        supersedes,
        _compile(unless) if unless else None,
    )


RULES: tuple[RiskRule, ...] = (
    # ---- EVENTS -------------------------------------------------------------------------
    # A lawyer's or warning letter that actually arrived (not "收到律师函一般怎么办"), or
    # the other side's lawyer already acting.
    _rule(
        "lawyer_letter",
        "event",
        "dispute",
        rf"{_LIVE}.{{0,12}}{_RECEIVE}.{{0,12}}{_LETTER}",
        rf"{_RECEIVE}.{{0,12}}{_LETTER}(?:了|.{{0,20}}(?:说|称|指|认为|要求|让|要){_WE})",
        rf"{_SEND}.{{0,12}}{_LETTER}|{_SEND}了?警告",
        rf"{_LETTER}.{{0,4}}(?:发给|寄给|发到|寄到){_WE}",
        r"(?:对方|他们|她们)的?(?:律师|代理律师|律所)|律师.{0,4}(?:联系|找|打电话给|发邮件给)了?"
        + _WE,
        rf"{_RECEIVE}.{{0,8}}(?:律所|律师事务所|律师).{{0,6}}(?:邮件|电话|短信|信|通知)",
        rf"{_EN_RECEIVED}.{{0,40}}{_EN_LETTER}",
        rf"{_EN_LETTER}.{{0,20}}\b(?:came|arrived|landed)\b"
        rf"|{_EN_LETTER}.{{0,30}}\b(?:we|i|my \w+|our \w+) (?:just |have |'ve )?"
        r"(?:got|received|were sent|was sent)\b",
        r"\bsent (?:us|me|our \w+) (?:a |an |their )?(?:\w+ )?"
        r"(?:cease|c&d|c & d|letter|notice|warning|demand|claim|complaint|email)",
        r"\b(?:lawyers?|attorneys?|law firm|counsel|solicitors?)\b.{0,30}"
        r"\b(?:wrote|emailed|sent|contacted|called|served|threaten\w*|contact|contacts|call"
        r"|calls|email|emails|write|writes|send|sends|message|messages|messaged|wechat\w*)"
        r"(?: (?:an? |us |me |us an? )?(?:email|e-mail|letter|message|notice)"
        r"| (?:to )?(?:us|me|our))\b",
        # a reply to a definite letter: "write reply to the C&D", "respond to their letter"
        r"\b(?:reply|replies|respond|response|answer)\b (?:to )?(?:the|this|that|their|our)"
        r" (?:\w+ )?" + _EN_LETTER,
        r"\b(?:email|e-mail|message|call|letter|notice|phone call)s? from (?:their|a|an|the"
        r"|[a-z0-9&.-]+'?s?) (?:[\w-]+ ){0,3}(?:law firm|lawyers?|attorneys?|counsel"
        r"|solicitors?)\b",
        r"\b(?:their|the other side'?s?|opposing|plaintiff'?s?) (?:lawyers?|attorneys?|counsel"
        r"|law firm)\b|\bopposing counsel\b",
        needs_remit=False,
        soft=True,
    ),
    # Court papers: escalated even without IP words ("我们收到了法院传票").
    _rule(
        "lawsuit",
        "event",
        "dispute",
        r"传票|应诉通知|起诉状|起诉书|诉状|答辩状|举证通知|开庭|庭审|判决书|一审判决|裁定书"
        r"|诉前禁令|临时禁令|判决(?:书|下来|出来)|判(?:我们|我司|我方)赔",
        r"\bsummons\b|\bsummoned\b|\bsubpoena\w*|\bserved with\b|\bstatement of claim\b",
        needs_remit=False,
        soft=True,
    ),
    # Court papers that came, a hearing, a case filed against us or being drawn into a
    # suit, in members' own English ("court paper came", "they file lawsuit to us"):
    # court business, escalated even without IP words.
    _rule(
        "lawsuit",
        "event",
        "dispute",
        r"被.{0,6}(?:拉进|拉入|卷入|牵扯进|扯进).{0,12}(?:诉讼|官司|案子|案件)",
        r"\bcourt (?:papers?|documents?|docs|notices?|letters?|summons?|materials?|files?)\b"
        r"|\bsummon\b|\b(?:received|recieved|recived|receive|got|get|gets)\b.{0,30}"
        r"\bfrom (?:the |a )?(?:[\w-]+ ){0,3}court\b"
        r"|\b(?:papers?|documents?|docs|notices?|letters?|summons) from (?:the |a )?"
        r"(?:[\w-]+ ){0,3}court\b",
        r"\b(?:court|judge) (?:hearing|date|session|trial)\b|\bhearing (?:is|will be) (?:on|in"
        r"|at|next|this|tomorrow)\b|\b(?:we|i) (?:have|got|need to attend|must attend)"
        r" (?:a |the )?(?:court |judge )?(?:hearing|trial)\b",
        needs_remit=False,
        soft=True,
    ),
    # A case filed against us, or being sued, in members' English: in an IP message
    # ("our landlord is suing us" is not ours) …
    _rule(
        "lawsuit",
        "event",
        "dispute",
        r"\b(?:file|files|filed|filing|start|started|bring|brought|open|opened|raise|raised)\b"
        r" (?:an? |the |their )?(?:[\w-]+ )?(?:case|lawsuit|suit|litigation|action|complaint"
        r"|claim)s? (?:against|to|on) (?:us|me|our|my)\b",
        r"\b(?:sue|sued|suing|sues) (?:to )?(?:us|me|our|my)\b"
        r"|\b(?:we|i|our (?:\w+ )?(?:company|factory|shop|store))\s+(?:are|is|am|were|was|got|get"
        r"|have been|has been|being|been)\s+(?:\w+ )?sued\b",
        soft=True,
    ),
    # … or where the suit itself names the right or the brand.
    _rule(
        "lawsuit",
        "event",
        "dispute",
        r"\b(?:sued?|suing|sues|lawsuit|case|suit)\b.{0,40}\b(?:brand|trademark|patent|copyright"
        r"|design|logo|infring\w*|counterfeit\w*|tro|schedule a)\b",
        needs_party=True,
        soft=True,
        ip_evidence=True,
        unless=r"^(?!.*(?:\b(?:sued|sues|suing)\b|\b(?:against|to) (?:us|me|our|my)\b))",
    ),
    # Being sued or a defendant: in an IP message ("被员工告到劳动仲裁" is not ours).
    _rule(
        "lawsuit",
        "event",
        "dispute",
        r"案号|财产保全|申请了.{0,4}证据保全|群诉|集体诉讼|涉诉|被诉|上诉|一审|二审|再审|被告(?![知诉示])|被.{0,8}起诉"
        r"|被.{0,6}(?<![宣广报公警预])告(?![知诉示])",
        rf"(?:起诉|告)了?{_WE}|把{_WE}(?:给)?告|(?:法院|法庭).{{0,8}}(?:寄|发|送|打电话|通知|来电|传|冻结|查封)",
        r"\b(?:being|been|was|were|got|get|getting) sued\b"
        r"|\b(?:sued|suing|sues) (?:us|me|our|my)\b|\b(?:took|taking|dragged) us to court\b",
        r"\b(?:lawsuit|suit|case|complaint|action|claim|proceedings?)\b.{0,25}"
        r"\b(?:against|vs\.?|v\.?) (?:us|our|me|my)\b",
        r"\bnamed (?:us |our company )?(?:as )?(?:a |the )?(?:co-?)?defendants?\b"
        r"|\bnamed in (?:a|the|their) (?:\w+ )?(?:lawsuit|suit|case|complaint)\b"
        r"|\b(?:we are|we're|i am|i'm|our company is|we were|as) (?:the |a |co-?)?defendants?\b"
        r"|\bplaintiffs?\b|\bclaimants?\b",
        r"\bcourt hearing\b|\bhearing (?:is|on|date|next|scheduled|set|in|at)\b|\bcourt date\b"
        r"|\b(?:first|second)[- ]instance\b|\bjudge?ment against (?:us|our)\b"
        r"|\b(?:injunction|restraining order) against (?:us|our)\b"
        r"|\b(?:lost|won) the (?:\w+ )?(?:case|lawsuit|trial|suit)\b"
        r"|\bruled against (?:us|our|me)\b"
        r"|\bfiled (?:a )?(?:law)?suit\b|\bfiled (?:a |their )?(?:complaint|claim|case|lawsuit)"
        r" (?:in|at|with) (?:the )?(?:[\w'-]+ ){0,4}court\b"
        r"|\b(?:answer|respond to|defend) (?:a|the|this|their) (?:complaint|lawsuit|suit)\b"
        r"|\bcourt\b.{0,20}\b(?:ordered|froze|ruled|seized|granted|banned|told|issued)\b"
        r"|\b(?:ordered|told|banned) by (?:a|the) (?:\w+ )?court\b"
        r"|\b(?:granted|issued|obtained|got|filed for|served) (?:an? |the |their )?(?:preliminary "
        r"|interim |temporary )?injunction\b|\btheir (?:preliminary |interim )?injunction\b",
        soft=True,
    ),
    # Amazon "Schedule A" / GBC / TRO cases: "what is a TRO" stays a question.
    _rule(
        "lawsuit",
        "event",
        "dispute",
        rf"(?:被|拉进|拉入|进了|卷入|{_WE}).{{0,8}}(?:\bgbc\b|\btro\b|\bschedule a\b|临时限制令)"
        r"|(?:\bgbc\b|\btro\b|\bschedule a\b|临时限制令).{0,12}(?:起诉|冻结|案|告|诉|封)",
        r"\b(?:hit with|got|get|named in|in a|into a|in|into|part of|sued in|included in|listed in"
        r"|caught in|dragged into|our|us)\b (?:an? |the )?(?:[\w-]+ )?(?:tro|schedule a|gbc)\b"
        r"|\b(?:tro|schedule a|gbc) (?:case|lawsuit|suit|action)\b.{0,40}\b(?:we|us|our|my|i)\b"
        r"|\b(?:we|us|our|my|i)\b.{0,40}\b(?:tro|schedule a|gbc) (?:case|lawsuit|suit|action)\b"
        r"|\b(?:tro|schedule a|gbc)\b.{0,20}\b(?:froze|frozen|against us|sued us|our)\b"
        r"|temporary restraining order",
        needs_remit=False,
        soft=True,
    ),
    # Someone accuses us of infringing: the accusation shows that the message is about IP.
    _rule(
        "accused",
        "event",
        "dispute",
        rf"(?:说|称|认为|指控|控告|投诉|举报|指|告|讲|怀疑|咬定|声称|主张|认定|告知)了?{_WE}.{{0,15}}"
        rf"(?:{_INFRINGE}|用了(?:他们|对方|人家)的|未经(?:许可|授权)|没有?(?:授权|许可))",
        # "similar" is an accusation from the other side, not from an examiner
        rf"{_THEY}.{{0,6}}(?:说|称|认为|主张|指)了?{_WE}.{{0,15}}{_SIMILAR}",
        r"\b(?:says?|said|saying|claims?|claimed|claiming|alleges?|alleged|alleging|accus\w*"
        r"|insists?|insisted|thinks?|believes?|argues?|asserts?|contends?|complain\w*"
        r"|told us|telling us|tell us|tells us|inform\w* us|warn\w* us)\b.{0,15}"
        r"\b(?:we|we're|we've|us|our|my)\b.{0,35}" + _EN_INFRINGE,
        r"\baccus\w* (?:us|our \w+|me) of\b.{0,25}" + _EN_INFRINGE,
        # a customer or partner passes the accusation on: "customer told us the product
        # may infringe a patent"
        r"\b(?:told|tell|tells|informed|inform|warned|warn|notified|notify|reminded)"
        r" (?:us|me)\b.{0,40}" + _EN_INFRINGE,
        soft=True,
        ip_evidence=True,
    ),
    # … or complains about us, demands that we stop, threatens to sue: in an IP message.
    _rule(
        "accused",
        "event",
        "dispute",
        rf"(?:要求|要|让|逼|叫|责令|限令|勒令){_WE}.{{0,15}}{_STOP}",
        rf"(?:{_WE}|店|链接|商品|产品|展品|展位|公司|厂).{{0,12}}被.{{0,8}}(?:投诉|举报|指控|控告|告发)"
        r"|被.{0,8}(?:投诉|举报|指控)(?:侵权|假冒|售假)?了"
        r"|被.{0,8}(?:判定|认定|判为|定性为?)(?:售假|侵权|假货|假冒|违规)",
        rf"找上门|威胁.{{0,8}}(?:起诉|告|索赔|打官司|投诉|举报)|扬言.{{0,8}}(?:起诉|告)"
        rf"|(?:要|会|准备)(?:起诉|告){_WE}|(?:不然|否则).{{0,4}}(?:起诉|告|打官司|投诉)",
        r"\baccus\w* (?:us|our|me)\b|\b(?:we|we've|we're|i) (?:have |are |were |got )?"
        r"(?:been |being )?accused\b",
        r"\b(?:complaint|claim|report|allegation|takedown)s?\b.{0,45}\bagainst (?:us|our|me|my)\b",
        r"\b(?:we|i) (?:were|was|have been|got|'ve been) (?:told|ordered|asked|instructed"
        r"|required)\b"
        r".{0,40}\bto (?:stop|remove|withdraw|take down|destroy|recall|cease|pull|delete)\b",
        r"\b(?:we|i|our \w+|my \w+)\b.{0,15}\b(?:got|received|have received|hit with)\b"
        r" (?:an? |the |two |several |\d+ )?(?:[\w-]+ ){0,3}(?:complaints?|claims?|reports?"
        r"|allegations?|strikes?|takedowns?)\b",
        r"\btheir (?:\w+ ){0,3}(?:claim|complaint|allegation|accusation|demands?)\b",
        r"\bthreaten\w* (?:to sue|to take|to report|to complain|to file|legal|litigation|court"
        r"|us|a lawsuit)|\b(?:or|otherwise) (?:they|he|she)(?: will|'ll) (?:sue|take)\b",
        r"\b(?:want|wants|wanted|asking|asks|asked|demand\w*|told|tell|telling|requir\w*"
        r"|order\w*|instruct\w*|give|gave|giving) (?:us|me) (?:to )?(?:\w+ )?(?:stop|cease"
        r"|remove|destroy|withdraw|recall|rebrand|rename|change|take down|pull|delete"
        r"|discontinue|apologi\w*|indemnif\w*|hand over|surrender|sign an undertaking"
        r"|take (?:\w+ ){0,2}(?:off|down))",
        r"\b(?:say|says|said|tell|tells|told|ask|asks|asked)\b (?:us |we |me )?(?:to )?"
        r"(?:must |should |need to |have to )?(?:stop (?:sell|us|produc|mak|distribut)\w*"
        r"|remove (?:the|our|all)"
        r"|take down (?:the|our|all)|delist|destroy (?:the|our|all)|recall|rename|rebrand)\b",
        r"\b(?:demand\w*|insist\w*) (?:that )?we (?:\w+ )?(?:stop|cease|remove|destroy|withdraw"
        r"|recall|rebrand|rename|pay)",
        soft=True,
    ),
    # Goods held by customs. Customs acting on goods is IP evidence in itself here, unless
    # the message is about paperwork, duties or a wrong invoice and names no IP.
    _rule(
        "detained_goods",
        "event",
        "dispute",
        rf"{_GOODS}.{{0,10}}被.{{0,10}}{_HOLD}",
        rf"海关把{_WE}|{_WE}的?.{{0,12}}(?:在|被)海关|在海关被扣|卡在海关"
        rf"|海关.{{0,4}}(?:扣|查扣|扣留|扣押|暂扣|查)了?{_WE}.{{0,8}}{_GOODS}",
        rf"{_EN_GOODS}.{{0,30}}\b(?:was|were|got|been|is|are|being|get|remains?)"
        rf" (?:\w+ )?{_EN_HELD}\b",
        rf"{_EN_GOODS} (?:\w+ ){{0,3}}{_EN_HELD} (?:at|in|by) (?:the )?(?:\w+ )?"
        r"(?:customs|port|border)",
        rf"\b{_EN_HELD} (?:at|in|by) (?:the )?(?:\w+ )?customs\b|\bcustoms hold\b",
        rf"{_EN_GOODS} (?:\w+ )?{_EN_HELD} (?:in|at|by|for|because|due)\b",
        rf"{_EN_GOODS} (?:\w+ ){{0,2}}(?:stop|stops|hold|holds|detain|detains|block|blocks|seize"
        r"|seizes|keep|kept|check|checked|inspected) (?:at|in|by) (?:the )?(?:\w+ )?"
        r"(?:customs|port|border)\b",
        r"\b(?:customs|cbp)\b.{0,40}\b(?:detained|seized|held|stopped|confiscated|impounded"
        r"|destroyed|holding|detaining|seizing)\b"
        r"(?! (?:goods|items|products|shipments?|cargo|containers?|counterfeits?|fakes?)\b)",
        rf"\b(?:detained|seized|held|stopped|confiscated|impounded|destroyed|blocked|holding"
        rf"|detaining|seizing|destroying) (?:\w+ ){{0,3}}(?:of )?(?:our|my) (?:\w+ ){{0,2}}"
        rf"{_EN_GOODS}",
        ip_evidence=True,
        soft=True,
        unless=r"^(?!.*(?:侵权|假冒|仿冒|商标|品牌|牌子|logo|专利|版权|知识产权|授权|\binfring|\bcounterfeit"
        r"|\bfake|\btrademark|\bbrand|\blogo|\bpatent|\bcopyright|\bip\b|\breplica))"
        r".*(?:发票|单证|报关单|申报|关税|税|检疫|地址|退回|退运|清关|\binvoices?\b|\bpaperwork"
        r"|\bdocuments?\b|\baddress\b|\bclearance\b"
        r"|\bdeclaration|\btariffs?\b|\bdut(?:y|ies)\b|\btax|\bhs code|\bquarantine)",
    ),
    # A regulator or the police acting against us: in an IP message.
    _rule(
        "detained_goods",
        "event",
        "dispute",
        rf"{_REGULATOR}.{{0,6}}(?:来|到|上门|进)了?.{{0,4}}(?:{_WE}|店|厂|仓库|公司|门店)",
        rf"(?:{_WE}|店|厂|仓库|门店).{{0,8}}被.{{0,12}}(?:查|罚|立案|没收|查封|封)"
        rf"|被{_REGULATOR}.{{0,6}}(?:查|罚|立案|没收|查封|封|调查)",
        r"\b(?:raided|searched|inspected) (?:our|us)\b|\b(?:fined|penali[sz]ed) (?:us|our)\b"
        r"|\b(?:being|been) investigated\b|\bunder investigation\b",
        r"\b(?:amr|aic|market regulat\w*|market supervision|police|authorities|officials"
        r"|inspectors?)\b.{0,25}\b(?:raided|seized|fined|inspected|came to|visited"
        r"|investigat\w*|confiscat\w*|sealed|showed up)\b",
        r"\b(?:letter|notice|notification|penalty|decision)\b.{0,10}\bfrom (?:the )?"
        r"(?:amr|aic|market regulat\w*|market supervision|police)\b",
    ),
    # The platform acted on a complaint against us: listing, shop, account, funds.
    _rule(
        "taken_down",
        "event",
        "dispute",
        rf"{_SHOP}.{{0,10}}被.{{0,10}}(?:{_TAKE_DOWN}|扣了)",
        rf"{_PLATFORM}.{{0,10}}把{_WE}的?.{{0,10}}{_TAKE_DOWN}|扣了?\d+分|(?:罚|扣)了?.{{0,2}}保证金"
        r"|账号(?:受限|被限制)|(?:店铺|账号|链接).{0,4}(?:受限|被限)",
        rf"{_EN_OUR} (?:[\w-]+ ){{0,3}}{_EN_SHOP}\b.{{0,30}}\b{_EN_REMOVED}\b",
        r"\b(?:removed|took down|taken down|delisted|blocked|suspended|deactivated|disabled"
        r"|closed|banned|pulled|froze|locked|deleted|restricted|shut down)"
        r" (?:all |some |several |many |most |a few |two |three )?(?:\d+ )?(?:of )?(?:our|my)\b",
        # the platform acts, in the present tense: "amazon remove 3 of our asin"
        rf"\b(?:{_PLATFORM}|walmart|etsy|wayfair|alibaba|aliexpress|platform|marketplace|they|it)"
        r" (?:\w+ )?(?:remove|removes|delist|delists|take down|takes down|block|blocks|suspend"
        r"|suspends|close|closes|ban|bans|deactivate|deactivates|pull|pulls|freeze|freezes|lock"
        r"|locks|delete|deletes|restrict|restricts|shut down|shuts down)"
        r" (?:all |some |several |many |most |a few |two |three )?(?:\d+ )?(?:of )?(?:our|my)\b",
        # a shop or listing suspended, offline or down over a complaint
        rf"\b{_EN_SHOP}\b (?:\w+ )?(?:was |were |got |is |are |has been |have been |been |now )?"
        rf"(?:{_EN_REMOVED}|offline|down|gone)\b.{{0,40}}\b(?:complaints?|claims?|reports?|vero"
        r"|ipr?|infring\w*|copyright|trademark|patent|counterfeit|rights? owner|brand owner)\b",
        r"\b(?:complaints?|claims?|reports?|vero|ipr?|infring\w*|copyright|trademark|patent"
        r"|counterfeit|rights? owner|brand owner)\b.{0,40}\b(?:our|my)\b (?:[\w-]+ ){0,2}"
        rf"{_EN_SHOP}\b (?:\w+ )?(?:is |are |was |were |got |now )?"
        rf"(?:{_EN_REMOVED}|offline|down)\b",
        r"\b(?:got|received|hit with|hit by) (?:an? |the )?(?:[\w-]+ ){0,2}(?:vero"
        r"|ip|infringement|intellectual property|rights owner|trademark|patent|copyright)"
        r" (?:complaint|report|violation|claim|notice|strike|takedown)s?\b",
        soft=True,
    ),
    _rule(
        "frozen_account",
        "event",
        "dispute",
        r"(?:账户|账号|资金|店铺|钱|货款|余额|回款|收款|paypal|店).{0,8}(?:冻结|冻住|冻了|被冻)"
        r"|冻结了|被冻结|封号|封店|店铺被封|账户被封|账号被封|资金被扣|提不出来|无法提现|不能提现",
        r"\b(?:account|accounts|funds|payments?|money|balance|payouts?|store|shop|paypal"
        r"|bank|assets?|wallet)\b.{0,20}\b(?:frozen|froze|freeze|freezing)\b"
        r"|\b(?:frozen|froze|freeze|freezing)\b.{0,15}\b(?:account|accounts|funds|payments?"
        r"|money|balance|payouts?|store|shop|assets?|wallet)\b",
        soft=True,
    ),
    # Our right attacked (opposition, invalidation, non-use cancellation) …
    _rule(
        "right_challenged",
        "event",
        "right",
        r"被[^\s,，。?？!！]{0,6}(?:申请了?|提起了?|提出了?|提了|发起了?)[^\s,，。?？!！]{0,3}"
        r"(?:撤三|撤销|无效|宣告无效|无效宣告|异议)"
        r"|被[^\s,，。?？!！]{0,8}(?:提出?|申请)?(?:撤三|宣告无效|无效宣告|异议)了"
        r"|被.{0,6}(?:无效掉|判无效|判定无效|宣告无效|撤销掉|撤销)了"
        rf"|{_RECEIVE}.{{0,12}}(?:无效宣告|撤三|撤销|异议).{{0,8}}(?:通知|请求|申请书|答辩)"
        r"|(?:提了|申请了|提起了|提出了|发起了)(?:撤三|无效宣告|宣告无效|无效|异议)",
        r"\b(?:filed|requested|started|brought|lodged|submitted|initiated)\b.{0,25}"
        r"\b(?:invalidation|invalidity|cancellation|opposition|non-?use|revocation)\b.{0,30}"
        r"\b(?:against|on|to) (?:our|my|us)\b",
        r"\b(?:invalidation|invalidity|cancellation|opposition|non-?use|revocation)\b"
        r"(?: \w+){0,2} (?:against|to|on) (?:our|my)\b",
        rf"{_EN_OUR} (?:[\w-]+ ){{0,3}}(?:trademark|mark|patent|brand|design|copyright"
        r"|registration|application|utility model|model|invention|tm)s? (?:\w+ )?"
        r"(?:was|is|has been|have been|got|being|are)"
        r" (?:\w+ )?(?:opposed|challenged|attacked|invalidated|cancelled|canceled|revoked"
        r"|contested)\b",
        r"\bopposition (?:was )?(?:filed )?by\b|\b(?:was|were|got) opposed by\b"
        r"|\b(?:subject to|facing|faces|face|received|receive|receives|got|get|gets)\b"
        r" (?:an? |the )?(?:[\w-]+ ){0,2}"
        r"(?:non-?use|invalidation|opposition|cancellation|revocation)\b"
        r"|\b(?:our|my)\b.{0,40}\b(?:declared invalid|held invalid|found invalid|invalidated"
        r"|struck down)\b",
        soft=True,
        supersedes=("lawsuit",),  # an appeal against the invalidation is about the right
    ),
    # … or someone took our right (ex-staff filing it in their own name) or fights us over
    # it (an employee refusing to assign, an inventor demanding a reward).
    _rule(
        "ownership_dispute",
        "event",
        "right",
        rf"{_EX}.{{0,30}}(?:申请了|登记了|注册了|抢注|申请.{{0,4}}{_WE}的"
        r"|用(?:他|她)?(?:自己|个人).{0,4}名(?:字|义)|以(?:他|她)?(?:自己|个人)的?名义)",
        r"\b(?:former |ex-|ex |previous |old )(?:[\w&-]+ ){0,2}(?:employees?|staff|engineers?"
        r"|managers?|directors?|partners?|designers?|cto|developers?|workers?|distributors?"
        r"|agents?|suppliers?|co-?founders?|shareholders?|sales\w*)\b.{0,60}"
        r"\b(?:filed|registered|applied|patented|kept|keeps|keeping"
        r"|refuses? to (?:return|transfer|hand over|assign))\b",
        r"\b(?:split up|parted ways|fell out|broke up)\b.{0,40}\b(?:took|kept|keeps|registered)\b",
        r"\b(?:filed|registered|applied|patented)\b.{0,30}\b(?:in|under) (?:his|her|their)"
        r" (?:own |new )?(?:company )?names?\b|\bunder (?:his|her|their) (?:own |new )company\b",
        supersedes=("trade_secret", "partner_misuse"),  # "took our technology and patented it"
        ip_evidence=True,
    ),
    # A business partner (distributor, agent, factory) registered our brand or design
    # itself: a named relationship, not "someone squatted our mark, can we oppose".
    _rule(
        "ownership_dispute",
        "event",
        "right",
        r"(?:经销商|代理商|代理|合作方|合作伙伴|代工厂|工厂|供应商|合伙人|加盟商|被许可人)"
        rf".{{0,8}}(?:偷偷|私自|擅自|已经|竟然|居然)?(?:抢注了|把{_WE}的?.{{0,8}}"
        r"(?:商标|品牌|牌子|logo|专利|外观|设计|域名).{0,4}(?:注册|申请|抢注)了)",
        r"\b(?:distributors?|agents?|partners?|suppliers?|factory|manufacturers?|oem|licensees?"
        r"|dealers?|resellers?|importers?)\b.{0,25}\b(?:register|registers|registered|file"
        r"|files|filed|applied for|apply for|squatt?\w*|patented)\b (?:for )?(?:\w+ )?(?:our|my)"
        r" (?:\w+ )?(?:brand|trademark|mark|logo|name|design|patent|domain)s?\b",
        soft=True,
        ip_evidence=True,
        # "can a distributor register our brand abroad" asks the rule
        unless=r"\b(?:can|could|may|might|would|will|does|do|is it possible for)"
        r" (?:an? |the |our |my )?(?:\w+ )?(?:distributors?|agents?|partners?|suppliers?|factory"
        r"|manufacturers?|oem|licensees?|dealers?|resellers?|importers?)\b",
    ),
    # The member's licensee or distributor stopped paying royalties.
    _rule(
        "demand",
        "fact",
        "right",
        r"\b(?:licensees?|distributors?|partners?|manufacturers?|factory)\b.{0,15}\b(?:stopped"
        r"|stop|stops|refus\w*|failed to|hasn't|has not|haven't|didn't|don't|doesn't|not)"
        r" (?:pay|paying|paid)\b.{0,15}\b(?:royalt\w*|licen[cs]e fees?|fees)\b",
        ip_evidence=True,
    ),
    # … or another party wants licence fees from us: a demand in an IP dispute.
    _rule(
        "demand",
        "fact",
        "weak_dispute",
        r"\b(?:want|wants|wanted|ask|asks|asked|asking|demand\w*) (?:us|me) (?:to )?(?:pay|paying)"
        r" .{0,25}\b(?:licen[cs]e fees?|licensing fees?|royalt\w*)\b",
        ip_evidence=True,
    ),
    _rule(
        "ownership_dispute",
        "event",
        "right",
        r"(?:员工|工程师|发明人|设计师|设计公司|合伙人|股东|技术员|研发)"
        r".{0,20}(?:不肯|拒绝|不愿|不同意|要求.{0,8}(?:奖励|报酬|钱|费)|要去仲裁|威胁|扬言)",
        r"\b(?:employees?|engineers?|inventors?|designers?|agency|freelancers?|developers?"
        r"|staff|partners?|co-?founders?|distributors?)\b.{0,40}\b(?:refuses?|refused"
        r"|won'?t|declin\w*|demands?|demanded|asks? for|asking for|threaten\w*|owed)\b.{0,40}"
        r"\b(?:assign\w*|sign|remuneration|reward|bonus|royalt\w*|ownership|copyright"
        r"|patent|pay (?:extra|more|again))\b",
        supersedes=("trade_secret", "partner_misuse"),
    ),
    # A business partner (supplier, factory, distributor, licensee) misusing our mould,
    # design or brand: secretly, after the contract ended, or selling it to others.
    _rule(
        "partner_misuse",
        "event",
        "dispute",
        r"(?:供应商|工厂|代工厂|合作方|经销商|代理商|加盟商|外包公司|被许可人|合伙人|合作伙伴|客户)"
        r".{0,15}(?:偷偷|私自|擅自|未经|还在|继续|仍然|一直在|拿|到期后|退出后|解约后|散伙后|现在|竟然"
        r"|居然)"
        r".{0,20}(?:商标|品牌|牌子|logo|设计|图纸|模具|专利|技术|图片|照片|软件|软著|代码|外观|包装)",
        r"(?:供应商|工厂|代工厂|合作方|经销商|代理商|加盟商|外包公司|合伙人|合作伙伴|客户)"
        r"(?:(?!我们|不让).){0,20}(?:商标|品牌|logo|设计|图纸|模具|专利|技术|软件|代码)"
        r"(?:(?!我们|不让).){0,12}(?:卖给别人|卖给其他|卖给别的|自己卖|自己用|自己生产)",
        r"\b(?:suppliers?|factory|factories|manufacturers?|oem|distributors?|licensees?|agents?"
        r"|partners?|resellers?|contractors?|vendors?)\b.{0,30}\b(?:still|kept|keeps"
        r"|continu\w*|secretly|without (?:our )?(?:permission|consent|authori[sz]ation|approval)"
        r"|behind our back|now|extra|excess|after (?:the |our )?(?:contract|agreement|licen[cs]e"
        r"|deal|cooperation) (?:ended|expired|was terminated|terminated))\b.{0,30}\b(?:our|my)\b",
        r"\b(?:suppliers?|factory|factories|manufacturers?|oem|distributors?|licensees?"
        r"|partners?|contractors?|vendors?)\b.{0,30}\b(?:selling|sells|sold)\b.{0,20}"
        r"\b(?:our|my)\b.{0,30}\bto other (?:buyers|customers|clients|companies)\b",
        r"\bunder (?:his|her|their) own (?:brand|label|name|logo)\b",
        r"\b(?:suppliers?|factory|factories|manufacturers?|oem|distributors?|licensees?|agents?"
        r"|partners?|resellers?|contractors?|vendors?|dealers?)\b.{0,15}\b(?:sell|sells|selling"
        r"|sold|use|uses|using|used|produce\w*|make|makes|making|made|keep\w*|kept)\b.{0,15}"
        r"\b(?:our|my)\b.{0,40}\b(?:without (?:our |any )?(?:permission|consent|authori[sz]ation"
        r"|approval|agreement)|to other (?:buyers?|customers?|clients?|compan\w+|people)"
        r"|after (?:the |our )?(?:contract|agreement|licen[cs]e|deal|cooperation)"
        r"|behind our back|themselves|by themselves)",
        ip_evidence=True,
        unless=r"归谁|归属|属于谁|怎么分|\bwho owns\b",  # "合伙人散伙后商标归谁" asks the rule
    ),
    # Trade secrets taken by staff or a partner.
    _rule(
        "trade_secret",
        "event",
        "weak_dispute",
        rf"(?:{_EX}|员工|内鬼|合伙人|技术总监|工程师|同事).{{0,30}}"
        rf"(?:带走|拿走|偷|窃取|泄露|泄密|拷走|拷贝|复制|盗取|卖给|透露|外泄|发给|交给)"
        rf"(?:了|.{{0,6}}(?:{_WE}|公司)的).{{0,15}}{_SECRETS}",
        rf"(?:把|将).{{0,8}}{_SECRETS}.{{0,10}}(?:泄露|带走|卖给|给了|拷走|发给|交给)",
        rf"{_EX}.{{0,25}}(?:卖|生产|做|开了|成立|注册了公司|用|推出|上市|出了).{{0,10}}"
        rf"(?:一样|同样|相同|同款|一模一样|{_WE}的)",
        rf"{_EX}.{{0,10}}把{_WE}的?.{{0,10}}{_SECRETS}.{{0,10}}(?:发到|发给|卖|泄露|带走|拿走|拷走|给了|用|传到)",
        rf"{_SECRETS}.{{0,10}}被.{{0,4}}(?:{_EX}|员工|工程师|技术员|同事|合伙人).{{0,8}}"
        r"(?:拿|带|偷|泄露|卖|复制|拷|盗)",
        r"\b(?:employees?|engineers?|managers?|staff|partners?|designers?|salesm[ae]n|directors?"
        r"|developers?)\b (?:who )?(?:left|quit|resigned|departed)\b.{0,40}\b(?:sells?|selling"
        r"|making|produc\w*|launched|started|set up|opened|uses?|using|copied|took|competitor"
        r"|rival)\b",
        r"(?:商业秘密|技术秘密).{0,6}(?:被|泄露|侵犯|盗)",
        rf"\b(?:stole|stolen|took|taken|leaked|downloaded|walked off with|misappropriat\w*"
        rf"|took away|steal\w*)\b.{{0,30}}\b{_EN_SECRETS}\b",
        r"\btrade secrets?\b.{0,20}\b(?:stolen|theft|leak\w*|misappropriat\w*|breach\w*)\b",
        r"\b(?:former |ex-|ex |previous |old )(?:[\w&-]+ ){0,2}(?:employees?|staff|engineers?"
        r"|managers?|directors?|designers?|developers?|workers?|partners?)\b.{0,50}"
        r"\b(?:sell\w*|sold|post\w*|publish\w*|leak\w*|shar\w*|took|stole|copied|using|uses"
        r"|brings?|brought|bringing|takes?|taking|carr(?:y|ied|ies)|gave|gives?|copy|steal\w*)\b",
        rf"\b(?:sell\w*|sold|giv\w*|gave|pass\w*|shar\w*|leak\w*)\b.{{0,25}}\b{_EN_SECRETS}\b.{{0,20}}"
        r"\bto (?:a |our |the )?(?:competitors?|rivals?|another company|other companies)\b",
        r"\b(?:breach\w*|broke|violated) (?:of )?(?:the |our |an |their )?"
        r"(?:nda|non-?disclosure|confidentiality|non-?compete)\b",
        needs_remit=False,
        ip_evidence=True,
    ),
    # Our own right has lapsed beyond the grace period or is shown as terminated: not the
    # generic "商标过期了几个月还能补救吗" (the grace period is the FAQ answer).
    _rule(
        "lapsed_right",
        "event",
        "right",
        r"宽展期.{0,8}(?:已经|也|都|早就|早)(?:过了|过去了|结束了|错过了|超过了|过完了)"
        r"|(?:已经|已)(?:过了|超过了?|错过了?)宽展期"
        r"|(?:专利权|商标权|专利|商标|软著|权利).{0,8}(?:已经|已|显示|查到|变成了?)(?:被)?"
        r"(?:终止|失效|注销|撤销)"
        r"|(?:年费|续展|续费).{0,12}(?:已经|已)(?:过了|超过了?|逾期了?)"
        r"(?:半年|一年|[\d一二两三四五六七八九十]+\s*(?:个月|年))",
        r"\bgrace period\b.{0,20}\b(?:ended|expired|passed|is over|was over|has ended"
        r"|had ended|elapsed|ran out|has run out)\b"
        r"|\b(?:lapsed|terminated|expired|cancelled|canceled)\b.{0,30}\b(?:after|past|beyond"
        r"|outside) (?:the )?grace\b|\bmissed (?:the )?(?:\w+ )?grace period\b"
        r"|\b(?:our|my) (?:\w+ ){0,2}(?:patent|trademark|mark|registration|right)s? (?:has |have"
        r" |had )?(?:already )?(?:lapsed|been terminated|been cancell?ed|been revoked)\b",
    ),
    # We already approached the other side and were rebuffed: ignored, refused, or they
    # carry on; the member has a live dispute, not a "what can we do" question.
    _rule(
        "rebuffed",
        "event",
        "weak_dispute",
        r"(?:联系|找|沟通|发函|函|警告|打电话|电话|协商|交涉|通知|私信|留言|说)(?:过|了)?"
        r"(?:他|她|他们|对方|那边|卖家|商家|店家|博主|老板)?(?:好几次|几次|两次|多次|一次)?.{0,6}"
        r"(?:都|也|还|就|却)?(?:不删|不理|不听|不肯|拒绝|拒不|不承认|没回|不回|没反应|不配合"
        r"|置之不理|不予理睬|照卖|照样|继续卖|还在卖|还在用|没用|不下架|不改)",
        r"(?:还|反而|反倒|倒)(?:说|称|坚持)(?:是)?(?:他|她|他们|对方)(?:自己)?(?:的|原创)",
        r"\b(?:refus\w*|declin\w*) to (?:stop|remove|delete|take|pay|reply|respond|cooperat\w*"
        r"|talk|negotiat\w*|change|withdraw)\b"
        r"|\bignor(?:ed|es|ing) (?:us|our|my|it|them|the|all)\b"
        r"|\b(?:won't|wouldn't|will not|did not|didn't|does not|doesn't|refuse to) (?:stop"
        r"|remove|delete|reply|respond|answer|take (?:it|them) down)\b"
        r"|\bno (?:reply|response|answer) (?:from|since|after)\b",
    ),
    # A supplier or factory making goods for others with the member's moulds or drawings.
    _rule(
        "partner_misuse",
        "event",
        "dispute",
        r"(?:供应商|工厂|代工厂|模具厂|加工厂|外协厂|厂家).{0,15}(?:定制|开)?的?"
        r"(?:模具|图纸|设计图|设计稿).{0,12}(?:给别人|给别的|给其他|帮别人|替别人|卖给|拿去)",
        r"\b(?:using|used|with|uses) (?:our|my) (?:\w+ )?(?:moulds?|molds?|tooling|drawings)\b"
        r".{0,40}\b(?:for|to) (?:another|other|a different|a third) (?:buyers?|customers?"
        r"|clients?|compan\w+|brands?)\b"
        r"|\b(?:for|to) (?:another|other|a different|a third) (?:buyers?|customers?|clients?"
        r"|compan\w+|brands?)\b.{0,30}\b(?:using|with) (?:our|my) (?:\w+ )?(?:moulds?|molds?"
        r"|tooling|drawings)\b",
        ip_evidence=True,
    ),
    # Someone filed the member's work under their own or their institution's name.
    _rule(
        "ownership_dispute",
        "event",
        "right",
        r"(?:用|以|挂)(?:他|她|他们|对方|学校|大学|高校|研究所|自己|他自己|她自己|其)"
        r"(?:个人|自己|学校|单位)?的?(?:名义|名字|名下).{0,6}(?:申请|申了|注册|登记|报)",
        r"\b(?:filed|registered|applied|patented)\b.{0,50}\b(?:only |solely )?(?:in|under)"
        r" (?:the )?(?:university|school|college|institute|hospital|lab)'?s? (?:own )?name\b",
        needs_party=True,
        ip_evidence=True,
    ),
    # The other side turned the complaint on us ("反过来投诉我们").
    _rule(
        "accused",
        "event",
        "dispute",
        r"(?:反过来|反而|反倒|倒打一耙|反咬).{0,6}(?:投诉|举报|起诉|告)"
        rf"|(?:他们|对方|那家|这家|人家)(?:现在)?(?:又|还|却)?(?:投诉|举报)了?{_WE}",
        r"\b(?:say|says|said|claim|claims|claimed)\b (?:that )?(?:our|we)\b.{0,40}"
        r"\b(?:same as|similar to|copy|copies|copied|infring\w*)\b (?:their|theirs|his|her)\b"
        r"|\bor (?:else )?(?:they|he|she) (?:will |would |'ll )?(?:sue|take us to court)\b",
        needs_party=True,
    ),
    # ---- REQUESTS -----------------------------------------------------------------------
    # "Does our product infringe?" — asked about the member's own product or use.
    _rule(
        "own_infringement",
        "request",
        "dispute",
        rf"(?:{_WE}|这款|这个|该|自己).{{0,30}}(?:会不会|是不是|是否|有没有|算不算|能不能|可不可以)"
        rf"(?:会|还)?(?:侵犯|侵权|构成侵权|违法|落入)",
        rf"(?:{_WE}|这款|这个|该).{{0,30}}(?:还)?算(?:不算)?侵权",
        r"(?:会不会|是否会?|是不是)(?:侵犯|侵权).{0,4}(?:别人|他人|对方|他们|人家)",
        r"(?:能|可以|怎么|如何)(?:绕开|规避|绕过)|侵权(?:风险)?(?:比对|判定)|用了(?:别人|他人|对方|人家|他们)的"
        r"|会(?:不会)?被(?:人|对方|他们)?(?:告|起诉|投诉)(?:吗|啊|呢)?(?:$|[\s?？,，。])",
        r"\b(?:does|do|would|will|could|might|can|is|are|am|whether|if)\s+(?:we|i"
        r"|our(?:\s+[\w'\"-]+){1,4}|my(?:\s+[\w'\"-]+){1,3})\s+(?:be\s+|still\s+|possibly\s+)?"
        r"(?:infring\w*|violat\w*|in violation|breach\w*)",
        r"\bis (?:it|this|that) (?:an? )?infringement if (?:we|i)\b|\bwill we (?:get|be) sued\b"
        r"|\bdesign around\b|\b(?:without|avoid) infringing\b|\brisk of infringing\b"
        r"|\bdo (?:we|i) infringe\b",
        needs_remit=False,
    ),
    # The same question without the word "infringe" ("is it OK if we…", "我们能不能用大牌的…"):
    # only in an IP message.
    _rule(
        "own_infringement",
        "request",
        "dispute",
        r"\bis it (?:ok|okay|legal|illegal|allowed|fine|safe|lawful|infringement|an infringement)"
        r" (?:if|to|for) (?:we|us|me|i)\b|\b(?:are we|am i|is our (?:\w+ ){0,2}?\w+) (?:at|at any)"
        r" risk\b",
        r"(?:我们|我司|我).{0,20}(?:能不能|可不可以|可以|能)(?:用|卖|做|仿|生产).{0,20}"
        r"(?:别人|他人|对方|他们|人家|大牌|品牌)的",
    ),
    # Clearance before launch: FTO, "is our logo too similar" — about the right itself.
    _rule(
        "clearance",
        "request",
        "right",
        rf"\bfto\b|自由实施|(?:{_WE}|帮|新产品|这款|这个).{{0,15}}侵权(?:风险)?(?:分析|检索|排查|评估)"
        r"|(?:上市|出口|投产|发布|量产)"
        r".{0,6}前.{0,12}(?:查|检索|排查)|(?:查|检索|排查)一下.{0,12}(?:会不会|是否|有没有).{0,4}(?:侵犯|侵权)",
        rf"(?:{_WE}|这个|这款).{{0,20}}(?:会不会|是不是|是否)(?:太|和|跟|与)?.{{0,10}}(?:近似|相似|太像)",
        rf"(?:这个|这款|{_WE}的?).{{0,8}}(?:商标|品牌|名字|logo|名称|包装|设计|牌子)"
        r".{0,6}(?:能不能用|可不可以用|能用吗|可以用吗)",
        r"\bfreedom[- ]to[- ]operate\b|\bclearance\b",
        r"\b(?:check|search|see|make sure|confirm|know)\b.{0,50}\b(?:infring\w*|conflict\w*"
        r"|violat\w*)\b.{0,40}\bbefore (?:we )?(?:launch|export|sell|market|produc|go|start"
        r"|ship|list)",
        r"\b(?:is|are|was)\s+(?:our|my|this|the)\b.{0,30}\b(?:too similar|too close"
        r"|confusingly similar)\b",
        r"\bcan (?:we|i) (?:launch|sell|market|export|import|use|make|produce|ship)\b.{0,60}"
        r"\b(?:similar|competitor'?s?|their|someone else'?s|another company'?s)\b.{0,30}"
        r"\b(?:patents?|trademarks?|designs?|marks?)\b",
        r"\b(?:our|my|this) (?:new )?(?:logo|brand name|brand|name|mark|trademark|design|packaging"
        r"|product name)\b.{0,15}\b(?:ok|okay|safe|allowed|fine|legal) to use\b"
        r"|\b(?:our|my|this) (?:new )?(?:logo|brand name|brand|name|mark|trademark|design"
        r"|packaging)\b.{0,60}\b(?:look|looks|looking) (?:like|similar|close)\b",
        r"\b(?:our|my|this|the)\b.{0,30}\b(?:conflicts? with|clash\w* with|too similar to"
        r"|confusingly similar to)\b",
        needs_remit=False,
        soft=True,
        supersedes=("own_infringement",),  # "FTO: 会不会侵犯别人专利" is about the patent
    ),
    # Wanting to sue a party, not asking how long one may wait ("过了几年还能起诉吗").
    _rule(
        "intent_to_sue",
        "request",
        "dispute",
        r"(?<![不没别])(?:想|要|准备|打算|决定|计划|考虑|希望)(?:去|先|直接)?"
        r"(?:起诉|告|状告|控告)(?:他|她|它|对方|那|这|一家|某|隔壁|这个|那个"
        r"|.{0,12}(?:公司|厂|工厂|厂家|店|商家|卖家|他们|对方|那几家|这几家))",
        r"(?<![不没别])(?:想|要|准备|打算|决定|计划|考虑)(?:去|先|直接)?(?:跟|和|与|对)"
        r".{1,10}(?:打官司|诉讼|对簿公堂)",
        r"(?<![不没别])(?:想|要|准备|打算|决定|计划|考虑)"
        r"(?:(?!多久|能不能|可以|还能|才能|怎么|如何|是否|吗|不|没|别).){0,6}"
        r"(?:起诉|打官司|走诉讼|提起诉讼)",
        r"让(?:他|她|他们|对方|这家|那家).{0,4}(?:赔|赔偿|付钱|道歉)|(?:向|找)(?:他|她|他们|对方).{0,4}索赔"
        r"|追究.{0,6}责任|怎么追责"
        r"|(?<![不没别])(?:想|要|准备|打算)去?(?:举报|投诉)(?:他|她|他们|对方|这家|那家|这个|那个)",
        r"\b(?:want|wants|wanted|plan|planning|intend|intending|going|decided|like"
        r"|ready|prepared|considering|thinking of|thinking about|looking)\s+(?:to\s+)?"
        r"(?:sue|suing|take (?:[\w&-]+ ){1,3}to court|taking (?:[\w&-]+ ){1,3}to court"
        r"|file (?:a )?(?:law)?suit|filing (?:a )?(?:law)?suit|take legal action"
        r"|taking legal action|bring (?:a )?(?:claim|case|lawsuit|action)|go after|pursue)\b",
        r"\b(?:can|should|could|shall) (?:we|i) sue (?:them|him|her|this|that|the (?!other)\w+"
        r"|[a-z0-9&]+ (?:co|ltd|inc|gmbh|llc))\b|\bhow (?:do|can|should) we sue (?:them|him|her)\b"
        r"|\b(?:want|make|get|force) (?:them|him|her|the \w+) (?:to )?(?:pay|compensate|stop"
        r"|delete|remove|take down|apologi\w*)\b"
        r"|\b(?:want|wants|plan|planning|need|going|decided|ready|like)\s+(?:to\s+)?"
        r"(?:take (?:some |legal )?action|stop (?:them|him|her|this|that|the \w+)"
        r"|deal with (?:them|him|her)|go after (?:them|him|her))\b"
        r"|\b(?:want|plan|planning|going|decided|like|ready)\s+to\s+(?:report|complain about"
        r"|file a complaint against) (?:them|him|her|the \w+|this \w+|that \w+)\b"
        r"|\blegal action against\b|\b(?:claim|seek|recover|get) (?:damages |compensation )?"
        r"from (?:them|him|her|the|this|that|[a-z0-9&]+ (?:co|ltd|inc|gmbh|llc))\b",
    ),
    # "我们想要求赔偿": the member's own claim, when the message says who "we" are.
    _rule(
        "intent_to_sue",
        "request",
        "dispute",
        r"(?<![不没别])(?:想|准备|打算|决定|计划)(?:要|去)?(?:要求|让|找|向)?"
        r"(?:他|她|他们|对方|这家|那家|这个厂|那个厂)?(?:赔偿|索赔|赔钱)",
        needs_party=True,
        soft=True,
    ),
    # An appeal or review of the member's own refused application or lost decision.
    _rule(
        "challenge_right",
        "request",
        "right",
        r"\b(?:our|my)\b.{0,80}\b(?:want|plan|planning|need|going|decided|like|ready)\s+(?:to\s+)?"
        r"(?:appeal|file (?:an? )?(?:appeal|review|reexamination)|request (?:a |the )?review"
        r"|apply for (?:a |the )?(?:review|reexamination))\b",
        r"(?:帮|替)(?:我们|我司|我)(?:看看|看一下|看下|分析|评估).{0,10}(?:复审|申诉|上诉|答复|异议)",
    ),
    # Their contract or clause to review or draft.
    _rule(
        "contract_review",
        "request",
        "right",
        r"(?:帮|请|麻烦).{0,6}(?:看|审|审核|审查|把关|过目|改|检查|起草|拟|写).{0,16}"
        r"(?:合同|协议|条款|第.{1,3}条|这条|那条|这一条)",
        r"(?:合同|协议|条款|第.{1,3}条).{0,20}(?:帮|请|麻烦).{0,4}(?:看|审|把关|改|起草|谈判|谈|沟通)",
        r"\b(?:review\w*|check\w*|look\w* (?:at|over)|go\w* (?:through|over)|read|draft\w*"
        r"|prepar\w*|redline|amend\w*|negotiat\w*|writ\w*)\b.{0,12}\b(?:our|my|this|the|a|an)\b.{0,30}"
        r"\b(?:contract|agreement|clauses?|licen[cs]e agreement|nda|term sheet)\b",
        r"\bis (?:this|the|that) (?:clause|contract|agreement|term)\b.{0,20}"
        r"\b(?:fair|ok|okay|reasonable|normal|standard|safe)\b",
        r"\b(?:sign|signing|negotiat\w*)\b.{0,30}\b(?:licen[cs]e|licensing|assignment|oem"
        r"|distribution|nda)\b.{0,40}\b(?:review|check|look|help|advice|watch out)\b",
        r"\b(?:want|wants|asking|asks|asked|requir\w*|insist\w*) (?:us|me) to (?:assign|transfer"
        r"|licen[cs]e|give up|sign over) (?:the|our|its|their|a|all)\b",
        r"\b(?:check|review|look at|look over) (?:the|our|this|my) (?:\w+ )?(?:draft|terms)\b",
        r"(?:要求|要|让)我们.{0,6}(?:把|将)?.{0,6}(?:商标|专利|版权|著作权|软著).{0,6}(?:转让|授权|过户|许可)给",
    ),
    _rule(
        "contract_review",
        "request",
        "right",
        r"\b(?:review\w*|check\w*|look\w* (?:at|over)|go\w* (?:through|over)|read|draft\w*"
        r"|prepar\w*|redline|amend\w*|negotiat\w*)\b.{0,12}\b(?:our|my|this|the|a|an)\b.{0,20}"
        r"\b(?:licen[cs]e|licensing|royalty|assignment|patent|trademark|copyright|ip|technology"
        r" transfer|oem|nda)\b.{0,12}\b(?:contract|agreement|clauses?|terms)\b",
        r"\b(?:check|review|look at|read|go through)\b (?:the |our |this |my )?(?:\w+ )?"
        r"(?:contract|agreement|clauses?)\b (?:with|between|for|from)\b.{0,60}\b(?:design|patent"
        r"|trademark|brand|logo|copyright|ip|moulds?|molds?|owns?|ownership|licen[cs]\w*)\b",
        ip_evidence=True,
    ),
    # Asking the association to do case work: draft, reply, find a lawyer, analyse.
    _rule(
        "case_work",
        "request",
        "neutral",
        r"(?:能|可以|请|麻烦)(?:不能)?(?:帮|替)(?:我们|我|忙)?"
        r"(?:写|起草|拟|出具|找律师|代理|处理|看看|看一下|看下|审|分析|答复|回复|应对|提|弄|搞|办"
        r"|跟进|查|检索)",
        r"(?:帮|替)(?:我们|我|忙)?做(?:个|一个|一下|下)?.{0,12}(?:fto|分析|检索报告|尽职调查|尽调|评估|比对|鉴定)",
        r"(?:帮|替)(?:我们|我)(?:写|起草|拟|找律师)|请专家帮忙",
        r"\bcan (?:you|an expert|your experts?|the association|someone)\b.{0,12}"
        r"\b(?:draft|write|prepare|handle|review|check|analy[sz]e|respond|reply"
        r"|defend|fight)\b",
        r"\bhelp (?:us|me) (?:to )?(?:draft|write|prepare|respond|reply|file|defend|fight"
        r"|deal with|handle)\b",
        r"\b(?:take|handle|take on) (?:this|our|the) case\b|\bact for us\b"
        r"|(?:接|代理|跟进)(?:一下)?(?:这个|我们的)(?:案子|案件)",
    ),
    # We want to invalidate, oppose or cancel someone else's right.
    _rule(
        "challenge_right",
        "request",
        "right",
        r"(?<![不没别])(?:想|要|准备|打算|计划|决定)(?:去|先)?(?:对|给|把)?.{0,15}"
        r"(?:提|申请|提起|发起)(?:了)?(?:无效|宣告无效|无效宣告|异议|撤三)",
        r"\b(?:want|would like|'d like|plan|planning|intend|going|decided)\s+to\s+"
        r"(?:invalidate|challenge|oppose|cancel|revoke|attack|knock out)\b",
    ),
    # A deal on rights: valuing, buying or selling a set of patents or marks, negotiating.
    _rule(
        "transaction",
        "request",
        "right",
        r"估值|价值评估|作价入股|(?:评估|估算).{0,4}(?:价值|价格|值多少)|值多少钱"
        r"|打包(?:卖|出售|转让|收购)"
        r"|(?:收购|购买|买下|出售|卖掉|卖给).{0,12}[\d一二两三四五六七八九十几]+\s*(?:几)?(?:件|个|项)"
        r".{0,4}(?:专利|商标)",
        r"\bvaluat\w*|\bvalue (?:of )?(?:our|the|these|their|its) (?:\w+ )?(?:patents?"
        r"|trademarks?|portfolio|ip)\b"
        r"|\bnegotiat\w* (?:to|with|for|over)\b.{0,40}\b(?:patents?|trademarks?|licen[cs]\w*"
        r"|ip|brand|royalt\w*)\b"
        r"|\b(?:buy|sell|acquir|purchas)\w* (?:\d+|a dozen|dozens of|several) (?:of )?"
        r"(?:(?:its|their|our) )?(?:patents?|trademarks?|marks)\b",
        needs_party=True,
        soft=True,
    ),
    # A plan made for the member: a filing strategy or portfolio for a market, an audit.
    _rule(
        "bespoke_service",
        "request",
        "service",
        r"(?:帮|为|给|替)(?:我们|我司|我|咱们).{0,12}(?:做|出|制定|设计|规划|搞|弄)"
        r".{0,12}(?:布局|方案|规划|策略|体检)",
        r"\b(?:help|assist)\b (?:us |me )?(?:to |with )?(?:plan|design|build|develop"
        r"|structure|set up|map out)\b.{0,15}\b(?:our|a|the)\b.{0,30}\b(?:filings?|strateg\w*"
        r"|portfolio|plan|protection)\b",
    ),
    # Whether to sign or accept their contract or clause, or a specific clause named.
    _rule(
        "contract_review",
        "request",
        "right",
        r"(?:合同|协议|条款|担保|保证).{0,30}(?:该不该|能不能|要不要|可不可以|可以|能)"
        r"(?:签|接受|同意)",
        r"不侵权(?:担保|保证|承诺).{0,20}(?:要求|要|让)|(?:要求|要|让)(?:我们|我司).{0,12}"
        r"(?:不侵权(?:担保|保证|承诺)|承担.{0,12}(?:诉讼|赔偿|费用))",
        r"\b(?:indemnit\w*|warrant\w*|guarantee\w*|clause|contract|agreement|terms)\b.{0,60}"
        r"\bshould (?:we|i) (?:accept|sign|agree)\b"
        r"|\bshould (?:we|i) (?:accept|sign|agree to)\b.{0,40}\b(?:indemnit\w*|clause"
        r"|contract|agreement|terms)\b"
        r"|\b(?:uncapped|unlimited) (?:ip )?(?:liability|indemnit\w*)\b",
        needs_party=True,
    ),
    # "我们要不要去起诉": deciding whether to sue a party of their own case.
    _rule(
        "intent_to_sue",
        "request",
        "dispute",
        rf"{_WE}.{{0,6}}(?:要不要|该不该|应不应该|是不是该)(?:去|先|直接)?(?:起诉|告|打官司)",
        r"\bshould (?:we|i) (?:sue|take (?:them|him|her) to court|go to court)\b",
        needs_party=True,
        soft=True,
    ),
    # The member's right under attack, in members' words ("our invalidation defence").
    _rule(
        "right_challenged",
        "event",
        "right",
        r"\b(?:our|my)\b.{0,15}\binvalidation (?:defen[cs]e|response|reply|answer)\b"
        r"|\bdefen[cs]e (?:of|for) (?:our|my) (?:\w+ )?(?:patent|trademark|mark)\b",
        ip_evidence=True,
    ),
    # ---- FACTS --------------------------------------------------------------------------
    # Patent, application, registration or court case numbers.
    _rule(
        "case_number",
        "fact",
        "neutral",
        r"\bzl\s?\d{6,}|\bcn\s?\d{6,}|\b(?:us|ep|wo)\s?\d{7,}|第\s?\d{5,}\s?号"
        r"|(?:专利号|申请号|注册号|商标号|登记号|案号)\s*(?:是|为)?\s*[:：]?\s*第?\s*[a-z]{0,2}\d{5,}"
        r"|[(（]20\d\d[)）][^\s]{0,8}(?:民|刑|行|知)(?:初|终|再|申)",
        r"\b(?:patent|application|registration|reg\.?|trademark|case|tm)\s*(?:no\.?|number|#)"
        r"\s*[:：]?\s*[a-z]{0,2}\d{5,}",
        needs_remit=False,
        framed=False,
    ),
    # Sums of money in a demand, a loss or a settlement.
    _rule(
        "money",
        "fact",
        "weak_dispute",
        rf"{_CN_NUM}\s*(?:万|千|百万|亿)(?:元|块|人民币|美元|美金|欧元)?"
        rf"|{_NUM}\s*(?:元|块钱|人民币|美元|美金|欧元|英镑|港币|刀)",
        r"(?:rmb|cny|usd|eur|hkd|us\$|\$|¥|€|£)\s?\d"
        r"|\d[\d,.]*\s?(?:k|m|million|thousand)?\s?(?:rmb|cny|usd|eur|yuan|dollars?|euros?)\b"
        r"|\b\d[\d,.]*\s?(?:k|m|million|thousand)?\s(?:in )?(?:damages|compensation|royalties)\b"
        r"|\b\d+(?:\.\d+)?k\b(?! (?:units|pieces|pcs|orders|sets|copies|downloads|installs))",
        needs_party=True,
    ),
    # A demand for payment ("要我们赔", "they want us to pay to buy it back").
    _rule(
        "demand",
        "fact",
        "weak_dispute",
        rf"(?:要求|要|让|逼|叫|索要){_WE}.{{0,8}}{_PAY}|索赔|要加钱|狮子大开口|(?:要|要求)收.{{0,6}}(?:费|钱)",
        # their demand: of us, or by a third party ("we want compensation" is ours)
        r"\b(?:want|wants|wanted|asking|asks|asked|ask|demand\w*|request\w*|seek\w*|claim\w*)"
        r" (?:us|me) (?:to |for )?(?:pay|paying|compensation|damages|royalt\w*|a (?:licen[cs]e"
        r"|settlement) fee|money|\$|usd|rmb|eur|€|\d)",
        r"\b(?:they|he|she|it|who|which|company|brand|owner|lawyers?|attorneys?|photographer"
        r"|agency|side|party|holder|troll|author|creator|artist|developer|seller|licensor)\b"
        r".{0,12}\b(?:want|wants|wanted|asking|asks|asked|ask|demand\w*|request\w*|seek\w*"
        r"|claim\w*) (?:for )?(?:pay|compensation|damages|royalt\w*|a (?:licen[cs]e|settlement)"
        r" fee|money|\$|usd|rmb|eur|€|\d)",
        r"\bto buy (?:it|them|the \w+) back\b|\b(?:their|a|the) settlement offer\b"
        r"|\boffered (?:us )?(?:a )?settlement\b"
        r"|\bunless (?:we|i) pay\b"
        r"|\b(?:stopped|refus\w*|failed to|hasn't|has not|haven't|didn't) (?:pay|paying|paid)"
        r" (?:\w+ ){0,2}(?:royalt\w*|licen[cs]e fees?|fees)\b"
        r"|\b(?:they|he|she|licensee|client|customer|distributor|partner|company)\b.{0,10}"
        r"\b(?:stopped|stop|stops|refus\w*|failed to|hasn't|has not|haven't|didn't|don't"
        r"|doesn't|not) (?:pay|paying)\b",
        r"(?:不付|没付|拖欠|欠|不给)(?:我们)?(?:的)?(?:许可费|授权费|使用费|版税|专利费|提成)",
        needs_party=True,
        # official fees and scam letters about them are FAQ topics (pt-annual-fees)
        unless=r"年费|规费|官费|骗|真的吗|\bannual fees?\b|\bannuit\w*|\bofficial fees?\b"
        r"|\brenewal fees?\b|\bscam\w*|\bis (?:it|this|that) (?:real|legit\w*|genuine)\b",
    ),
    # How much was sold: the scale of an infringement.
    _rule(
        "sales_volume",
        "fact",
        "weak_dispute",
        rf"(?:卖了|卖出|卖掉|销量|月销|年销|日销|销售额|营业额|流水|出货|赚了|获利|阅读量|播放量|下载量"
        rf"|浏览量)"
        rf"(?:了|有|达|达到|超过|约|大概|近|将近)?\s*{_CN_NUM}",
        rf"(?:\d{{2,}}|\d+(?:\.\d+)?万|{_CN_NUM}(?:万|千|百))多?\s*(?:单|件|台|套|箱|份|pcs)",
        r"\bsold (?:over |more than |about |around |nearly |almost |at least )?"
        r"(?:\d[\d,.]*k?|thousands|hundreds|millions|tens of thousands)\b"
        r"|\b\d[\d,.]*k?\+? (?:units|pieces|pcs|orders|sets|copies|downloads|installs|stores"
        r"|shops|outlets)\b"
        r"|\b(?:sales|revenue|turnover) (?:of|worth|reached|exceed\w*|over|around|about)\b.{0,6}\d"
        r"|\blost (?:about |around |over |nearly )?\d+%?"
        r"|\b\d+% (?:of )?(?:our )?(?:sales|revenue)\b",
        rf"(?:销量|销售额|营业额)(?:下降|下滑|少)了?\s*{_CN_NUM}|损失了?\s*{_CN_NUM}"
        r"|(?:销量|销售额|营业额|流水|卖了)(?:过|超过|上)(?:亿|千万|百万|万)|上亿|过亿",
        needs_party=True,
    ),
    # A deadline or date: a day of the week, tomorrow, "within 15 days" demanded of us;
    # not the renewal date of the member's own right ("商标下个月到期 怎么续").
    _rule(
        "deadline",
        "fact",
        "neutral",
        rf"(?:下|这|本|上)(?:个)?{_WEEKDAY}|下周|下星期|下礼拜|明天|后天|今天下班|月底|这周内|本周内"
        rf"|\d{{1,2}}月\d{{1,2}}[日号]|下个?月\d{{1,2}}[日号]|\d{{1,2}}[日号]前"
        rf"|{_DEMAND}.{{0,6}}{_NUM}\s*(?:个)?(?:工作日|天|日|周|星期|个月|小时)(?:之?内|以内)"
        rf"|{_NUM}\s*(?:个)?(?:工作日|天|日|周|小时|月)(?:之?内|以内).{{0,6}}"
        r"(?:回复|答复|提交|撤|停止|删除|下架|交|答辩|举证|复审|上诉|异议|申请)"
        rf"|(?:已经)?(?:过了|超过了?|逾期了?|晚了){_NUM}\s*(?:个)?(?:月|天|周|年)"
        rf"|(?:还剩|只剩|仅剩|剩下){_NUM}\s*(?:个)?(?:工作日|天|日|周)"
        rf"|(?:要求|要|让|需要){_WE}.{{0,6}}(?:答复|回复|确认|书面说明|说明情况)"
        r"|\d{4}年\d{1,2}月",
        rf"\b(?:by|before|until|on|due|next|this)\s+(?:{_WEEKDAY_EN}|{_MONTHS_EN}\s*\d"
        rf"|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?(?:\s+(?:of\s+)?{_MONTHS_EN})?(?![\d.,])"
        r"|tomorrow|the end of)",
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS_EN}(?![a-z])|\b{_MONTHS_EN}\s+\d{{1,2}}"
        r"(?:st|nd|rd|th)?\b(?![,.]?\d)",
        r"\bnext week\b|\btomorrow\b|\bdeadline is\b"
        r"|\bdeadline\b.{0,20}\b\d+\s+(?:working |business )?(?:days?|weeks?|months?)\b"
        r"|\bend of (?:the )?(?:month|week)\b"
        r"|\b(?:in|within)\s+\d+\s+(?:working |business )?(?:days?|weeks?|hours?)\b"
        r"|\bdue (?:in|within)\s+\d+\s+(?:days?|weeks?|months?)\b"
        r"|\b(?:due|deadline|reply|respond|answer)\b (?:is )?(?:by |before |within )?(?:next|this)"
        r" (?:month|week)\b"
        r"|\b\d+\s+(?:working |business )?(?:days?|weeks?|hours?)\s+(?:to|ago|left|remaining)\b"
        r"|\b(?:must|need to|have to|has to|asked (?:us )?to|required to) (?:reply|respond|answer"
        r"|confirm)\b"
        r"|\bby \d+ (?:days?|weeks?|months?)\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
        needs_party=True,
        unless=r"到期|过期|续展|续费|年费|\bexpir\w*|\brenew\w*|\blapse\w*|\bannuit\w*"
        r"|\bannual fee",
    ),
    # A named company on the other side.
    _rule(
        "named_party",
        "fact",
        "neutral",
        r"(?<=[\u4e00-\u9fff]{2})(?:有限公司|有限责任公司|股份公司|集团)"
        r"|[a-z][a-z0-9&.\-]{1,20}\s?(?:公司|集团)|某某.{0,6}(?:公司|厂|品牌)"
        r"|(?:叫|名叫|名为)[^\s,，。]{1,12}(?:公司|厂|店|集团|工作室|电子|科技|电器|贸易|实业|商贸"
        r"|家居|百货|服饰)|(?:公司|厂|店|品牌|商家|店铺)名?叫[^\s,，。]{2,10}",
        r"\b[a-z0-9&]+\s+(?:co\.?,?\s*ltd|ltd|limited|inc|llc|gmbh|corp|corporation|plc|pty"
        r"|s\.?a\.?r\.?l|s\.?r\.?l|b\.?v|ag|kg)\b|\b(?:co\.?,?\s*ltd|gmbh|llc)\b",
        r"\b(?:called|named) [a-z0-9]{3,}|\b[a-z0-9-]{2,}\.(?:com|cn|net|shop|store|top|co)\b",
        r"\b(?!(?:our|my|their|its|his|her|the|a|an|company|competitor|distributor|customer"
        r"|client|supplier|partner|employee|someone|somebody|other|owner|seller|manufacturer"
        r"|factory|brand|agency|designer|photographer|it|one|china|world|association|office"
        r"|government|party|side|examiner|court)\b)[a-z][a-z0-9&-]+(?:'s|s') (?:\w+ )?"
        r"(?:lawyers?|attorneys?|law firm|counsel|legal team|registered|trademark|mark"
        r"|patent|brand|logo)\b",
        needs_party=True,
    ),
    # The other side placed by town or neighbourhood ("慈溪一家厂", "a company in
    # hangzhou"): as concrete as a name.
    _rule(
        "named_party",
        "fact",
        "neutral",
        rf"{_PLACE_ZH}(?:的|那边的?|这边的?)?(?:一家|一个|有家|有个|这家|那家|某家?|个)"
        rf".{{0,6}}{_FIRM_ZH}|(?:一家|一个|有家|这家|那家|某)(?:{_PLACE_ZH}).{{0,4}}{_FIRM_ZH}"
        rf"|隔壁(?:的)?(?:厂|公司|店|工厂|老板)",
        rf"\b(?:a|an|this|that|one|some)\b (?:\w+ ){{0,2}}{_FIRM_EN} (?:in|from) {_PLACE_EN}\b"
        rf"|\b(?:a|an|this|that|one|some)\b {_PLACE_EN} {_FIRM_EN}\b"
        rf"|^{_PLACE_EN} {_FIRM_EN}\b",
        needs_party=True,
    ),
    # ---- CONTEXT (escalates only with a fact) ------------------------------------------
    # Someone claims our right, or a partner registered our brand: the topics of
    # cr-ownership and tm-squatting, a live case with a demand, a date or a name.
    _rule(
        "ownership_claim",
        "context",
        "right",
        r"(?:员工|工程师|发明人|设计师|设计公司|合伙人|股东|技术员|研发|客户|供应商|工厂|合作方|外包)"
        r".{0,12}(?:说|声称|坚持|认为|主张)"
        r".{0,14}(?:设计|图案|logo|版权|著作权|专利|商标|软件|代码|照片|图片|作品|发明|技术)"
        r".{0,4}(?:是他|是她|归他|归她|属于他|属于她)",
        rf"{_THEY}(?:说|声称|坚持).{{0,10}}(?:是他们的|归他们|属于他们|版权是他们)",
        r"(?:经销商|代理商|合作方|客户|代工厂|工厂|供应商|合伙人|外包公司|外包|设计公司)"
        r".{0,12}(?:抢注|(?:注册|申请|登记)了?.{0,6}(?:商标|专利|软著|版权|著作权|域名|作品)"
        r"|把.{0,8}(?:商标|专利|品牌|logo|软著|域名).{0,6}(?:注册|申请|登记)了)",
        r"\b(?:competitors?|rivals?|distributors?|suppliers?|partners?|customers?|clients?"
        r"|agents?|factory|manufacturers?|licensees?)\b.{0,15}\b(?:filed|registered"
        r"|applied for|patented|got a patent)\b.{0,40}\b(?:our|we|us)\b",
        r"\b(?:designer|agency|freelancer|photographer|studio|developer|employee|engineer"
        r"|inventor)s?\b.{0,40}\b(?:claims?|claimed|says|said|say|insists?|insist)\b.{0,20}"
        r"\b(?:owns?|ownership|copyright|rights?|is (?:his|hers|theirs)|belongs? to"
        r" (?:him|her|them))\b|\b(?:says?|said|claims?|claimed|insists?)\b.{0,25}"
        r"\b(?:brand|trademark|logo|design|patent|copyright)\b.{0,5}\b(?:is|are)"
        r" (?:his|hers|theirs)\b"
        r"|\b(?:former |ex-|ex |previous |old )"
        r"(?:[\w&-]+ ){0,2}(?:employees?|staff|engineers?|designers?|partners?)\b.{0,40}"
        r"\b(?:claims?|claimed)\b",
        ip_evidence=True,
    ),
    # An office action or refusal on the member's own application: the tm-refusal topic,
    # a live case with a deadline ("reply due next month", "reply in 15 days").
    _rule(
        "official_action",
        "context",
        "right",
        r"审查意见|驳回通知|补正通知|驳回决定|(?:国知局|商标局|知识产权局|审查员).{0,10}(?:通知|驳回|发来|来函)",
        r"\b(?:cnipa|examiner|trademark office|patent office|uspto|euipo)\b.{0,30}"
        r"\b(?:reject\w*|refus\w*|objection\w*|office actions?|notices?|letters?|opinions?)\b"
        r"|\b(?:office actions?|notice of (?:refusal|rejection)|refusal notice"
        r"|rejection notice)\b",
    ),
    # Customs tells us (the right holder) about suspected goods: the inf-customs topic,
    # a live case with a deadline or a name.
    _rule(
        "customs_notice",
        "context",
        "dispute",
        rf"海关.{{0,6}}(?:通知|来电|打电话|发函|发来|寄来|联系)了?{_WE}"
        rf"|海关.{{0,6}}(?:发来|寄来|发了|寄了|来了|打来).{{0,15}}(?:通知|函|电话|文书)"
        rf"|{_RECEIVE}.{{0,6}}海关.{{0,12}}(?:通知|函|书|确认|文书)",
        r"\b(?:customs|cbp)\b.{0,40}\b(?:notified|contacted|emailed|informed|called|sent us"
        r"|asked us|told us)\b"
        r"|\b(?:letter|notice|notification|decision)\b.{0,10}\bfrom (?:the )?(?:customs|cbp)\b",
        ip_evidence=True,
    ),
    # They copy, sell or use our product, design, brand or pictures.
    _rule(
        "infringed",
        "context",
        "dispute",
        rf"(?:卖|销售|用|使用|仿|抄|盗用|盗|模仿|复制|山寨|假冒|仿冒|冒用|搬运|照搬|翻拍)"
        rf".{{0,6}}{_WE}的?.{{0,10}}{_OUR_THING}",
        rf"(?:跟|和|与){_WE}.{{0,6}}(?:一模一样|一样|相同|差不多|雷同|同款)",
        rf"还在(?:用|卖|使用|销售).{{0,6}}{_WE}|{_WE}的.{{0,8}}被.{{0,8}}(?:抄|仿|盗|冒用|拿去|用了)",
        r"\b(?:selling|sells|sold|using|uses|used|copying|copies|copied|cloned|cloning|hijack\w*"
        r"|imitat\w*|stole|stealing|ripping off|ripped off|knocking off|making|manufactur\w*"
        r"|producing|still using)\b.{0,25}\b(?:our|my)\b",
        r"\b(?:exact|identical|1:1) (?:copy|copies|replicas?|clones?) of (?:our|my)\b",
        r"\b(?:fake|counterfeit|pirated|knock-?off|copycat|cloned?|copied|unauthori[sz]ed)"
        r" (?:\w+ ){0,2}(?:of|version of|copies of) (?:our|my)\b"
        r"|\b(?:our|my)\b.{0,25}\b(?:was|were|is|are|being|got) (?:\w+ )?(?:cracked|pirated|copied"
        r"|cloned|stolen|counterfeited|faked|plagiari[sz]ed|ripped off|knocked off)\b",
        ip_evidence=True,
    ),
)
# Category hints that escalate nothing on their own: squatting is about the trademark,
# an expert visit or due diligence is an association service.
_RIGHT_HINT = _compile(
    r"抢注|被许可人|许可方|许可合同|授权合同|许可协议|授权协议|独家授权",
    r"\b(?:registered|filed|squatted) (?:our|my) (?:brand|trademark|mark|logo|name)\b"
    r"|\bsquat\w*|\blicens(?:ee|or)s?\b|\blicen[cs]e agreement\b|\bexclusive licen[cs]e\b"
    r"|\bsigned an? (?:\w+ )?licen[cs]e\b",
)
_SERVICE_HINT = _compile(
    r"尽职调查|尽调|(?:专家|你们).{0,8}(?:上门|来我们|来厂|到我们)|体检",
    r"\bdue diligence\b|\bportfolio\b|\b(?:visit|come to) (?:our|us)\b",
)


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    reasons: tuple[str, ...]  # "risk:lawyer_letter", …; empty: no sign of a live case
    matters: frozenset[Matter]  # kinds of matter of the rules that fired, and hints

    @property
    def escalate(self) -> bool:
        return bool(self.reasons)


def _frame_start(folded: str) -> int:
    """Where a hypothetical framing starts: matches after it are generic."""
    start = len(folded)
    frame = HYPOTHETICAL.search(folded)
    if frame:
        start = frame.start()
    conditional = _CONDITIONAL_END.search(folded, 0, start)
    if conditional:
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(folded, 0, conditional.start())]
        start = min(start, breaks[-1] if breaks else 0)
    return start


def assess(folded: str, *, in_remit: bool) -> RiskAssessment:
    """The reasons to escalate `folded` text, and the kind of matter it is."""
    frame_end = _frame_start(folded)
    has_party = PARTY.search(folded) is not None
    general = GENERAL.search(folded) is not None and _HAPPENED.search(folded) is None

    def matches(rule: RiskRule) -> bool:
        """The rule's words occur outside a hypothetical (remit aside)."""
        if rule.needs_party and not has_party:
            return False
        if rule.unless is not None and rule.unless.search(folded):
            return False
        return any(
            not (rule.framed and match.start() >= frame_end)
            for match in rule.pattern.finditer(folded)
        )

    # Rules that carry their own IP evidence run first; the rest only when needed.
    early = [matches(rule) if rule.ip_evidence else None for rule in RULES]
    evidence = in_remit or any(early)
    fired = [
        rule
        for rule, seen in zip(RULES, early, strict=True)
        if (evidence or not rule.needs_remit) and (matches(rule) if seen is None else seen)
    ]
    has_fact = any(rule.group == "fact" for rule in fired)
    kept = [
        rule
        for rule in fired
        if (rule.group != "context" or has_fact) and not (rule.soft and general and not has_fact)
    ]
    superseded = {name for rule in kept for name in rule.supersedes}
    matters: set[Matter] = {rule.matter for rule in kept if rule.reason not in superseded}
    for rule in fired:  # a context without a fact still says what kind of matter it is
        if kept and rule.group == "context" and rule not in kept:
            matters.add("weak_dispute" if rule.matter == "dispute" else rule.matter)
    if kept:
        if _RIGHT_HINT.search(folded):
            matters.add("right")
        if _SERVICE_HINT.search(folded):
            matters.add("service")
    reasons = tuple(dict.fromkeys(f"risk:{rule.reason}" for rule in kept))
    return RiskAssessment(reasons, frozenset(matters))


def risk_reasons(folded: str, *, in_remit: bool) -> tuple[str, ...]:
    """Reason codes ("risk:money", …) of the rules that fire on `folded` text."""
    return assess(folded, in_remit=in_remit).reasons
