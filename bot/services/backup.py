"""Backups that are safe while the bot runs, restores that refuse to overwrite by mistake.

* **SQLite** (the default runs in WAL mode, so copying the file is not a backup): SQLite's
  online backup API copies a consistent snapshot page by page while others keep writing;
  the copy is written beside the target and renamed into place, so a crash never leaves a
  half-written backup under the final name.
* **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot); the password goes
  through the environment, never the command line. Restoring uses ``pg_restore``.

A restore refuses a database that already holds members, tickets or questions unless
``force`` is given, and migrates the restored database to the current schema.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from bot.settings import describe_database
from db.session import make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
DATA_TABLES = ("users", "tickets", "questions", "companies", "experts")
"""A database with rows in any of these is not empty."""
PREFIX = "ipdesk-"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int


def backup_name(database_url: str, at: datetime) -> str:
    """``ipdesk-20261205-033000.sqlite3`` (SQLite) or ``….dump`` (pg_dump custom format)."""
    suffix = ".sqlite3" if _is_sqlite(make_url(database_url)) else ".dump"
    return f"{PREFIX}{at:%Y%m%d-%H%M%S}{suffix}"


def backup(database_url: str, destination: Path) -> BackupResult:
    """Write a consistent backup of the database to ``destination`` (blocking)."""
    url = make_url(database_url)
    destination = destination.expanduser().absolute()
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_file(url), partial)
        else:
            _pg_dump(url, partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(destination, destination.stat().st_size)


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (by their timestamped names); returns the
    deleted files. Other files in the folder are never touched."""
    ours = sorted(
        p
        for p in directory.glob(f"{PREFIX}*")
        if p.is_file() and p.suffix in (".sqlite3", ".dump")
    )
    doomed = ours[: max(len(ours) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


async def has_data(database_url: str) -> bool:
    """True if the database holds members, tickets, questions, companies or experts."""
    url = make_url(database_url)
    if _is_sqlite(url) and not await asyncio.to_thread(_sqlite_file(url).is_file):
        return False
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            present = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            for table in DATA_TABLES:
                if (
                    table in present
                    and (
                        await conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))  # noqa: S608
                    ).first()
                ):
                    return True
    finally:
        await engine.dispose()
    return False


async def restore(database_url: str, source: Path, *, force: bool = False) -> None:
    """Replace the database's contents with the backup ``source``. The bot must be
    stopped. BackupError if the kinds do not match, or the database is not empty and
    ``force`` is False. The caller migrates afterwards (an older backup is upgraded)."""
    url = make_url(database_url)
    head = await asyncio.to_thread(_head, source)
    sqlite = _is_sqlite(url)
    if sqlite and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{source} is not a SQLite backup (DATABASE_URL is SQLite)")
    if not sqlite and not head.startswith(PG_MAGIC):
        raise BackupError(f"{source} is not a pg_dump backup (DATABASE_URL is PostgreSQL)")
    if not force and await has_data(database_url):
        raise BackupError(
            f"the database ({describe_database(database_url)}) is not empty: stop the bot, "
            "then add --force to replace its contents"
        )
    if sqlite:
        target = _sqlite_file(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_sqlite_restore, source, target)
        return
    await asyncio.to_thread(
        _run_pg,
        "pg_restore",
        url,
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
    )


def _head(source: Path) -> bytes:
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    with source.open("rb") as fh:
        return fh.read(16)


# --- SQLite ----------------------------------------------------------------------------------


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_backup(source: Path, destination: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no database at {source} (DATABASE_URL / IPDESK_HOME)")
    destination.unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(destination)) as dst,
    ):
        # pages=0: one step, so a busy writer cannot make the copy restart forever; the
        # source is read inside one read transaction (a consistent snapshot in WAL mode).
        src.backup(dst, pages=0)
        dst.execute("PRAGMA journal_mode=DELETE")


def _sqlite_restore(source: Path, target: Path) -> None:
    with (
        closing(sqlite3.connect(source)) as src,
        closing(sqlite3.connect(target, timeout=30)) as dst,
    ):
        src.backup(dst, pages=0)
        dst.execute("PRAGMA journal_mode=WAL")


# --- PostgreSQL ------------------------------------------------------------------------------


PG_BIN_ROOT = Path("/usr/lib/postgresql")
"""Debian's versioned PostgreSQL binaries (when they are not on PATH)."""


def _pg_tool(name: str, *, path: str | None = None, root: Path = PG_BIN_ROOT) -> str:
    found = shutil.which(name, path=path)
    if found:
        return found
    for candidate in sorted(root.glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise BackupError(
        f"{name} was not found: install the PostgreSQL client tools (Debian/Ubuntu: "
        "apt install postgresql-client), or back up with your database provider's tools"
    )


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _pg_target(url: URL) -> str:
    """A libpq URL without the password (it goes through PGPASSWORD)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run_pg(tool: str, url: URL, args: list[str]) -> None:
    command = [_pg_tool(tool), f"--dbname={_pg_target(url)}", *args]
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments from settings
        command, env=_pg_env(url), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise BackupError(f"{tool} failed: {reason}")


def _pg_dump(url: URL, destination: Path) -> None:
    _run_pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={destination}"])
