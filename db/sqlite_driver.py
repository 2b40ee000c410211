"""aiosqlite connections that make one trip to SQLite's thread per statement.

aiosqlite runs every call on a thread of its own and hands the result back to the event
loop. SQLAlchemy's adapter makes four such trips per statement (open a cursor, execute,
fetch the rows, close the cursor) and one per COMMIT and ROLLBACK, also when there is no
transaction to end: measured on the member path, 23 trips per message, each a wake-up of
both threads. :class:`OneTripConnection` executes a statement, fetches its rows and closes
its cursor in one trip, and skips a COMMIT or ROLLBACK when SQLite has no transaction open
(sqlite3 itself does nothing then either). Same SQL, same transactions, same errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import make_url
from sqlalchemy.dialects.sqlite import aiosqlite as sqlite_aiosqlite


@dataclass(frozen=True, slots=True)
class _Outcome:
    description: Any
    rowcount: int
    lastrowid: int | None
    rows: list[Any]


class OneTripCursor:
    """What SQLAlchemy's aiosqlite adapter uses of ``aiosqlite.Cursor``; rows are buffered."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._outcome = _Outcome(None, -1, None, [])
        self._next = 0

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        run = partial(self._connection.run_statement, sql, parameters or (), many=False)
        self._outcome, self._next = await self._connection.in_thread(run), 0
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        run = partial(self._connection.run_statement, sql, parameters, many=True)
        self._outcome, self._next = await self._connection.in_thread(run), 0
        return self

    @property
    def description(self) -> Any:
        return self._outcome.description

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._outcome.lastrowid

    async def fetchone(self) -> Any:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        start = self._next
        count = self.arraysize if size is None else size
        self._next = min(len(self._outcome.rows), start + count)
        return self._outcome.rows[start : self._next]

    async def fetchall(self) -> list[Any]:
        return await self.fetchmany(len(self._outcome.rows) - self._next)

    async def close(self) -> None:
        # Like a closed sqlite3 cursor: the rows go, rowcount and lastrowid stay readable.
        self._next = len(self._outcome.rows)


class OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        # No trip: the sqlite3 cursor is made in the trip of each statement.
        return OneTripCursor(self)

    async def in_thread(self, function: Callable[[], _Outcome]) -> _Outcome:
        result: _Outcome = await self._execute(function)  # type: ignore[no-untyped-call]
        return result

    def run_statement(self, sql: str, parameters: Any, *, many: bool) -> _Outcome:
        """In SQLite's thread: execute, fetch every row, close the cursor."""
        cursor = self._conn.cursor()
        try:
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
            rows = cursor.fetchall() if cursor.description else []
            return _Outcome(cursor.description, cursor.rowcount, cursor.lastrowid, rows)
        finally:
            cursor.close()

    async def commit(self) -> None:
        if self._conn.in_transaction:  # read without a trip: nothing runs on it meanwhile
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def one_trip_creator(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """``async_creator`` for SQLAlchemy: the connection it would open for ``url``, one-trip."""
    args, options = sqlite_aiosqlite.dialect().create_connect_args(make_url(url))

    async def connect() -> aiosqlite.Connection:
        connection = OneTripConnection(partial(sqlite3.connect, *args, **options), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: a leaked one must not block exit
        return await connection

    return connect
