"""Priority and deadlines learnt from a member's text."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.tickets.repo import add_event
from bot.services.timefmt import parse_deadline
from db.models import (
    Priority,
    Ticket,
)
from faq.normalize import fold
from faq.signals import load_signals

URGENT_WITHIN = timedelta(days=3)

# --- priority (pure) -------------------------------------------------------------------------


class UrgentReason(enum.StrEnum):
    DEADLINE = "deadline"  # the matter deadline is within DEADLINE_URGENT_DAYS (or past)
    SUMMONS = "summons"  # signal "court": 传票 / 应诉 / summons / being sued
    CUSTOMS = "customs"  # signal "customs": goods held by customs
    PLATFORM = "platform"  # signal "platform": a store frozen, listings taken down, a TRO


# The triage engine's hard signals (faq/rules/signals.yaml) are the one source of truth
# for what makes a matter urgent; these are the urgent classes' names on a ticket.
_URGENT_SIGNALS: Mapping[str, UrgentReason] = {
    "court": UrgentReason.SUMMONS,
    "customs": UrgentReason.CUSTOMS,
    "platform": UrgentReason.PLATFORM,
}


@dataclass(frozen=True, slots=True)
class PriorityAssessment:
    priority: Priority
    reasons: tuple[UrgentReason, ...]


def urgent_signals(text: str) -> tuple[UrgentReason, ...]:
    """The urgent hard signals of the triage engine that fire on ``text``. Pure."""
    fired = load_signals().fired(fold(text))
    return tuple(_URGENT_SIGNALS[s.name] for s in fired if s.urgent and s.name in _URGENT_SIGNALS)


def assess_priority(
    text: str,
    deadline_at: datetime | None,
    now: datetime,
    urgent_within: timedelta = URGENT_WITHIN,
) -> PriorityAssessment:
    """Urgent when the deadline is within ``urgent_within`` of ``now`` (DEADLINE_URGENT_DAYS,
    or past), or an urgent signal fires on the text (court papers, detained goods, a
    platform action); else normal. Pure."""
    reasons: list[UrgentReason] = []
    if deadline_at is not None and deadline_at - now <= urgent_within:
        reasons.append(UrgentReason.DEADLINE)
    reasons.extend(urgent_signals(text))
    return PriorityAssessment(Priority.URGENT if reasons else Priority.NORMAL, tuple(reasons))


async def apply_member_text(
    session: AsyncSession,
    ticket: Ticket,
    text: str,
    *,
    actor_id: int | None,
    now: datetime,
    zone: ZoneInfo,
    deadline: datetime | None = None,
    force_deadline: bool = False,
    why: str | None = None,
    urgent_within: timedelta = URGENT_WITHIN,
) -> bool:
    """Learn a deadline and urgency from new text on a ticket (never commits).

    Without ``force_deadline`` a deadline is only taken from ``text`` when the ticket has
    none; priority is only ever raised here. Writes "deadline" / "priority" events.
    Returns True when the priority became urgent.
    """
    if not force_deadline and ticket.deadline_at is None and text:
        deadline = parse_deadline(text, now, zone)
    if (force_deadline or deadline is not None) and deadline != ticket.deadline_at:
        old = ticket.deadline_at.isoformat() if ticket.deadline_at else "-"
        new = deadline.isoformat() if deadline else "-"
        ticket.deadline_at = deadline
        add_event(
            session,
            ticket.id,
            actor_id,
            "deadline",
            detail=f"{old} → {new}" + (f": {why}" if why else ""),
            at=now,
        )
    assessment = assess_priority(text, ticket.deadline_at, now, urgent_within)
    raised = False
    if assessment.priority is Priority.URGENT and ticket.priority is not Priority.URGENT:
        ticket.priority = Priority.URGENT
        add_event(
            session,
            ticket.id,
            actor_id,
            "priority",
            detail="normal → urgent: " + ", ".join(r.value for r in assessment.reasons),
            at=now,
        )
        raised = True
    await session.flush()
    return raised
