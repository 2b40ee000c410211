"""Backups taken while the bot writes restore every committed row (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bot.services.backup import (
    BackupError,
    _pg_tool,
    backup,
    backup_name,
    has_data,
    restore,
    rotate,
)
from db.migrate import upgrade
from db.models import Company
from db.session import make_engine
from tests.conftest import _create_pg_database


async def _fresh_database(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    """Another empty database on the same backend."""
    if make_url(database_url).get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
    admin: str = request.getfixturevalue("postgres_admin_url")
    return await _create_pg_database(admin)


async def _keys(url: str) -> list[int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Company.name_key))).scalars().all()
    finally:
        await engine.dispose()
    return sorted(int(k.removeprefix("load-")) for k in rows)


async def test_backup_under_write_load_restores_every_committed_row(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    engine = make_engine(database_url)
    await upgrade(engine)
    committed: list[int] = []
    stop = asyncio.Event()
    reached = asyncio.Event()
    goal = [100]

    async def writer() -> None:
        """One row per transaction, as the bot commits; ``committed`` lists what is in."""
        n = 0
        while not stop.is_set():
            async with engine.begin() as conn:
                await conn.execute(
                    insert(Company).values(
                        name=f"负载公司{n}", name_key=f"load-{n}", is_member=False
                    )
                )
            committed.append(n)
            if len(committed) >= goal[0]:
                reached.set()
            n += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    try:
        await reached.wait()
        before = len(committed)
        destination = tmp_path / "backups" / backup_name(database_url, datetime.now(UTC))
        result = await asyncio.to_thread(backup, database_url, destination)
        goal[0] = len(committed) + 20  # the writer goes on after the backup, too
        reached.clear()
        await reached.wait()
    finally:
        stop.set()
        await task
        await engine.dispose()
    assert result.path == destination
    assert result.size > 0
    assert not list(destination.parent.glob("*.partial"))

    target = await _fresh_database(database_url, tmp_path, request)
    await restore(target, destination)
    await upgrade_url(target)
    restored = await _keys(target)
    # Every row committed before the backup began is there, and the copy is one consistent
    # moment: a gapless prefix of what was committed, nothing half-written.
    assert restored == list(range(len(restored)))
    assert before <= len(restored) < len(committed)


async def upgrade_url(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def test_restore_refuses_a_database_with_data_unless_forced(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    await upgrade_url(database_url)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(insert(Company).values(name="甲", name_key="load-0", is_member=True))
    await engine.dispose()
    saved = await asyncio.to_thread(backup, database_url, tmp_path / "one")

    other = await _fresh_database(database_url, tmp_path, request)
    await upgrade_url(other)
    assert not await has_data(other)
    engine = make_engine(other)
    async with engine.begin() as conn:
        await conn.execute(insert(Company).values(name="乙", name_key="load-7", is_member=True))
    await engine.dispose()
    with pytest.raises(BackupError, match=r"not empty.*--force"):
        await restore(other, saved.path)
    assert await _keys(other) == [7]
    await restore(other, saved.path, force=True)
    assert await _keys(other) == [0]


async def test_restore_refuses_the_wrong_kind_of_file(database_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup", encoding="utf-8")
    with pytest.raises(BackupError, match="is not a"):
        await restore(database_url, bogus)
    with pytest.raises(BackupError, match="no backup file"):
        await restore(database_url, tmp_path / "missing.sqlite3")


def test_rotation_keeps_the_newest_and_nothing_else_is_touched(tmp_path: Path) -> None:
    names = [f"ipdesk-2026120{d}-033000.sqlite3" for d in range(1, 8)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    deleted = rotate(tmp_path, 3)
    assert sorted(p.name for p in deleted) == names[:4]
    assert sorted(p.name for p in tmp_path.iterdir()) == [*names[4:], "notes.txt"]
    assert rotate(tmp_path, 3) == []


def test_backup_names_tell_the_kind_and_the_time() -> None:
    at = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)
    assert backup_name("sqlite+aiosqlite:////x/db.sqlite3", at) == "ipdesk-20261205-033000.sqlite3"
    assert backup_name("postgresql+asyncpg://u@h/db", at) == "ipdesk-20261205-033000.dump"


def test_a_missing_pg_dump_is_named_with_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"pg_dump was not found: install .*postgresql-client"):
        _pg_tool("pg_dump", path=str(tmp_path), root=tmp_path)
