"""The status machine and its audit trail, reassignment, and concurrent claims."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.relay import RelayService
from bot.services.tickets import ClaimOutcome, TicketRefused, TicketService
from db.models import Priority, Role, TicketEvent, TicketStatus
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_experts, add_user, spec

MEMBER, OTHER_MEMBER, STAFF, ADMIN = 500, 501, 1, 2
EXPERT_A, EXPERT_B = 11, 12


async def _setup(sessions: SessionFactory) -> tuple[TicketService, Clock, dict[str, int]]:
    await add_user(sessions, MEMBER)
    await add_user(sessions, OTHER_MEMBER)
    await add_user(sessions, STAFF, Role.STAFF, "秘书处小王")
    await add_user(sessions, ADMIN, Role.ADMIN)
    ids = await add_experts(sessions, spec("a", EXPERT_A), spec("b", EXPERT_B))
    clock = Clock()
    return TicketService(sessions, ZONE, clock=clock), clock, ids


async def _open(tickets: TicketService, question: str = "商标被抢注") -> int:
    ref = await tickets.open(
        MEMBER, lang="zh", category="trademark", question=question, faq_id=None, question_id=None
    )
    return ref.id


async def test_full_lifecycle_writes_the_audit_trail(sessions: SessionFactory) -> None:
    tickets, clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    assigned = await tickets.assign_initial(ticket_id)
    assert assigned.expert is not None
    assert assigned.expert.user_id == EXPERT_A
    clock.advance(minutes=5)
    claim = await tickets.claim(ticket_id, EXPERT_A)
    assert claim.outcome is ClaimOutcome.CLAIMED
    assert claim.ticket.status is TicketStatus.IN_PROGRESS
    assert claim.ticket.claimed_at == clock.now
    waiting = await tickets.set_waiting_member(ticket_id, EXPERT_A, "需要注册证复印件")
    assert (waiting.from_status, waiting.to_status) == (
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING_MEMBER,
    )
    # The member answers: back to in progress, by the member.
    await RelayService(sessions, ZONE, clock=clock).record_member_message(
        MEMBER, ticket_id, text="已上传", source_chat_id=MEMBER, source_message_id=9
    )
    clock.advance(hours=1)
    resolved = await tickets.resolve(ticket_id, EXPERT_A, "建议提起无效宣告")
    assert resolved.ticket.summary == "建议提起无效宣告"
    assert resolved.ticket.resolved_at == clock.now
    reopened = await tickets.reopen(ticket_id, MEMBER, "对方又申请了")
    assert reopened.ticket.reopen_count == 1
    assert reopened.ticket.resolved_at is None
    assert reopened.to_status is TicketStatus.IN_PROGRESS
    await tickets.resolve(ticket_id, STAFF, "已处理")
    closed = await tickets.close(ticket_id, STAFF)
    assert closed.ticket.closed_at == clock.now

    history = await tickets.history(STAFF, ticket_id)
    trail = [(e.kind, e.actor_id, e.from_status, e.to_status) for e in history.events]
    assert trail == [
        ("opened", MEMBER, None, "new"),
        ("assigned", None, "new", "assigned"),
        ("claimed", EXPERT_A, "assigned", "in_progress"),
        ("waiting", EXPERT_A, "in_progress", "waiting_member"),
        ("member_reply", MEMBER, "waiting_member", "in_progress"),
        ("resolved", EXPERT_A, "in_progress", "resolved"),
        ("reopened", MEMBER, "resolved", "in_progress"),
        ("resolved", STAFF, "in_progress", "resolved"),
        ("closed", STAFF, "resolved", "closed"),
    ]
    details = {e.kind: e.detail for e in history.events}
    assert details["waiting"] == "需要注册证复印件"
    assert details["reopened"] == "对方又申请了"


async def test_illegal_transitions_are_stale(sessions: SessionFactory) -> None:
    tickets, _clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    with pytest.raises(StaleAction):
        await tickets.set_waiting_member(ticket_id, STAFF)  # new → waiting is not a step
    with pytest.raises(StaleAction):
        await tickets.reopen(ticket_id, STAFF)  # it is open
    await tickets.resolve(ticket_id, STAFF, "done")
    with pytest.raises(StaleAction):
        await tickets.resolve(ticket_id, STAFF, "again")
    with pytest.raises(StaleAction):
        await tickets.claim(ticket_id, STAFF)
    await tickets.close(ticket_id, MEMBER)
    with pytest.raises(StaleAction):
        await tickets.close(ticket_id, MEMBER)
    async with sessions() as s:
        events = await s.scalar(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
        )
    assert events == 3  # opened, resolved, closed: refusals change nothing


async def test_who_may_act(sessions: SessionFactory) -> None:
    tickets, _clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    await tickets.assign_initial(ticket_id)  # to expert a
    with pytest.raises(TicketRefused) as refused:
        await tickets.resolve(ticket_id, EXPERT_A, "   ")
    assert refused.value.reason == "summary_required"
    with pytest.raises(NotFound):  # b may not even see a's ticket
        await tickets.resolve(ticket_id, EXPERT_B, "x")
    with pytest.raises(NotAllowed):
        await tickets.resolve(ticket_id, MEMBER, "x")  # members do not resolve
    with pytest.raises(NotFound):
        await tickets.close(ticket_id, OTHER_MEMBER)
    with pytest.raises(NotAllowed):
        await tickets.reassign(ticket_id, EXPERT_A, "b")  # only staff reassign
    with pytest.raises(NotAllowed):
        await tickets.claim(ticket_id, MEMBER)
    with pytest.raises(NotFound):
        await tickets.claim("IP-1999-0001", STAFF)


async def test_reassign(sessions: SessionFactory) -> None:
    tickets, _clock, ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    await tickets.assign_initial(ticket_id)
    await tickets.claim(ticket_id, EXPERT_A)
    change = await tickets.reassign(ticket_id, STAFF, "b", "a 出差")
    assert (change.from_status, change.to_status) == (
        TicketStatus.IN_PROGRESS,
        TicketStatus.ASSIGNED,
    )
    assert change.ticket.expert is not None
    assert change.ticket.expert.id == ids["b"]
    assert change.ticket.claimed_by is None
    assert [t.id for t in await tickets.mine(EXPERT_B)] == [ticket_id]
    assert await tickets.mine(EXPERT_A) == []
    with pytest.raises(NotFound):
        await tickets.view_ticket(EXPERT_A, ticket_id)  # no longer a's
    with pytest.raises(TicketRefused) as refused:
        await tickets.reassign(ticket_id, STAFF, "b")
    assert refused.value.reason == "same_expert"
    await add_experts(sessions, spec("gone", 13, active=False))
    with pytest.raises(TicketRefused) as refused:
        await tickets.reassign(ticket_id, STAFF, "gone")
    assert refused.value.reason == "expert_inactive"
    with pytest.raises(NotFound):
        await tickets.reassign(ticket_id, STAFF, "nobody")
    back = await tickets.reassign(ticket_id, ADMIN, str(EXPERT_A))  # by Telegram id
    assert back.ticket.expert is not None
    assert back.ticket.expert.key == "a"
    history = await tickets.history(STAFF, ticket_id)
    assert [e.detail for e in history.events if e.kind == "reassigned"] == [
        "a → b: a 出差",
        "b → a",
    ]


async def test_claim_rules(sessions: SessionFactory) -> None:
    tickets, _clock, ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    await tickets.assign_initial(ticket_id)  # to a
    held = await tickets.claim(ticket_id, EXPERT_B)  # b may not take a's ticket
    assert held.outcome is ClaimOutcome.HELD
    assert held.holder is not None
    assert held.holder.display("en") == "Expert a"
    mine = await tickets.claim(ticket_id, EXPERT_A)
    assert mine.won
    again = await tickets.claim(ticket_id, EXPERT_A)
    assert again.outcome is ClaimOutcome.ALREADY_YOURS
    by_staff = await tickets.claim(ticket_id, STAFF)
    assert by_staff.outcome is ClaimOutcome.HELD
    assert by_staff.holder is not None
    assert by_staff.holder.user_id == EXPERT_A

    # An expert claiming an unassigned ticket becomes its expert.
    loose = await _open(tickets, "另一个问题")
    taken = await tickets.claim(loose, EXPERT_B)
    assert taken.won
    assert taken.ticket.expert is not None
    assert taken.ticket.expert.id == ids["b"]
    # Staff claiming keep the assigned expert and hold it themselves.
    third = await _open(tickets, "第三个问题")
    await tickets.assign_initial(third)
    staff_claim = await tickets.claim(third, STAFF)
    assert staff_claim.won
    assert staff_claim.holder is not None
    assert staff_claim.holder.display("zh") == "秘书处小王"
    assert staff_claim.ticket.expert is not None
    assert staff_claim.ticket.responder_id == STAFF


@pytest.mark.parametrize("claimers", [10])
async def test_concurrent_claims_have_exactly_one_winner(
    sessions: SessionFactory, claimers: int
) -> None:
    tickets, _clock, _ids = await _setup(sessions)
    staff_ids = [100 + i for i in range(claimers)]
    for user_id in staff_ids:
        await add_user(sessions, user_id, Role.STAFF, f"staff{user_id}")
    ticket_id = await _open(tickets)
    # One service per claimer: each call runs in its own session and connection.
    services = [TicketService(sessions, ZONE, clock=Clock()) for _ in staff_ids]
    results = await asyncio.gather(
        *(svc.claim(ticket_id, user_id) for svc, user_id in zip(services, staff_ids, strict=True))
    )
    winners = [uid for uid, r in zip(staff_ids, results, strict=True) if r.won]
    assert len(winners) == 1
    winner = winners[0]
    for user_id, result in zip(staff_ids, results, strict=True):
        assert result.holder is not None
        assert result.holder.user_id == winner
        if user_id != winner:
            assert result.outcome is ClaimOutcome.HELD
            assert result.holder.display("zh") == f"staff{winner}"
    view = await tickets.view_ticket(STAFF, ticket_id)
    assert view.claimed_by is not None
    assert view.claimed_by.user_id == winner
    assert view.status is TicketStatus.IN_PROGRESS
    history = await tickets.history(STAFF, ticket_id)
    assert [e.actor_id for e in history.events if e.kind == "claimed"] == [winner]


async def test_concurrent_claim_and_assignment(sessions: SessionFactory) -> None:
    """A claim racing the automatic assignment: both finish, the ticket stays consistent."""
    tickets, _clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    assignment, claim = await asyncio.gather(
        tickets.assign_initial(ticket_id), tickets.claim(ticket_id, STAFF)
    )
    assert claim.won
    view = await tickets.view_ticket(STAFF, ticket_id)
    assert view.status is TicketStatus.IN_PROGRESS
    assert view.claimed_by is not None
    assert view.claimed_by.user_id == STAFF
    history = await tickets.history(STAFF, ticket_id)
    kinds = [e.kind for e in history.events]
    assert kinds.count("claimed") == 1
    assert kinds.count("assigned") == (1 if assignment.outcome.value == "assigned" else 0)


async def test_priority_and_deadline_by_hand(sessions: SessionFactory) -> None:
    tickets, clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    view = await tickets.set_priority(ticket_id, STAFF, Priority.URGENT, "会长交办")
    assert view.priority is Priority.URGENT
    await tickets.set_priority(ticket_id, STAFF, Priority.URGENT)  # no-op, no event
    await tickets.set_priority(ticket_id, STAFF, Priority.NORMAL)
    dated = await tickets.set_deadline(ticket_id, STAFF, clock.now.replace(day=29))
    assert dated.deadline_at == clock.now.replace(day=29)
    assert dated.priority is Priority.URGENT  # within three days
    history = await tickets.history(STAFF, ticket_id)
    assert [e.kind for e in history.events] == [
        "opened",
        "priority",
        "priority",
        "deadline",
        "priority",
    ]
    with pytest.raises(NotAllowed):
        await tickets.set_priority(ticket_id, MEMBER, Priority.NORMAL)


async def test_card_location_is_remembered(sessions: SessionFactory) -> None:
    tickets, _clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets)
    await tickets.set_card(ticket_id, -100123, 77)
    view = await tickets.view_ticket(STAFF, ticket_id)
    assert (view.card_chat_id, view.card_message_id) == (-100123, 77)
    member_view = await tickets.view_ticket(MEMBER, ticket_id)
    assert (member_view.card_chat_id, member_view.card_message_id) == (None, None)


async def test_expert_claims_while_tickets_are_assigned(sessions: SessionFactory) -> None:
    """Claims by experts racing automatic assignments finish without deadlock."""
    tickets, _clock, _ids = await _setup(sessions)
    opened = [await _open(tickets, f"问题{i}") for i in range(6)]
    work: list[Coroutine[Any, Any, object]] = []
    for index, ticket_id in enumerate(opened):
        svc = TicketService(sessions, ZONE, clock=Clock())
        work.append(svc.assign_initial(ticket_id))
        work.append(svc.claim(ticket_id, EXPERT_A if index % 2 else EXPERT_B))
    await asyncio.gather(*work)
    for ticket_id in opened:
        view = await tickets.view_ticket(STAFF, ticket_id)
        assert view.expert is not None
        history = await tickets.history(STAFF, ticket_id)
        kinds = [e.kind for e in history.events]
        assert kinds.count("assigned") <= 1
        assert kinds.count("claimed") <= 1


async def test_deadline_urgent_days_reaches_the_ticket_service(sessions: SessionFactory) -> None:
    from datetime import timedelta

    _tickets, clock, _ids = await _setup(sessions)
    wide = TicketService(sessions, ZONE, clock=clock, urgent_within=timedelta(days=10))
    narrow = TicketService(sessions, ZONE, clock=clock, urgent_within=timedelta(days=1))
    deadline = clock.now + timedelta(days=5)
    wide_id = await _open(wide, "商标驳回复审")
    narrow_id = await _open(narrow, "专利年费宽限期")
    assert (await wide.set_deadline(wide_id, STAFF, deadline)).priority is Priority.URGENT
    assert (await narrow.set_deadline(narrow_id, STAFF, deadline)).priority is Priority.NORMAL


async def test_a_platform_freeze_opens_an_urgent_ticket(sessions: SessionFactory) -> None:
    tickets, _clock, _ids = await _setup(sessions)
    ticket_id = await _open(tickets, "亞馬遜TRO 凍結了帳戶")
    view = await tickets.view_ticket(STAFF, ticket_id)
    assert view.priority is Priority.URGENT
