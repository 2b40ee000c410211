"""What callers get back: plain results and read-only views of tickets."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.companies import CompanyInfo, company_info
from bot.services.errors import DomainError, NotFound
from bot.services.experts import ExpertInfo, expert_info
from bot.services.roles import Actor
from bot.services.tickets.assignment import AssignOutcome
from bot.services.tickets.rules import OPEN, is_owner, team_can_view
from db.models import (
    Company,
    Expert,
    Priority,
    Ticket,
    TicketMessage,
    TicketStatus,
    User,
)
from faq.models import Lang

# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketRef:
    id: int
    number: str
    created: bool  # False when an open ticket for the same question already existed


@dataclass(frozen=True, slots=True)
class MemberBrief:
    user_id: int
    first_name: str
    username: str | None
    contact_name: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a ticket: the claimer (staff or expert)."""

    user_id: int
    first_name: str
    expert: ExpertInfo | None

    def display(self, lang: Lang) -> str:
        if self.expert is not None:
            return self.expert.name(lang)
        return self.first_name or str(self.user_id)


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as handlers render it (card, /ticket, /queue).

    Member views are redacted: ``expert.user_id``, ``claimed_by`` and the card location are
    None (the member never learns a team member's Telegram account).
    """

    id: int
    number: str
    status: TicketStatus
    priority: Priority
    category: str
    lang: Lang
    question: str
    faq_id: str | None
    question_id: int | None
    member: MemberBrief
    company: CompanyInfo | None
    expert: ExpertInfo | None
    claimed_by: Holder | None
    deadline_at: datetime | None
    created_at: datetime
    claimed_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_member_message_at: datetime | None
    last_expert_message_at: datetime | None
    summary: str | None
    rating: int | None
    reopen_count: int
    card_chat_id: int | None
    card_message_id: int | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def responder_id(self) -> int | None:
        """Who receives the member's messages: the claimer, else the assigned expert, else
        nobody (None: the handler posts to the staff group)."""
        if self.claimed_by is not None:
            return self.claimed_by.user_id
        if self.expert is not None:
            return self.expert.user_id
        return None


@dataclass(frozen=True, slots=True)
class Assignment:
    outcome: AssignOutcome
    ticket: TicketView
    expert: ExpertInfo | None  # the ticket's expert after the call (also for UNCHANGED)


class ClaimOutcome(enum.StrEnum):
    CLAIMED = "claimed"  # you have it now
    ALREADY_YOURS = "already_yours"
    HELD = "held"  # someone else holds it: see ``holder``


@dataclass(frozen=True, slots=True)
class ClaimResult:
    outcome: ClaimOutcome
    ticket: TicketView
    holder: Holder | None  # the claimer (or, for HELD by assignment, the assigned expert)

    @property
    def won(self) -> bool:
        return self.outcome is ClaimOutcome.CLAIMED


@dataclass(frozen=True, slots=True)
class Change:
    """Result of an operation that changed a ticket (the handler updates the card)."""

    ticket: TicketView
    from_status: TicketStatus
    to_status: TicketStatus


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    kind: str
    actor_id: int | None
    from_status: str | None
    to_status: str | None
    detail: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    direction: str  # member | expert | note
    sender_id: int
    text: str | None
    file_id: str | None
    file_kind: str | None
    file_name: str | None
    media_group_id: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class TicketHistory:
    """``/ticket NUMBER``: events only for the team; notes only for the team."""

    ticket: TicketView
    events: tuple[EventView, ...]
    messages: tuple[MessageView, ...]


class TicketRefused(DomainError):
    """A ticket operation refused for a reason the user may be told; ``reason`` codes:
    ``summary_required``, ``summary_too_long``, ``same_expert``, ``expert_inactive``,
    ``expert_unreachable``."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


def _lang(value: str) -> Lang:
    return "en" if value == "en" else "zh"


async def ticket_views(
    session: AsyncSession, tickets: Sequence[Ticket], *, redact: bool = False
) -> list[TicketView]:
    """Batch-load members, companies, experts and claimers for ``tickets``."""
    if not tickets:
        return []
    user_ids = {t.user_id for t in tickets} | {t.claimed_by for t in tickets if t.claimed_by}
    users = {
        u.id: u for u in (await session.scalars(select(User).where(User.id.in_(user_ids)))).all()
    }
    company_ids = {t.company_id for t in tickets if t.company_id is not None}
    companies = {
        c.id: company_info(c)
        for c in (await session.scalars(select(Company).where(Company.id.in_(company_ids)))).all()
    }
    claimers = {t.claimed_by for t in tickets if t.claimed_by is not None}
    expert_rows = (
        await session.scalars(
            select(Expert).where(
                or_(
                    Expert.id.in_({t.expert_id for t in tickets if t.expert_id is not None}),
                    Expert.user_id.in_(claimers),
                )
            )
        )
    ).all()
    experts = {e.id: expert_info(e) for e in expert_rows}
    experts_by_user = {e.user_id: experts[e.id] for e in expert_rows if e.user_id is not None}

    views: list[TicketView] = []
    for t in tickets:
        member = users.get(t.user_id)
        expert = experts.get(t.expert_id) if t.expert_id is not None else None
        holder = None
        if t.claimed_by is not None:
            claimer = users.get(t.claimed_by)
            holder = Holder(
                t.claimed_by,
                claimer.first_name if claimer is not None else "",
                experts_by_user.get(t.claimed_by),
            )
        if redact:
            holder = None
            if expert is not None:
                expert = dataclasses.replace(expert, user_id=None)
        views.append(
            TicketView(
                id=t.id,
                number=t.number,
                status=t.status,
                priority=t.priority,
                category=t.category,
                lang=_lang(t.lang),
                question=t.question,
                faq_id=t.faq_id,
                question_id=t.question_id,
                member=MemberBrief(
                    t.user_id,
                    member.first_name if member is not None else "",
                    member.username if member is not None else None,
                    member.contact_name if member is not None else None,
                    member.phone if member is not None else None,
                ),
                company=companies.get(t.company_id) if t.company_id is not None else None,
                expert=expert,
                claimed_by=holder,
                deadline_at=t.deadline_at,
                created_at=t.created_at,
                claimed_at=t.claimed_at,
                first_response_at=t.first_response_at,
                resolved_at=t.resolved_at,
                closed_at=t.closed_at,
                last_member_message_at=t.last_member_message_at,
                last_expert_message_at=t.last_expert_message_at,
                summary=t.summary,
                rating=t.rating,
                reopen_count=t.reopen_count,
                card_chat_id=None if redact else t.card_chat_id,
                card_message_id=None if redact else t.card_message_id,
            )
        )
    return views


async def ticket_view(
    session: AsyncSession, ticket: Ticket, *, redact: bool = False
) -> TicketView:
    return (await ticket_views(session, [ticket], redact=redact))[0]


async def visible_view(session: AsyncSession, actor: Actor, ticket: Ticket) -> TicketView:
    """The view ``actor`` may have of ``ticket``, or NotFound (existence is not revealed)."""
    if team_can_view(actor, ticket):
        return await ticket_view(session, ticket)
    if is_owner(actor, ticket):
        return await ticket_view(session, ticket, redact=True)
    raise NotFound(f"no ticket {ticket.number!r}")


def message_view(m: TicketMessage) -> MessageView:
    return MessageView(
        m.id,
        m.direction,
        m.sender_id,
        m.text,
        m.file_id,
        m.file_kind,
        m.file_name,
        m.media_group_id,
        m.created_at,
        m.delivered_at,
    )
