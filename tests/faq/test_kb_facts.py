"""The facts the shipped knowledge base must state, checked in both languages.

Each fact of /work/shared/faq-topics.md (as corrected after the legal review) and of
issue 8 item 5 is a pair of patterns on the answer text of the entry that must state
it: one for the Chinese answer, one for the English. An edit that drops or changes a
fact in either language fails here. Patterns are searched in the raw answer (before
placeholders are filled in) with runs of whitespace folded to one space.
"""

from __future__ import annotations

import re

import pytest

from faq.loader import load_knowledge_base
from faq.models import FaqEntry, KnowledgeBase, Lang

# entry id -> (fact, Chinese pattern, English pattern)
FACTS: dict[str, list[tuple[str, str, str]]] = {
    "inf-sued": [
        ("do not ignore it", r"不要置之不理", r"Don't ignore it"),
        ("read the complaint and summons", r"阅读起诉状和传票", r"Read the complaint and summons"),
        ("note the court and dates", r"受理法院.*开庭日期", r"Note the court.*hearing date"),
        ("preserve documents", r"保存证据", r"Preserve documents"),
        ("no admissions", r"不要向原告承认侵权", r"Admit nothing"),
        (
            "contact the association for an expert or lawyer",
            r"联系协会.*安排专家或律师",
            r"Contact the association.*expert or lawyer",
        ),
        (
            "defence within 15 days of receiving the complaint",
            r"收到起诉状副本之日起15日内提交答辩状",
            r"Defence: within 15 days of receiving the copy of the complaint",
        ),
        (
            "30 days without domicile in China",
            r"在中国境内没有住所的当事人为30日",
            r"30 days for a party without domicile in China",
        ),
        ("Civil Procedure Law", r"《民事诉讼法》", r"Civil Procedure Law"),
        (
            "jurisdiction objection within the defence period",
            r"管辖权异议：应当在提交答辩状期间提出",
            r"Objection to jurisdiction: within the period for filing the defence",
        ),
        (
            "evidence within the court's time limit",
            r"在法院指定的举证期限内提交证据",
            r"Evidence: within the time limit the court sets",
        ),
        (
            "appeal 15 days from a judgment, 10 from a ruling",
            r"判决书送达之日起15日内上诉.*裁定书送达之日起10日内",
            r"within 15 days of service of a first instance judgment, or 10 days of service "
            r"of a ruling",
        ),
        (
            "invalidation of the asserted right at CNIPA",
            r"向国家知识产权局请求宣告对方的专利无效",
            r"request CNIPA to invalidate the asserted patent",
        ),
        ("prior use", r"在先使用", r"Prior use"),
        ("licences", r"许可：权利人的许可合同", r"Licences: licence contracts"),
        (
            "legitimate source with purchase records",
            r"合法来源.*采购合同、发票",
            r"Legitimate source.*purchase contracts, invoices",
        ),
        (
            "jurisdiction: place of infringement or defendant's domicile",
            r"侵权行为地或者被告住所地",
            r"place of the infringement or of the defendant's domicile",
        ),
        (
            "IP courts or intermediate courts",
            r"知识产权法院或指定的中级人民法院",
            r"IP courts or designated intermediate courts",
        ),
        ("ask an expert now", r"现在就点击「咨询专家」", r"Tap 'Ask an expert' now"),
    ],
    "inf-trade-secret": [
        ("not publicly known", r"不为公众所知悉", r"not known to the public"),
        ("commercial value", r"具有商业价值", r"has commercial value"),
        ("confidentiality measures", r"相应保密措施", r"corresponding confidentiality measures"),
        (
            "AUCL revised 2025, in force 15 October 2025",
            r"《反不正当竞争法》，2025年修订，2025年10月15日起施行",
            r"Anti-Unfair Competition Law, revised in 2025, in force since 15 October 2025",
        ),
        (
            "employees leaving with technology or customer lists",
            r"员工离职带走技术或客户资料",
            r"Employees leaving with technology or customer lists",
        ),
        ("confidentiality agreements", r"保密协议", r"Confidentiality agreements"),
        (
            "non-compete under Labour Contract Law arts. 23-24",
            r"《劳动合同法》第二十三条、第二十四条",
            r"Labour Contract Law arts\. 23 and 24",
        ),
        (
            "non-compete only for senior and confidential staff",
            r"只适用于高级管理人员、高级技术人员和其他负有保密义务的人员",
            r"only for senior managers, senior technical staff and other staff with a "
            r"confidentiality duty",
        ),
        ("non-compete at most 2 years", r"不得超过2年", r"at most 2 years"),
        (
            "monthly compensation during the non-compete",
            r"竞业限制期限内按月给予经济补偿",
            r"pay compensation monthly during the non-compete period",
        ),
        (
            "remedies under the AUCL",
            r"依照《反不正当竞争法》要求停止侵害、赔偿损失",
            r"Civil lawsuit under the Anti-Unfair Competition Law",
        ),
        ("evidence preservation", r"证据保全", r"evidence preservation"),
        ("Criminal Law art. 219", r"《刑法》第二百一十九条", r"Criminal Law art\. 219"),
        ("ask an expert for a live case", r"立即点击「咨询专家」", r"tap 'Ask an expert' now"),
    ],
    "tm-fees": [
        (
            "RMB 300 per class for up to 10 items",
            r"每个类别300元（纸质申请），含本类10个商品或服务项目",
            r"RMB 300 per class \(paper filing\), covering up to 10 goods or services",
        ),
        ("RMB 30 per extra item", r"每超过1个加收30元", r"each item beyond 10 costs RMB 30"),
        (
            "e-filing RMB 270 per class, RMB 27 per extra item",
            r"每个类别270元，超过10个项目的每个加收27元",
            r"RMB 270 per class, plus RMB 27 for each item beyond 10",
        ),
        (
            "renewal RMB 500 (450 online)",
            r"续展注册：500元（网上申请450元）",
            r"Renewal: RMB 500 \(RMB 450 if filed online\)",
        ),
        ("each class charged", r"费用按类别计算", r"Fees are charged per class"),
        (
            "agency fee as a range that varies",
            r"代理费大概每个类别几百元到一千元左右.*差别很大",
            r"roughly a few hundred to about 1,000 RMB per class.*varies",
        ),
        ("consultation free for members", r"协会会员的知识产权咨询免费", r"free for members"),
        (
            "check CNIPA's current schedule",
            r"以国家知识产权局公布的现行收费标准为准",
            r"check CNIPA's current fee schedule before paying",
        ),
    ],
    "pt-fees": [
        (
            "application fees",
            r"申请费：发明专利900元，实用新型500元，外观设计500元",
            r"Application fee: invention RMB 900; utility model RMB 500; design RMB 500",
        ),
        (
            "substantive examination fee",
            r"发明专利实质审查费：2500元",
            r"Substantive examination fee for an invention: RMB 2,500",
        ),
        (
            "annual fees rising with the year",
            r"第1至3年每年900元.*第16至20年8000元",
            r"years 1–3 RMB 900 a year.*years 16–20 RMB 8,000",
        ),
        (
            "utility model annual fees",
            r"实用新型：第1至3年每年600元.*第9至10年2000元",
            r"Utility model: years 1–3 RMB 600 a year.*years 9–10 RMB 2,000",
        ),
        ("reduction 85%", r"减缴85%", r"85% off"),
        ("reduction 70% for joint applicants", r"共同申请的，减缴70%", r"70% off for two or more"),
        (
            "eligibility: individuals",
            r"上年度月均收入低于5000元（年6万元）的个人",
            r"individuals with an average monthly income below RMB 5,000 \(RMB 60,000 a year\)",
        ),
        (
            "eligibility: enterprises",
            r"上年度企业应纳税所得额低于100万元的企业",
            r"enterprises with taxable income below RMB 1,000,000",
        ),
        (
            "which fees are reduced",
            r"申请费.*发明专利实质审查费、复审费，以及自授予专利权当年起10年内的年费",
            r"the application fee.*substantive examination fee.*reexamination fee, and annual "
            r"fees for the first 10 years from the year of grant",
        ),
        ("agency drafting fees vary", r"代理费.*差别很大", r"varies widely"),
        ("official fee figures", r"以上为官方收费金额", r"These are official fee figures"),
        (
            "check CNIPA's current schedule",
            r"核对现行收费标准",
            r"check CNIPA's current fee schedule before paying",
        ),
    ],
    "gen-fees": [
        (
            "consultation free for members",
            r"会员咨询免费",
            r"Consultation is free for members",
        ),
        (
            "mediation free for every party",
            r"对每一方当事人都免费，无论是否为会员",
            r"Mediation is free for every party, member or not",
        ),
        (
            "People's Mediation Law art. 4",
            r"《人民调解法》第四条",
            r"People's Mediation Law art\. 4",
        ),
    ],
    "inf-mediation": [
        (
            "free for every party",
            r"对每一方当事人都免费，无论是否为协会会员",
            r"free for every party, whether or not a member of the association",
        ),
        (
            "People's Mediation Law art. 4",
            r"《人民调解法》第四条",
            r"People's Mediation Law art\. 4",
        ),
        (
            "judicial confirmation within 30 days",
            r"30日内共同向人民法院申请司法确认",
            r"jointly apply to a people's court for judicial confirmation within 30 days",
        ),
    ],
    "tm-squatting": [
        (
            "opposition within 3 months",
            r"自公告之日起3个月内.*提出异议",
            r"within 3 months of publication",
        ),
        (
            "invalidation within 5 years on prior rights",
            r"自对方商标注册之日起5年内提出（第四十五条）",
            r"within 5 years of the registration date \(art\. 45\)",
        ),
        (
            "no time limit for a well-known mark registered in bad faith",
            r"恶意注册的驰名商标，驰名商标所有人不受5年的时间限制",
            r"bad-faith registration of a well-known mark: the owner of the well-known mark "
            r"is not bound by the 5-year limit",
        ),
        (
            "no time limit for bad-faith filings or fraud (art. 44 with art. 4)",
            r"不以使用为目的的恶意注册（第四条），或者以欺骗手段.*没有时间限制（第四十四条）",
            r"bad-faith filing without intent to use \(art\. 4\), or a registration obtained "
            r"by fraud.*no time limit \(art\. 44\)",
        ),
        ("keep evidence of prior use", r"在先使用证据", r"evidence of your prior use"),
        (
            "prior use is a narrow defence (art. 59(3))",
            r"在先使用只是很窄的抗辩（第五十九条第三款）",
            r"Prior use alone is a narrow defence \(art\. 59 para\. 3\)",
        ),
        (
            "use before the other's filing and before its own use",
            r"在对方申请注册之前、并且先于对方使用",
            r"before the other party filed, and before it used the mark itself",
        ),
        ("original scope only", r"原使用范围", r"within the original scope"),
        ("distinguishing mark", r"附加适当的区别标识", r"add an appropriate distinguishing mark"),
        (
            "AUCL protects unregistered marks with a certain influence",
            r"未注册但有一定影响的商标，还受《反不正当竞争法》保护",
            r"unregistered mark with a certain influence is also protected by the "
            r"Anti-Unfair Competition Law",
        ),
        (
            "Trademark Law revision only pending",
            r"修订尚在审议中.*2019年修正的现行《商标法》",
            r"revision of the Trademark Law is pending.*amended in 2019 applies",
        ),
    ],
    "tm-register": [
        (
            "CNIPA and its Trademark Office",
            r"国家知识产权局（CNIPA）.*国家知识产权局商标局",
            r"China National Intellectual Property Administration \(CNIPA, 国家知识产权局\), "
            r"whose Trademark Office \(商标局\)",
        ),
        ("3-month opposition period", r"3个月为异议期", r"3-month opposition period"),
        (
            "Trademark Law revision only pending",
            r"修订尚在审议中.*仍适用现行法律",
            r"revision of the Trademark Law is pending.*the 2019 law applies",
        ),
    ],
    "pt-process": [
        (
            "publication at 18 months",
            r"满18个月公布（第三十四条）",
            r"18 months after the filing date \(art\. 34\)",
        ),
        (
            "examination request within 3 years",
            r"3年内请求实质审查.*（第三十五条）",
            r"substantive examination.*within 3 years.*\(art\. 35\)",
        ),
        (
            "both periods from the priority date",
            r"要求了优先权的，上述18个月和3年都自优先权日起算",
            r"Where priority is claimed, both the 18 months and the 3 years are counted from "
            r"the priority date",
        ),
        (
            "preliminary examination since 20 January 2024 checks novelty",
            r"自2024年1月20日.*初步审查还会审查是否明显不具备新颖性",
            r"Since 20 January 2024.*preliminary examination also checks for obvious lack of "
            r"novelty",
        ),
        (
            "utility models: obvious lack of inventiveness",
            r"实用新型还审查是否明显不具备创造性",
            r"for utility models also obvious lack of inventiveness",
        ),
    ],
    "tm-assignment-license": [
        ("written agreement", r"书面转让协议", r"written assignment agreement"),
        (
            "joint application to CNIPA",
            r"共同向国家知识产权局提出转让申请",
            r"joint application with CNIPA",
        ),
        (
            "assignment effective on publication (art. 42)",
            r"受让人自公告之日起享有商标专用权",
            r"the assignee owns the exclusive right from the date of publication",
        ),
        (
            "licence recorded during its term",
            r"在许可合同有效期内将许可使用报国家知识产权局备案",
            r"record the licence with CNIPA during the term of the licence contract",
        ),
        (
            "unrecorded licence not against bona fide third parties (art. 43)",
            r"未经备案的，不得对抗善意第三人",
            r"unrecorded licence cannot be asserted against a third party acting in good faith",
        ),
    ],
    "pt-transfer-license": [
        (
            "assignment effective on registration (art. 10)",
            r"转让自登记之日起生效",
            r"takes effect on the date of registration",
        ),
        (
            "licence recorded within 3 months",
            r"自合同生效之日起3个月内向国家知识产权局备案",
            r"recorded with CNIPA within 3 months of taking effect",
        ),
        (
            "open licences arts. 50-52",
            r"开放许可（第五十条至第五十二条）",
            r"Open licence \(arts\. 50 to 52\)",
        ),
        (
            "utility-model or design declaration needs an evaluation report",
            r"实用新型、外观设计专利提出开放许可声明的，应当提供专利权评价报告",
            r"open-licence declaration for a utility model or design must be accompanied by a "
            r"patent evaluation report",
        ),
        (
            "no exclusive or sole licence during an open licence",
            r"不得就该专利给予独占或者排他许可",
            r"may not grant an exclusive or sole licence",
        ),
    ],
    "inf-customs": [
        ("recordation valid 10 years", r"有效期10年", r"valid for 10 years"),
        (
            "renewal within the last 6 months",
            r"届满前6个月内申请续展",
            r"renew within the 6 months before expiry",
        ),
        (
            "release after 20 working days when the holder applied",
            r"权利人自己申请扣留的，自扣留之日起20个工作日内",
            r"within 20 working days of the detention when the right holder applied for it",
        ),
        (
            "release after 50 working days when customs acted on a recordation",
            r"海关依备案发现并扣留的，自扣留之日起50个工作日内",
            r"within 50 working days of the detention when customs acted on a recordation",
        ),
        ("Customs IPR Regulations art. 24", r"条例第二十四条", r"\(art\. 24\)"),
        (
            "security for release in suspected patent cases",
            r"涉嫌侵犯专利权的，收货人或发货人向海关提供与货物等值的担保金后，可以请求放行货物",
            r"suspected patent infringement cases, the consignee or consignor can obtain "
            r"release by posting security",
        ),
    ],
    "inf-what-to-do": [
        (
            "trademark and patent complaints to market regulation",
            r"商标、专利侵权，向侵权行为地的市场监督管理局",
            r"for trademarks and patents, to the market regulation bureau",
        ),
        (
            "copyright complaints to the copyright authority",
            r"著作权（版权）侵权，向版权主管部门",
            r"for copyright, to the copyright authority",
        ),
        ("limitation 3 years", r"诉讼时效为3年", r"limitation period is 3 years"),
    ],
    "inf-damages": [
        (
            "punitive damages 1-5 times",
            r"1倍以上5倍以下",
            r"1 to 5 times",
        ),
        (
            "punitive damages for trademarks, patents and copyright",
            r"《商标法》第六十三条、《专利法》第七十一条、《著作权法》第五十四条）",
            r"Trademark Law art\. 63, Patent Law art\. 71, Copyright Law art\. 54\)",
        ),
        ("trademark statutory damages", r"商标：500万元以下", r"trademarks: up to RMB 5,000,000"),
        (
            "patent statutory damages",
            r"专利：3万元以上500万元以下",
            r"patents: RMB 30,000 to 5,000,000",
        ),
        (
            "copyright statutory damages (art. 54)",
            r"著作权：500元以上500万元以下（《著作权法》第五十四条）",
            r"copyright: RMB 500 to 5,000,000 \(Copyright Law art\. 54\)",
        ),
    ],
    "cr-term": [
        ("life plus 50 years", r"作者终生及其死亡后50年", r"life plus 50 years"),
        (
            "employee works of the employer: 50 years from publication (art. 18(2))",
            r"职务作品（《著作权法》第十八条第二款）：财产权利保护期为50年",
            r"works created in the course of employment \(职务作品\) whose copyright \(except "
            r"the right of authorship\) belongs to the employer "
            r"\(Copyright Law art\. 18 para\. 2\)",
        ),
        (
            "unpublished within 50 years: no protection",
            r"创作完成后50年内未发表的，不再受保护",
            r"not published within 50 years of creation is no longer protected",
        ),
        (
            "ordinary employee works: the employee's, life plus 50",
            r"一般职务作品（第十八条第一款）：著作权归作者（员工）享有.*终生及其死亡后50年",
            r"Ordinary works created in the course of employment \(art\. 18 para\. 1\): the "
            r"copyright belongs to the author \(the employee\).*life plus 50 years",
        ),
    ],
    "cr-ownership": [
        (
            "works created in the course of employment",
            r"职务作品（《著作权法》第十八条）",
            r"Works created in the course of employment \(职务作品, Copyright Law art\. 18\)",
        ),
        (
            "commissioned works belong to the commissioned party without a contract",
            r"著作权属于受托人",
            r"the copyright belongs to the commissioned party",
        ),
    ],
    "tm-symbol": [
        (
            "® only on registered marks",
            r"只有在中国已经核准注册的商标才能标注",
            r"may only be used on marks registered in China",
        ),
        (
            "passing off (art. 52)",
            r"冒充注册商标.*（第五十二条）",
            r"Passing off an unregistered mark as registered.*\(art\. 52\)",
        ),
        (
            "™ has no legal meaning",
            r"™在中国法律上没有特定含义",
            r"™ has no legal meaning in China",
        ),
    ],
}

