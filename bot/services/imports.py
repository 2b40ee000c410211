"""Command-line imports: ``ipdesk experts import FILE`` and ``ipdesk members import FILE.csv``.

Each entry point is a plain blocking function returning the report to print; on a file that
cannot be imported it raises :class:`ImportFailed` whose message lists every problem, and
nothing is written. The database is migrated to the latest schema first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.services.companies import CompanyService, MemberListError
from bot.services.errors import DomainError
from bot.services.experts import ExpertService, RosterError, load_roster_file
from bot.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_session_factory


class ImportFailed(DomainError):
    """The file was rejected; the message says why (one problem per line)."""


async def import_experts(database_url: str, path: Path) -> str:
    try:
        specs = load_roster_file(path)
    except RosterError as exc:
        raise ImportFailed(str(exc)) from None
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        try:
            report = await ExpertService(make_session_factory(engine)).import_roster(specs)
        except RosterError as exc:
            raise ImportFailed(str(exc)) from None
    finally:
        await engine.dispose()
    return report.summary()


async def import_members(database_url: str, path: Path) -> str:
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        try:
            report = await CompanyService(make_session_factory(engine)).import_members_csv(path)
        except MemberListError as exc:
            raise ImportFailed(f"{path.name}: {exc}") from None
    finally:
        await engine.dispose()
    return report.summary()


def import_experts_file(settings: Settings, path: str | Path) -> str:
    """Validate and upsert the expert roster YAML; returns a one-line report."""
    return asyncio.run(import_experts(settings.database_url, Path(path)))


def import_members_file(settings: Settings, path: str | Path) -> str:
    """Import the member list CSV; returns the report, bad rows listed by line number
    (good rows are imported even when some are bad)."""
    return asyncio.run(import_members(settings.database_url, Path(path)))
