"""The durable inbox: every update is stored before Telegram is told it arrived.

Telegram forgets an update once the bot confirms it (the next getUpdates offset, or the
webhook's 200). python-telegram-bot confirms a whole fetched batch before handling it, so a
crash used to lose what members had just written. Here an update is written to
``inbox_updates`` first (:meth:`Inbox.accept`), handled, and marked done (its text
dropped). Updates not done when the process died are handled at the next start
(:meth:`Inbox.claim_unfinished`); an update_id seen before is ignored, so a re-delivered
update is never handled twice.

**Done in the same transaction as its effects.** The update being handled is known to
the sessions (:func:`handling`, a context variable): the first transaction of its handler
that writes also marks it done (:func:`mark_done_with_effects`), before the handler sends
its reply. A crash before that commit leaves nothing of the handler behind, and the update
is handled again at the next start; after it, the update is never handled again. A handler
that writes nothing (``/help``) is marked done after it returns (:meth:`Inbox.done`); one
that writes in several transactions is done with the first that is not marked
:func:`preparatory` (recording that a member wrote, before their question is recorded). A
reply is sent after its commit, so a crash between the two loses that reply, never
repeats the update. If an update is handled again after a stop (:func:`replaying`), the
question log and the relay look for what they would record first.

Writes of the inbox itself are grouped: accepts and done marks that arrive while a
transaction is being committed go together in the next one (one commit for many
updates), and each caller resumes only after the commit that holds its row.

Two processes (webhook mode on PostgreSQL) each claim what they store; an unfinished update
whose claim was not renewed within the lease (its process died) is taken over by another.

**Poison updates.** Each time an update's handling begins (stored: the first; resumed at a
start or taken over: one more, committed before it is handled again) its ``attempts`` go
up. One that reaches the limit unfinished (it crashes the process, or never completes) is
not handled again: it is marked failed (and done, its text dropped) and the ``on_failed``
hook runs in that same transaction (:mod:`bot.services.inbox_failures` tells the member).
A handler that raises is not retried: python-telegram-bot reports the error (the member gets
the error reply) and the update is marked done, since it would fail the same way again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from db.models import InboxUpdate
from db.session import SessionFactory, is_read

log = logging.getLogger(__name__)

DONE_KEPT = timedelta(days=1)
"""How long a done update_id is remembered: Telegram keeps an unconfirmed update for 24 h."""
MAX_ATTEMPTS = 3
"""Times an update's handling may begin before it is given up (setting INBOX_MAX_ATTEMPTS)."""


@dataclass(slots=True)
class Handling:
    """The update whose handler runs in this context."""

    update_id: int
    replayed: bool = False
    marking: bool = False
    done: bool = False
    """Marked done in a committed transaction of its handler."""


_HANDLING: ContextVar[Handling | None] = ContextVar("ipdesk_inbox_handling", default=None)
_PREPARATORY: ContextVar[bool] = ContextVar("ipdesk_inbox_preparatory", default=False)
_WROTE = "ipdesk_wrote"
_CONNECTIONS = "ipdesk_connections"


def replaying() -> bool:
    """True while an update stored before the last stop is handled again: its handler may
    have committed something then, so a service that records it looks for it first."""
    current = _HANDLING.get()
    return current is not None and current.replayed


@contextmanager
def handling(update_id: int, *, replayed: bool = False) -> Iterator[Handling]:
    current = Handling(update_id, replayed)
    token = _HANDLING.set(current)
    try:
        yield current
    finally:
        _HANDLING.reset(token)


@contextmanager
def preparatory() -> Iterator[None]:
    """Transactions in this block are bookkeeping that may be repeated (recording that a
    user wrote, their language), not the effect of the update: they do not mark it done."""
    token = _PREPARATORY.set(True)
    try:
        yield
    finally:
        _PREPARATORY.reset(token)


class InboxSession(Session):
    """A session that marks the update being handled done in its first writing commit."""


