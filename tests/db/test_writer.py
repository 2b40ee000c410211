"""One write path on SQLite: many concurrent writers, never "database is locked".

SQLite's own busy handler is switched off here (busy_timeout=0), so a second connection
reaching for the write lock while another holds it would fail at once: the writes succeed
only because they queue in db.session.SqliteWriter. PostgreSQL runs the same workload with
its own row locks, unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from db.migrate import upgrade
from db.models import User
from db.session import is_read, is_sqlite, make_engine, make_session_factory

WRITERS = 200


@pytest.fixture
async def impatient(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    if is_sqlite(engine):

        @event.listens_for(engine.sync_engine, "connect")
        def _no_busy_wait(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA busy_timeout=0")
            cursor.close()

    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_concurrent_writers_never_meet_a_locked_database(impatient: AsyncEngine) -> None:
    sessions = make_session_factory(impatient)
    async with sessions() as s, s.begin():
        s.add(User(id=1, first_name="计数"))

    async def write(n: int) -> None:
        async with sessions() as s, s.begin():
            await s.execute(select(func.count()).select_from(User))  # a read first
            s.add(User(id=1000 + n, first_name="会员"))
            await s.flush()
            await asyncio.sleep(0)  # let the others run while this one holds its write
            await s.execute(text("UPDATE users SET username = 'x' WHERE id = 1"))

    await asyncio.gather(*(write(n) for n in range(WRITERS)))
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == WRITERS + 1


async def test_a_failed_writer_hands_on_its_turn(impatient: AsyncEngine) -> None:
    sessions = make_session_factory(impatient)
    async with sessions() as s, s.begin():
        s.add(User(id=1, first_name="甲"))
    with pytest.raises(IntegrityError):
        async with sessions() as s, s.begin():
            s.add(User(id=1, first_name="乙"))
    async with sessions() as s, s.begin():  # would wait forever if the turn were kept
        s.add(User(id=2, first_name="丙"))
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 2


def test_reads_and_writes_are_told_apart() -> None:
    assert is_read("SELECT 1")
    assert is_read("  select * from users")
    assert is_read("PRAGMA foreign_keys")
    assert not is_read("INSERT INTO users VALUES (1)")
    assert not is_read("UPDATE users SET x = 1")
    assert not is_read("WITH t AS (SELECT 1) UPDATE users SET x = 1")
    assert not is_read("SAVEPOINT sa_savepoint_1")
