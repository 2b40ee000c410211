"""Shared fixtures: databases on SQLite and on a real, throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import upgrade
from db.session import SessionFactory, make_engine, make_session_factory
from tests.support.postgres import throwaway_postgres

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """URL of a database we may CREATE DATABASE from; started once per test session."""
    external = os.environ.get("IPDESK_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    with throwaway_postgres() as server:
        yield server.url("postgres")


async def _create_pg_database(admin_url: str) -> str:
    url = make_url(admin_url)
    name = f"t_{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        database=url.database,
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend, one per test."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ipdesk.sqlite3'}"
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    return await _create_pg_database(admin_url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url)
    await upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return make_session_factory(engine)
