"""The durable inbox: every update is stored before Telegram is told it arrived.

Telegram forgets an update once the bot confirms it (the next getUpdates offset, or the
webhook's 200). python-telegram-bot confirms a whole fetched batch before handling it, so a
crash used to lose what members had just written. Here an update is written to
``inbox_updates`` first (:meth:`Inbox.accept`), handled, then marked done
(:meth:`Inbox.done`, which also drops its text). Updates not done when the process died
are handled at the next start (:meth:`Inbox.claim_unfinished`); an update_id seen before is
ignored, so a re-delivered update is never handled twice.

Writes are grouped: accepts and done marks that arrive while a transaction is being
committed go together in the next one (one commit for many updates), and each caller
resumes only after the commit that holds its row.

Two processes (webhook mode on PostgreSQL) each claim what they store; an unfinished update
whose claim was not renewed within the lease (its process died) is taken over by another.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.models import InboxUpdate
from db.session import SessionFactory

log = logging.getLogger(__name__)

DONE_KEPT = timedelta(days=1)
"""How long a done update_id is remembered: Telegram keeps an unconfirmed update for 24 h."""


_REPLAYING: ContextVar[bool] = ContextVar("ipdesk_inbox_replaying", default=False)


def replaying() -> bool:
    """True while an update stored before the last stop is handled again: its handler may
    have committed something then, so a service that records it looks for it first."""
    return _REPLAYING.get()


@contextmanager
def replay_scope(replayed: bool) -> Iterator[None]:
    token = _REPLAYING.set(replayed)
    try:
        yield
    finally:
        _REPLAYING.reset(token)


@dataclass(frozen=True, slots=True)
class Arrival:
    update_id: int
    chat_id: int | None
    payload: str
    """The update as JSON, as Telegram sent it (personal data: never logged)."""


@dataclass(slots=True)
class _Batch:
    arrivals: dict[int, Arrival] = field(default_factory=dict)
    """The first arrival of each update_id (a second one in the same batch is a duplicate)."""
    done: set[int] = field(default_factory=set)
    committed: asyncio.Future[set[int]] | None = None
    """Resolves to the update_ids of this batch's arrivals that were new."""


def _now() -> datetime:
    return datetime.now(UTC)


class Inbox:
    def __init__(self, sessions: SessionFactory, *, owner: str | None = None) -> None:
        self._sessions = sessions
        self.owner = owner or uuid.uuid4().hex
        self._next = _Batch()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._replayed: set[int] = set()
        self.commits = 0
        """Transactions committed by the writer (for tests and benchmarks)."""

    async def accept(self, arrival: Arrival) -> bool:
        """Store an update; True once it is committed and new, False for an update_id
        already stored (a re-delivery: handled or being handled already)."""
        batch = self._enqueue()
        first = batch.arrivals.setdefault(arrival.update_id, arrival)
        new = await self._committed(batch)
        return first is arrival and arrival.update_id in new

    def replayed(self, update_id: int) -> None:
        """Note an update taken over from the inbox (see :func:`replaying`)."""
        self._replayed.add(update_id)

    def was_replayed(self, update_id: int) -> bool:
        return update_id in self._replayed

    async def done(self, update_id: int) -> None:
        """Mark an update handled (its text is dropped); returns after the commit."""
        self._replayed.discard(update_id)
        batch = self._enqueue()
        batch.done.add(update_id)
        await self._committed(batch)

    def _enqueue(self) -> _Batch:
        if self._closed:
            raise RuntimeError("the inbox is closed")
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="inbox-writer")
        if self._next.committed is None:
            self._next.committed = asyncio.get_running_loop().create_future()
        self._wake.set()
        return self._next

    async def _committed(self, batch: _Batch) -> set[int]:
        assert batch.committed is not None
        # shield: a cancelled caller must not cancel the batch's future for the others
        return await asyncio.shield(batch.committed)

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._next = self._next, _Batch()
            if batch.committed is None:
                continue
            try:
                new = await self._write(batch)
            except Exception as exc:
                if not batch.committed.done():
                    batch.committed.set_exception(exc)
                # every caller gets the error; retrieve it here so it is not reported twice
                batch.committed.exception()
                continue
            self.commits += 1
            if not batch.committed.done():
                batch.committed.set_result(new)

    async def _write(self, batch: _Batch) -> set[int]:
        now = _now()
        new: set[int] = set()
        async with self._sessions() as s, s.begin():
            if batch.arrivals:
                rows = [
                    {
                        "update_id": a.update_id,
                        "chat_id": a.chat_id,
                        "payload": a.payload,
                        "claimed_by": self.owner,
                        "claimed_at": now,
                        "received_at": now,
                    }
                    for a in batch.arrivals.values()
                ]
                insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
                result = await s.execute(
                    insert(InboxUpdate)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=["update_id"])
                    .returning(InboxUpdate.update_id)
                )
                new = set(result.scalars())
            if batch.done:
                await s.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id.in_(batch.done), InboxUpdate.done_at.is_(None))
                    .values(done_at=now, payload=None)
                )
        return new

    async def claim_unfinished(self, lease: timedelta | None) -> list[tuple[int, str]]:
        """Take over the updates not done whose claim is older than ``lease`` (None: every
        one not done, for a single process at start-up); (update_id, payload) in order."""
        now = _now()
        async with self._sessions() as s, s.begin():
            query = select(InboxUpdate.update_id).where(
                InboxUpdate.done_at.is_(None), InboxUpdate.claimed_by != self.owner
            )
            if lease is not None:
                query = query.where(InboxUpdate.claimed_at < now - lease)
            ids = list((await s.execute(query.order_by(InboxUpdate.update_id))).scalars())
            if not ids:
                return []
            # conditional: a row another process took meanwhile is not taken twice
            stale = InboxUpdate.claimed_by != self.owner
            if lease is not None:
                stale = stale & (InboxUpdate.claimed_at < now - lease)
            result = await s.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id.in_(ids), InboxUpdate.done_at.is_(None), stale)
                .values(claimed_by=self.owner, claimed_at=now)
                .returning(InboxUpdate.update_id, InboxUpdate.payload)
            )
            taken = sorted((row.update_id, row.payload) for row in result)
        return [(update_id, payload) for update_id, payload in taken if payload is not None]

    async def renew(self) -> int:
        """Renew this process's claims on the updates it is still handling."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(InboxUpdate)
                .where(InboxUpdate.claimed_by == self.owner, InboxUpdate.done_at.is_(None))
                .values(claimed_at=_now())
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def prune(self, now: datetime | None = None, keep: timedelta = DONE_KEPT) -> int:
        """Forget done updates older than ``keep`` (their text is already gone)."""
        cutoff = (now or _now()) - keep
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.done_at.is_not(None), InboxUpdate.done_at < cutoff
                )
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def pending(self) -> int:
        """Updates stored and not done yet (any process)."""
        async with self._sessions() as s:
            count = await s.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
            )
        return int(count or 0)

    async def close(self) -> None:
        """Let the batch being written finish, then stop the writer."""
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is None:
            return
        waiting = self._next.committed
        if waiting is not None:
            self._wake.set()
            await asyncio.wait([waiting], timeout=5)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