def mark_done_with_effects(sessions: SessionFactory) -> None:
    """Make the sessions of this factory mark the update being handled done in the first
    transaction of its handler that writes (see the module's docstring)."""
    sessions.configure(sync_session_class=InboxSession)
    engine = sessions.kw["bind"].sync_engine
    if not event.contains(engine, "before_cursor_execute", _note_write):
        event.listen(engine, "begin", _fresh_transaction)
        event.listen(engine, "before_cursor_execute", _note_write)


def _fresh_transaction(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


def _note_write(
    conn: Connection,
    _cursor: object,
    statement: str,
    _parameters: object,
    _context: object,
    _executemany: bool,
) -> None:
    # on the connection: ORM flushes and Core statements on session.connection() alike
    if not is_read(statement):
        conn.info[_WROTE] = True


@event.listens_for(InboxSession, "after_begin")
def _note_connection(session: Session, _transaction: object, conn: Connection) -> None:
    session.info.setdefault(_CONNECTIONS, []).append(conn)


def _wrote(session: Session) -> bool:
    if session.new or session.dirty or session.deleted:
        return True  # flushed by the commit
    return any(conn.info.get(_WROTE) for conn in session.info.get(_CONNECTIONS, ()))


@event.listens_for(InboxSession, "before_commit")
def _mark_done(session: Session) -> None:
    current = _HANDLING.get()
    if current is None or current.done or current.marking or _PREPARATORY.get():
        return
    if not _wrote(session):
        return
    current.marking = True
    session.info[_HANDLING.name] = current
    # the statement the writer uses for done marks, built once: this runs for every update
    session.execute(_DONE, {"ids": [current.update_id], "now": _now()})


@event.listens_for(InboxSession, "after_commit")
def _marked(session: Session) -> None:
    current = session.info.pop(_HANDLING.name, None)
    if isinstance(current, Handling):
        current.marking, current.done = False, True


@event.listens_for(InboxSession, "after_rollback")
def _not_marked(session: Session) -> None:
    current = session.info.pop(_HANDLING.name, None)
    if isinstance(current, Handling):
        current.marking = False


@event.listens_for(InboxSession, "after_transaction_end")
def _forget_connections(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTIONS, None)


@dataclass(frozen=True, slots=True)
class Arrival:
    update_id: int
    chat_id: int | None
    payload: str
    """The update as JSON, as Telegram sent it (personal data: never logged)."""


@dataclass(frozen=True, slots=True)
class FailedUpdate:
    """An update given up after ``attempts`` beginnings (see the module's docstring)."""

    update_id: int
    chat_id: int | None
    payload: str
    """As stored (personal data: never logged); already cleared in the database."""
    attempts: int


FailedHook = Callable[[AsyncSession, FailedUpdate], Awaitable[None]]
"""Runs in the transaction that marks an update failed (it must not commit)."""


@dataclass(frozen=True, slots=True)
class Takeover:
    """What :meth:`Inbox.claim_unfinished` took."""

    resumed: list[tuple[int, str]]
    """(update_id, payload) to handle again, in update order; their attempts are counted."""
    failed: list[int]
    """update_ids given up (marked failed; ``on_failed`` ran for each)."""


@dataclass(slots=True)
class _Batch:
    arrivals: dict[int, Arrival] = field(default_factory=dict)
    """The first arrival of each update_id (a second one in the same batch is a duplicate)."""
    done: set[int] = field(default_factory=set)
    committed: asyncio.Future[set[int]] | None = None
    """Resolves to the update_ids of this batch's arrivals that were new."""


def _now() -> datetime:
    return datetime.now(UTC)


_UPDATES = cast(Table, InboxUpdate.__table__)
_ACCEPT = {
    postgres: insert(_UPDATES)
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(_UPDATES.c.update_id)
    for postgres, insert in ((True, pg_insert), (False, sqlite_insert))
}
"""Store new updates (executemany: one cached statement whatever the batch size); an
update_id stored before is left alone and not returned."""
_DONE = (
    update(_UPDATES)
    .where(
        _UPDATES.c.update_id.in_(bindparam("ids", expanding=True)),
        _UPDATES.c.done_at.is_(None),
    )
    .values(done_at=bindparam("now"), payload=None)
)


class Inbox:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        owner: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        on_failed: FailedHook | None = None,
    ) -> None:
        self._sessions = sessions
        self.owner = owner or uuid.uuid4().hex
        self.max_attempts = max_attempts
        self._on_failed = on_failed
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

    def forget_replayed(self, update_id: int) -> None:
        self._replayed.discard(update_id)

    async def done(self, update_id: int) -> None:
        """Mark an update handled (its text is dropped); returns after the commit."""
        batch = self._enqueue()
        batch.done.add(update_id)
        await self._committed(batch)

    def _enqueue(self) -> _Batch:
        if self._closed:
            raise RuntimeError("the inbox is closed")
        if self._writer is None:
            # a context of its own: the writer's commits mark no handled update done
            self._writer = asyncio.create_task(
                self._write_loop(), name="inbox-writer", context=contextvars.Context()
            )
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
        # Core statements built once, on the session's connection: this runs for every
        # update (the ORM-enabled multi-row INSERT cost more than the rest of a message).
        now = _now()
        new: set[int] = set()
        async with self._sessions() as s, s.begin():
            conn = await s.connection()
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
                accept = _ACCEPT[conn.dialect.name == "postgresql"]
                new = set((await conn.execute(accept, rows)).scalars())
            if batch.done:
                await conn.execute(_DONE, {"ids": list(batch.done), "now": now})
        return new

    async def claim_unfinished(self, lease: timedelta | None) -> Takeover:
        """Take over the updates not done whose claim is older than ``lease`` (None: every
        one not done, for a single process at start-up). Each one's attempts go up in the
        same commit, before it is handled again; one that began ``max_attempts`` times
        already is marked failed instead."""
        now = _now()
        stale = InboxUpdate.done_at.is_(None) & (InboxUpdate.claimed_by != self.owner)
        if lease is not None:
            stale = stale & (InboxUpdate.claimed_at < now - lease)
        async with self._sessions() as s, s.begin():
            found = (
                await s.execute(
                    select(
                        InboxUpdate.update_id,
                        InboxUpdate.chat_id,
                        InboxUpdate.payload,
                        InboxUpdate.attempts,
                    )
                    .where(stale)
                    .order_by(InboxUpdate.update_id)
                )
            ).all()
            if not found:
                return Takeover([], [])
            ids = [row.update_id for row in found]
            # conditional: a row another process took meanwhile is not taken twice
            result = await s.execute(
                update(InboxUpdate)
                .where(
                    InboxUpdate.update_id.in_(ids),
                    stale,
                    InboxUpdate.attempts < self.max_attempts,
                )
                .values(claimed_by=self.owner, claimed_at=now, attempts=InboxUpdate.attempts + 1)
                .returning(InboxUpdate.update_id, InboxUpdate.payload)
            )
            taken = sorted((row.update_id, row.payload) for row in result)
            given_up = set(
                (
                    await s.execute(
                        update(InboxUpdate)
                        .where(
                            InboxUpdate.update_id.in_(ids),
                            stale,
                            InboxUpdate.attempts >= self.max_attempts,
                        )
                        .values(
                            claimed_by=self.owner,
                            claimed_at=now,
                            done_at=now,
                            failed_at=now,
                            payload=None,
                        )
                        .returning(InboxUpdate.update_id)
                    )
                ).scalars()
            )
            failed = [
                FailedUpdate(row.update_id, row.chat_id, row.payload or "", row.attempts)
                for row in found
                if row.update_id in given_up
            ]
            for it in failed:
                log.warning(
                    "inbox: update %d given up after %d attempts; marked failed",
                    it.update_id,
                    it.attempts,
                )
                if self._on_failed is not None:
                    await self._on_failed(s, it)
        resumed = [(update_id, payload) for update_id, payload in taken if payload is not None]
        return Takeover(resumed, [it.update_id for it in failed])

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
