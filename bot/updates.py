"""Process updates of different chats concurrently, each chat's updates in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UNBOUNDED = 2**30


def chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """One member's slow database write must not hold up every other member, but a
    member's own messages (question, then button press) must still be handled in order.

    Fair under load: an update first waits for its chat's turn and only then for one of
    the ``max_concurrent_updates`` slots, so one chat never holds more than one slot and a
    flooding chat's queue waits on its own lock, not in front of everybody else.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        # PTB's own semaphore is taken before do_process_update (process_update is final),
        # so it is left unbounded and the real limit, ``_slots``, is taken after the lock.
        self._limit = max_concurrent_updates
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
