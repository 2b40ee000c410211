"""Tickets: a member's request for an expert, numbered IP-YYYY-NNNN.

Lifecycle (every change writes a ``TicketEvent``: actor, from → to, detail)::

    new ──assign──▶ assigned ──claim / first reply──▶ in_progress ◀──▶ waiting_member
     │                 │                                   │                │
     └──claim──────────┴────────────▶ resolved ◀───────────┴────────────────┘
                                         │  ▲
    any open or resolved ──close──▶ closed │  └─ reopen (resolved/closed → in_progress)
                                           └──────────────────────────────────────────
    reassign: any open status → assigned (claim cleared)

Who may do what (checked here from the database, whatever a button or command claims):

* **staff / admin** see every ticket and act on any;
* an **expert** sees the tickets assigned to them or claimed by them, and the unassigned,
  unclaimed open ones (the queue); they act on the ones assigned to or claimed by them;
* a **member** sees only their own tickets (anything else is NotFound, so existence is not
  revealed), in a redacted view, and may close or reopen them;
* anyone else gets NotFound / NotAllowed.

Assignment is a separate step, :meth:`TicketService.assign_initial`, which the member
handler calls once the member's profile is complete (right after ``open`` when it already
is): the expert is then told about a ticket that carries the company, and the member is
told the expert's name straight away.

Claiming is atomic: a conditional ``UPDATE … WHERE claimed_by IS NULL AND status = :seen``
whose rowcount says who won, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from bot.services.companies import CompanyInfo, company_info
from bot.services.errors import DomainError, NotAllowed, NotFound, StaleAction
from bot.services.experts import OPEN_STATUSES, ExpertInfo, expert_info, find_expert, open_counts
from bot.services.roles import Actor, load_actor
from bot.services.timefmt import parse_deadline
from db.models import (
    Company,
    Expert,
    Priority,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
    User,
)
from db.session import SessionFactory
from faq.models import Lang
from faq.normalize import fold

URGENT_WITHIN = timedelta(days=3)
SUMMARY_MAX = 4000
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


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


async def _next_seq(session: AsyncSession, year: int) -> int:
    await _lock_numbering(session)
    current = await session.scalar(select(func.max(Ticket.seq)).where(Ticket.year == year))
    return int(current or 0) + 1


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


# --- assignment (pure) -----------------------------------------------------------------------


class AssignOutcome(enum.StrEnum):
    ASSIGNED = "assigned"
    UNCHANGED = "unchanged"  # already assigned, claimed or past "new": nothing done
    NO_EXPERT = "no_expert"  # no active, reachable expert for the category
    NO_LANGUAGE = "no_language"  # experts for the category, but none speaks the language
    ALL_FULL = "all_full"  # the fitting experts are all at their max_open


@dataclass(frozen=True, slots=True)
class Candidate:
    expert_id: int
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    active: bool
    reachable: bool  # has a Telegram user id
    open_count: int
    max_open: int
    last_assigned_at: datetime | None


_NEVER = datetime.min.replace(tzinfo=UTC)


def choose_expert(
    candidates: Iterable[Candidate], category: str, lang: str
) -> tuple[Candidate | None, AssignOutcome]:
    """Pick the expert for a new ticket. Pure.

    Active and reachable experts whose categories include ``category`` (else NO_EXPERT), who
    speak ``lang`` (else NO_LANGUAGE), below their ``max_open`` (else ALL_FULL); among them
    the fewest open tickets, ties to the one assigned least recently (never assigned first),
    then the lowest id — a round robin among equals.
    """
    pool = [c for c in candidates if c.active and c.reachable and category in c.categories]
    if not pool:
        return None, AssignOutcome.NO_EXPERT
    pool = [c for c in pool if lang in c.languages]
    if not pool:
        return None, AssignOutcome.NO_LANGUAGE
    pool = [c for c in pool if c.open_count < c.max_open]
    if not pool:
        return None, AssignOutcome.ALL_FULL
    best = min(pool, key=lambda c: (c.open_count, c.last_assigned_at or _NEVER, c.expert_id))
    return best, AssignOutcome.ASSIGNED


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


def _queue_order() -> tuple[ColumnElement[Any], ...]:
    urgent_first = case((Ticket.priority == Priority.URGENT, 0), else_=1)
    return (urgent_first, Ticket.created_at.asc(), Ticket.id.asc())


# --- the service -----------------------------------------------------------------------------


class TicketService:
    """Tickets' whole life. ``clock`` returns aware UTC now (tests pass a fixed one)."""

    def __init__(
        self,
        sessions: SessionFactory,
        zone: ZoneInfo,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._sessions = sessions
        self._zone = zone
        self._clock = clock

    # opening and assignment ---------------------------------------------------------------

    async def open(
        self,
        user_id: int,
        *,
        lang: Lang,
        category: str,
        question: str,
        faq_id: str | None,
        question_id: int | None,
    ) -> TicketRef:
        """Open a ticket (status new, unassigned); the same question asked twice gives the
        same open ticket. The matter deadline is read from the question
        (:func:`~bot.services.timefmt.parse_deadline`) and the priority assessed
        (:func:`assess_priority`); both are in the "opened" event's detail.
        Call :meth:`assign_initial` next, once the member's profile is complete."""
        now = self._clock()
        year = now.astimezone(self._zone).year
        deadline = parse_deadline(question, now, self._zone)
        assessment = assess_priority(question, deadline, now)
        detail_parts = [f"priority={assessment.priority.value}"]
        if assessment.reasons:
            detail_parts.append("(" + ", ".join(r.value for r in assessment.reasons) + ")")
        if deadline is not None:
            detail_parts.append(f"deadline={deadline.isoformat()}")
        for _attempt in range(5):
            try:
                async with self._sessions() as s, s.begin():
                    # Same question (or, from a browsed answer, same FAQ entry) again while
                    # its ticket is open: that ticket, not a second one.
                    same = (
                        Ticket.question_id == question_id
                        if question_id is not None
                        else (Ticket.question_id.is_(None) & (Ticket.faq_id == faq_id))
                    )
                    if question_id is not None or faq_id is not None:
                        existing = await s.scalar(
                            select(Ticket)
                            .where(
                                Ticket.user_id == user_id,
                                same,
                                Ticket.status.not_in([TicketStatus.CLOSED, TicketStatus.RESOLVED]),
                            )
                            .limit(1)
                        )
                        if existing is not None:
                            return TicketRef(existing.id, existing.number, created=False)
                    user = await s.get(User, user_id)
                    seq = await _next_seq(s, year)
                    ticket = Ticket(
                        number=format_number(year, seq),
                        year=year,
                        seq=seq,
                        user_id=user_id,
                        company_id=user.company_id if user else None,
                        lang=lang,
                        category=category,
                        question=question,
                        faq_id=faq_id,
                        question_id=question_id,
                        priority=assessment.priority,
                        deadline_at=deadline,
                        last_member_message_at=now,
                        created_at=now,
                    )
                    s.add(ticket)
                    await s.flush()
                    add_event(
                        s,
                        ticket.id,
                        user_id,
                        "opened",
                        to_status=TicketStatus.NEW,
                        detail=" ".join(detail_parts),
                        at=now,
                    )
                    return TicketRef(ticket.id, ticket.number, created=True)
            except IntegrityError:
                continue  # another request took the same number; draw again
        raise RuntimeError("could not allocate a ticket number")

    async def assign_initial(self, ticket: TicketKey) -> Assignment:
        """Assign a new, unassigned ticket to the best-fitting expert (:func:`choose_expert`).

        Idempotent: a ticket already assigned, claimed or past "new" is left as it is
        (UNCHANGED, with its current expert). When nobody fits the ticket stays "new" and
        unassigned; the outcome says why (NO_EXPERT, NO_LANGUAGE, ALL_FULL) so the card can.
        The experts' rows (PostgreSQL) or the database (SQLite) are locked while counting, so
        two simultaneous assignments cannot both take an expert's last free place.
        """
        now = self._clock()
        async with self._sessions() as s, s.begin():
            await sqlite_write_lock(s)
            row = await load_ticket(s, ticket, fresh=True)
            if row.status is not TicketStatus.NEW or row.expert_id or row.claimed_by:
                view = await ticket_view(s, row)
                return Assignment(AssignOutcome.UNCHANGED, view, view.expert)
            experts = (
                await s.scalars(
                    select(Expert)
                    .where(Expert.active.is_(True))
                    .order_by(Expert.id)
                    .with_for_update()
                )
            ).all()
            counts = await open_counts(s)
            candidates = [
                Candidate(
                    expert_id=e.id,
                    categories=tuple(e.categories or ()),
                    languages=tuple(e.languages or ()),
                    active=e.active,
                    reachable=e.user_id is not None,
                    open_count=counts.get(e.id, 0),
                    max_open=e.max_open,
                    last_assigned_at=e.last_assigned_at,
                )
                for e in experts
            ]
            chosen, outcome = choose_expert(candidates, row.category, row.lang)
            if chosen is None:
                return Assignment(outcome, await ticket_view(s, row), None)
            expert = next(e for e in experts if e.id == chosen.expert_id)
            try:
                await transition(
                    s,
                    row,
                    TicketStatus.ASSIGNED,
                    actor_id=None,
                    kind="assigned",
                    detail=(
                        f"auto: {expert.key} ({row.category}, {row.lang}, "
                        f"{chosen.open_count + 1}/{expert.max_open} open)"
                    ),
                    values={"expert_id": expert.id},
                    extra_where=(Ticket.expert_id.is_(None), Ticket.claimed_by.is_(None)),
                    at=now,
                )
            except StaleAction:
                await s.refresh(row)
                view = await ticket_view(s, row)
                return Assignment(AssignOutcome.UNCHANGED, view, view.expert)
            expert.last_assigned_at = now
            await s.flush()
            view = await ticket_view(s, row)
            return Assignment(AssignOutcome.ASSIGNED, view, view.expert)

    # staff and expert actions -------------------------------------------------------------

    async def claim(self, ticket: TicketKey, actor_id: int) -> ClaimResult:
        """Take a ticket in hand. Atomic: of simultaneous claims exactly one is CLAIMED; the
        others get HELD with the holder (or ALREADY_YOURS).

        Staff/admin may claim any open, unclaimed ticket; an expert one that is unassigned or
        assigned to them (one assigned to another expert is HELD by that expert). Claiming
        sets ``claimed_by``; a new/assigned ticket goes to in_progress; an expert claimer also
        becomes the ticket's expert when it had none. NotAllowed for members and strangers,
        NotFound for an unknown ticket, StaleAction for a resolved or closed one.
        """
        for _attempt in range(5):
            now = self._clock()
            async with self._sessions() as s, s.begin():
                actor = await load_actor(s, actor_id)
                if not actor.team:
                    raise NotAllowed("only staff and experts claim tickets")
                row = await load_ticket(s, ticket)
                outcome = await self._held(s, actor, row)
                if outcome is not None:
                    return outcome
                target = TicketStatus.IN_PROGRESS if row.status in CLAIMABLE else row.status
                values: dict[str, Any] = {"claimed_by": actor.user_id, "claimed_at": now}
                gets_expert = actor.expert_id is not None and row.expert_id is None
                if gets_expert:
                    values["expert_id"] = actor.expert_id
                    # Lock order everywhere: experts before tickets (no deadlock with
                    # assign_initial, which locks the experts it counts).
                    await lock_expert(s, actor.expert_id)
                where: list[ColumnElement[bool]] = [
                    Ticket.id == row.id,
                    Ticket.status == row.status,
                    Ticket.claimed_by.is_(None),
                ]
                if row.expert_id is None:
                    where.append(Ticket.expert_id.is_(None))
                else:
                    where.append(Ticket.expert_id == row.expert_id)
                statement = update(Ticket).where(*where).values(status=target, **values)
                if await run_update(s, statement) == 1:
                    add_event(
                        s,
                        row.id,
                        actor.user_id,
                        "claimed",
                        from_status=row.status,
                        to_status=target,
                        at=now,
                    )
                    if gets_expert:
                        await s.execute(
                            update(Expert)
                            .where(Expert.id == actor.expert_id)
                            .values(last_assigned_at=now)
                        )
                    await s.flush()
                    await s.refresh(row)
                    view = await ticket_view(s, row)
                    return ClaimResult(ClaimOutcome.CLAIMED, view, view.claimed_by)
                # Lost the race (or the ticket moved): look again with the winner's commit.
                row = await load_ticket(s, row.id, fresh=True)
                outcome = await self._held(s, actor, row)
                if outcome is not None:
                    return outcome
        raise StaleAction("the ticket keeps changing; try again")

    async def _held(self, s: AsyncSession, actor: Actor, row: Ticket) -> ClaimResult | None:
        """The answer to a claim that cannot proceed, or None when it may be tried."""
        if row.status not in OPEN:
            raise StaleAction(f"{row.number} is {row.status.value}")
        if row.claimed_by == actor.user_id:
            view = await ticket_view(s, row)
            return ClaimResult(ClaimOutcome.ALREADY_YOURS, view, view.claimed_by)
        if row.claimed_by is not None:
            view = await ticket_view(s, row)
            return ClaimResult(ClaimOutcome.HELD, view, view.claimed_by)
        if not actor.staff and row.expert_id is not None and row.expert_id != actor.expert_id:
            view = await ticket_view(s, row)
            holder = None
            if view.expert is not None and view.expert.user_id is not None:
                holder = Holder(view.expert.user_id, "", view.expert)
            return ClaimResult(ClaimOutcome.HELD, view, holder)
        return None

    async def reassign(
        self, ticket: TicketKey, actor_id: int, expert: int | str, why: str | None = None
    ) -> Change:
        """Staff give an open ticket to another expert (by key, expert id or Telegram id).

        The ticket becomes "assigned" with no claimer, so the new expert claims it or simply
        replies. A staff choice may exceed the expert's max_open. NotAllowed (not staff),
        NotFound (ticket or expert), TicketRefused ``same_expert`` / ``expert_inactive`` /
        ``expert_unreachable``, StaleAction (ticket resolved, closed, or changed meanwhile).
        """
        now = self._clock()
        async with self._sessions() as s, s.begin():
            actor = await load_actor(s, actor_id)
            if not actor.staff:
                raise NotAllowed("only staff reassign tickets")
            row = await load_ticket(s, ticket)
            target = await find_expert(s, expert)
            if target is None:
                raise NotFound(f"no expert {expert!r}")
            await lock_expert(s, target.id)
            if row.status not in OPEN:
                raise StaleAction(f"{row.number} is {row.status.value}")
            if target.id == row.expert_id and row.claimed_by in (None, target.user_id):
                raise TicketRefused("same_expert")
            if not target.active:
                raise TicketRefused("expert_inactive")
            if target.user_id is None:
                raise TicketRefused("expert_unreachable")
            previous = await s.get(Expert, row.expert_id) if row.expert_id else None
            detail = f"{previous.key if previous else '-'} → {target.key}"
            if why:
                detail += f": {why.strip()}"
            seen = await transition(
                s,
                row,
                TicketStatus.ASSIGNED,
                actor_id=actor_id,
                kind="reassigned",
                detail=detail,
                values={"expert_id": target.id, "claimed_by": None, "claimed_at": None},
                at=now,
            )
            target.last_assigned_at = now
            await s.flush()
            return Change(await ticket_view(s, row), seen, row.status)

    async def resolve(self, ticket: TicketKey, actor_id: int, summary: str) -> Change:
        """Mark resolved with the expert's summary (shown to staff and in later 摸底).

        Staff, or the expert assigned to / claiming the ticket. TicketRefused
        ``summary_required`` / ``summary_too_long``; StaleAction if not open.
        """
        text = summary.strip()
        if not text:
            raise TicketRefused("summary_required")
        if len(text) > SUMMARY_MAX:
            raise TicketRefused("summary_too_long")
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row, _actor = await self._for_team_action(s, ticket, actor_id)
            seen = await transition(
                s,
                row,
                TicketStatus.RESOLVED,
                actor_id=actor_id,
                kind="resolved",
                detail=text,
                values={"summary": text, "resolved_at": now},
                at=now,
            )
            return Change(await ticket_view(s, row), seen, row.status)

    async def close(self, ticket: TicketKey, actor_id: int, why: str | None = None) -> Change:
        """Close an open or resolved ticket: the team member acting on it, or its own member
        (who then gets a redacted view back)."""
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row, actor = await self._for_team_or_owner(s, ticket, actor_id)
            seen = await transition(
                s,
                row,
                TicketStatus.CLOSED,
                actor_id=actor_id,
                kind="closed",
                detail=why,
                values={"closed_at": now},
                at=now,
            )
            view = await visible_view(s, actor, row)
            return Change(view, seen, row.status)

    async def reopen(self, ticket: TicketKey, actor_id: int, why: str | None = None) -> Change:
        """Resolved/closed → in_progress, ``reopen_count`` + 1 (team member or the owner)."""
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row, actor = await self._for_team_or_owner(s, ticket, actor_id)
            if row.status in OPEN:
                raise StaleAction(f"{row.number} is already open")
            seen = await transition(
                s,
                row,
                TicketStatus.IN_PROGRESS,
                actor_id=actor_id,
                kind="reopened",
                detail=why,
                values={
                    "reopen_count": Ticket.reopen_count + 1,
                    "resolved_at": None,
                    "closed_at": None,
                },
                at=now,
            )
            view = await visible_view(s, actor, row)
            return Change(view, seen, row.status)

    async def set_waiting_member(
        self, ticket: TicketKey, actor_id: int, why: str | None = None
    ) -> Change:
        """In progress → waiting for the member (the expert asked them something). The
        member's next message moves it back to in progress (``relay``)."""
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row, _actor = await self._for_team_action(s, ticket, actor_id)
            seen = await transition(
                s,
                row,
                TicketStatus.WAITING_MEMBER,
                actor_id=actor_id,
                kind="waiting",
                detail=why,
                at=now,
            )
            return Change(await ticket_view(s, row), seen, row.status)

    async def set_priority(
        self, ticket: TicketKey, actor_id: int, priority: Priority, why: str | None = None
    ) -> TicketView:
        """Staff (or the ticket's expert) set the priority by hand; no-op if unchanged."""
        async with self._sessions() as s, s.begin():
            row, _actor = await self._for_team_action(s, ticket, actor_id, open_only=False)
            if row.priority is not priority:
                detail = f"{row.priority.value} → {priority.value}" + (f": {why}" if why else "")
                row.priority = priority
                add_event(s, row.id, actor_id, "priority", detail=detail, at=self._clock())
                await s.flush()
            return await ticket_view(s, row)

    async def set_deadline(
        self,
        ticket: TicketKey,
        actor_id: int,
        deadline_at: datetime | None,
        why: str | None = None,
    ) -> TicketView:
        """Set or clear the matter deadline; a deadline within 3 days makes it urgent."""
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row, _actor = await self._for_team_action(s, ticket, actor_id, open_only=False)
            await apply_member_text(
                s,
                row,
                "",
                actor_id=actor_id,
                now=now,
                zone=self._zone,
                deadline=deadline_at,
                force_deadline=True,
                why=why,
            )
            return await ticket_view(s, row)

    async def set_card(self, ticket: TicketKey, chat_id: int, message_id: int) -> None:
        """Remember where the ticket's staff-group card is, to edit it in place later."""
        async with self._sessions() as s, s.begin():
            row = await load_ticket(s, ticket)
            row.card_chat_id = chat_id
            row.card_message_id = message_id

    async def _for_team_action(
        self, s: AsyncSession, ticket: TicketKey, actor_id: int, *, open_only: bool = True
    ) -> tuple[Ticket, Actor]:
        actor = await load_actor(s, actor_id)
        if not actor.team:
            raise NotAllowed("only staff and experts act on tickets")
        row = await load_ticket(s, ticket)
        if not team_can_view(actor, row):
            raise NotFound(f"no ticket {ticket!r}")
        if not team_can_act(actor, row):
            raise NotAllowed(f"{row.number} is not yours")
        if open_only and row.status not in OPEN:
            raise StaleAction(f"{row.number} is {row.status.value}")
        return row, actor

    async def _for_team_or_owner(
        self, s: AsyncSession, ticket: TicketKey, actor_id: int
    ) -> tuple[Ticket, Actor]:
        actor = await load_actor(s, actor_id)
        row = await load_ticket(s, ticket)
        if team_can_act(actor, row) or is_owner(actor, row):
            return row, actor
        if team_can_view(actor, row):
            raise NotAllowed(f"{row.number} is not yours")
        raise NotFound(f"no ticket {ticket!r}")

    # queries ------------------------------------------------------------------------------

    async def queue(self, actor_id: int, limit: int = 50) -> list[TicketView]:
        """Open tickets, urgent first, then oldest: all of them for staff; for an expert
        theirs and the unassigned, unclaimed ones. NotAllowed for anyone else."""
        async with self._sessions() as s:
            actor = await load_actor(s, actor_id)
            if not actor.team:
                raise NotAllowed("the queue is for staff and experts")
            query = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
            if not actor.staff:
                mine: list[ColumnElement[bool]] = [
                    Ticket.claimed_by == actor.user_id,
                    (Ticket.expert_id.is_(None) & Ticket.claimed_by.is_(None)),
                ]
                if actor.expert_id is not None:
                    mine.append(Ticket.expert_id == actor.expert_id)
                query = query.where(or_(*mine))
            rows = (await s.scalars(query.order_by(*_queue_order()).limit(limit))).all()
            return await ticket_views(s, rows)

    async def mine(self, actor_id: int, limit: int = 50) -> list[TicketView]:
        """Open tickets assigned to or claimed by ``actor_id``, urgent first, then oldest."""
        async with self._sessions() as s:
            actor = await load_actor(s, actor_id)
            if not actor.team:
                raise NotAllowed("/mine is for staff and experts")
            conditions: list[ColumnElement[bool]] = [Ticket.claimed_by == actor.user_id]
            if actor.expert_id is not None:
                conditions.append(Ticket.expert_id == actor.expert_id)
            rows = (
                await s.scalars(
                    select(Ticket)
                    .where(Ticket.status.in_(OPEN_STATUSES), or_(*conditions))
                    .order_by(*_queue_order())
                    .limit(limit)
                )
            ).all()
            return await ticket_views(s, rows)

    async def view_ticket(self, actor_id: int, ticket: TicketKey) -> TicketView:
        """The ticket as ``actor_id`` may see it; NotFound otherwise (also for a ticket that
        exists but is not theirs). Members get a redacted view."""
        async with self._sessions() as s:
            actor = await load_actor(s, actor_id)
            row = await load_ticket(s, ticket)
            return await visible_view(s, actor, row)

    async def get(self, actor_id: int, number: str) -> TicketView:
        """``view_ticket`` by number (``/ticket NUMBER``)."""
        return await self.view_ticket(actor_id, number)

    async def history(self, actor_id: int, ticket: TicketKey) -> TicketHistory:
        """Full history: the team sees events and all messages including notes; the owner
        member sees the relayed messages only (no events, no notes)."""
        async with self._sessions() as s:
            actor = await load_actor(s, actor_id)
            row = await load_ticket(s, ticket)
            view = await visible_view(s, actor, row)
            team = team_can_view(actor, row)
            directions = ["member", "expert"] + (["note"] if team else [])
            messages = (
                await s.scalars(
                    select(TicketMessage)
                    .where(
                        TicketMessage.ticket_id == row.id,
                        TicketMessage.direction.in_(directions),
                    )
                    .order_by(TicketMessage.created_at, TicketMessage.id)
                )
            ).all()
            events: Sequence[TicketEvent] = ()
            if team:
                events = (
                    await s.scalars(
                        select(TicketEvent)
                        .where(TicketEvent.ticket_id == row.id)
                        .order_by(TicketEvent.created_at, TicketEvent.id)
                    )
                ).all()
            return TicketHistory(
                view,
                tuple(
                    EventView(
                        e.id,
                        e.kind,
                        e.actor_id,
                        e.from_status,
                        e.to_status,
                        e.detail,
                        e.created_at,
                    )
                    for e in events
                ),
                tuple(message_view(m) for m in messages),
            )

    async def member_tickets(
        self, user_id: int, *, open_only: bool = False, limit: int = 20
    ) -> list[TicketView]:
        """A member's own tickets, newest first, redacted (``/mytickets``)."""
        async with self._sessions() as s:
            query = select(Ticket).where(Ticket.user_id == user_id)
            if open_only:
                query = query.where(Ticket.status.in_(OPEN_STATUSES))
            rows = (
                await s.scalars(
                    query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
                )
            ).all()
            return await ticket_views(s, rows, redact=True)

    async def open_tickets_of(self, user_id: int) -> list[TicketView]:
        return await self.member_tickets(user_id, open_only=True)


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