# The other topics of faq-topics.md, so that no fact of the list goes unchecked.
FACTS.update(
    {
        "tm-duration": [
            (
                "examination within 9 months (art. 28)",
                r"9个月内审查完毕（《商标法》第二十八条）",
                r"within 9 months of receiving the application \(Trademark Law art\. 28\)",
            ),
            (
                "3-month opposition (art. 33)",
                r"3个月异议期（第三十三条）",
                r"3-month opposition period runs \(art\. 33\)",
            ),
            ("7 to 12 months in practice", r"7至12个月", r"7 to 12 months"),
        ],
        "tm-term-renewal": [
            (
                "10 years from registration (art. 39)",
                r"有效期为10年，自核准注册之日起计算（《商标法》第三十九条）",
                r"valid for 10 years from the date of registration \(Trademark Law art\. 39\)",
            ),
            (
                "renew within 12 months before expiry",
                r"有效期满前12个月内可以办理续展",
                r"renew within the 12 months before the term expires",
            ),
            ("6-month grace period", r"6个月宽展期", r"6-month grace period"),
            (
                "each renewal 10 years",
                r"每次续展注册的有效期为10年",
                r"Each renewal lasts 10 years",
            ),
        ],
        "tm-classes": [
            (
                "45 classes: 1-34 goods, 35-45 services",
                r"共45个类别：第1至34类为商品，第35至45类为服务",
                r"45 classes, classes 1 to 34 for goods and 35 to 45 for services",
            ),
            ("each class a separate fee", r"每个类别单独缴费", r"each class is paid separately"),
        ],
        "tm-nonuse": [
            (
                "3 years' non-use, anyone may request (art. 49)",
                r"连续3年不使用的，任何单位或个人都可以.*第四十九条",
                r"not used for 3 consecutive years.*anyone may ask CNIPA to cancel it.*art\. 49",
            ),
        ],
        "tm-refusal": [
            (
                "review within 15 days (art. 34)",
                r"15日内，向国家知识产权局申请驳回复审（《商标法》第三十四条）",
                r"within 15 days of receiving the refusal notice \(Trademark Law art\. 34\)",
            ),
            (
                "partial refusal: accept the approved part",
                r"部分驳回：可以接受被核准的部分",
                r"Partial refusal: you can accept the approved part",
            ),
        ],
        "tm-international": [
            ("territorial", r"商标权有地域性", r"Trademark rights are territorial"),
            (
                "Madrid via CNIPA, 10 years",
                r"通过国家知识产权局提交一份国际申请.*有效期为10年",
                r"through CNIPA.*lasts 10 years",
            ),
        ],
        "pt-types-terms": [
            (
                "invention 20 years",
                r"发明专利：.*期限20年",
                r"Invention patent \(发明\):.*term 20 years",
            ),
            (
                "utility model 10 years",
                r"实用新型专利：.*期限10年",
                r"Utility model \(实用新型\):.*term 10 years",
            ),
            (
                "design 15 years since 1 June 2021",
                r"期限15年.*2021年6月1日",
                r"term 15 years.*1 June 2021",
            ),
            (
                "from the filing date (art. 42)",
                r"均自申请日起计算（《专利法》第四十二条）",
                r"counted from the filing date \(Patent Law art\. 42\)",
            ),
        ],
        "pt-patentability": [
            (
                "novelty, inventiveness, applicability (art. 22)",
                r"新颖性、创造性和实用性（《专利法》第二十二条）",
                r"novel, inventive and practically applicable \(Patent Law art\. 22\)",
            ),
            (
                "narrow 6-month grace period (art. 24)",
                r"6个月宽限期（第二十四条）只适用于少数情形",
                r"The 6-month grace period \(art\. 24\) covers only a few cases",
            ),
        ],
        "pt-priority": [
            (
                "12 months for inventions and utility models",
                r"发明、实用新型：12个月",
                r"inventions and utility models: 12 months",
            ),
            ("6 months for designs (art. 29)", r"外观设计：6个月", r"designs: 6 months"),
        ],
        "pt-annual-fees": [
            (
                "6 months' late payment with a surcharge",
                r"6个月内补缴，同时缴纳滞纳金",
                r"within 6 months after the due date, together with a late surcharge",
            ),
        ],
        "pt-pct": [
            (
                "Chinese national phase 30 (32) months",
                r"自优先权日起30个月，缴纳宽限费后可延至32个月",
                r"30 months from the priority date, extendable to 32 months",
            ),
        ],
        "pt-service-invention": [
            (
                "contract may decide for inventions made with resources (art. 6(3))",
                r"从其约定（《专利法》第六条第三款）",
                r"the contract prevails \(Patent Law art\. 6 para\. 3\)",
            ),
            (
                "reward 4,000 / 1,500 RMB within 3 months",
                r"3个月内发给奖金，一项发明专利最低不少于4000元，一项实用新型或外观设计专利最低不少于1500元",
                r"within 3 months of the publication of grant: at least 4,000 RMB per invention "
                r"patent and at least 1,500 RMB per utility model or design patent",
            ),
            ("Implementing Rules arts. 93 and 94", r"第九十三条、第九十四条", r"arts\. 93 and 94"),
        ],
        "cr-automatic": [
            (
                "automatic on creation",
                r"自作品创作完成之日起自动产生",
                r"arises automatically on the day a work is created",
            ),
            ("registration voluntary", r"作品登记是自愿的", r"Registration is voluntary"),
        ],
        "cr-software": [
            (
                "filed with the CPCC",
                r"中国版权保护中心",
                r"Copyright Protection Center of China \(中国版权保护中心\)",
            ),
            ("voluntary", r"登记是自愿的", r"registration \(软著\) is voluntary"),
        ],
        "inf-online": [
            (
                "E-Commerce Law arts. 42-43",
                r"《电子商务法》第四十二条、第四十三条",
                r"E-Commerce Law arts\. 42 and 43",
            ),
            (
                "restored unless complaint or suit within 15 days",
                r"15日内，平台没有收到您已经投诉或起诉的通知的，应当终止所采取的措施",
                r"within 15 days after the declaration reaches you, the platform has not been "
                r"told that you have filed a complaint or a lawsuit, it must end the measures",
            ),
        ],
        "inf-accused": [
            ("don't ignore it", r"不要置之不理", r"Do not ignore it"),
            ("don't admit anything", r"不要急于承认", r"Do not admit anything yet"),
            (
                "an expert should review",
                r"请协会专家审阅函件",
                r"have the association's expert review the letter",
            ),
        ],
        "inf-limitation": [
            (
                "3 years (Civil Code art. 188)",
                r"诉讼时效期间为3年.*《民法典》第一百八十八条|《民法典》第一百八十八条.*诉讼时效期间为3年",
                r"Civil Code art\. 188: the limitation period .* is 3 years",
            ),
            (
                "Patent Law art. 74",
                r"《专利法》第七十四条：侵犯专利权的诉讼时效为3年",
                r"Patent Law art\. 74: the limitation period for patent infringement is 3 years",
            ),
        ],
    }
)

