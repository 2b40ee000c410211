"""Ticket statuses, the moves between them, and who may see or act on a ticket (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.services.experts import OPEN_STATUSES
from bot.services.roles import Actor
from db.models import (
    Ticket,
    TicketStatus,
)

SUMMARY_MAX = 4000
USUAL_CONCLUSIONS = ("answered", "phone", "referred")
"""Conclusions a Resolve prompt offers as buttons (catalog ``tk_conclusion_<name>``, in the
ticket's language, is the summary the member gets). Buttons carry the index: append only."""
OPEN = frozenset(OPEN_STATUSES)
CLAIMABLE = frozenset({TicketStatus.NEW, TicketStatus.ASSIGNED})

TicketKey = int | str
"""A ticket id (callback data) or number such as ``IP-2026-0042`` (commands)."""

TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED,
         TicketStatus.CLOSED}
    ),
    TicketStatus.ASSIGNED: frozenset(
        {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED,
         TicketStatus.CLOSED}
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.ASSIGNED, TicketStatus.WAITING_MEMBER, TicketStatus.RESOLVED,
         TicketStatus.CLOSED}
    ),
    TicketStatus.WAITING_MEMBER: frozenset(
        {TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED,
         TicketStatus.CLOSED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.IN_PROGRESS}),
    TicketStatus.CLOSED: frozenset({TicketStatus.IN_PROGRESS}),
}  # fmt: skip


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    return target in TRANSITIONS[current]


# --- authorisation (pure) --------------------------------------------------------------------


def team_can_view(actor: Actor, ticket: Ticket) -> bool:
    """Staff see all; an expert sees theirs and the unassigned, unclaimed open ones."""
    if actor.staff:
        return True
    if not actor.team:
        return False
    if ticket.claimed_by == actor.user_id:
        return True
    if actor.expert_id is not None and ticket.expert_id == actor.expert_id:
        return True
    return ticket.expert_id is None and ticket.claimed_by is None and ticket.status in OPEN


def team_can_act(actor: Actor, ticket: Ticket) -> bool:
    """Staff act on any ticket; an expert on those assigned to or claimed by them."""
    if actor.staff:
        return True
    if not actor.team:
        return False
    return ticket.claimed_by == actor.user_id or (
        actor.expert_id is not None and ticket.expert_id == actor.expert_id
    )


def is_owner(actor: Actor, ticket: Ticket) -> bool:
    return ticket.user_id == actor.user_id
