"""The durability promises of issue 5, each on SQLite and on PostgreSQL.

"Two processes" are two engines (own connection pools) on the same database file or server,
each with its own pump and worker id, running at the same time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scheduler import ReminderPump, SendResult
from bot.services.followups import FollowupService
from bot.services.reminders import ReminderStore
from db.models import Reminder, ReminderStatus, Ticket, TicketStatus
from db.session import SessionFactory, make_engine, make_session_factory
from tests.followups import (
    CAL,
    MEMBER,
    MONDAY_9,
    POLICY,
    Clock,
    PassThrough,
    Recorder,
    add_ticket,
    base_people,
)


async def _fill(sessions: SessionFactory, n: int) -> None:
    async with sessions() as s, s.begin():
        s.add_all(
            Reminder(key=f"r{i:04d}", kind="test", due_at=MONDAY_9 - timedelta(seconds=i))
            for i in range(n)
        )


async def _statuses(sessions: SessionFactory) -> Counter[str]:
    async with sessions() as s:
        rows = await s.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
        return Counter({str(k): int(v) for k, v in rows.all()})


async def test_two_processes_send_each_of_500_reminders_exactly_once(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str
) -> None:
    await _fill(sessions, 500)
    other = make_engine(database_url)  # the second "process"
    try:
        sender = Recorder()
        clock = Clock(MONDAY_9)
        pumps = [
            ReminderPump(
                ReminderStore(factory),
                PassThrough(),
                sender,
                worker_id=f"p{i}",
                batch_size=5,
                clock=clock,
            )
            for i, factory in enumerate((sessions, make_session_factory(other)))
        ]
        handled = await asyncio.gather(*(p.drain(MONDAY_9) for p in pumps))
    finally:
        await other.dispose()
    counts = Counter(sender.keys)
    assert sum(handled) == 500
    assert len(counts) == 500
    assert max(counts.values()) == 1
    assert all(p.counters.sent > 0 for p in pumps), "both pumps should have taken a share"
    assert await _statuses(sessions) == Counter({"sent": 500})


async def test_restart_after_a_crash_sends_once(
    sessions: SessionFactory, database_url: str
) -> None:
    await _fill(sessions, 30)
    # A worker claims a batch and dies (kill -9): rows stay 'sending', nothing is sent.
    crashed = await ReminderStore(sessions).claim_due(MONDAY_9, "crashed", limit=10)
    assert len(crashed) == 10
    # Restart: a new engine and pump over the same database, after the lease ran out.
    fresh = make_engine(database_url)
    try:
        sender = Recorder()
        later = MONDAY_9 + timedelta(minutes=6)
        pump = ReminderPump(
            ReminderStore(make_session_factory(fresh)),
            PassThrough(),
            sender,
            worker_id="restarted",
            lease=timedelta(minutes=5),
            clock=Clock(later),
        )
        assert await pump.startup(later) == 30  # overdue ones are claimed at start-up
        assert await pump.drain(later) == 0  # … and only once
    finally:
        await fresh.dispose()
    assert sorted(sender.keys) == sorted(f"r{i:04d}" for i in range(30))
    assert await _statuses(sessions) == Counter({"sent": 30})


async def test_a_claim_younger_than_the_lease_is_left_alone(sessions: SessionFactory) -> None:
    await _fill(sessions, 3)
    await ReminderStore(sessions).claim_due(MONDAY_9, "busy-worker")
    sender = Recorder()
    pump = ReminderPump(
        ReminderStore(sessions),
        PassThrough(),
        sender,
        worker_id="other",
        clock=Clock(MONDAY_9 + timedelta(minutes=1)),
    )
    assert await pump.startup(MONDAY_9 + timedelta(minutes=1)) == 0
    assert sender.sent == []


async def test_pointless_reminders_never_reach_the_sender(sessions: SessionFactory) -> None:
    expert_id = await base_people(sessions)
    followups = FollowupService(sessions, CAL, POLICY)
    claimed_tid = await add_ticket(sessions)  # unclaimed at 09:00 Monday
    open_tid = await add_ticket(sessions)
    resolved_tid = await add_ticket(
        sessions, status=TicketStatus.IN_PROGRESS, expert_id=expert_id, claimed_at=MONDAY_9
    )
    for tid in (claimed_tid, open_tid, resolved_tid):
        await followups.on_ticket_event(tid, MONDAY_9)
    # Meanwhile, without anyone telling the follow-ups (the send-time check must catch it):
    async with sessions() as s, s.begin():
        t = await s.get(Ticket, claimed_tid)
        assert t is not None
        t.status, t.claimed_at = TicketStatus.IN_PROGRESS, MONDAY_9 + timedelta(minutes=30)
        t.expert_id, t.last_expert_message_at = expert_id, MONDAY_9 + timedelta(minutes=40)
        r = await s.get(Ticket, resolved_tid)
        assert r is not None
        r.status, r.resolved_at = TicketStatus.RESOLVED, MONDAY_9 + timedelta(hours=1)
    sender = Recorder()
    at = MONDAY_9 + timedelta(days=5)
    pump = ReminderPump(ReminderStore(sessions), followups, sender, clock=Clock(at))
    await pump.drain(at)
    sent_tickets = {d.reminder.ticket_id for d in sender.sent}
    assert sent_tickets == {open_tid}
    assert pump.counters.cancelled >= 4  # staff + admin for one, 2 expert stages + admin
    async with sessions() as s:
        statuses = dict(
            (
                await s.execute(
                    select(Reminder.key, Reminder.status).where(
                        Reminder.ticket_id.in_([claimed_tid, resolved_tid])
                    )
                )
            ).all()
        )
    assert statuses
    assert set(statuses.values()) == {ReminderStatus.CANCELLED}


async def test_failed_sends_are_retried_with_backoff_and_recorded(
    sessions: SessionFactory,
) -> None:
    await _fill(sessions, 2)
    sender = Recorder(
        outcomes={
            "r0000": [SendResult.retry("Timed out"), SendResult.retry("HTTP 502 Bad Gateway")],
            "r0001": [SendResult.retry("Flood control exceeded", retry_after=90)],
        }
    )
    clock = Clock(MONDAY_9)
    store = ReminderStore(sessions)
    pump = ReminderPump(store, PassThrough(), sender, clock=clock)
    await pump.run_once(MONDAY_9)
    assert sender.sent == []
    async with sessions() as s:
        rows = {r.key: r for r in (await s.scalars(select(Reminder))).all()}
    assert rows["r0000"].status is ReminderStatus.PENDING
    assert rows["r0000"].last_error == "Timed out"
    assert rows["r0000"].due_at == MONDAY_9 + timedelta(seconds=30)
    assert rows["r0001"].due_at == MONDAY_9 + timedelta(seconds=90)
    await pump.run_once(clock.advance(seconds=29))
    assert sender.attempts == ["r0001", "r0000"]  # oldest first; none due again yet
    await pump.run_once(clock.advance(seconds=1))  # +30 s: r0000 fails again (502)
    assert sender.attempts == ["r0001", "r0000", "r0000"]
    async with sessions() as s:
        again = await s.scalar(select(Reminder).where(Reminder.key == "r0000"))
    assert again is not None
    assert again.due_at == MONDAY_9 + timedelta(seconds=30 + 60)  # doubled
    assert again.attempts == 2
    await pump.run_once(clock.advance(seconds=60))  # +90 s: both are due and sent
    assert sorted(sender.keys) == ["r0000", "r0001"]
    assert sender.attempts.count("r0000") == 3
    assert pump.counters.retried == 3
    assert await _statuses(sessions) == Counter({"sent": 2})


async def test_blocked_member_is_marked_and_not_retried(sessions: SessionFactory) -> None:
    await base_people(sessions)
    tid = await add_ticket(
        sessions, status=TicketStatus.RESOLVED, resolved_at=MONDAY_9 - timedelta(days=4)
    )
    followups = FollowupService(sessions, CAL, POLICY)
    await followups.on_ticket_event(tid, MONDAY_9)
    sender = Recorder(
        outcomes={
            f"checkin:{tid}:{int((MONDAY_9 - timedelta(days=4)).timestamp())}": [
                SendResult.permanent("Forbidden: bot was blocked by the user", MEMBER)
            ]
        }
    )
    pump = ReminderPump(ReminderStore(sessions), followups, sender, clock=Clock(MONDAY_9))
    await pump.drain(MONDAY_9)
    await pump.drain(MONDAY_9 + timedelta(days=30))
    assert sender.attempts == list(sender.outcomes)  # tried once, never again
    async with sessions() as s:
        reminder = (await s.scalars(select(Reminder))).one()
        from db.models import User

        member = await s.get(User, MEMBER)
    assert reminder.status is ReminderStatus.FAILED
    assert member is not None
    assert member.blocked_bot_at == MONDAY_9


async def test_a_sender_that_raises_does_not_lose_the_reminder(sessions: SessionFactory) -> None:
    await _fill(sessions, 1)

    async def broken(_delivery: object) -> SendResult:
        raise RuntimeError("bug in the sender")

    pump = ReminderPump(ReminderStore(sessions), PassThrough(), broken, clock=Clock(MONDAY_9))
    await pump.run_once(MONDAY_9)
    async with sessions() as s:
        row = (await s.scalars(select(Reminder))).one()
    assert row.status is ReminderStatus.PENDING
    assert row.last_error is not None
    assert "bug in the sender" in row.last_error