# Wording the legal review ruled out, in every answer of the given language.
FORBIDDEN: list[tuple[Lang, str, str]] = [
    ("en", r"(?i)works? for hire", "say 'works created in the course of employment (职务作品)'"),
    ("en", r"(?i)mediation[^.;\n]*free for members", "mediation is free for every party"),
    ("zh", r"调解[^。；\n]*会员免费", "mediation is free for every party"),
    ("en", r"China Trademark Office", "the website is the China Trademark website of CNIPA"),
    ("zh", r"（CNIPA，商标局）", "CNIPA and its Trademark Office are not the same body"),
    ("zh", r"国家工商|工商行政管理总局", "trademarks are CNIPA's, not the former SAIC's"),
    ("en", r"\bSAIC\b", "trademarks are CNIPA's, not the former SAIC's"),
    ("zh", r"《反不正当竞争法》第", "AUCL article numbers changed in the 2025 revision"),
    ("en", r"Anti-Unfair Competition Law,? arts?\.", "AUCL article numbers changed in 2025"),
]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def _answer(kb: KnowledgeBase, faq_id: str, lang: Lang) -> str:
    entry = kb.get(faq_id)
    assert entry is not None, f"{faq_id} is missing from the knowledge base"
    return re.sub(r"\s+", " ", entry.answer[lang])


