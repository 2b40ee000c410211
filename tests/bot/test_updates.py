"""Per-chat ordering with cross-chat concurrency; updates stored before they are queued."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError
from telegram import Chat, Message, Update, User
from telegram.request import BaseRequest

from bot import updates
from bot.services.inbox import Arrival, Inbox
from bot.updates import (
    ConfirmAfterStoring,
    DurableUpdateQueue,
    PerChatUpdateProcessor,
    chat_key,
)
from db.session import SessionFactory


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "u", is_bot=False)
    message = Message(update_id, None, chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_same_chat_in_order_other_chats_concurrently() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[tuple[str, int, int]] = []
    slow_started = asyncio.Event()
    release = asyncio.Event()

    async def handle(update_id: int, chat_id: int, slow: bool) -> None:
        log.append(("start", chat_id, update_id))
        if slow:
            slow_started.set()
            await release.wait()
        log.append(("end", chat_id, update_id))

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 10), handle(1, 10, True))),
        asyncio.create_task(processor.process_update(_update(2, 10), handle(2, 10, False))),
        asyncio.create_task(processor.process_update(_update(3, 20), handle(3, 20, False))),
    ]
    await slow_started.wait()
    await asyncio.sleep(0.01)
    # chat 20 finished while chat 10's first update is still running; chat 10's second waits
    assert ("end", 20, 3) in log
    assert ("start", 10, 2) not in log
    release.set()
    await asyncio.gather(*tasks)
    chat10 = [entry for entry in log if entry[1] == 10]
    assert chat10 == [("start", 10, 1), ("end", 10, 1), ("start", 10, 2), ("end", 10, 2)]
    assert processor._locks == {}


def test_key_of_non_updates_is_none() -> None:
    assert chat_key(object()) is None
    assert chat_key(_update(1, 5)) == 5


async def test_a_flooding_chat_holds_one_slot_and_others_are_served() -> None:
    """Two slots; chat 10 sends 50 updates that each block until released. Before the fix
    PTB took a slot before the chat's lock, so chat 10's queue sat on both slots and chat 20
    waited for the whole flood. Now chat 10 holds one slot at most and chat 20 runs at once."""
    processor = PerChatUpdateProcessor(2)
    release = asyncio.Event()
    other_done = asyncio.Event()
    running: list[int] = []
    most_of_chat_10 = 0

    async def flood(update_id: int) -> None:
        nonlocal most_of_chat_10
        running.append(update_id)
        most_of_chat_10 = max(most_of_chat_10, len(running))
        await release.wait()
        running.remove(update_id)

    async def other() -> None:
        other_done.set()

    flood_tasks = [
        asyncio.create_task(processor.process_update(_update(i, 10), flood(i)))
        for i in range(1, 51)
    ]
    await asyncio.sleep(0)  # every flood update is now queued
    other_task = asyncio.create_task(processor.process_update(_update(99, 20), other()))
    await asyncio.wait_for(other_done.wait(), timeout=5)  # served while the flood is stuck
    assert processor.current_concurrent_updates == 1  # chat 10's one slot
    release.set()
    await asyncio.gather(*flood_tasks, other_task)
    assert most_of_chat_10 == 1
    assert processor._locks == {}


async def test_an_update_enters_the_queue_once_stored_and_is_done_once_handled(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(sessions, owner="test")
    queue = DurableUpdateQueue(inbox)
    await queue.put(_update(1, 10))
    await queue.put(_update(1, 10))  # Telegram delivers it again: dropped
    await queue.put(_update(2, 10))
    taken = [queue.get_nowait(), queue.get_nowait()]
    assert [u.update_id for u in taken if isinstance(u, Update)] == [1, 2]
    assert queue.empty()
    assert await inbox.pending() == 2

    processor = PerChatUpdateProcessor(4, inbox)

    async def fine() -> None:
        return None

    async def broken() -> None:
        raise ValueError("a handler bug")

    await processor.process_update(_update(1, 10), fine())
    with pytest.raises(ValueError, match="a handler bug"):
        await processor.process_update(_update(2, 10), broken())
    assert await inbox.pending() == 0  # a failing update is not retried forever
    await queue.put(_update(2, 10))
    assert queue.empty()  # handled before: never again
    await inbox.close()


async def test_an_update_cancelled_mid_handling_stays_unfinished(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(sessions, owner="test")
    await DurableUpdateQueue(inbox).put(_update(5, 10))
    processor = PerChatUpdateProcessor(4, inbox)
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(processor.process_update(_update(5, 10), slow()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await inbox.pending() == 1  # handled again at the next start
    await inbox.close()


class _FailingOnce(Inbox):
    """The database refuses the first write (e.g. a dropped connection)."""

    failures = 0

    async def accept(self, arrival: Arrival) -> bool:
        if self.failures == 0:
            self.failures += 1
            raise OperationalError("INSERT", {}, OSError("connection lost"))
        return await super().accept(arrival)


async def test_an_update_the_database_refused_is_stored_on_a_later_try(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """put() returns only once the update is stored: polling does not confirm it before, and
    the error does not end PTB's polling loop."""
    monkeypatch.setattr(updates, "RETRY_FIRST", 0.0)
    inbox = _FailingOnce(sessions, owner="test")
    queue = DurableUpdateQueue(inbox)
    await queue.put(_update(1, 10))
    assert inbox.failures == 1
    assert queue.qsize() == 1
    assert await inbox.pending() == 1
    await inbox.close()


class _Recording(BaseRequest):
    """Answers every request; notes how many updates were stored when getUpdates left."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.stored_when_sent: list[int] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, *_args: object, **_kwargs: object) -> tuple[int, bytes]:
        self.stored_when_sent.append(await self.inbox.pending())
        return 200, b'{"ok": true, "result": []}'


async def test_polling_stores_a_fetched_batch_in_one_commit_before_confirming_it(
    sessions: SessionFactory,
) -> None:
    inbox = Inbox(sessions, owner="test")
    queue = DurableUpdateQueue(inbox, staged=True)
    inner = _Recording(inbox)
    get_updates = ConfirmAfterStoring(inner, queue)
    for update_id in range(1, 21):  # as PTB's poller puts a fetched batch
        await queue.put(_update(update_id, 10 + update_id % 3))
    await queue.put(_update(5, 10 + 5 % 3))  # a repeat within the batch
    await get_updates.do_request("https://api.telegram.org/bot/getUpdates", "POST")
    assert inner.stored_when_sent == [20]  # the confirming request left after the commit
    assert inbox.commits == 1
    taken = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [u.update_id for u in taken if isinstance(u, Update)] == list(range(1, 21))
    await inbox.close()
