"""Priority and deadlines learnt from a member's text."""

from __future__ import annotations

import enum
import re
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

URGENT_WITHIN = timedelta(days=3)

# --- priority (pure) -------------------------------------------------------------------------

_SUMMONS = re.compile(
    r"传票|应诉|被起诉|被告|起诉了?(?:我|我们|我司|本公司|我公司)|起诉状|诉状副本|举证通知书"
    r"|\bsummons\b|\bsubpoena|served with (?:a |the )?(?:complaint|lawsuit|claim|writ)"
    r"|\b(?:been|got|were|was|are being|is suing)\s+sued\b|\bsued (?:us|me|our)\b"
    r"|lawsuit against (?:us|me|our)|complaint (?:was |has been )?filed against (?:us|me|our)"
)
_CUSTOMS = re.compile(
    r"海关.{0,8}?(?:扣留|扣押|查扣|暂扣|扣货|扣了|扣下|扣住)|(?:扣留|扣押|查扣|暂扣).{0,6}?海关|扣货"
    r"|customs\W+(?:\w+\W+){0,3}?(?:detain|detention|seiz|held|hold|withh|stopp)"
    r"|(?:detain|seiz|held|hold|stopp)\w*\W+(?:\w+\W+){0,3}?(?:by|at|in)\s+(?:the\s+)?customs"
)


class UrgentReason(enum.StrEnum):
    DEADLINE = "deadline"  # the matter deadline is within 3 days (or already past)
    SUMMONS = "summons"  # 传票 / 应诉 / summons / being sued
    CUSTOMS = "customs"  # 海关扣留 / 扣货 / customs detention


@dataclass(frozen=True, slots=True)
class PriorityAssessment:
    priority: Priority
    reasons: tuple[UrgentReason, ...]


def urgent_signals(text: str) -> tuple[UrgentReason, ...]:
    """Summons and customs detention mentioned in ``text`` (zh or en). Pure."""
    folded = fold(text)
    found: list[UrgentReason] = []
    if _SUMMONS.search(folded):
        found.append(UrgentReason.SUMMONS)
    if _CUSTOMS.search(folded):
        found.append(UrgentReason.CUSTOMS)
    return tuple(found)


def assess_priority(text: str, deadline_at: datetime | None, now: datetime) -> PriorityAssessment:
    """Urgent when the deadline is within 3 days of ``now`` (or past), or the text mentions a
    summons or a customs detention; else normal. Pure."""
    reasons: list[UrgentReason] = []
    if deadline_at is not None and deadline_at - now <= URGENT_WITHIN:
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
    assessment = assess_priority(text, ticket.deadline_at, now)
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