@pytest.mark.parametrize(
    ("faq_id", "fact", "lang", "pattern"),
    [
        pytest.param(faq_id, fact, lang, pattern, id=f"{faq_id}-{lang}-{fact}")
        for faq_id, facts in FACTS.items()
        for fact, zh, en in facts
        for lang, pattern in (("zh", zh), ("en", en))
    ],
)
def test_entry_states_the_fact(
    kb: KnowledgeBase, faq_id: str, fact: str, lang: Lang, pattern: str
) -> None:
    assert re.search(pattern, _answer(kb, faq_id, lang)), f"{faq_id} [{lang}] must state: {fact}"


@pytest.mark.parametrize(("lang", "pattern", "why"), FORBIDDEN)
def test_no_answer_uses_ruled_out_wording(
    kb: KnowledgeBase, lang: Lang, pattern: str, why: str
) -> None:
    offenders = [e.id for e in kb if re.search(pattern, _answer(kb, e.id, lang))]
    assert offenders == [], why


@pytest.mark.parametrize(
    ("faq_id", "category", "must_relate"),
    [
        ("inf-sued", "infringement", {"inf-accused", "gen-expert"}),
        ("inf-trade-secret", "infringement", set()),
        ("tm-fees", "trademark", {"gen-fees"}),
        ("pt-fees", "patent", {"gen-fees"}),
    ],
)
def test_new_entries_exist_with_their_links(
    kb: KnowledgeBase, faq_id: str, category: str, must_relate: set[str]
) -> None:
    entry: FaqEntry | None = kb.get(faq_id)
    assert entry is not None
    assert entry.category == category
    assert must_relate <= set(entry.related)
    for lang in ("zh", "en"):
        assert len(entry.questions[lang]) >= 10  # many phrasings in both languages


def test_links_back_to_the_new_entries(kb: KnowledgeBase) -> None:
    related = {e.id: set(e.related) for e in kb}
    assert "inf-sued" in related["inf-accused"]
    assert {"tm-fees", "pt-fees"} <= related["gen-fees"]
