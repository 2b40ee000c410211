"""Signs that a message is about the member's own live case, which an expert must handle.

The rule: a generic "what do we do if…" question gets the FAQ answer; a concrete
situation ("we received X on date Y from Z", "they demand 500,000", "reply within 3
working days", "can you review our contract") is escalated even when an FAQ matches,
because a confident generic answer to a live case is the costliest mistake.

Rules run on `fold`ed text (Simplified, lower case, punctuation kept). Each rule has a
reason code (the part after "risk:") and says whether it needs IP evidence from the
rest of the message: a summons or a lawyer's letter is escalated on its own, a sum of
money or a contract only in an IP message ("帮我看看租房合同" is out of remit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# \b of Python's re treats hanzi as word characters, so "被GBC起诉" has no \b around
# "gbc"; the rules use this ASCII word boundary instead.
_ASCII_BOUNDARY = r"(?:(?<![a-z0-9])(?=[a-z0-9])|(?<=[a-z0-9])(?![a-z0-9]))"


@dataclass(frozen=True, slots=True)
class RiskRule:
    reason: str
    pattern: re.Pattern[str]
    needs_remit: bool  # escalate only when the message is otherwise about IP
    suppressed_by_hypothetical: bool  # "如果收到律师函…" / "what if we get…" is generic
    needs_party: bool  # only when the message names us or the other side (a live case)


def _rule(
    reason: str,
    pattern: str,
    *,
    needs_remit: bool,
    hypothetical: bool,
    needs_party: bool = False,
) -> RiskRule:
    compiled = re.compile(pattern.replace(r"\b", _ASCII_BOUNDARY))
    return RiskRule(reason, compiled, needs_remit, hypothetical, needs_party)


# Building blocks.
_WE = r"(?:我们|我司|我公司|本公司|我厂|我方|我的|我|咱们|咱)"
_THEY = r"(?:对方|他们|她们|人家|别人|有人|竞争对手|同行|原告|律师)"
_EN_WE = r"\b(?:we|we've|we're|our|us|my|i|i've|i'm)\b"
_NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千]+)"
_CN_NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十几][一二两三四五六七八九十百千几]*多?)"
_WEEKDAY_ZH = r"(?:周|星期|礼拜)[一二三四五六日天末]"
_MONTHS_EN = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY_EN = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri)"
_DEMAND_ZH = r"(?:要求|要|须|需|得|必须|需要|限|限期|让|给|回复|答复|提交|交)"

# A hypothetical or general framing before the matched words makes the question generic.
HYPOTHETICAL = re.compile(
    (
        r"如果|假如|假设|万一|要是|一般|通常|的话"
        r"|\bwhat if\b|\bif (?:we|i|you|a|an|someone|somebody|the|our|they|it|one)\b|\bsuppose\b"
        r"|\bin general\b|\bgenerally\b|\btypically\b|\busually\b|\bnormally\b"
    ).replace(r"\b", _ASCII_BOUNDARY)
)
# Words that make a message about a live case between the member and another party.
PARTY = re.compile(
    (
        rf"{_WE}|{_THEY}|收到|接到|要求|索赔|和解|损失|罚"
        r"|\b(?:we|our|us|they|their|them|he|she|his|her)\b|other side|\bdemand\w*|\bclaim\w*"
        r"|\bsettle\w*|\bloss\w*|\bfine[sd]?\b"
    ).replace(r"\b", _ASCII_BOUNDARY)
)

RULES: tuple[RiskRule, ...] = (
    # A letter that actually arrived, not the generic "收到律师函一般怎么办".
    _rule(
        "lawyer_letter",
        rf"(?:{_WE}|刚|刚刚|今天|昨天|前天|已经|最近).{{0,8}}(?:收到|接到|拿到).{{0,10}}"
        r"(?:律师函|警告函|告知函|侵权通知|律师信)"
        rf"|(?:律师函|警告函|律师信).{{0,4}}(?:发给|寄给|发到){_WE}"
        rf"|{_THEY}.{{0,6}}(?:发来|寄来|发了|寄了).{{0,6}}(?:律师函|警告函|律师信)"
        r"|\b(?:we|i|our company|our firm)\b.{0,20}"
        r"\b(?:got|received|have received|just received|were sent|was sent|been sent)\b"
        r".{0,30}(?:cease[- ]and[- ]desist|c&d|lawyer'?s? letter|legal letter|demand letter"
        r"|warning letter|letter from (?:their|a|the) (?:lawyer|attorney|law firm))"
        r"|sent us a (?:cease[- ]and[- ]desist|c&d|lawyer'?s? letter|demand letter"
        r"|warning letter)",
        needs_remit=False,
        hypothetical=True,
    ),
    # Court papers and being sued, including Amazon "Schedule A" / GBC cases.
    _rule(
        "lawsuit",
        r"传票|应诉通知|起诉状|被起诉|被人起诉|被告了|被人告|被.{0,6}起诉了?|告了我们|起诉了?我们"
        r"|告我们|把我们告|成了被告|成为被告|\bgbc\b|\btro\b|临时禁令|诉前禁令"
        r"|\bsummons\b|\bserved with\b|\b(?:being|been|was|were|got) sued\b|\bsued us\b"
        r"|\bsuing us\b|\b(?:lawsuit|suit|case|complaint) against (?:us|our)\b"
        r"|\bschedule a\b|temporary restraining order",
        needs_remit=False,
        hypothetical=True,
    ),
    # Someone concretely accuses us: complaint, report, "they say we infringe".
    _rule(
        "accused",
        rf"(?:投诉|举报|指控|控告|起诉|说|称|认为)(?:了)?{_WE}.{{0,12}}"
        r"(?:侵权|侵犯|假冒|仿冒|抄袭|盗用|山寨|盗版)"
        # "similar" is an accusation from the other side, not from an examiner
        rf"|{_THEY}.{{0,4}}(?:说|称|认为|主张)(?:了)?{_WE}.{{0,12}}(?:近似|相似|雷同)"
        rf"|{_THEY}.{{0,6}}要求{_WE}.{{0,10}}(?:停止|赔|下架|删除|撤|销毁)"
        r"|\b(?:they|the other side|he|she|it)\b.{0,10}\bdemands?\b.{0,12}\b(?:we|us)\b.{0,6}"
        r"\b(?:stop|pay|remove|destroy|withdraw)"
        rf"|{_WE}.{{0,10}}被.{{0,8}}(?:投诉|举报|指控)(?:了)?.{{0,4}}(?:侵权|侵犯|假冒|仿冒)"
        r"|\b(?:says|say|said|claims?|claimed|alleges?|alleged|accus\w*)\b.{0,15}\b(?:we|us|our)\b"
        r".{0,25}\b(?:infring\w*|counterfeit\w*|copy\w*|cop(?:ied|ying)|violat\w*)"
        r"|\b(?:complaint|claim|report)\b.{0,20}\bagainst (?:us|our)\b",
        needs_remit=True,
        hypothetical=True,
    ),
    # Goods held by customs or sealed by a regulator.
    _rule(
        "detained_goods",
        r"(?:货|柜|集装箱|产品|商品|展品|样品).{0,8}被.{0,10}(?:扣|查封|封存|没收)"
        r"|(?:货|产品|商品|仓库|店).{0,4}(?:都|全)?被(?:查)?封|来.{0,8}(?:店|厂|公司|仓库).{0,4}查"
        r"|\b(?:goods|shipment|container|products?|cargo)\b.{0,12}\b(?:was|were|got|been)\s+"
        r"(?:detained|seized|held|stopped|confiscated|impounded)\b"
        r"|\b(?:raided|seized|confiscated)\s+(?:our|us)\b",
        needs_remit=True,
        hypothetical=True,
    ),
    # The same, said actively ("海关扣了我们的货"); the how-to "怎么让海关扣留假货" is
    # told apart by naming no party.
    _rule(
        "detained_goods",
        r"海关.{0,12}(?:扣|查扣|扣留|扣押|暂扣|拦截|扣下|扣了)|扣货"
        r"|\b(?:detained|seized|held|stopped|confiscated|impounded)\b.{0,25}\bcustoms\b"
        r"|\bcustoms\b.{0,25}\b(?:detained|seized|held|stopped|confiscated|impounded|detain|seize)\b",
        needs_remit=True,
        hypothetical=True,
        needs_party=True,
    ),
    _rule(
        "frozen_account",
        r"冻结|封号|封店|店铺被封|账户被封|资金被扣"
        r"|\b(?:frozen|freeze|froze)\b"
        r"|\baccount (?:was |has been |got )?(?:suspended|blocked|closed|deactivated)\b",
        needs_remit=True,
        hypothetical=True,
    ),
    # Our own listings taken down after someone else's complaint.
    _rule(
        "taken_down",
        rf"{_WE}.{{0,4}}(?:链接|店铺|商品|产品|listing)s?.{{0,8}}被.{{0,6}}(?:下架|删除|删了|屏蔽|下了)"
        r"|链接.{0,3}被.{0,3}(?:下架|下了|删)"
        r"|\bour (?:listings?|products?|store|shop|links?)\b.{0,25}"
        r"\b(?:removed|taken down|delisted|blocked|suspended)\b",
        needs_remit=True,
        hypothetical=True,
    ),
    # Patent, application or registration numbers: the question is about one case.
    _rule(
        "case_number",
        r"\bzl\s?\d{6,}|\bcn\s?\d{6,}|\b(?:us|ep|wo)\s?\d{7,}"
        r"|(?:专利号|申请号|注册号|商标号|登记号)\s*[:：]?\s*[a-z]{0,2}\d{5,}"
        r"|\b(?:patent|application|registration|reg\.?|trademark)\s*(?:no\.?|number|#)\s*[:：]?\s*\d{5,}",
        needs_remit=False,
        hypothetical=False,
    ),
    # Sums of money in a demand, a loss or a settlement.
    _rule(
        "money",
        rf"{_CN_NUM}\s*(?:万|千|百万|亿)(?:元|块|人民币|美元|美金|欧元)?"
        rf"|{_NUM}\s*(?:元|块钱|人民币|美元|美金|欧元|英镑|港币)"
        r"|(?:rmb|cny|usd|eur|hkd|us\$|\$|¥|€|£)\s?\d"
        r"|\d[\d,.]*\s?(?:k|m|million|thousand)?\s?(?:rmb|cny|usd|eur|yuan|dollars?|euros?)\b",
        needs_remit=True,
        hypothetical=True,
        needs_party=True,
    ),
    # Their deadline: a day of the week, tomorrow, "within 15 days" demanded of us.
    _rule(
        "deadline",
        rf"(?:下|这|本|上)(?:个)?{_WEEKDAY_ZH}|下周|下星期|下礼拜|明天|后天|今天下班|月底前|这周内"
        rf"|\d{{1,2}}月\d{{1,2}}[日号]"
        rf"|{_DEMAND_ZH}.{{0,6}}{_NUM}\s*(?:个)?(?:工作日|天|日|周|星期|个月|小时)(?:之?内|以内)"
        rf"|{_NUM}\s*(?:个)?(?:工作日|天|周|小时)(?:之?内|以内).{{0,6}}(?:回复|答复|提交|撤|停止|删除|下架|交)"
        rf"|(?:已经)?(?:过了|超过了?|逾期了?|晚了){_NUM}\s*(?:个)?(?:月|天|周|年)"
        r"|\d{4}年\d{1,2}月"
        rf"|\b(?:by|before|until|on|due|next|this)\s+(?:{_WEEKDAY_EN}|{_MONTHS_EN}\s*\d"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS_EN}|tomorrow|the end of)"
        r"|\bnext (?:week|month)\b|\btomorrow\b|\bdeadline is\b"
        r"|\b(?:in|within)\s+\d+\s+(?:working |business )?(?:days?|weeks?|hours?)\b"
        r"|\b\d+\s+(?:working |business )?(?:days?|weeks?|hours?)\s+(?:to|ago)\b"
        r"|\bby \d+ (?:days?|weeks?|months?)\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
        needs_remit=True,
        hypothetical=True,
        needs_party=True,
    ),
    # A named company on the other side.
    _rule(
        "named_party",
        r"[\u4e00-\u9fff]{2,}(?:有限公司|有限责任公司|股份公司|集团)"
        r"|\b[a-z0-9&]+\s+(?:co\.?,?\s*ltd|ltd|inc|llc|gmbh|corp|corporation|limited|s\.?a\.?r\.?l)\b"
        r"|\b(?:co\.?,?\s*ltd|gmbh|llc)\b",
        needs_remit=True,
        hypothetical=True,
        needs_party=True,
    ),
    # "Does our product infringe?", clearance and freedom-to-operate opinions.
    _rule(
        "own_infringement",
        rf"{_WE}.{{0,12}}(?:会不会|是不是|是否|有没有|算不算|可能)(?:会)?(?:侵犯|侵权|构成侵权|近似|相似|撞)"
        r"|(?:会不会|是否会?|是不是)(?:侵犯|侵权).{0,4}(?:别人|他人|对方|他们|人家)"
        r"|\bfto\b|自由实施|侵权(?:风险)?分析|侵权比对"
        r"|\b(?:does|do|would|will|could|might|are|is|am)\s+(?:we|i|our(?:\s+[\w-]+){1,3})\s+"
        r"(?:be\s+|still\s+)?(?:infring\w*|too similar|violat\w*|in violation)"
        r"|\bis (?:it|this) (?:an? )?infringement if we\b|\bfreedom to operate\b|\bclearance\b",
        needs_remit=False,
        hypothetical=False,
    ),
    # Wanting to sue, not asking how long one may wait ("过了几年还能起诉吗").
    _rule(
        "intent_to_sue",
        r"(?<![不没])(?:想|要|准备|打算|决定|计划)(?:去|先)?(?:起诉|告他|告对方|打官司|走诉讼|提起诉讼)"
        r"|\b(?:want|plan|planning|intend|going|decided|like|need)\s+to\s+"
        r"(?:sue|take (?:them|him|her|it) to court|file (?:a )?(?:law)?suit|take legal action)\b"
        r"|\b(?:can|should|could)\s+we\s+sue\b",
        needs_remit=True,
        hypothetical=True,
    ),
    # Their contract or clause to review.
    _rule(
        "contract_review",
        r"(?:帮|请|麻烦).{0,6}(?:看|审|审核|审查|把关|过目|改|检查).{0,12}(?:合同|协议|条款|第.{1,3}条)"
        r"|(?:合同|协议|条款|第.{1,3}条).{0,20}(?:帮|请|麻烦).{0,4}(?:看|审|把关)"
        r"|\b(?:review|check|look (?:at|over)|go (?:through|over)|read)\b.{0,12}"
        r"\b(?:our|my|this|the|a)\b.{0,30}"
        r"\b(?:contract|agreement|clause|licen[cs]e agreement|nda)\b",
        needs_remit=True,
        hypothetical=False,
    ),
    # Asking the association to do case work: draft, find a lawyer, visit us, analyse.
    _rule(
        "case_work",
        r"(?:能|可以|请|麻烦)(?:不能)?(?:帮|替)(?:我们|我|忙)?"
        r"(?:写|起草|拟|出具|找律师|代理|处理一下|看看|看一下|看下|审|分析)"
        r"|(?:帮|替)(?:我们|我|忙)?做(?:个|一个|一下|下)?.{0,12}(?:fto|分析|检索报告|尽职调查|尽调|评估|比对|鉴定)"
        r"|(?:帮|替)(?:我们|我)(?:写|起草|拟|找律师)|请专家帮忙"
        r"|\bcan (?:you|an expert|your experts?|the association|someone)\b.{0,12}"
        r"\b(?:draft|write|prepare|handle|review|check|analy[sz]e|represent)\b"
        r"|\bhelp us (?:draft|write|prepare|respond)\b",
        needs_remit=True,
        hypothetical=False,
    ),
    # The other side attacks our right, or someone took our right.
    _rule(
        "dispute",
        r"被(?:人|对方|别人|竞争对手)?(?:申请)?(?:撤三|宣告无效|无效宣告|提.{0,2}异议)了"
        r"|被.{0,4}(?:申请|提起|提出)(?:了)?(?:撤三|无效|异议)"
        r"|(?:前员工|离职员工|原员工|前同事|前合伙人|离职的).{0,20}(?:申请|登记|注册|拿走|带走|抢注|用)"
        rf"|{_THEY}(?:说|声称|坚持).{{0,10}}(?:是他们的|归他们|属于他们|版权是他们)"
        r"|\b(?:filed|requested|started|brought)\b.{0,10}\b(?:invalidation|cancellation|opposition|non-use)\b"
        r".{0,15}\b(?:against|on|to) our\b"
        r"|\bformer (?:employee|staff|engineer|manager|r&d|partner|director|cto)\b.{0,60}"
        r"\b(?:filed|registered|applied|took|stole|uses?)\b",
        needs_remit=True,
        hypothetical=True,
    ),
)


def risk_reasons(folded: str, *, in_remit: bool) -> tuple[str, ...]:
    """Reason codes ("risk:money", …) of the rules that fire on `folded` text."""
    frame = HYPOTHETICAL.search(folded)
    frame_end = frame.start() if frame else len(folded)  # matches after it are generic
    has_party = PARTY.search(folded) is not None
    reasons: list[str] = []
    for rule in RULES:
        if (rule.needs_remit and not in_remit) or (rule.needs_party and not has_party):
            continue
        for match in rule.pattern.finditer(folded):
            if not (rule.suppressed_by_hypothetical and match.start() > frame_end):
                reasons.append(f"risk:{rule.reason}")
                break
    return tuple(reasons)
