"""Assignment to a named expert: category, language, fewest open, round robin, never full."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.services.experts import ExpertService
from bot.services.tickets import AssignOutcome, Candidate, TicketService, choose_expert
from db.models import Priority, Role, TicketStatus
from db.session import SessionFactory
from faq.models import Lang
from tests.services import T0, ZONE, Clock, add_experts, add_user, spec

MEMBER = 500


def _cand(
    expert_id: int,
    *,
    categories: tuple[str, ...] = ("trademark",),
    languages: tuple[str, ...] = ("zh",),
    open_count: int = 0,
    max_open: int = 5,
    active: bool = True,
    reachable: bool = True,
    hours_ago: float | None = None,
) -> Candidate:
    return Candidate(
        expert_id=expert_id,
        categories=categories,
        languages=languages,
        active=active,
        reachable=reachable,
        open_count=open_count,
        max_open=max_open,
        last_assigned_at=None if hours_ago is None else T0 - timedelta(hours=hours_ago),
    )


@pytest.mark.parametrize(
    ("candidates", "lang", "chosen", "outcome"),
    [
        # category first
        ([_cand(1, categories=("patent",)), _cand(2)], "zh", 2, AssignOutcome.ASSIGNED),
        # then language
        ([_cand(1), _cand(2, languages=("zh", "en"))], "en", 2, AssignOutcome.ASSIGNED),
        # then fewest open
        ([_cand(1, open_count=2), _cand(2, open_count=1)], "zh", 2, AssignOutcome.ASSIGNED),
        # tie: least recently assigned, never-assigned first
        ([_cand(1, hours_ago=1), _cand(2, hours_ago=5)], "zh", 2, AssignOutcome.ASSIGNED),
        ([_cand(1, hours_ago=1), _cand(2)], "zh", 2, AssignOutcome.ASSIGNED),
        ([_cand(2), _cand(1)], "zh", 1, AssignOutcome.ASSIGNED),  # then lowest id
        # never inactive, unreachable or full
        ([_cand(1, active=False), _cand(2, open_count=4)], "zh", 2, AssignOutcome.ASSIGNED),
        ([_cand(1, reachable=False), _cand(2, open_count=4)], "zh", 2, AssignOutcome.ASSIGNED),
        ([_cand(1, open_count=5), _cand(2, open_count=4)], "zh", 2, AssignOutcome.ASSIGNED),
        # nobody fits
        ([], "zh", None, AssignOutcome.NO_EXPERT),
        ([_cand(1, categories=("patent",))], "zh", None, AssignOutcome.NO_EXPERT),
        ([_cand(1, active=False)], "zh", None, AssignOutcome.NO_EXPERT),
        ([_cand(1)], "en", None, AssignOutcome.NO_LANGUAGE),
        ([_cand(1, open_count=5, max_open=5)], "zh", None, AssignOutcome.ALL_FULL),
    ],
)
def test_choose_expert(
    candidates: list[Candidate], lang: str, chosen: int | None, outcome: AssignOutcome
) -> None:
    picked, why = choose_expert(candidates, "trademark", lang)
    assert (picked.expert_id if picked else None, why) == (chosen, outcome)


async def _open(
    tickets: TicketService,
    question: str = "商标被抢注",
    *,
    lang: Lang = "zh",
    category: str = "trademark",
) -> int:
    ref = await tickets.open(
        MEMBER, lang=lang, category=category, question=question, faq_id=None, question_id=None
    )
    return ref.id


async def test_assignment_by_category_and_language(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    ids = await add_experts(
        sessions,
        spec("patent-zh", 11, categories=("patent",)),
        spec("tm-zh", 12),
        spec("tm-en", 13, languages=("zh", "en")),
    )
    tickets = TicketService(sessions, ZONE, clock=Clock())

    english = await tickets.assign_initial(await _open(tickets, "trademark squatting", lang="en"))
    assert english.outcome is AssignOutcome.ASSIGNED
    assert english.expert is not None
    assert english.expert.key == "tm-en"
    assert english.ticket.status is TicketStatus.ASSIGNED

    patent = await tickets.assign_initial(await _open(tickets, "专利", category="patent"))
    assert patent.expert is not None
    assert patent.expert.id == ids["patent-zh"]

    # tm-en has one open ticket now, so the next Chinese trademark ticket goes to tm-zh.
    chinese = await tickets.assign_initial(await _open(tickets))
    assert chinese.expert is not None
    assert chinese.expert.key == "tm-zh"

    nobody = await tickets.assign_initial(await _open(tickets, "版权", category="copyright"))
    assert (nobody.outcome, nobody.expert) == (AssignOutcome.NO_EXPERT, None)
    assert nobody.ticket.status is TicketStatus.NEW
    assert (await tickets.assign_initial(nobody.ticket.id)).outcome is AssignOutcome.NO_EXPERT
    counts = await ExpertService(sessions).open_ticket_counts()
    assert counts == {ids["patent-zh"]: 1, ids["tm-zh"]: 1, ids["tm-en"]: 1}


async def test_round_robin_between_equally_loaded_experts(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    await add_user(sessions, 1, Role.STAFF)
    await add_experts(sessions, spec("a", 11), spec("b", 12), spec("c", 13))
    clock = Clock()
    tickets = TicketService(sessions, ZONE, clock=clock)
    order = []
    for _ in range(6):
        clock.advance(minutes=1)
        assigned = await tickets.assign_initial(await _open(tickets))
        assert assigned.expert is not None
        order.append(assigned.expert.key)
        # Resolve it, so every expert is back at zero open tickets: only recency decides.
        await tickets.resolve(assigned.ticket.id, 1, "答复完毕")
    assert order == ["a", "b", "c", "a", "b", "c"]


async def test_fewest_open_then_full_and_inactive_are_skipped(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    await add_experts(
        sessions,
        spec("busy", 11, max_open=2),
        spec("idle", 12, max_open=2),
        spec("away", 13, active=False),
    )
    tickets = TicketService(sessions, ZONE, clock=Clock())
    keys: list[str] = []
    for _ in range(4):
        assigned = await tickets.assign_initial(await _open(tickets))
        assert assigned.expert is not None
        keys.append(assigned.expert.key)
    # Fewest open first: the two alternate, and "away" (inactive) never gets one.
    assert keys == ["busy", "idle", "busy", "idle"]
    full = await tickets.assign_initial(await _open(tickets))
    assert (full.outcome, full.expert) == (AssignOutcome.ALL_FULL, None)
    assert full.ticket.status is TicketStatus.NEW


async def test_assign_is_idempotent(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    await add_experts(sessions, spec("a", 11), spec("b", 12))
    tickets = TicketService(sessions, ZONE, clock=Clock())
    ticket_id = await _open(tickets)
    first = await tickets.assign_initial(ticket_id)
    second = await tickets.assign_initial(ticket_id)
    assert second.outcome is AssignOutcome.UNCHANGED
    assert second.expert == first.expert
    assert first.expert is not None
    assert first.expert.user_id is not None
    history = await tickets.history(first.expert.user_id, ticket_id)
    assert [e.kind for e in history.events] == ["opened", "assigned"]


async def test_open_reads_deadline_and_priority(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    await add_user(sessions, 1, Role.STAFF)
    tickets = TicketService(sessions, ZONE, clock=Clock())
    urgent = await tickets.view_ticket(1, await _open(tickets, "律师函要求11月29日前回复"))
    assert urgent.priority is Priority.URGENT
    assert urgent.deadline_at is not None
    assert urgent.deadline_at.astimezone(ZONE).day == 29
    later = await tickets.view_ticket(1, await _open(tickets, "律师函要求12月20日前回复"))
    assert later.priority is Priority.NORMAL
    assert later.deadline_at is not None
    customs = await tickets.view_ticket(1, await _open(tickets, "货物被海关扣留"))
    assert (customs.priority, customs.deadline_at) == (Priority.URGENT, None)
    history = await tickets.history(1, urgent.id)
    assert history.events[0].detail is not None
    assert "priority=urgent (deadline)" in history.events[0].detail


async def test_simultaneous_assignments_respect_max_open(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    ids = await add_experts(sessions, spec("only", 11, max_open=2))
    tickets = TicketService(sessions, ZONE, clock=Clock())
    opened = [await _open(tickets, f"问题{i}") for i in range(6)]
    services = [TicketService(sessions, ZONE, clock=Clock()) for _ in opened]
    results = await asyncio.gather(
        *(svc.assign_initial(ticket_id) for svc, ticket_id in zip(services, opened, strict=True))
    )
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["all_full"] * 4 + ["assigned"] * 2
    assert await ExpertService(sessions).open_ticket_counts() == {ids["only"]: 2}
