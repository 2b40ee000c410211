"""Repository helpers for tickets: load, conditional updates, events (never commit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from bot.services.errors import NotFound, StaleAction
from bot.services.tickets.numbers import parse_number
from bot.services.tickets.rules import TicketKey, can_transition
from db.models import (
    Ticket,
    TicketEvent,
    TicketStatus,
)

# --- repository helpers (never commit) -------------------------------------------------------


async def load_ticket(session: AsyncSession, key: TicketKey, *, fresh: bool = False) -> Ticket:
    """By id or number; NotFound when there is no such ticket. ``fresh`` re-reads the row."""
    ticket: Ticket | None
    if isinstance(key, int) and not isinstance(key, bool):
        ticket = await session.get(Ticket, key, populate_existing=fresh)
    else:
        number = parse_number(str(key))
        ticket = None
        if number is not None:
            ticket = await session.scalar(
                select(Ticket)
                .where(Ticket.number == number)
                .execution_options(populate_existing=fresh)
            )
    if ticket is None:
        raise NotFound(f"no ticket {key!r}")
    return ticket


async def run_update(session: AsyncSession, statement: Update) -> int:
    """Execute a conditional UPDATE in the session's transaction; return the rowcount."""
    connection = await session.connection()
    result = await connection.execute(statement)
    return result.rowcount


def add_event(
    session: AsyncSession,
    ticket_id: int,
    actor_id: int | None,
    kind: str,
    *,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket_id,
            actor_id=actor_id,
            kind=kind,
            from_status=from_status.value if from_status is not None else None,
            to_status=to_status.value if to_status is not None else None,
            detail=detail,
            **({"created_at": at} if at is not None else {}),
        )
    )


async def transition(
    session: AsyncSession,
    ticket: Ticket,
    target: TicketStatus,
    *,
    actor_id: int | None,
    kind: str,
    detail: str | None = None,
    values: Mapping[str, Any] | None = None,
    extra_where: Sequence[ColumnElement[bool]] = (),
    at: datetime | None = None,
) -> TicketStatus:
    """Move ``ticket`` to ``target`` if nobody changed its status meanwhile; write the event.

    StaleAction when the move is illegal from the status seen, or the row changed under us.
    Returns the previous status; ``ticket`` is refreshed.
    """
    seen = ticket.status
    if not can_transition(seen, target):
        raise StaleAction(f"{ticket.number}: {seen.value} → {target.value} is not allowed")
    statement = (
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == seen, *extra_where)
        .values(status=target, **dict(values or {}))
    )
    if await run_update(session, statement) != 1:
        raise StaleAction(f"{ticket.number} changed meanwhile")
    add_event(
        session,
        ticket.id,
        actor_id,
        kind,
        from_status=seen,
        to_status=target,
        detail=detail,
        at=at,
    )
    await session.flush()
    await session.refresh(ticket)
    return seen
