"""摸底 — know the member before answering.

When an expert opens or claims a ticket the handler shows :class:`Dossier`: the company and
its membership, the previous tickets of this member and of their colleagues at the same
company (status, outcome summary, satisfaction rating), and the FAQ entries the member read
recently (titles come from the knowledge base, which the handler has).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.companies import CompanyInfo, company_info
from bot.services.errors import NotFound
from bot.services.roles import load_actor
from bot.services.tickets import (
    TicketKey,
    TicketView,
    add_event,
    load_ticket,
    team_can_act,
    ticket_view,
)
from db.models import Company, FaqView, Role, Ticket, TicketStatus, User
from db.session import SessionFactory


@dataclass(frozen=True, slots=True)
class PastTicket:
    number: str
    status: TicketStatus
    category: str
    question: str
    summary: str | None
    rating: int | None
    created_at: datetime
    resolved_at: datetime | None
    by_this_member: bool  # False: a colleague at the same company asked it


@dataclass(frozen=True, slots=True)
class FaqRead:
    faq_id: str
    source: str  # answer | browse | suggestion | related
    feedback: str | None  # solved | expert | None
    read_at: datetime


@dataclass(frozen=True, slots=True)
class Dossier:
    ticket: TicketView
    company: CompanyInfo | None  # None: the member has not named their company yet
    colleagues: int  # other users linked to the same company
    member_since: datetime | None
    previous_tickets: tuple[PastTicket, ...]  # newest first, this ticket excluded
    previous_total: int  # how many there are in all (the tuple may be cut at ``limit``)
    average_rating: float | None  # over the rated previous tickets
    recent_faq: tuple[FaqRead, ...]  # newest first, one per FAQ entry
    show_contact: bool  # the contact name and phone: for admins and the ticket's expert

    @property
    def is_member(self) -> bool:
        return self.company is not None and self.company.is_member


class DossierService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def for_ticket(
        self, actor_id: int, ticket: TicketKey, *, tickets_limit: int = 10, faq_limit: int = 8
    ) -> Dossier:
        """The dossier of the member behind ``ticket``, for a team member who acts on the
        ticket (staff; the expert it is assigned to or claimed by). NotFound for everyone
        else, members and other experts included. Every opening is in the audit trail
        (``dossier`` event); the contact name and phone are shown to admins and the
        ticket's own expert or holder only."""
        async with self._sessions() as s, s.begin():
            actor = await load_actor(s, actor_id)
            row = await load_ticket(s, ticket)
            if not team_can_act(actor, row):
                raise NotFound(f"no ticket {ticket!r}")
            add_event(s, row.id, actor_id, "dossier")
            show_contact = (
                actor.role is Role.ADMIN
                or row.claimed_by == actor_id
                or (actor.expert_id is not None and row.expert_id == actor.expert_id)
            )
            view = await ticket_view(s, row)
            member = await s.get(User, row.user_id)
            company_id = member.company_id if member is not None else None
            company_id = company_id or row.company_id

            mine = Ticket.user_id == row.user_id
            related = or_(mine, Ticket.company_id == company_id) if company_id else mine
            base = select(Ticket).where(related, Ticket.id != row.id)
            total = await s.scalar(select(func.count()).select_from(base.subquery()))
            previous = (
                await s.scalars(
                    base.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(tickets_limit)
                )
            ).all()
            average = await s.scalar(
                select(func.avg(Ticket.rating)).where(
                    related, Ticket.id != row.id, Ticket.rating.is_not(None)
                )
            )
            colleagues = 0
            if company_id:
                colleagues = int(
                    await s.scalar(
                        select(func.count())
                        .select_from(User)
                        .where(User.company_id == company_id, User.id != row.user_id)
                    )
                    or 0
                )

            views = (
                await s.scalars(
                    select(FaqView)
                    .where(FaqView.user_id == row.user_id)
                    .order_by(FaqView.created_at.desc(), FaqView.id.desc())
                    .limit(faq_limit * 5)
                )
            ).all()
            seen: set[str] = set()
            recent: list[FaqRead] = []
            for v in views:
                if v.faq_id in seen:
                    continue
                seen.add(v.faq_id)
                recent.append(FaqRead(v.faq_id, v.source, v.feedback, v.created_at))
                if len(recent) >= faq_limit:
                    break

            return Dossier(
                ticket=view,
                company=await _company(s, company_id),
                colleagues=colleagues,
                member_since=member.created_at if member is not None else None,
                previous_tickets=tuple(
                    PastTicket(
                        t.number,
                        t.status,
                        t.category,
                        t.question,
                        t.summary,
                        t.rating,
                        t.created_at,
                        t.resolved_at,
                        t.user_id == row.user_id,
                    )
                    for t in previous
                ),
                previous_total=int(total or 0),
                average_rating=round(float(average), 2) if average is not None else None,
                recent_faq=tuple(recent),
                show_contact=show_contact,
            )


async def _company(s: AsyncSession, company_id: int | None) -> CompanyInfo | None:
    if company_id is None:
        return None
    row = await s.get(Company, company_id)
    return company_info(row) if row is not None else None
