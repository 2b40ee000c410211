"""The durable inbox on SQLite and PostgreSQL: stored once, handled once, taken over once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from bot.services.inbox import (
    DONE_KEPT,
    MAX_ATTEMPTS,
    Arrival,
    FailedUpdate,
    Inbox,
    Takeover,
    handling,
    mark_done_with_effects,
    preparatory,
)
from bot.services.inbox_failures import NOTICE, tell_member
from bot.services.outbox import PREFIX
from db.models import InboxUpdate, Reminder, User
from db.session import SessionFactory


def arrival(update_id: int, chat_id: int = 7) -> Arrival:
    return Arrival(update_id, chat_id, f'{{"update_id": {update_id}, "text": "商标续展"}}')


@pytest.fixture
async def inbox(sessions: SessionFactory) -> AsyncIterator[Inbox]:
    box = Inbox(sessions, owner="one")
    yield box
    await box.close()


async def rows(sessions: SessionFactory) -> dict[int, InboxUpdate]:
    async with sessions() as s:
        return {r.update_id: r for r in (await s.execute(select(InboxUpdate))).scalars()}


async def test_an_update_is_new_once(inbox: Inbox, sessions: SessionFactory) -> None:
    assert await inbox.accept(arrival(1)) is True
    assert await inbox.accept(arrival(1)) is False  # re-delivered while being handled
    stored = (await rows(sessions))[1]
    assert stored.payload is not None
    assert "商标续展" in stored.payload
    assert (stored.chat_id, stored.claimed_by, stored.done_at) == (7, "one", None)

    await inbox.done(1)
    stored = (await rows(sessions))[1]
    assert stored.done_at is not None
    assert stored.payload is None  # what the member wrote is not kept once handled
    assert await inbox.accept(arrival(1)) is False  # re-delivered after it was handled
    assert await inbox.pending() == 0


async def test_concurrent_arrivals_share_one_commit(inbox: Inbox) -> None:
    """Accepts (and done marks) that wait together are written in one transaction; each
    caller resumes only after it, and of two copies of one update only one is new."""
    results = await asyncio.gather(
        *(inbox.accept(arrival(i)) for i in range(100, 120)), inbox.accept(arrival(100))
    )
    assert results[:20] == [True] * 20
    assert results[20] is False
    assert inbox.commits == 1
    await asyncio.gather(*(inbox.done(i) for i in range(100, 120)))
    assert inbox.commits == 2
    assert await inbox.pending() == 0


async def test_unfinished_updates_are_taken_over_once(sessions: SessionFactory) -> None:
    dead = Inbox(sessions, owner="dead")
    for update_id in (3, 1, 2):
        assert await dead.accept(arrival(update_id))
    await dead.done(2)
    await dead.close()

    # Another process: the claims are fresh, so within the lease nothing is taken.
    other = Inbox(sessions, owner="other")
    assert await other.claim_unfinished(timedelta(seconds=60)) == Takeover([], [])
    # A single process at start-up takes every unfinished one, in update order, once.
    restarted = Inbox(sessions, owner="restarted")
    taken = (await restarted.claim_unfinished(None)).resumed
    assert [update_id for update_id, _ in taken] == [1, 3]
    assert all("商标续展" in payload for _, payload in taken)
    assert await restarted.claim_unfinished(None) == Takeover([], [])

    # The restarted process stops renewing: after the lease the other one takes over.
    async with sessions() as s, s.begin():
        await s.execute(
            update(InboxUpdate).values(claimed_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    late = Inbox(sessions, owner="late")
    assert [u for u, _ in (await late.claim_unfinished(timedelta(seconds=60))).resumed] == [1, 3]
    assert await late.renew() == 2
    assert await Inbox(sessions, owner="x").claim_unfinished(timedelta(seconds=60)) == Takeover(
        [], []
    )
    for box in (other, restarted, late):
        await box.close()


async def test_handled_updates_are_forgotten_after_a_day(
    inbox: Inbox, sessions: SessionFactory
) -> None:
    for update_id in (1, 2, 3):
        await inbox.accept(arrival(update_id))
    await inbox.done(1)
    await inbox.done(2)
    async with sessions() as s, s.begin():
        await s.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == 1)
            .values(done_at=datetime.now(UTC) - DONE_KEPT - timedelta(minutes=1))
        )
    assert await inbox.prune() == 1
    assert set(await rows(sessions)) == {2, 3}  # a recent done one, and the unfinished one


async def failing_write(sessions: SessionFactory) -> None:
    async with sessions() as s, s.begin():
        s.add(User(id=6, first_name="李"))
        await s.flush()
        raise RuntimeError("the handler fails before its commit")


async def test_the_first_writing_transaction_of_a_handler_marks_its_update_done(
    sessions: SessionFactory,
) -> None:
    mark_done_with_effects(sessions)
    inbox = Inbox(sessions, owner="one")
    for update_id in (1, 2, 3):
        await inbox.accept(arrival(update_id))

    async def done() -> set[int]:
        return {u for u, row in (await rows(sessions)).items() if row.done_at is not None}

    with handling(1) as it:
        async with sessions() as s, s.begin():
            await s.execute(select(InboxUpdate))  # reads mark nothing
        assert not it.done
        with preparatory():
            async with sessions() as s, s.begin():
                s.add(User(id=5, first_name="王"))  # bookkeeping
        assert not it.done
        with pytest.raises(RuntimeError):
            await failing_write(sessions)
        assert not it.done
        assert await done() == set()
        async with sessions() as s, s.begin():
            await s.execute(update(User).where(User.id == 5).values(username="wang"))
        assert it.done
        assert await done() == {1}
        assert (await rows(sessions))[1].payload is None
    with handling(2) as it:
        async with sessions() as s, s.begin():
            s.add(User(id=7, first_name="赵"))
            await s.flush()  # flushed before the commit, as QuestionLog.record does
        assert it.done
    with handling(3) as it:
        async with sessions() as s, s.begin():
            conn = await s.connection()  # Core on the session's connection (the hot path)
            await conn.execute(insert(User).values(id=8, first_name="钱"))
        assert it.done
    assert await done() == {1, 2, 3}
    await inbox.close()


def member_update(update_id: int, chat_id: int, language_code: str) -> Arrival:
    sender = {"id": chat_id, "is_bot": False, "first_name": "周", "language_code": language_code}
    message = {"message_id": 1, "date": 0, "chat": {"id": chat_id}, "from": sender}
    return Arrival(update_id, chat_id, json.dumps({"update_id": update_id, "message": message}))


async def attempts(sessions: SessionFactory) -> dict[int, int]:
    return {u: row.attempts for u, row in (await rows(sessions)).items()}


async def test_an_update_that_never_finishes_is_given_up_and_its_member_told_once(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Counted each time its handling begins (committed before it is handled again); at the
    limit it is marked failed, its text dropped, and a private chat gets one notice in the
    member's language (their choice if known, else Telegram's). Nothing personal is logged."""
    assert MAX_ATTEMPTS == 3
    async with sessions() as s, s.begin():
        s.add(User(id=8, first_name="钱", lang="en", telegram_lang="zh-hans"))
    first = Inbox(sessions, owner="first", on_failed=tell_member)
    await first.accept(member_update(1, 7, "en"))  # a stranger: Telegram's language
    await first.accept(member_update(2, 8, "zh-hans"))  # a member who chose English
    await first.accept(member_update(3, -100, "zh-hans"))  # a group: nobody to tell
    await first.accept(member_update(4, 9, "zh-hans"))  # handled: never counted again
    await first.done(4)
    await first.close()
    assert await attempts(sessions) == {1: 1, 2: 1, 3: 1, 4: 1}

    for run, expected in (("second", 2), ("third", 3)):
        box = Inbox(sessions, owner=run, on_failed=tell_member)
        taken = await box.claim_unfinished(None)
        assert [u for u, _ in taken.resumed] == [1, 2, 3]
        assert taken.failed == []
        # committed before any handling: a crash now still counts this attempt
        assert await attempts(sessions) == {1: expected, 2: expected, 3: expected, 4: 1}
        await box.close()

    caplog.set_level(logging.WARNING, logger="bot.services.inbox")
    fourth = Inbox(sessions, owner="fourth", on_failed=tell_member)
    assert await fourth.claim_unfinished(None) == Takeover([], [1, 2, 3])
    stored = await rows(sessions)
    for update_id in (1, 2, 3):
        row = stored[update_id]
        assert row.failed_at is not None
        assert row.done_at is not None
        assert row.payload is None
        assert row.attempts == 3
    assert stored[4].failed_at is None
    assert await fourth.pending() == 0
    assert "update 1 given up after 3 attempts" in caplog.text
    assert "周" not in caplog.text

    async with sessions() as s:
        notices = (await s.execute(select(Reminder).order_by(Reminder.recipient_id))).scalars()
        sent = [
            (r.kind, r.recipient_id, r.payload["text_key"], r.payload["lang"]) for r in notices
        ]
    assert sent == [(PREFIX + "notice", 7, NOTICE, "en"), (PREFIX + "notice", 8, NOTICE, "en")]

    # given up once: a later start takes nothing, and a repeated notice is not queued again
    assert await Inbox(sessions, owner="fifth").claim_unfinished(None) == Takeover([], [])
    async with sessions() as s, s.begin():
        await tell_member(s, FailedUpdate(1, 7, "{}", 3))
        count = len((await s.execute(select(Reminder))).scalars().all())
    assert count == 2
    await fourth.close()


async def test_a_taken_over_update_counts_an_attempt_and_the_limit_is_a_setting(
    sessions: SessionFactory,
) -> None:
    """Two processes: the takeover after the lease counts as an attempt too; with a limit of
    2 the second takeover gives the update up (no hook: nothing else is written)."""
    dead = Inbox(sessions, owner="dead", max_attempts=2)
    await dead.accept(member_update(5, 7, "zh"))
    await dead.close()

    async def expire() -> None:
        async with sessions() as s, s.begin():
            await s.execute(
                update(InboxUpdate).values(claimed_at=datetime.now(UTC) - timedelta(minutes=5))
            )

    lease = timedelta(seconds=60)
    other = Inbox(sessions, owner="other", max_attempts=2)
    assert await other.claim_unfinished(lease) == Takeover([], [])  # claim still fresh
    await expire()
    assert [u for u, _ in (await other.claim_unfinished(lease)).resumed] == [5]
    assert await attempts(sessions) == {5: 2}
    await expire()
    third = Inbox(sessions, owner="third", max_attempts=2)
    assert await third.claim_unfinished(lease) == Takeover([], [5])
    async with sessions() as s:
        assert (await s.execute(select(Reminder))).scalars().all() == []
    for box in (other, third):
        await box.close()
