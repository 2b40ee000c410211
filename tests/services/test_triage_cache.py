"""LiveKnowledge.triage remembers decisions per engine: a repeated question is not triaged
again, and a phrasing staff add (in any process) is in force for the next question."""

from __future__ import annotations

from bot.knowledge import LiveKnowledge
from bot.services.phrasings import PhrasingService
from db.models import Role
from db.session import SessionFactory
from faq.engine import Decision, TriageEngine
from faq.loader import load_knowledge_base
from faq.models import KnowledgeBase, Lang
from tests.services import add_user

KB = load_knowledge_base()
ADMIN = 1
STRANGE = "咱们那个牌子的事儿到底咋整才好"  # the engine does not answer it from faq/data/


class Counting(TriageEngine):
    calls = 0

    def triage(self, text: str, lang_hint: Lang | None = None) -> Decision:
        Counting.calls += 1
        return super().triage(text, lang_hint)


def _engine(kb: KnowledgeBase) -> TriageEngine:
    return Counting(kb)


async def test_a_repeated_question_is_triaged_once_until_the_phrasings_change(
    sessions: SessionFactory,
) -> None:
    await add_user(sessions, ADMIN, role=Role.ADMIN)
    phrasings = PhrasingService(sessions)
    live = LiveKnowledge(KB, _engine, phrasings, cache_size=2)
    await live.refresh()
    Counting.calls = 0

    first = live.triage(STRANGE, "zh")
    assert live.triage(STRANGE, "zh") is first
    assert Counting.calls == 1
    live.triage(STRANGE, "en")  # another hint is another question
    assert Counting.calls == 2
    assert first.action != "answer"

    live.triage("商标续展要多久", "zh")  # a third pair: the oldest (STRANGE, "zh") is dropped
    live.triage(STRANGE, "zh")
    assert Counting.calls == 4

    await phrasings.add(ADMIN, live.engine.kb, "tm-register", "zh", STRANGE)
    assert await live.refresh()  # a new engine, remembering nothing of the old one
    decision = live.triage(STRANGE, "zh")
    assert (decision.action, decision.faq_id) == ("answer", "tm-register")


async def test_no_cache_triages_every_time(sessions: SessionFactory) -> None:
    live = LiveKnowledge(KB, _engine, PhrasingService(sessions))
    Counting.calls = 0
    live.triage(STRANGE, "zh")
    live.triage(STRANGE, "zh")
    assert Counting.calls == 2
