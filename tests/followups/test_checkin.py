"""Check-in answers, reopening, and return visits (回访): authorisation, parsing, delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import ReminderPump
from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.followups import CB_TICKET, FollowupInputError, FollowupService, parse_when
from bot.services.reminders import ReminderStore
from db.models import Reminder, Role, Ticket, TicketEvent, TicketStatus
from db.session import SessionFactory
from tests.followups import (
    CAL,
    EXPERT_USER,
    MEMBER,
    POLICY,
    Clock,
    Recorder,
    add_ticket,
    add_user,
    base_people,
    local,
)

NOW = local(2026, 11, 23, 10)


async def _resolved(sessions: SessionFactory, expert_id: int | None) -> int:
    return await add_ticket(
        sessions,
        status=TicketStatus.RESOLVED,
        expert_id=expert_id,
        claimed_at=NOW - timedelta(days=3),
        resolved_at=NOW - timedelta(days=3),
    )


async def _events(sessions: SessionFactory, tid: int) -> list[tuple[str, str | None]]:
    async with sessions() as s:
        rows = await s.execute(
            select(TicketEvent.kind, TicketEvent.to_status)
            .where(TicketEvent.ticket_id == tid)
            .order_by(TicketEvent.id)
        )
        return [(k, t) for k, t in rows.all()]


async def test_solved_with_rating_and_comment_is_stored(sessions: SessionFactory) -> None:
    expert_id = await base_people(sessions)
    tid = await _resolved(sessions, expert_id)
    followups = FollowupService(sessions, CAL, POLICY)
    await followups.on_ticket_event(tid, NOW - timedelta(days=3))
    result = await followups.record_checkin(tid, MEMBER, 4, solved=True, now=NOW)
    assert (result.rating, result.reopened, result.notify) == (4, False, ())
    await followups.add_checkin_comment(tid, MEMBER, "  很专业，谢谢 ", now=NOW)
    async with sessions() as s:
        ticket = await s.get(Ticket, tid)
        pending = (await s.scalars(select(Reminder.key).where(Reminder.status == "pending"))).all()
    assert ticket is not None
    assert (ticket.rating, ticket.rating_comment) == (4, "很专业，谢谢")
    assert ticket.status is TicketStatus.RESOLVED
    assert pending == []  # the check-in is no longer needed
    assert ("checkin", None) in await _events(sessions, tid)


async def test_not_solved_reopens_to_the_same_expert_and_tells_them(
    sessions: SessionFactory,
) -> None:
    expert_id = await base_people(sessions)
    tid = await _resolved(sessions, expert_id)
    followups = FollowupService(sessions, CAL, POLICY)
    result = await followups.record_checkin(
        tid, MEMBER, 2, solved=False, comment="对方还在卖", now=NOW
    )
    assert result.reopened
    (notice,) = result.notify
    assert (notice.chat_id, notice.text_key) == (EXPERT_USER, "fu_reopened_expert")
    assert notice.params["comment"] == "对方还在卖"
    assert notice.buttons[0][0].kind == CB_TICKET
    async with sessions() as s:
        ticket = await s.get(Ticket, tid)
        keys = (await s.scalars(select(Reminder.key).where(Reminder.ticket_id == tid))).all()
    assert ticket is not None
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert ticket.expert_id == expert_id
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None
    assert ticket.rating == 2
    assert ("reopened", "in_progress") in await _events(sessions, tid)
    assert any(k.startswith("expert_wait:") for k in keys)  # the expert's clock restarts


async def test_checkin_is_authorised_and_validated(sessions: SessionFactory) -> None:
    expert_id = await base_people(sessions)
    await add_user(sessions, 501)
    tid = await _resolved(sessions, expert_id)
    open_tid = await add_ticket(sessions, status=TicketStatus.IN_PROGRESS, expert_id=expert_id)
    followups = FollowupService(sessions, CAL, POLICY)
    with pytest.raises(NotFound):
        await followups.record_checkin(tid, 501, 5, solved=True, now=NOW)  # not their ticket
    with pytest.raises(NotFound):
        await followups.record_checkin(99999, MEMBER, 5, solved=True, now=NOW)
    with pytest.raises(StaleAction):
        await followups.record_checkin(open_tid, MEMBER, 5, solved=True, now=NOW)
    for bad in (0, 6):
        with pytest.raises(FollowupInputError) as info:
            await followups.record_checkin(tid, MEMBER, bad, solved=True, now=NOW)
        assert info.value.text_key == "fu_bad_rating"
    with pytest.raises(NotFound):
        await followups.member_reopen(tid, 501, NOW)
    async with sessions() as s:
        ticket = await s.get(Ticket, tid)
    assert ticket is not None
    assert (ticket.rating, ticket.status) == (None, TicketStatus.RESOLVED)


def test_when_text_is_read_in_the_local_zone() -> None:
    thursday_10 = local(2026, 11, 26, 10)
    assert parse_when("3d", thursday_10, CAL) == local(2026, 11, 30, 9)  # Sunday → Monday
    assert parse_when("3天", local(2026, 11, 23, 10), CAL) == local(2026, 11, 26, 10)
    assert parse_when("2w", thursday_10, CAL) == local(2026, 12, 10, 10)
    assert parse_when("4h", thursday_10, CAL) == local(2026, 11, 26, 14)
    assert parse_when("2026-12-01", thursday_10, CAL) == local(2026, 12, 1, 9)
    assert parse_when("2026-12-31", thursday_10, CAL) == local(2027, 1, 2, 9)  # holiday
    assert parse_when("2026-12-01  15:00", thursday_10, CAL) == local(2026, 12, 1, 15)
    for bad in ("soon", "2026-13-01", "0d", "2026-12-01 25:00", ""):
        with pytest.raises(FollowupInputError) as info:
            parse_when(bad, thursday_10, CAL)
        assert info.value.text_key == "fu_rv_bad_when"


async def test_return_visit_pings_the_expert_and_optionally_the_member(
    sessions: SessionFactory,
) -> None:
    expert_id = await base_people(sessions)
    tid = await _resolved(sessions, expert_id)
    followups = FollowupService(sessions, CAL, POLICY)
    visit = await followups.schedule_return_visit(
        tid, EXPERT_USER, "2026-12-01 15:00", "问商标异议结果", include_member=True, now=NOW
    )
    assert visit.due_at == local(2026, 12, 1, 15)
    assert visit.member_due_at == local(2026, 12, 1, 15)
    again = await followups.schedule_return_visit(
        tid, EXPERT_USER, "2026-12-01 15:00", "问商标异议结果", include_member=True, now=NOW
    )
    assert again.keys == visit.keys  # idempotent
    sender = Recorder()
    clock = Clock(local(2026, 12, 1, 15))
    pump = ReminderPump(ReminderStore(sessions), followups, sender, clock=clock)
    assert await pump.drain(local(2026, 12, 1, 14, 59)) == 0
    await pump.drain(clock.now)
    by_chat = {d.messages[0].chat_id: d.messages[0] for d in sender.sent}
    assert set(by_chat) == {EXPERT_USER, MEMBER}
    assert by_chat[EXPERT_USER].text_key == "fu_return_visit"
    assert by_chat[EXPERT_USER].params["note"] == "问商标异议结果"
    assert by_chat[EXPERT_USER].params["status"] == "已解决"
    assert by_chat[MEMBER].text_key == "fu_return_visit_member"
    assert "note" not in by_chat[MEMBER].params  # internal notes never reach the member
    assert [k for k, _ in await _events(sessions, tid)].count("return_visit") == 1


async def test_return_visit_authorisation_and_bad_input(sessions: SessionFactory) -> None:
    expert_id = await base_people(sessions)
    await add_user(sessions, 800, role=Role.STAFF)
    await add_user(sessions, 801, role=Role.EXPERT)  # an expert, but not on this ticket
    tid = await _resolved(sessions, expert_id)
    followups = FollowupService(sessions, CAL, POLICY)
    staff = await followups.schedule_return_visit(tid, 800, "1w", "", False, now=NOW)
    assert staff.member_due_at is None
    for stranger in (801, MEMBER, 12345):
        with pytest.raises(NotAllowed):
            await followups.schedule_return_visit(tid, stranger, "3d", "x", False, now=NOW)
    with pytest.raises(NotFound):
        await followups.schedule_return_visit(424242, 800, "3d", "x", False, now=NOW)
    with pytest.raises(FollowupInputError) as info:
        await followups.schedule_return_visit(tid, 800, "2026-01-05", "x", False, now=NOW)
    assert info.value.text_key == "fu_rv_past"
    with pytest.raises(FollowupInputError) as info:
        await followups.schedule_return_visit(tid, 800, "2030-01-07", "x", False, now=NOW)
    assert info.value.text_key == "fu_rv_too_far"
    with pytest.raises(FollowupInputError) as info:
        await followups.schedule_return_visit(tid, 800, "3d", "长" * 501, False, now=NOW)
    assert info.value.text_key == "fu_rv_note_long"
