"""Async engine and session factory; built from a URL, never at import time.

On SQLite, writes take one path (:class:`SqliteWriter`): a connection about to write first
waits its turn in an in-process queue and keeps it until it is returned to the pool, after
its commit or rollback. SQLite allows one writer at a time; without this, pooled connections
would fight over its write lock by busy-waiting and a member could get "database is locked"
instead of an answer. PostgreSQL needs none of this and is left as it is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

from db.sqlite_driver import one_trip_creator

SessionFactory = async_sessionmaker[AsyncSession]

_HOLDS_WRITER = "ipdesk_holds_writer"
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers and the one writer proceed together; busy_timeout only matters for
    # other processes (`ipdesk db backup`, a second tool): within this process writers queue
    # in SqliteWriter. Foreign keys are off by default.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_read(statement: str) -> bool:
    """A statement that cannot take SQLite's write lock (anything else is treated as a write:
    INSERT, UPDATE, DELETE, DDL, SAVEPOINT, a WITH that may end in an UPDATE)."""
    return statement.lstrip().upper().startswith(_READS)


class SqliteWriter:
    """The one write path of a SQLite engine in this process.

    The first writing statement of a connection's transaction waits (without polling) for
    the previous writer's connection to go back to the pool, i.e. until after its commit.
    Writers are served in arrival order. A task that already holds the turn and writes
    through a second connection is not made to wait for itself (SQLite decides, as before).
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self.turns = 0
        """Write transactions served (for tests and benchmarks)."""

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def install(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.sync_engine.pool, "checkin", self._checkin)
        event.listen(engine.sync_engine.pool, "invalidate", self._invalidate)

    def _before_execute(
        self,
        conn: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if conn.info.get(_HOLDS_WRITER) or is_read(statement):
            return
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            return
        # Runs inside SQLAlchemy's greenlet for the async engine: await the turn there.
        await_only(self._lock.acquire())
        self._owner = task
        self.turns += 1
        conn.info[_HOLDS_WRITER] = True

    def _release(self, info: dict[str, Any]) -> None:
        if info.pop(_HOLDS_WRITER, False):
            self._owner = None
            self._lock.release()

    def _checkin(self, _dbapi_conn: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
        self._release(record.info)

    def _invalidate(
        self, _dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, _exc: object
    ) -> None:
        self._release(record.info)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A failed statement's parameters are members' names, phones and messages: errors and
    # logs show the statement only.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("async_creator", one_trip_creator(url))
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        SqliteWriter().install(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
