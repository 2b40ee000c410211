"""The outbox (bot.services.outbox) on the reminder pump, on SQLite and on PostgreSQL:
order per chat, no head-of-line blocking, retries while running, failure, two processes,
coalesced and paced cards."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.scheduler import ReminderPump, SendResult
from bot.services.followups import Delivery, Skip
from bot.services.outbox import (
    CARD,
    GROUP_GAP,
    OutboxPreparer,
    enqueue,
    enqueue_card,
    message_payload,
)
from bot.services.reminders import ON_FAILURE, ClaimedReminder, ReminderStore, failure_notice
from db.models import Reminder, ReminderStatus, User
from db.session import SessionFactory, make_engine, make_session_factory
from tests.followups import Clock, Recorder, add_ticket, base_people

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
ALICE, BOB, GROUP = 101, 202, -1001


class NoFollowups:
    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        raise AssertionError(f"not an outbox row: {reminder.kind}")


def _pump(
    sessions: SessionFactory, sender: Recorder, clock: Clock, worker: str = "w"
) -> ReminderPump:
    return ReminderPump(
        ReminderStore(sessions),
        OutboxPreparer(NoFollowups()),
        sender,
        worker_id=worker,
        clock=clock,
        flush_interval=0,
    )


async def _say(sessions: SessionFactory, chat: int, text: str, **kw: object) -> None:
    async with sessions() as s, s.begin():
        await enqueue(s, chat, "notice", message_payload(html=text), now=NOW, **kw)  # type: ignore[arg-type]


def _texts(sender: Recorder, chat: int) -> list[str]:
    return [m.html or "" for d in sender.sent for m in d.messages if m.chat_id == chat]


async def _drain(pump: ReminderPump) -> None:
    await pump.drain_all()


async def test_messages_are_sent_in_order_per_chat(sessions: SessionFactory) -> None:
    for i in range(5):
        await _say(sessions, ALICE, f"a{i}")
        await _say(sessions, BOB, f"b{i}")
    sender = Recorder()
    await _drain(_pump(sessions, sender, Clock(NOW)))
    assert _texts(sender, ALICE) == [f"a{i}" for i in range(5)]
    assert _texts(sender, BOB) == [f"b{i}" for i in range(5)]


async def test_a_failing_chat_keeps_its_order_and_holds_up_nobody_else(
    sessions: SessionFactory,
) -> None:
    await _say(sessions, ALICE, "a0", key="a0")
    await _say(sessions, ALICE, "a1", key="a1")
    await _say(sessions, BOB, "b0", key="b0")
    sender = Recorder(outcomes={"a0": [SendResult.retry("network down")]})
    clock = Clock(NOW)
    pump = _pump(sessions, sender, clock)
    await _drain(pump)
    assert _texts(sender, BOB) == ["b0"]  # no head-of-line blocking
    assert _texts(sender, ALICE) == []  # a1 waits behind a0's retry
    clock.advance(minutes=5)  # past the back-off: retried while running, not at a restart
    await _drain(pump)
    assert _texts(sender, ALICE) == ["a0", "a1"]


async def test_a_blocked_recipient_fails_at_once_and_is_marked(sessions: SessionFactory) -> None:
    async with sessions() as s, s.begin():
        s.add(User(id=ALICE, first_name="A"))
    await _say(sessions, ALICE, "a0", key="a0")
    await _say(sessions, ALICE, "a1", key="a1")
    blocked = SendResult.permanent("forbidden: bot was blocked by the user", ALICE)
    sender = Recorder(outcomes={"a0": [blocked], "a1": [blocked]})
    await _drain(_pump(sessions, sender, Clock(NOW)))
    async with sessions() as s:
        statuses = (await s.scalars(select(Reminder.status).order_by(Reminder.id))).all()
        user = await s.get(User, ALICE)
    assert list(statuses) == [ReminderStatus.FAILED, ReminderStatus.FAILED]
    assert user is not None
    assert user.blocked_bot_at is not None


async def test_gives_up_after_the_last_attempt(sessions: SessionFactory) -> None:
    await _say(sessions, ALICE, "a0", key="a0")
    await _say(sessions, ALICE, "a1", key="a1")
    sender = Recorder(outcomes={"a0": [SendResult.retry("5xx")] * 10})
    clock = Clock(NOW)
    pump = _pump(sessions, sender, clock)
    for _ in range(8):
        await _drain(pump)
        clock.advance(hours=2)
    assert sender.attempts.count("a0") == pump.store.retry.max_attempts
    assert _texts(sender, ALICE) == ["a1"]  # the next one is not held up forever


async def test_two_processes_send_each_message_once_and_in_order(
    sessions: SessionFactory, database_url: str
) -> None:
    for i in range(40):
        await _say(sessions, ALICE + i % 4, f"{i:02d}")
    other = make_engine(database_url)
    try:
        sender = Recorder()
        clock = Clock(NOW)
        pumps = [
            _pump(sessions, sender, clock, "p0"),
            _pump(make_session_factory(other), sender, clock, "p1"),
        ]
        await asyncio.gather(*(_drain(p) for p in pumps))
        await asyncio.gather(*(_drain(p) for p in pumps))
    finally:
        await other.dispose()
    keys = Counter(d.reminder.key for d in sender.sent)
    assert len(keys) == 40
    assert set(keys.values()) == {1}
    for chat in range(4):
        texts = _texts(sender, ALICE + chat)
        assert texts == sorted(texts)
        assert len(texts) == 10


async def test_cards_are_coalesced_and_paced(sessions: SessionFactory) -> None:
    await base_people(sessions)
    one, two = await add_ticket(sessions), await add_ticket(sessions)
    async with sessions() as s, s.begin():
        assert await enqueue_card(s, GROUP, one, reason="no_expert", now=NOW)
        assert not await enqueue_card(s, GROUP, one, now=NOW)  # the pending row covers it
        assert await enqueue_card(s, GROUP, two, now=NOW)
    async with sessions() as s:
        rows = (await s.scalars(select(Reminder).order_by(Reminder.id))).all()
    assert [r.kind for r in rows] == [CARD, CARD]
    assert rows[0].payload == {"reason": "no_expert"}
    assert rows[1].due_at - rows[0].due_at >= GROUP_GAP  # ≈ 20 a minute in a group


async def test_a_card_row_is_rendered_by_its_own_sender(sessions: SessionFactory) -> None:
    await base_people(sessions)
    ticket = await add_ticket(sessions)
    async with sessions() as s, s.begin():
        await enqueue_card(s, GROUP, ticket, now=NOW)
    sender = Recorder()
    await _drain(_pump(sessions, sender, Clock(NOW)))
    assert [d.messages for d in sender.sent] == [()]
    assert sender.sent[0].reminder.kind == CARD


async def test_an_idempotent_key_sends_once(sessions: SessionFactory) -> None:
    await _say(sessions, ALICE, "once", key="announce:1:101")
    await _say(sessions, ALICE, "once", key="announce:1:101")
    sender = Recorder()
    await _drain(_pump(sessions, sender, Clock(NOW + timedelta(seconds=1))))
    assert _texts(sender, ALICE) == ["once"]


async def _say_with_notice(sessions: SessionFactory, key: str) -> None:
    """A row whose failure must be told to BOB (as a relayed message's sender is)."""
    notice = failure_notice("out.relay_failed", BOB, {"messages": [7]})
    payload = {**message_payload(html=key), ON_FAILURE: notice}
    async with sessions() as s, s.begin():
        await enqueue(s, ALICE, "notice", payload, key=key, now=NOW)


async def _notices(sessions: SessionFactory) -> list[tuple[str, str, int | None]]:
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Reminder.key, Reminder.kind, Reminder.recipient_id).where(
                    Reminder.key.startswith("failed:")
                )
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_the_last_retry_schedules_the_failure_notice_once(
    sessions: SessionFactory,
) -> None:
    await _say_with_notice(sessions, "a0")
    sender = Recorder(outcomes={"a0": [SendResult.retry("5xx")] * 10})
    clock = Clock(NOW)
    pump = _pump(sessions, sender, clock)
    await _drain(pump)
    assert await _notices(sessions) == []  # a retry is not a failure
    for _ in range(8):
        clock.advance(hours=2)
        await _drain(pump)
    assert await _notices(sessions) == [("failed:a0", "out.relay_failed", BOB)]
    # …and it is sent like any outbox row (to the sender's chat).
    assert [d.reminder.key for d in sender.sent] == ["failed:a0"]


async def test_a_permanent_failure_schedules_the_notice_a_success_does_not(
    sessions: SessionFactory,
) -> None:
    await _say_with_notice(sessions, "a0")
    await _say_with_notice(sessions, "a1")
    sender = Recorder(outcomes={"a0": [SendResult.permanent("bad request: chat not found")]})
    await _drain(_pump(sessions, sender, Clock(NOW)))
    assert await _notices(sessions) == [("failed:a0", "out.relay_failed", BOB)]


async def test_a_lease_that_runs_out_with_no_attempts_left_schedules_the_notice(
    sessions: SessionFactory,
) -> None:
    await _say_with_notice(sessions, "a0")
    store = ReminderStore(sessions)
    for _ in range(store.retry.max_attempts):  # a row that keeps killing its worker
        claimed = await store.claim_due(NOW + timedelta(hours=1), "dead", 10)
        assert [r.key for r in claimed] == ["a0"]
        await store.release_stale(NOW + timedelta(hours=2), timedelta(minutes=5))
    assert await _notices(sessions) == [("failed:a0", "out.relay_failed", BOB)]
