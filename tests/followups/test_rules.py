"""Which reminders a ticket gets, when they fire (local time), to whom, in which language."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import ReminderPump
from bot.services.followups import (
    CB_NOT_SOLVED,
    CB_RATE,
    CB_REASSIGN,
    CB_REOPEN,
    Delivery,
    FollowupService,
    Outgoing,
    TicketFacts,
    desired_reminders,
)
from bot.services.reminders import ReminderKind, ReminderStore
from db.models import Priority, Reminder, ReminderStatus, Ticket, TicketEvent, TicketStatus, User
from db.session import SessionFactory
from tests.followups import (
    ADMIN,
    CAL,
    EXPERT_USER,
    MEMBER,
    POLICY,
    STAFF_CHAT,
    Clock,
    Recorder,
    add_ticket,
    base_people,
    local,
)


class Harness:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.followups = FollowupService(sessions, CAL, POLICY)
        self.sender = Recorder()
        self.clock = Clock(local(2026, 11, 23, 9))
        self.pump = ReminderPump(
            ReminderStore(sessions), self.followups, self.sender, clock=self.clock
        )

    async def run_at(self, when: datetime) -> list[Delivery]:
        self.clock.now = when
        before = len(self.sender.sent)
        await self.pump.drain(when)
        return self.sender.sent[before:]

    async def pending(self, ticket_id: int) -> dict[str, datetime]:
        async with self.sessions() as s:
            rows = await s.execute(
                select(Reminder.key, Reminder.due_at).where(
                    Reminder.ticket_id == ticket_id, Reminder.status == ReminderStatus.PENDING
                )
            )
            return {k: d for k, d in rows.all()}

    async def update(self, ticket_id: int, **values: object) -> None:
        async with self.sessions() as s, s.begin():
            ticket = await s.get(Ticket, ticket_id)
            assert ticket is not None
            for name, value in values.items():
                setattr(ticket, name, value)

    async def ticket(self, ticket_id: int) -> Ticket:
        async with self.sessions() as s:
            ticket = await s.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


@pytest.fixture
async def h(sessions: SessionFactory) -> Harness:
    return Harness(sessions)


def only(deliveries: list[Delivery]) -> Outgoing:
    assert len(deliveries) == 1, [d.reminder.key for d in deliveries]
    (message,) = deliveries[0].messages
    return message


async def test_unclaimed_ticket_reminds_staff_then_admins_in_working_hours(h: Harness) -> None:
    await base_people(h.sessions)
    friday_16 = local(2026, 11, 27, 16)
    tid = await add_ticket(h.sessions, created_at=friday_16)
    await h.followups.on_ticket_event(tid, friday_16)
    assert await h.pending(tid) == {
        f"unclaimed:{tid}:staff": local(2026, 11, 30, 10),  # Monday 10:00, not Friday 18:00
        f"unclaimed:{tid}:admin:{ADMIN}": local(2026, 11, 30, 12),
    }
    assert await h.run_at(local(2026, 11, 30, 9, 59)) == []
    msg = only(await h.run_at(local(2026, 11, 30, 10)))
    assert (msg.chat_id, msg.text_key, msg.lang) == (STAFF_CHAT, "fu_unclaimed_staff", "zh")
    assert msg.params["hours"] == "2"
    msg = only(await h.run_at(local(2026, 11, 30, 12)))
    assert (msg.chat_id, msg.text_key, msg.lang) == (ADMIN, "fu_unclaimed_admin", "en")
    assert msg.buttons[0][0].kind == CB_REASSIGN
    assert msg.buttons[0][0].arg == str(tid)
    assert await h.run_at(local(2026, 12, 10, 12)) == []  # once


async def test_claiming_cancels_the_unclaimed_reminders(h: Harness) -> None:
    expert_id = await base_people(h.sessions)
    t0 = local(2026, 11, 23, 9)
    tid = await add_ticket(h.sessions, created_at=t0)
    await h.followups.on_ticket_event(tid, t0)
    await h.update(
        tid,
        status=TicketStatus.IN_PROGRESS,
        expert_id=expert_id,
        claimed_at=t0 + timedelta(minutes=20),
        last_expert_message_at=t0 + timedelta(minutes=30),
    )
    result = await h.followups.on_ticket_event(tid, t0 + timedelta(minutes=30))
    assert result.cancelled == 2
    assert await h.pending(tid) == {}
    assert await h.run_at(local(2026, 11, 30, 9)) == []


async def test_expert_is_reminded_twice_then_admins_with_reassign(h: Harness) -> None:
    expert_id = await base_people(h.sessions)
    asked = local(2026, 11, 23, 10)  # Monday 10:00
    tid = await add_ticket(
        h.sessions,
        created_at=asked,
        status=TicketStatus.IN_PROGRESS,
        expert_id=expert_id,
        claimed_at=asked,
    )
    await h.followups.on_ticket_event(tid, asked)
    ep = int(asked.timestamp())
    assert await h.pending(tid) == {
        f"expert_wait:{tid}:{ep}:1": local(2026, 11, 24, 10),  # one working day
        f"expert_wait:{tid}:{ep}:2": local(2026, 11, 25, 10),
        f"expert_wait:{tid}:{ep}:admin:{ADMIN}": local(2026, 11, 26, 10),
    }
    first = only(await h.run_at(local(2026, 11, 24, 10)))
    assert (first.chat_id, first.text_key, first.lang) == (EXPERT_USER, "fu_expert_waiting", "zh")
    assert first.params["expert"] == "王律师"
    assert first.params["hours"] == "8"
    assert only(await h.run_at(local(2026, 11, 25, 10))).text_key == "fu_expert_waiting"
    admin = only(await h.run_at(local(2026, 11, 26, 10)))
    assert (admin.chat_id, admin.text_key, admin.lang) == (ADMIN, "fu_expert_escalation", "en")
    assert admin.params["expert"] == "Lawyer Wang"
    assert (admin.buttons[0][0].kind, admin.buttons[0][0].arg) == (CB_REASSIGN, str(tid))


async def test_expert_answer_stops_the_chain_and_a_new_member_message_restarts_it(
    h: Harness,
) -> None:
    expert_id = await base_people(h.sessions)
    asked = local(2026, 11, 23, 10)
    tid = await add_ticket(
        h.sessions,
        created_at=asked,
        status=TicketStatus.IN_PROGRESS,
        expert_id=expert_id,
        claimed_at=asked,
    )
    await h.followups.on_ticket_event(tid, asked)
    await h.update(tid, last_expert_message_at=local(2026, 11, 23, 15))
    await h.followups.on_ticket_event(tid, local(2026, 11, 23, 15))
    assert await h.pending(tid) == {}
    again = local(2026, 11, 23, 16)
    await h.update(tid, last_member_message_at=again)
    await h.followups.on_ticket_event(tid, again)
    assert min((await h.pending(tid)).values()) == local(2026, 11, 24, 16)
    assert only(await h.run_at(local(2026, 11, 24, 16))).text_key == "fu_expert_waiting"


async def test_after_downtime_only_the_latest_stage_is_sent(h: Harness) -> None:
    expert_id = await base_people(h.sessions)
    asked = local(2026, 11, 23, 10)
    tid = await add_ticket(
        h.sessions,
        created_at=asked,
        status=TicketStatus.IN_PROGRESS,
        expert_id=expert_id,
        claimed_at=asked,
    )
    await h.followups.on_ticket_event(tid, asked)
    sent = await h.run_at(local(2026, 11, 27, 10))  # the bot was down all week
    assert [d.messages[0].text_key for d in sent] == ["fu_expert_escalation"]


async def test_member_is_nudged_then_the_ticket_closes_with_a_reopen_button(
    h: Harness,
) -> None:
    expert_id = await base_people(h.sessions)
    asked = local(2026, 11, 23, 9)
    waiting = local(2026, 11, 23, 21, 30)  # the expert asked for documents late at night
    tid = await add_ticket(
        h.sessions,
        created_at=asked,
        status=TicketStatus.WAITING_MEMBER,
        expert_id=expert_id,
        claimed_at=asked,
        last_expert_message_at=waiting,
    )
    async with h.sessions() as s, s.begin():
        s.add(
            TicketEvent(
                ticket_id=tid,
                kind="status",
                from_status="in_progress",
                to_status="waiting_member",
                created_at=waiting,
            )
        )
    await h.followups.on_ticket_event(tid, waiting)
    ep = int(waiting.timestamp())
    assert await h.pending(tid) == {
        f"member_nudge:{tid}:{ep}": local(2026, 11, 27, 9),  # 3 days later, moved to 09:00
        f"member_close:{tid}:{ep}": local(2026, 12, 1, 9),
    }
    nudge = only(await h.run_at(local(2026, 11, 27, 9)))
    assert (nudge.chat_id, nudge.text_key, nudge.lang) == (MEMBER, "fu_member_nudge", "zh")
    assert nudge.params["days"] == "4"
    closing = await h.run_at(local(2026, 12, 1, 9))
    notice = only(closing)
    assert notice.text_key == "fu_member_autoclosed"
    assert (notice.buttons[0][0].kind, notice.buttons[0][0].arg) == (CB_REOPEN, str(tid))
    assert closing[0].refresh_ticket_id == tid
    ticket = await h.ticket(tid)
    assert ticket.status is TicketStatus.CLOSED
    assert ticket.closed_at == local(2026, 12, 1, 9)
    reopened = await h.followups.member_reopen(tid, MEMBER, local(2026, 12, 2, 10))
    assert reopened.notify[0].chat_id == EXPERT_USER
    ticket = await h.ticket(tid)
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert ticket.reopen_count == 1


async def test_member_reply_cancels_nudge_and_close(h: Harness) -> None:
    expert_id = await base_people(h.sessions)
    waiting = local(2026, 11, 23, 11)
    tid = await add_ticket(
        h.sessions,
        status=TicketStatus.WAITING_MEMBER,
        expert_id=expert_id,
        claimed_at=waiting,
        last_expert_message_at=waiting,
    )
    await h.followups.on_ticket_event(tid, waiting)
    assert len(await h.pending(tid)) == 2
    # The member answers; the relay has not called on_ticket_event (send-time check).
    await h.update(tid, last_member_message_at=local(2026, 11, 24, 8))
    assert await h.run_at(local(2026, 12, 5, 9)) == []
    assert (await h.ticket(tid)).status is TicketStatus.WAITING_MEMBER


async def test_checkin_after_resolution_in_the_members_language(h: Harness) -> None:
    await base_people(h.sessions)
    async with h.sessions() as s, s.begin():
        member = await s.get(User, MEMBER)
        assert member is not None
        member.lang = "en"
    resolved = local(2026, 11, 20, 18)  # Friday 18:00 → Monday 18:00 is a civil hour
    tid = await add_ticket(h.sessions, status=TicketStatus.RESOLVED, resolved_at=resolved)
    await h.followups.on_ticket_event(tid, resolved)
    assert list((await h.pending(tid)).values()) == [local(2026, 11, 23, 18)]
    await h.update(tid, status=TicketStatus.CLOSED, closed_at=resolved + timedelta(hours=1))
    await h.followups.on_ticket_event(tid, resolved + timedelta(hours=1))  # closing keeps it
    msg = only(await h.run_at(local(2026, 11, 23, 18)))
    assert (msg.chat_id, msg.text_key, msg.lang) == (MEMBER, "fu_checkin", "en")
    stars, not_solved = msg.buttons
    assert [(b.kind, b.arg) for b in stars] == [(CB_RATE, f"{tid}.{n}") for n in range(1, 6)]
    assert not_solved[0].kind == CB_NOT_SOLVED


async def test_checkin_is_dropped_when_the_ticket_was_rated_or_reopened(h: Harness) -> None:
    await base_people(h.sessions)
    resolved = local(2026, 11, 20, 10)
    rated = await add_ticket(h.sessions, status=TicketStatus.RESOLVED, resolved_at=resolved)
    reopened = await add_ticket(h.sessions, status=TicketStatus.RESOLVED, resolved_at=resolved)
    for tid in (rated, reopened):
        await h.followups.on_ticket_event(tid, resolved)
    await h.update(rated, rating=5)
    await h.update(reopened, status=TicketStatus.IN_PROGRESS, resolved_at=None)
    assert await h.run_at(local(2026, 11, 30, 12)) == []


async def test_deadline_reminders_7_3_1_days_before_and_urgent_inside_3(h: Harness) -> None:
    expert_id = await base_people(h.sessions)
    created = local(2026, 11, 23, 9)
    deadline = local(2026, 12, 4, 17)  # Friday
    tid = await add_ticket(
        h.sessions,
        created_at=created,
        status=TicketStatus.IN_PROGRESS,
        expert_id=expert_id,
        claimed_at=created,
        last_expert_message_at=created,
        deadline_at=deadline,
    )
    await h.followups.on_ticket_event(tid, created)
    due = await h.pending(tid)
    assert sorted(set(due.values())) == [
        local(2026, 11, 27, 9),
        local(2026, 12, 1, 9),
        local(2026, 12, 3, 9),
    ]
    assert len(due) == 6  # staff group and expert for each
    seven = await h.run_at(local(2026, 11, 27, 9))
    assert sorted((d.messages[0].chat_id, d.messages[0].params["days"]) for d in seven) == [
        (STAFF_CHAT, 7),
        (EXPERT_USER, 7),
    ]
    assert (await h.ticket(tid)).priority is Priority.NORMAL
    three = await h.run_at(local(2026, 12, 1, 9))
    assert {d.messages[0].params["days"] for d in three} == {3}
    assert tid in {d.refresh_ticket_id for d in three}
    assert (await h.ticket(tid)).priority is Priority.URGENT
    assert three[0].messages[0].params["deadline"] == "2026-12-04 17:00"


async def test_deadline_near_at_creation_makes_the_ticket_urgent_at_once(h: Harness) -> None:
    await base_people(h.sessions)
    created = local(2026, 11, 23, 9)
    tid = await add_ticket(h.sessions, created_at=created, deadline_at=local(2026, 11, 25, 12))
    result = await h.followups.on_ticket_event(tid, created)
    assert result.priority_raised
    assert (await h.ticket(tid)).priority is Priority.URGENT
    # 7- and 3-day reminders are already past: only the 1-day ones (Tuesday 09:00) exist.
    assert {k.split(":")[3] for k in await h.pending(tid) if k.startswith("deadline")} == {"1"}


async def test_resolution_cancels_open_reminders(h: Harness) -> None:
    expert_id = await base_people(h.sessions)
    created = local(2026, 11, 23, 9)
    tid = await add_ticket(
        h.sessions,
        created_at=created,
        status=TicketStatus.IN_PROGRESS,
        expert_id=expert_id,
        claimed_at=created,
        deadline_at=local(2026, 12, 4, 17),
    )
    await h.followups.on_ticket_event(tid, created)
    await h.update(tid, status=TicketStatus.RESOLVED, resolved_at=local(2026, 11, 23, 15))
    result = await h.followups.on_ticket_event(tid, local(2026, 11, 23, 15))
    assert result.cancelled == 9  # 3 expert-wait + 6 deadline
    assert [k.split(":")[0] for k in await h.pending(tid)] == ["checkin"]


def test_rules_are_a_pure_function_of_the_ticket() -> None:
    t = TicketFacts(
        id=1,
        user_id=MEMBER,
        status=TicketStatus.NEW,
        priority=Priority.NORMAL,
        created_at=local(2026, 11, 23, 9),
        admin_ids=(1, 2),
    )
    kinds = [s.kind for s in desired_reminders(t, POLICY, CAL)]
    assert kinds == [
        ReminderKind.UNCLAIMED,
        ReminderKind.UNCLAIMED_ADMIN,
        ReminderKind.UNCLAIMED_ADMIN,
    ]
    closed = replace(t, status=TicketStatus.CLOSED)
    assert desired_reminders(closed, POLICY, CAL) == []
    # The expert without a Telegram account: admins are still told.
    waiting = replace(
        t,
        status=TicketStatus.IN_PROGRESS,
        expert_id=3,
        claimed_at=t.created_at,
        last_member_message_at=t.created_at,
    )
    assert {s.kind for s in desired_reminders(waiting, POLICY, CAL)} == {
        ReminderKind.EXPERT_ESCALATION
    }


async def test_weekly_report_every_monday_9_local(h: Harness) -> None:
    sunday = local(2026, 11, 29, 15)
    created = await h.followups.ensure_weekly_report(sunday)
    assert [(s.key, s.due_at) for s in created] == [
        ("weekly_report:2026-W49", local(2026, 11, 30, 9))
    ]
    assert await h.followups.ensure_weekly_report(sunday) == []  # idempotent
    assert await h.run_at(local(2026, 11, 30, 8, 59)) == []
    (delivery,) = await h.run_at(local(2026, 11, 30, 9))
    photo, body = delivery.messages
    assert photo.chat_id == body.chat_id == STAFF_CHAT
    assert photo.photo is not None
    assert photo.photo.startswith(b"\x89PNG")
    assert photo.params == {"start": "2026-11-23", "end": "2026-11-29"}
    assert "2026-11-23" in str(body.params["body"])
    async with h.sessions() as s:
        keys = set((await s.scalars(select(Reminder.key))).all())
    assert "weekly_report:2026-W50" in keys  # the next one is queued


async def test_report_missed_by_a_long_outage_is_not_sent_late(h: Harness) -> None:
    created = await h.followups.ensure_weekly_report(local(2026, 12, 2, 10))  # Wednesday
    assert [s.key for s in created] == ["weekly_report:2026-W50"]


async def test_start_up_repair_and_schedule_hook(sessions: SessionFactory) -> None:
    await base_people(sessions)
    seen: list[tuple[str, datetime]] = []
    followups = FollowupService(sessions, CAL, POLICY, on_schedule=seen.extend)
    t0 = local(2026, 11, 23, 9)
    open_tid = await add_ticket(sessions, created_at=t0)
    await add_ticket(sessions, created_at=t0, status=TicketStatus.CLOSED)
    assert await followups.sync_open_tickets(t0) == 2  # staff + admin for the open one
    assert {k for k, _ in seen} == {
        f"unclaimed:{open_tid}:staff",
        f"unclaimed:{open_tid}:admin:{ADMIN}",
    }
    assert await followups.sync_open_tickets(t0) == 0  # nothing new the second time
