"""Stored phrasings merged into the knowledge base: pure, and the engine learns from them."""

from __future__ import annotations

from faq.engine import TriageEngine
from faq.extra import ExtraPhrasing, phrasing_key, with_extra_phrasings
from faq.loader import load_knowledge_base

KB = load_knowledge_base()


def test_nothing_to_add_returns_the_same_knowledge_base() -> None:
    assert with_extra_phrasings(KB, []) is KB
    assert with_extra_phrasings(KB, [ExtraPhrasing("no-such-entry", "zh", "随便")]) is KB


def test_phrasings_are_appended_once_and_the_original_is_unchanged() -> None:
    before = KB.get("tm-register")
    assert before is not None
    extra = [
        ExtraPhrasing("tm-register", "zh", "  商标那个事儿  咋整 "),
        ExtraPhrasing("tm-register", "zh", "商標那個事兒 咋整"),  # the same in Traditional
        ExtraPhrasing("tm-register", "en", before.questions["en"][0].upper()),  # already there
    ]
    merged = with_extra_phrasings(KB, extra)
    after = merged.get("tm-register")
    assert after is not None
    assert after.questions["zh"] == (*before.questions["zh"], "商标那个事儿 咋整")
    assert after.questions["en"] == before.questions["en"]
    assert KB.get("tm-register") is before
    assert len(merged) == len(KB)
    assert phrasing_key("Trademark  FEE？") == phrasing_key("trademark fee")


def test_an_added_phrasing_is_answered_by_its_entry() -> None:
    question = "咱们那个牌子的事儿到底咋整才好"
    assert TriageEngine(KB).triage(question).action != "answer"
    merged = with_extra_phrasings(KB, [ExtraPhrasing("tm-register", "zh", question)])
    decision = TriageEngine(merged).triage(question)
    assert (decision.action, decision.faq_id) == ("answer", "tm-register")
