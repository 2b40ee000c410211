"""FAQ gaps, staff-added phrasings and the live engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.knowledge import LiveKnowledge
from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.faq_gaps import NEEDS_ENTRY, OPEN, GapService, is_gap
from bot.services.phrasings import PhrasingRefused, PhrasingService
from bot.services.stats import Period, StatsService
from db.models import FaqView, GapStatus, Question, Role
from db.session import SessionFactory, make_engine, make_session_factory
from faq.engine import TriageEngine
from faq.loader import load_knowledge_base
from tests.services import add_user

ADMIN, STAFF, MEMBER = 1, 2, 500
KB = load_knowledge_base()
STRANGE = "咱们那个牌子的事儿到底咋整才好"  # the engine does not answer it from faq/data/
SINCE = datetime.now(UTC) - timedelta(days=30)


@pytest.mark.parametrize(
    ("action", "flagged", "feedback", "gap"),
    [
        ("fallback", False, (), True),
        ("tentative", False, (), True),
        ("answer", True, (), True),
        ("answer", False, ("expert",), True),
        ("answer", False, ("solved",), False),
        ("answer", False, (), False),
        ("escalate", False, (), False),  # an expert has it: not the FAQ's gap
        ("escalate", True, (), True),  # a flagged fallback offered to an expert
        ("smalltalk", False, (), False),  # "你好", "谢谢": answered as such
    ],
)
def test_what_is_a_gap(action: str, flagged: bool, feedback: tuple[str, ...], gap: bool) -> None:
    assert is_gap(action, flagged, feedback) is gap


async def _ask(
    sessions: SessionFactory,
    text: str,
    action: str = "fallback",
    *,
    category: str | None = None,
    flagged: bool = False,
    lang: str = "zh",
    expert_feedback: bool = False,
) -> int:
    async with sessions() as s, s.begin():
        q = Question(
            user_id=MEMBER,
            chat_id=MEMBER,
            text=text,
            lang=lang,
            category=category,
            action=action,
            faq_id="tm-register" if action == "answer" else None,
            flagged=flagged,
        )
        s.add(q)
        await s.flush()
        if expert_feedback:
            s.add(
                FaqView(
                    user_id=MEMBER,
                    faq_id="tm-register",
                    question_id=q.id,
                    source="answer",
                    lang=lang,
                    feedback="expert",
                )
            )
        return q.id


async def _world(sessions: SessionFactory) -> dict[str, int]:
    await add_user(sessions, ADMIN, Role.ADMIN)
    await add_user(sessions, STAFF, Role.STAFF)
    await add_user(sessions, MEMBER)
    return {
        "strange1": await _ask(sessions, STRANGE, category="trademark"),
        "strange2": await _ask(sessions, STRANGE + "？", category="trademark"),
        "python": await _ask(sessions, "python 注册表怎么改"),  # uncategorised: still listed
        "tentative": await _ask(sessions, "专利大概多久能批下来", "tentative", category="patent"),
        "flagged": await _ask(sessions, "商标被抢注了怎么办", "answer", flagged=True),
        "unhappy": await _ask(
            sessions, "how long does a patent last", "answer", lang="en", expert_feedback=True
        ),
        "answered": await _ask(sessions, "商标怎么注册", "answer"),
        "escalated": await _ask(sessions, "我们被起诉了", "escalate"),
        "offered": await _ask(sessions, "对方说要我们赔钱 我们该咋办", "escalate", flagged=True),
        "emoji": await _ask(sessions, "👍👍"),
    }


async def test_admins_see_gaps_grouped_including_uncategorised(sessions: SessionFactory) -> None:
    ids = await _world(sessions)
    gaps = GapService(sessions)
    groups = await gaps.groups(ADMIN, SINCE)
    by_example = {g.example: g for g in groups}
    assert by_example[STRANGE].count == 2
    assert set(by_example[STRANGE].question_ids) == {ids["strange1"], ids["strange2"]}
    assert by_example[STRANGE].key == ids["strange1"]
    assert by_example["python 注册表怎么改"].category == "none"
    assert {
        "专利大概多久能批下来",
        "商标被抢注了怎么办",
        "how long does a patent last",
        "对方说要我们赔钱 我们该咋办",
    } <= set(by_example)
    assert len(groups) == 6  # not the answered, escalated or emoji-only questions
    for who in (STAFF, MEMBER, 424242):
        with pytest.raises(NotAllowed):
            await gaps.groups(who, SINCE)


async def test_adding_a_phrasing_reviews_the_group_and_every_process_sees_it(
    sessions: SessionFactory, database_url: str
) -> None:
    ids = await _world(sessions)
    phrasings = PhrasingService(sessions)
    live = LiveKnowledge(KB, TriageEngine, phrasings)
    # A second process: its own connection pool on the same database.
    other_db = make_engine(database_url)
    other = LiveKnowledge(KB, TriageEngine, PhrasingService(make_session_factory(other_db)))
    try:
        assert await other.refresh()
        assert not await other.refresh()  # nothing changed: no rebuild
        assert other.engine.triage(STRANGE).action != "answer"
        version = other.version

        added = await phrasings.add_from_gap(
            ADMIN, live.engine.kb, ids["strange2"], SINCE, OPEN, "tm-register"
        )
        assert added.phrasing.text == STRANGE  # the group's most frequent wording
        assert added.gap.count == 2

        assert await other.refresh()
        assert other.version == (version or 0) + 1
        decision = other.engine.triage(STRANGE)
        assert (decision.action, decision.faq_id) == ("answer", "tm-register")
        assert STRANGE not in {g.example for g in await GapService(sessions).groups(ADMIN, SINCE)}

        items, total = await phrasings.page(ADMIN, 0, 10)
        assert total == 1
        assert items[0].faq_id == "tm-register"

        removed = await phrasings.remove(ADMIN, items[0].id)
        assert removed.text == STRANGE
        assert await other.refresh()
        assert other.engine.triage(STRANGE).action != "answer"
        back = {g.example: g for g in await GapService(sessions).groups(ADMIN, SINCE)}
        assert back[STRANGE].count == 2  # the questions are open again
        with pytest.raises(NotFound):
            await phrasings.remove(ADMIN, items[0].id)
    finally:
        await other_db.dispose()


async def test_only_admins_change_phrasings(sessions: SessionFactory) -> None:
    ids = await _world(sessions)
    phrasings = PhrasingService(sessions)
    for who in (STAFF, MEMBER):
        with pytest.raises(NotAllowed):
            await phrasings.add_from_gap(who, KB, ids["strange1"], SINCE, OPEN, "tm-register")
        with pytest.raises(NotAllowed):
            await phrasings.add(who, KB, "tm-register", "zh", "随便问问")
        with pytest.raises(NotAllowed):
            await phrasings.page(who, 0, 10)
    stored = await phrasings.add(ADMIN, KB, "tm-register", "zh", "随便问问商标")
    with pytest.raises(NotAllowed):
        await phrasings.remove(STAFF, stored.id)
    assert await phrasings.version() == 1


@pytest.mark.parametrize(
    ("faq_id", "text", "reason"),
    [
        ("tm-register", "   ", "empty"),
        ("tm-register", "商标" * 151, "too_long"),
        ("no-such-entry", "商标怎么弄", "unknown_entry"),
        ("tm-register", "注册商标需要哪些步骤", "in_file"),
        ("tm-register", "随便问问商标", "exists"),
        ("tm-duration", "随便問問商標", "taken"),  # the same wording in Traditional
    ],
)
async def test_refused_phrasings(
    sessions: SessionFactory, faq_id: str, text: str, reason: str
) -> None:
    await add_user(sessions, ADMIN, Role.ADMIN)
    phrasings = PhrasingService(sessions)
    await phrasings.add(ADMIN, KB, "tm-register", "zh", "随便问问商标")
    with pytest.raises(PhrasingRefused) as refused:
        await phrasings.add(ADMIN, KB, faq_id, "zh", text)
    assert refused.value.reason == reason
    assert await phrasings.version() == 1  # nothing changed


async def test_marking_moves_groups_between_lists(sessions: SessionFactory) -> None:
    ids = await _world(sessions)
    gaps = GapService(sessions)
    marked = await gaps.mark(ADMIN, ids["strange1"], SINCE, OPEN, GapStatus.NEW_ENTRY)
    assert marked.count == 2
    assert STRANGE not in {g.example for g in await gaps.groups(ADMIN, SINCE, OPEN)}
    waiting = await gaps.groups(ADMIN, SINCE, NEEDS_ENTRY)
    assert [g.example for g in waiting] == [STRANGE]
    # Once the entry exists, the same group is added as its phrasing from the second list.
    await PhrasingService(sessions).add_from_gap(
        ADMIN, KB, ids["strange1"], SINCE, NEEDS_ENTRY, "tm-register"
    )
    assert await gaps.groups(ADMIN, SINCE, NEEDS_ENTRY) == []

    await gaps.mark(ADMIN, ids["python"], SINCE, OPEN, GapStatus.DISMISSED)
    assert "python 注册表怎么改" not in {g.example for g in await gaps.groups(ADMIN, SINCE)}
    with pytest.raises(StaleAction):  # reviewed meanwhile: the button no longer applies
        await gaps.mark(ADMIN, ids["python"], SINCE, OPEN, GapStatus.DISMISSED)
    with pytest.raises(StaleAction):
        await gaps.group(ADMIN, ids["answered"], SINCE, OPEN)
    with pytest.raises(StaleAction):
        await gaps.group(ADMIN, ids["strange1"], SINCE, "bogus")


async def test_weekly_report_lists_open_gaps_and_those_needing_an_entry(
    sessions: SessionFactory,
) -> None:
    from bot.services.calendar import WorkCalendar
    from tests.services import ZONE

    ids = await _world(sessions)
    gaps = GapService(sessions)
    await gaps.mark(ADMIN, ids["strange1"], SINCE, OPEN, GapStatus.NEW_ENTRY)
    await gaps.mark(ADMIN, ids["python"], SINCE, OPEN, GapStatus.DISMISSED)
    await PhrasingService(sessions).add_from_gap(
        ADMIN, KB, ids["tentative"], SINCE, OPEN, "pt-process"
    )
    stats = StatsService(sessions, WorkCalendar(ZONE))
    now = datetime.now(UTC)
    result = await stats.compute(Period(now - timedelta(days=7), now + timedelta(minutes=1)))
    by_example = {g.example: g for g in result.gaps}
    assert by_example[STRANGE].needs_entry
    assert by_example[STRANGE].count == 2
    assert "python 注册表怎么改" not in by_example  # dismissed
    assert "专利大概多久能批下来" not in by_example  # now a phrasing
    assert {"商标被抢注了怎么办", "how long does a patent last"} <= set(by_example)
    text = stats.render(result, "zh", html=False)
    assert "待写新条目" in text
    assert "/gaps" in text  # tells admins where to review them


async def test_exported_phrasings_leave_the_database_but_their_gaps_stay_reviewed(
    sessions: SessionFactory,
) -> None:
    ids = await _world(sessions)
    phrasings = PhrasingService(sessions)
    added = await phrasings.add_from_gap(ADMIN, KB, ids["strange1"], SINCE, OPEN, "tm-register")
    before = await phrasings.version()
    assert await phrasings.forget_exported([added.phrasing.id]) == 1
    assert await phrasings.version() == before + 1
    assert await phrasings.all() == []
    assert STRANGE not in {g.example for g in await GapService(sessions).groups(ADMIN, SINCE)}
    assert await phrasings.forget_exported([added.phrasing.id]) == 0


def test_fast_grouping_matches_the_reference_definition() -> None:
    """The leader search with rapidfuzz's own scorers groups exactly as the plain
    `_similarity` scorer does, on the development sets' questions."""
    import json
    from pathlib import Path

    from rapidfuzz import process

    from bot.services.faq_gaps import GAP_SIMILARITY, _Leaders, _similarity
    from faq.normalize import normalize

    data = Path(__file__).resolve().parents[1] / "data"
    texts = [
        json.loads(line)["text"]
        for name in ("eval_dev.jsonl", "eval_dev2.jsonl")
        for line in (data / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    norms = sorted({normalize(t) for t in texts} - {""})
    fast = _Leaders()
    slow_leaders: list[str] = []
    for norm in norms:
        reference = process.extractOne(
            norm, slow_leaders, scorer=_similarity, processor=None, score_cutoff=GAP_SIMILARITY
        )
        found = fast.best(norm, GAP_SIMILARITY)
        assert (found is None) == (reference is None), norm
        if reference is None:
            slow_leaders.append(norm)
            fast.add(norm)
        else:
            assert found == reference[2], norm
    assert len(slow_leaders) > 50  # the data really has many groups


async def test_a_failed_rebuild_keeps_serving_the_previous_engine(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await add_user(sessions, ADMIN, Role.ADMIN)
    phrasings = PhrasingService(sessions)
    builds: list[int] = []

    def make(kb: object) -> TriageEngine:
        builds.append(1)
        if len(builds) > 1:
            raise RuntimeError("index build failed")
        return TriageEngine(KB)

    live = LiveKnowledge(KB, make, phrasings)
    first = live.engine
    await phrasings.add(ADMIN, KB, "tm-register", "zh", STRANGE)
    assert not await live.refresh()
    assert live.engine is first
    assert "not built" in caplog.text
    assert not await live.refresh()  # the same version is not rebuilt for every question
    assert len(builds) == 2


async def test_two_admins_adding_the_same_group_at_once(sessions: SessionFactory) -> None:
    import asyncio

    ids = await _world(sessions)
    await add_user(sessions, 3, Role.ADMIN)
    phrasings = PhrasingService(sessions)
    results = await asyncio.gather(
        *(
            phrasings.add_from_gap(who, KB, ids["strange1"], SINCE, OPEN, "tm-register")
            for who in (ADMIN, 3)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], StaleAction | PhrasingRefused)
    assert len(await phrasings.all()) == 1
    assert await phrasings.version() == 1
