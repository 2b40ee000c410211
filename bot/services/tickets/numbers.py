"""Ticket numbers IP-YYYY-NNNN: formatting, parsing, allocation under a lock."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Expert,
    Ticket,
)

# --- numbers ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"^(?:ip)?[\s\-_#]*(\d{4})[\s\-_/]+(\d{1,6})$")


def format_number(year: int, seq: int) -> str:
    return f"IP-{year}-{seq:04d}"


def parse_number(text: str) -> str | None:
    """``ip-2026-42``, ``IP 2026 0042``, ``IP－2026－0042`` → ``IP-2026-0042``; else None."""
    cleaned = unicodedata.normalize("NFKC", text).strip().lower()
    match = _NUMBER.match(cleaned)
    if match is None:
        return None
    return format_number(int(match[1]), int(match[2]))


_NUMBERING_LOCK = 0x49505449  # "IPTI": PostgreSQL advisory lock key for ticket numbers


async def _lock_numbering(session: AsyncSession) -> None:
    """Serialise number allocation for the rest of the transaction (never commits).

    PostgreSQL: a transaction-level advisory lock. SQLite: a write that matches no row takes
    the database's write lock now, so the following ``max(seq)`` reads the latest state.
    Without this, simultaneous openings collide on the unique number and must retry.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(select(func.pg_advisory_xact_lock(_NUMBERING_LOCK)))
    else:
        await sqlite_write_lock(session)


async def sqlite_write_lock(session: AsyncSession) -> None:
    """On SQLite, take the database write lock now (a write matching no row), so the reads
    that follow in this transaction see the latest state and no other writer interleaves.
    No-op on PostgreSQL, where row locks do this job. Never commits."""
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.execute(update(Ticket).where(Ticket.id.is_(None)).values(seq=Ticket.seq))


async def lock_expert(session: AsyncSession, expert_id: int | None) -> None:
    """Lock an expert's row (PostgreSQL) before touching tickets. Never commits."""
    if expert_id is not None:
        await session.execute(select(Expert.id).where(Expert.id == expert_id).with_for_update())


async def next_seq(session: AsyncSession, year: int) -> int:
    await _lock_numbering(session)
    current = await session.scalar(select(func.max(Ticket.seq)).where(Ticket.year == year))
    return int(current or 0) + 1
