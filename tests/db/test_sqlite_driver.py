"""The SQLite connections of db.sqlite_driver: one trip to SQLite's thread per statement,
and the same results, transactions and errors as plain aiosqlite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import make_engine
from db.sqlite_driver import OneTripConnection, one_trip_creator


class Trips:
    """Counts the functions handed to SQLite's thread (statements, COMMITs, ROLLBACKs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = OneTripConnection._execute

        async def counted(connection: OneTripConnection, fn: Callable[..., Any], *a: Any) -> Any:
            self.count += 1
            return await original(connection, fn, *a)  # type: ignore[no-untyped-call]

        monkeypatch.setattr(OneTripConnection, "_execute", counted)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_a_statement_and_its_rows_take_one_trip(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as conn:  # connected (and its pragmas run) before counting
        trips = Trips(monkeypatch)
        rows = (await conn.execute(text("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"))).all()
        assert [r[0] for r in rows] == [1, 2, 3]
        assert trips.count == 1
        # A read opens no transaction in SQLite: nothing to roll back, no trip for it.
        await conn.rollback()
        assert trips.count == 1


async def test_a_write_commits_once_with_its_rowcount_and_returning(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as conn:
        trips = Trips(monkeypatch)
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a') RETURNING id"))
        assert inserted.scalar_one() == 1
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}]
        )
        assert many.rowcount == 2
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2  # still readable after the cursor was closed
        await conn.commit()
        assert trips.count == 4  # three statements, one COMMIT
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["a", "b!", "c!"]


async def test_a_rollback_undoes_the_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        await conn.commit()
        await conn.execute(text("INSERT INTO t (name) VALUES ('undone')"))
        await conn.rollback()
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["kept"]


async def test_errors_are_sqlalchemys_and_leave_the_connection_usable(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_rows_are_fetched_in_parts_when_asked(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')"))
        result = await conn.execute(text("SELECT name FROM t ORDER BY id"))
        assert result.fetchone() == ("a",)
        assert result.fetchmany(5) == [("b",), ("c",)]
        assert result.fetchall() == []


async def test_the_cursor_fetches_as_dbapi_says(tmp_path: Path) -> None:
    """The cursor itself (SQLAlchemy buffers the rows and never asks for a part)."""
    connection = await one_trip_creator(f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}")()
    assert isinstance(connection, OneTripConnection)
    try:
        cursor = connection.cursor()
        await cursor.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
        assert await cursor.fetchmany(0) == []
        assert await cursor.fetchone() == (1,)
        assert await cursor.fetchall() == [(2,), (3,)]
        assert await cursor.fetchone() is None
    finally:
        await connection.close()
