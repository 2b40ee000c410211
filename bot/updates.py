"""How updates come in: stored in the inbox first, then handled per chat in arrival order.

* :class:`DurableUpdateQueue` is python-telegram-bot's update queue. The poller puts every
  fetched update into it before it confirms the batch (the next getUpdates offset), and the
  webhook server before it answers 200; ``put`` returns only after the update is committed
  to the inbox (bot/services/inbox.py), and an update_id stored before is dropped there.
* :class:`PerChatUpdateProcessor` handles different chats concurrently, each in order, and
  tells the sessions which update is being handled: the first transaction of its handler
  that writes marks it done in the inbox; one that writes nothing is marked after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput  # PTB's type of a timeout argument

from bot.services.inbox import Arrival, Handling, Inbox, handling

log = logging.getLogger(__name__)

UNBOUNDED = 2**30
RETRY_FIRST, RETRY_MAX = 1.0, 30.0
"""Seconds between attempts to store an update while the database fails."""


def chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


def arrival(update: Update) -> Arrival:
    return Arrival(update.update_id, chat_key(update), update.to_json())


class DurableUpdateQueue(asyncio.Queue[object]):
    """The application's update queue: an update enters it only once stored in the inbox.

    Webhook (``staged=False``): ``put`` returns after the commit, so the server answers 200
    only for a stored update. Polling (``staged=True``): ``put`` returns at once and the
    update is stored in the background, a fetched batch in one grouped commit, and queued
    after it; the next getUpdates request, which confirms the batch, first waits for
    :meth:`stored` (:class:`ConfirmAfterStoring`).
    """

    def __init__(self, inbox: Inbox, *, staged: bool = False) -> None:
        super().__init__()
        self._inbox = inbox
        self._staged = staged
        self._staging: set[asyncio.Task[None]] = set()

    async def put(self, item: object) -> None:
        if not isinstance(item, Update):
            await super().put(item)
        elif self._staged:
            task = asyncio.create_task(self._store_then_queue(item))
            self._staging.add(task)
            task.add_done_callback(self._staging.discard)
        elif await self._store(item):
            await super().put(item)
        # else: seen before (handled, or being handled)

    async def _store_then_queue(self, update: Update) -> None:
        if await self._store(update):
            self.put_nowait(update)

    async def stored(self) -> None:
        """Wait until every update put so far is stored (or known as a repeat)."""
        while self._staging:
            await asyncio.wait(set(self._staging))

    async def _store(self, update: Update) -> bool:
        # Until the update is stored it must not be confirmed: keep trying (this holds up
        # polling, or the webhook's answer) rather than let an error end PTB's polling loop.
        pause = RETRY_FIRST
        while True:
            try:
                return await self._inbox.accept(arrival(update))
            except (SQLAlchemyError, OSError) as exc:
                log.warning(
                    "inbox: update %d not stored (%s); trying again in %.0f s",
                    update.update_id,
                    type(exc).__name__,
                    pause,
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX)

    def replay(self, update: Update) -> None:
        """Queue an update taken from the inbox (stored already; perhaps partly handled)."""
        self._inbox.replayed(update.update_id)
        self.put_nowait(update)


class ConfirmAfterStoring(BaseRequest):
    """The getUpdates request: before it confirms the updates fetched so far (its offset),
    they are stored (:meth:`DurableUpdateQueue.stored`). Other requests are not delayed."""

    __slots__ = ("_inner", "_queue")

    def __init__(self, inner: BaseRequest, queue: DurableUpdateQueue) -> None:
        self._inner = inner
        self._queue = queue

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await self._queue.stored()
        return await self._inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """One member's slow database write must not hold up every other member, but a
    member's own messages (question, then button press) must still be handled in order.

    Fair under load: an update first waits for its chat's turn and only then for one of
    the ``max_concurrent_updates`` slots, so one chat never holds more than one slot and a
    flooding chat's queue waits on its own lock, not in front of everybody else.
    """

    def __init__(self, max_concurrent_updates: int, inbox: Inbox | None = None) -> None:
        # PTB's own semaphore is taken before do_process_update (process_update is final),
        # so it is left unbounded and the real limit, ``_slots``, is taken after the lock.
        self._limit = max_concurrent_updates
        self._inbox = inbox
        super().__init__(UNBOUNDED)
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._busy = 0
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @property
    def slots(self) -> int:
        """The real limit of updates handled at once (``max_concurrent_updates`` is PTB's,
        left unbounded)."""
        return self._limit

    @property
    def current_concurrent_updates(self) -> int:
        """Updates being handled now (not those waiting for their chat's turn)."""
        return self._busy

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        async with self._slots:
            self._busy += 1
            try:
                await coroutine
            finally:
                self._busy -= 1

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._inbox is None or not isinstance(update, Update):
            await self._in_turn(update, coroutine)
            return
        inbox = self._inbox
        # Not on cancellation (shutdown): an update cut off stays for the next start.
        with handling(update.update_id, replayed=inbox.was_replayed(update.update_id)) as it:
            try:
                await self._in_turn(update, coroutine)
            except Exception:
                await self._settle(inbox, it)  # a failing handler would fail again
                raise
            await self._settle(inbox, it)

    @staticmethod
    async def _settle(inbox: Inbox, it: Handling) -> None:
        """Mark the update done if no transaction of its handler did (it wrote nothing)."""
        if not it.done:
            await inbox.done(it.update_id)
        inbox.forget_replayed(it.update_id)

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await self._run(coroutine)
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await self._run(coroutine)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # no waiter left: don't keep a lock per chat forever
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
