"""Throwaway databases for the benchmarks: a temp SQLite file, or a fresh PostgreSQL
database (on IPDESK_BENCH_POSTGRES_URL's server, else on a throwaway cluster started with
the tests' helper). Run the benchmarks from the repository root (`python -m bench.…`)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from db.session import make_engine


@contextlib.contextmanager
def sqlite_url(directory: str | None = None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ipdesk-bench-", dir=directory) as tmp:
        yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"


@contextlib.asynccontextmanager
async def postgres_url(prefix: str = "ipdesk_bench") -> AsyncIterator[str]:
    """A new database named `<prefix>_<pid>`, dropped afterwards."""
    admin = os.environ.get("IPDESK_BENCH_POSTGRES_URL")
    with contextlib.ExitStack() as stack:
        if not admin:
            from tests.support.postgres import throwaway_postgres

            admin = stack.enter_context(throwaway_postgres()).url("postgres")
        url = make_url(admin)
        name = f"{prefix}_{os.getpid()}"
        admin_engine = make_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with admin_engine.connect() as conn:
                await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin_engine.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            await admin_engine.dispose()
