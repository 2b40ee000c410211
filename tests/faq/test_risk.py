"""Risk rules: live cases escalate, generic "what do we do if…" questions do not."""

from __future__ import annotations

import pytest

from faq.normalize import fold
from faq.risk import risk_reasons

LIVE_CASES = [
    ("我们刚收到律师函", "risk:lawyer_letter"),
    ("we just received a cease-and-desist letter from their lawyers", "risk:lawyer_letter"),
    ("收到应诉通知书了 对方告我们侵犯专利权", "risk:lawsuit"),
    ("we are being sued in Shenzhen", "risk:lawsuit"),
    ("亚马逊店铺被GBC起诉了", "risk:lawsuit"),
    ("竞争对手说我们抄袭他们的设计", "risk:accused"),
    ("they demand we stop selling and pay compensation", "risk:accused"),
    ("对方律师说我们的商标跟他们的近似", "risk:accused"),
    ("我们的货被海关扣了", "risk:detained_goods"),
    ("our container was detained by Ningbo customs", "risk:detained_goods"),
    ("店铺资金被冻结了 说是侵权", "risk:frozen_account"),
    ("我们的商品链接被投诉下架了", "risk:taken_down"),
    ("专利号ZL202110234567.8 能不能帮看看", "risk:case_number"),
    ("对方要求我们赔偿50万元", "risk:money"),
    ("the other side demands RMB 500,000 for the trademark", "risk:money"),
    ("下周五前要回复对方 商标的事", "risk:deadline"),
    ("they give us 10 days to respond about the patent", "risk:deadline"),
    ("XYZ Co., Ltd. copied our trademark", "risk:named_party"),
    ("慈溪市某某电器有限公司抢注了我们的商标", "risk:named_party"),
    ("我们的产品会不会侵犯别人的专利", "risk:own_infringement"),
    ("does our product infringe their patent", "risk:own_infringement"),
    ("is our new logo too similar to their registered mark", "risk:clearance"),
    ("我们想起诉那家仿冒我们商标的工厂", "risk:intent_to_sue"),
    ("we want to sue them for copying our design", "risk:intent_to_sue"),
    ("帮我们看一下这份专利许可合同", "risk:contract_review"),
    ("please review our trademark licence agreement", "risk:contract_review"),
    ("能帮我们写商标异议书吗", "risk:case_work"),
    ("我们的商标被人申请撤三了", "risk:right_challenged"),
    ("前员工用自己名字申请了我们的专利", "risk:ownership_dispute"),
]


@pytest.mark.parametrize(("text", "reason"), LIVE_CASES)
def test_live_cases_escalate(text: str, reason: str) -> None:
    assert reason in risk_reasons(fold(text), in_remit=True)


GENERIC = [
    "收到律师函怎么办",
    "收到侵权警告函一般怎么处理",
    "如果被人说我们侵权了 应该怎么应对",
    "what should we do if we receive a cease and desist letter",
    "how should we respond to an infringement accusation in general",
    "how long do we have to sue for infringement",
    "侵权的事情过了几年还能起诉吗",
    "跟对方有点纠纷 想先调解不想打官司",
    "行政投诉和起诉有什么区别",
    "专利侵权法定赔偿是多少",
    "商标驳回复审要在多少天内提",
    "怎么让海关扣留出口的假货",
    "how to do customs ip recordation in china",
    "我们公司那个商标明年就到期了要怎么续",
    "商标能不能授权给别的公司用 要备案吗",
    "can your experts come visit companies",
    "怎么证明我们的商标一直在用 防止被撤三",
    "what if a former distributor registers our brand first",
    "How do we get infringing listings removed from an e-commerce platform?",
    "说我们的商标跟别人的近似，被驳了",
    "千万别忘了续展商标",
]


@pytest.mark.parametrize("text", GENERIC)
def test_generic_questions_do_not_escalate(text: str) -> None:
    assert risk_reasons(fold(text), in_remit=True) == ()


def test_context_rules_need_an_ip_message() -> None:
    folded = fold("对方要求我们赔偿50万元")
    assert risk_reasons(folded, in_remit=False) == ()
    assert set(risk_reasons(folded, in_remit=True)) == {"risk:demand", "risk:money"}
    # a summons is escalated even without IP words
    assert risk_reasons(fold("我们收到了法院传票"), in_remit=False) == ("risk:lawsuit",)


def test_money_needs_a_party() -> None:
    assert risk_reasons(fold("法定赔偿最高500万吗"), in_remit=True) == ()
    assert risk_reasons(fold("他们要我们赔500万"), in_remit=True) == ("risk:money", "risk:demand")
