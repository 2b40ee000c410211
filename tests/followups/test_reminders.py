"""Reminder rows: idempotent scheduling, exclusive claims, leases, retries, permanent failures.

Each test runs on SQLite and on a real PostgreSQL (the `sessions` fixture).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.services.reminders import ReminderSpec, ReminderStore, RetryPolicy
from db.models import Reminder, ReminderStatus, User
from db.session import SessionFactory
from tests.followups import MEMBER, MONDAY_9, add_user

NOW = MONDAY_9


def spec(key: str, due_minutes: float = -1, recipient: int | None = None) -> ReminderSpec:
    return ReminderSpec(
        key, "test", NOW + timedelta(minutes=due_minutes), None, recipient, {"n": key}
    )


async def rows(sessions: SessionFactory) -> dict[str, Reminder]:
    async with sessions() as s:
        return {r.key: r for r in (await s.scalars(select(Reminder))).all()}


async def test_schedule_is_idempotent_by_key(sessions: SessionFactory) -> None:
    store = ReminderStore(sessions)
    assert await store.schedule(spec("a"))
    assert not await store.schedule(spec("a", due_minutes=60))  # same key: no-op
    (claimed,) = await store.claim_due(NOW, "w1")
    assert await store.mark_sent(claimed, NOW)
    assert not await store.schedule(spec("a"))  # a sent reminder is not re-created
    got = await rows(sessions)
    assert len(got) == 1
    assert got["a"].status is ReminderStatus.SENT
    assert got["a"].due_at == NOW - timedelta(minutes=1)
    assert got["a"].payload == {"n": "a"}


async def test_claim_takes_only_due_pending_rows_once(sessions: SessionFactory) -> None:
    store = ReminderStore(sessions)
    for key, due in (("late", 5), ("b", -2), ("a", -3), ("now", 0)):
        await store.schedule(spec(key, due))
    await store.cancel(["now"], "pointless")
    first = await store.claim_due(NOW, "w1", limit=1)
    assert [r.key for r in first] == ["a"]  # oldest first, limit respected
    rest = await store.claim_due(NOW, "w2", limit=10)
    assert [r.key for r in rest] == ["b"]
    assert await store.claim_due(NOW, "w3") == []
    assert rest[0].claimed_by == "w2"
    assert rest[0].attempts == 1
    got = await rows(sessions)
    assert got["a"].status is ReminderStatus.SENDING
    assert got["a"].claimed_by == "w1"
    assert got["now"].status is ReminderStatus.CANCELLED
    assert got["late"].status is ReminderStatus.PENDING


async def test_concurrent_claims_never_share_a_row(sessions: SessionFactory) -> None:
    store = ReminderStore(sessions)
    async with sessions() as s, s.begin():
        s.add_all(
            Reminder(key=f"k{i}", kind="test", due_at=NOW - timedelta(seconds=i))
            for i in range(300)
        )
    batches = await asyncio.gather(*(store.claim_due(NOW, f"w{w}", limit=40) for w in range(10)))
    keys = [r.key for batch in batches for r in batch]
    assert len(keys) == len(set(keys)) == 300


async def test_expired_lease_returns_the_row_to_pending(sessions: SessionFactory) -> None:
    store = ReminderStore(sessions)
    await store.schedule(spec("a"))
    (held,) = await store.claim_due(NOW, "dead-worker")
    assert await store.release_stale(NOW + timedelta(minutes=4), timedelta(minutes=5)) == 0
    assert await store.release_stale(NOW + timedelta(minutes=6), timedelta(minutes=5)) == 1
    (again,) = await store.claim_due(NOW + timedelta(minutes=6), "new-worker")
    assert again.attempts == 2
    # The dead worker comes back to life: its completion is refused (fenced).
    assert not await store.mark_sent(held, NOW + timedelta(minutes=7))
    assert await store.mark_sent(again, NOW + timedelta(minutes=7))
    got = (await rows(sessions))["a"]
    assert got.status is ReminderStatus.SENT
    assert got.claimed_by == "new-worker"


async def test_retry_backs_off_exponentially_then_gives_up(sessions: SessionFactory) -> None:
    policy = RetryPolicy(max_attempts=3, base=timedelta(seconds=30), cap=timedelta(minutes=10))
    store = ReminderStore(sessions, policy)
    await store.schedule(spec("a"))
    now = NOW
    delays = []
    for _ in range(2):
        (r,) = await store.claim_due(now, "w")
        assert await store.mark_retry(r, now, "HTTP 502") is ReminderStatus.PENDING
        due = (await rows(sessions))["a"].due_at
        delays.append(due - now)
        assert await store.claim_due(due - timedelta(seconds=1), "w") == []  # not yet
        now = due
    assert delays == [timedelta(seconds=30), timedelta(seconds=60)]
    (r,) = await store.claim_due(now, "w")
    assert await store.mark_retry(r, now, "HTTP 502") is ReminderStatus.FAILED
    got = (await rows(sessions))["a"]
    assert got.status is ReminderStatus.FAILED
    assert got.attempts == 3
    assert got.last_error is not None
    assert "502" in got.last_error


async def test_retry_after_from_telegram_wins_over_backoff(sessions: SessionFactory) -> None:
    store = ReminderStore(sessions)
    await store.schedule(spec("a"))
    (r,) = await store.claim_due(NOW, "w")
    await store.mark_retry(r, NOW, "Flood control exceeded", retry_after=120)
    got = (await rows(sessions))["a"]
    assert got.status is ReminderStatus.PENDING
    assert got.due_at == NOW + timedelta(seconds=120)
    assert got.last_error == "Flood control exceeded"
    assert got.claimed_by is None


async def test_blocked_recipient_is_marked_and_not_retried(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    store = ReminderStore(sessions)
    await store.schedule(spec("a", recipient=MEMBER))
    (r,) = await store.claim_due(NOW, "w")
    assert await store.mark_failed(
        r, NOW, "Forbidden: bot was blocked by the user", blocked_user_id=MEMBER
    )
    got = (await rows(sessions))["a"]
    assert got.status is ReminderStatus.FAILED
    assert await store.claim_due(NOW + timedelta(days=1), "w") == []
    async with sessions() as s:
        user = await s.get(User, MEMBER)
    assert user is not None
    assert user.blocked_bot_at == NOW


async def test_window_and_next_due(sessions: SessionFactory) -> None:
    store = ReminderStore(sessions)
    assert await store.next_due_at() is None
    for key, due in (("a", 5), ("b", 15), ("c", 60)):
        await store.schedule(spec(key, due))
    assert await store.next_due_at() == NOW + timedelta(minutes=5)
    window = await store.pending_between(NOW, NOW + timedelta(minutes=30))
    assert [k for k, _ in window] == ["a", "b"]
    assert (await store.counts()) == {"pending": 3}
