"""Triage against the small fixture knowledge base: answer, escalate, fall back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from faq.engine import MISSING_PLACEHOLDER, Decision, Thresholds, TriageEngine
from faq.loader import load_knowledge_base
from faq.models import Lang

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
PLACEHOLDERS: dict[Lang, dict[str, str]] = {
    "zh": {"office_phone": "0574-8888 0000", "office_address": "宁波市某路1号"},
    "en": {"office_phone": "+86 574 8888 0000", "office_address": "No. 1 Some Road, Ningbo"},
}


@pytest.fixture(scope="module")
def engine() -> TriageEngine:
    return TriageEngine(load_knowledge_base(FIXTURE_KB), placeholders=PLACEHOLDERS)


# How members actually ask: colloquial, Traditional, full-width, typos, mixed languages.
ANSWERS = [
    ("商标怎么注册", "tm-register", "zh"),
    ("how do I register a trademark in China?", "tm-register", "en"),
    ("我们的logo要注册trademark吗", "tm-register", "zh"),
    ("注册商标有效期几年", "tm-term-renewal", "zh"),
    ("商標有效期是多久", "tm-term-renewal", "zh"),
    ("our trademark expires next year, what do we do", "tm-term-renewal", "en"),
    ("trademark renewl", "tm-term-renewal", "en"),
    ("我们的商标被别人抢注了", "tm-squatting", "zh"),
    ("专利年费忘了交", "pt-annual-fees", "zh"),
    ("发明专利保护多少年", "pt-types-terms", "zh"),
    ("utility model patnet term", "pt-types-terms", "en"),
    ("软著怎么申请", "cr-software", "zh"),
    ("有人仿冒我们的产品怎么办", "inf-what-to-do", "zh"),
    ("someone copies our product", "inf-what-to-do", "en"),
    ("收到警告函一般怎么办", "inf-accused", "zh"),
    ("what should we do if we receive a cease and desist letter", "inf-accused", "en"),
    ("海关备案怎么办理", "inf-customs", "zh"),
    ("协会电话多少", "gen-contact", "zh"),
    ("how can our company join the association", "gen-membership", "en"),
]


@pytest.mark.parametrize(("text", "faq_id", "lang"), ANSWERS)
def test_answers(engine: TriageEngine, text: str, faq_id: str, lang: Lang) -> None:
    decision = engine.triage(text)
    assert (decision.action, decision.faq_id, decision.lang) == ("answer", faq_id, lang)
    assert decision.answer == engine.render_answer(faq_id, lang)
    assert decision.category == engine.kb.get(faq_id).category  # type: ignore[union-attr]
    assert decision.suggestions == ()


ESCALATIONS = [
    ("我们收到了律师函 要求7天内停止销售", "signal:letter", "infringement"),
    ("we were sued by ABC Co., Ltd. for trademark infringement", "signal:court", "infringement"),
    ("海关扣了我们的货", "signal:customs", "infringement"),
    ("对方要求我们赔偿50万", "signal:money", "infringement"),
    ("我们想起诉对方侵权", "signal:suit", "infringement"),
    ("帮我们看一下这份商标许可合同", "signal:expert", "trademark"),
    ("亚马逊店铺被TRO冻结了", "signal:platform", "infringement"),
    ("商标驳回了 下周五前要交复审 能帮我们写吗", "signal:deadline", "trademark"),
    ("我们被告了怎么办", "signal:court", "infringement"),
    ("we got sued by a competitor", "signal:court", "infringement"),
    ("转人工", "signal:expert", None),
]


@pytest.mark.parametrize(("text", "reason", "category"), ESCALATIONS)
def test_escalations(engine: TriageEngine, text: str, reason: str, category: str | None) -> None:
    decision = engine.triage(text)
    assert decision.action == "escalate"
    assert reason in decision.reasons
    if category is not None:
        assert decision.category == category
    assert decision.answer is None


def test_escalation_keeps_the_related_entry(engine: TriageEngine) -> None:
    decision = engine.triage("我们收到一封律师函 说我们的产品侵犯了他们的专利 要求15天内回复")
    assert decision.action == "escalate"
    assert decision.faq_id == "inf-accused"
    assert decision.category == "infringement"


FALLBACKS = [
    "今天宁波天气怎么样",
    "python 注册表怎么改",
    "register for a marathon",
    "how to get a business license in Ningbo",
    "tell me a joke",
    "营业执照怎么办",
    "员工不签劳动合同 要赔双倍工资吗",
    "thanks bye",
    "帮我看看租房合同",  # a contract, but not an IP one: not escalated either
    "my landlord demands 5000 rmb",
]


@pytest.mark.parametrize("text", FALLBACKS)
def test_out_of_remit_falls_back(engine: TriageEngine, text: str) -> None:
    decision = engine.triage(text)
    assert (decision.action, decision.faq_id, decision.category) == ("fallback", None, None)
    assert decision.answer is None
    assert decision.suggestions == ()
    assert decision.reasons == ("out_of_remit",)


SMALL_TALK = [
    ("你好", "greeting"),
    ("您好！", "greeting"),
    ("hello", "greeting"),
    ("谢谢", "thanks"),
    ("Thank you!", "thanks"),
    ("ok", "ack"),
    ("好的", "ack"),
    ("多少钱", "price"),
    ("how much?", "price"),
    ("你是机器人吗", "bot"),
]


@pytest.mark.parametrize(("text", "kind"), SMALL_TALK)
def test_small_talk_gets_its_kind(engine: TriageEngine, text: str, kind: str) -> None:
    decision = engine.triage(text)
    assert (decision.action, decision.smalltalk, decision.faq_id) == ("smalltalk", kind, None)


@pytest.mark.parametrize("text", ["商标问题", "trademark?", "专利"])
def test_a_bare_topic_gets_suggestions_not_an_answer(engine: TriageEngine, text: str) -> None:
    decision = engine.triage(text)
    assert decision.action == "fallback"
    assert decision.category in ("trademark", "patent")
    assert decision.answer is None
    assert 1 <= len(decision.suggestions) <= 3
    assert all(engine.kb.get(c.faq_id) is not None for c in decision.suggestions)
    assert decision.suggestions == tuple(sorted(decision.suggestions, key=lambda c: -c.score))
    assert decision.reasons == ("too_vague",)


def test_a_topic_worded_as_the_knowledge_base_lists_it_is_answered() -> None:
    """ "what does the association do" has one content word, a topic — but an entry lists
    it as its question, so it is not too vague; "association?" alone still is."""
    kb = load_knowledge_base()
    entry = next(e for e in kb.entries if "what does the association do" in e.questions["en"])
    engine = TriageEngine(kb)
    listed = engine.triage("What does the association do?")
    assert listed.action in ("answer", "tentative"), listed
    assert listed.faq_id == entry.id
    bare = engine.triage("association?")
    assert (bare.action, bare.reasons) == ("fallback", ("too_vague",))


@pytest.mark.parametrize("text", ["", "   \n\t", "😀😀😀", "？？！", "\u200b"])
def test_empty_input_falls_back(engine: TriageEngine, text: str) -> None:
    decision = engine.triage(text)
    assert (decision.action, decision.faq_id, decision.reasons) == ("fallback", None, ("empty",))
    assert decision.score == 0.0


def test_lang_hint_only_breaks_ties(engine: TriageEngine) -> None:
    assert engine.triage("？？", lang_hint="en").lang == "en"
    assert engine.triage("123", lang_hint="en").lang == "en"
    assert engine.triage("123").lang == "zh"
    assert engine.triage("商标怎么注册", lang_hint="en").lang == "zh"
    decision = engine.triage("how do I register a trademark", lang_hint="zh")
    assert decision.lang == "en"
    assert decision.answer is not None
    assert decision.answer.startswith("Search first")


def test_huge_input_is_truncated_not_crashing(engine: TriageEngine) -> None:
    text = "商标怎么注册" + "啊" * 20_000
    decision = engine.triage(text)
    assert decision.text == text
    assert decision.action in ("answer", "fallback")
    assert engine.triage("how " * 5000).action == "fallback"


def test_answer_is_in_the_question_language(engine: TriageEngine) -> None:
    zh = engine.triage("协会电话多少")
    en = engine.triage("what is the association's phone number")
    assert zh.answer is not None
    assert "电话：0574-8888 0000" in zh.answer
    assert en.answer is not None
    assert "Phone: +86 574 8888 0000" in en.answer


def test_missing_placeholder_renders_a_neutral_phrase(caplog: pytest.LogCaptureFixture) -> None:
    fresh = TriageEngine(load_knowledge_base(FIXTURE_KB), placeholders=PLACEHOLDERS)
    with caplog.at_level(logging.WARNING, logger="faq.engine"):
        text = fresh.render_answer("gen-contact", "en")
        fresh.render_answer("gen-contact", "en")
    assert "Hours: " + MISSING_PLACEHOLDER["en"] in text
    assert "Phone: +86 574 8888 0000" in text
    assert "{" not in text
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "office_hours" in warnings[0]  # once, not per message


def test_render_unknown_id_raises(engine: TriageEngine) -> None:
    with pytest.raises(KeyError):
        engine.render_answer("no-such-entry", "zh")


def test_decision_json_has_exactly_the_public_keys(engine: TriageEngine) -> None:
    data = engine.triage("商标怎么注册").to_json_dict()
    assert set(data) == {
        "text", "lang", "category", "action", "faq_id", "score", "risk", "flagged", "signals",
        "answer",
    }  # fmt: skip
    assert isinstance(data["score"], int)
    assert 0 <= data["score"] <= 100
    assert data["action"] == "answer"


def test_thresholds_decide(engine: TriageEngine) -> None:
    hedged = TriageEngine(engine.kb, Thresholds(answer=101.0, suggest=0.0, margin=0.0))
    decision: Decision = hedged.triage("商标怎么注册")
    assert (decision.action, decision.faq_id) == ("tentative", "tm-register")
    strict = TriageEngine(
        engine.kb, Thresholds(answer=101.0, tentative=101.0, suggest=0.0, margin=0.0, flag=1.1)
    )
    decision = strict.triage("商标怎么注册")
    assert decision.action == "fallback"
    assert decision.suggestions[0].faq_id == "tm-register"
    assert decision.reasons == ("low_score",)
