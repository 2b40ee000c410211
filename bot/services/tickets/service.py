"""TicketService: a ticket's whole life, each step one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.experts import OPEN_STATUSES, find_expert, open_counts
from bot.services.roles import Actor, load_actor
from bot.services.tickets.assignment import AssignOutcome, Candidate, choose_expert
from bot.services.tickets.numbers import format_number, lock_expert, next_seq, sqlite_write_lock
from bot.services.tickets.priority import URGENT_WITHIN, apply_member_text, assess_priority
from bot.services.tickets.repo import add_event, load_ticket, run_update, transition
from bot.services.tickets.rules import (
    CLAIMABLE,
    OPEN,
    SUMMARY_MAX,
    TicketKey,
    is_owner,
    team_can_act,
    team_can_view,
)
from bot.services.tickets.views import (
    Assignment,
    Change,
    ClaimOutcome,
    ClaimResult,
    EventView,
    Holder,
    TicketHistory,
    TicketRef,
    TicketRefused,
    TicketView,
    message_view,
    ticket_view,
    ticket_views,
    visible_view,
)
from bot.services.timefmt import parse_deadline
from db.models import (
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


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _queue_order() -> tuple[ColumnElement[Any], ...]:
    urgent_first = case((Ticket.priority == Priority.URGENT, 0), else_=1)
    return (urgent_first, Ticket.created_at.asc(), Ticket.id.asc())


# --- the service -----------------------------------------------------------------------------


async def held(s: AsyncSession, actor: Actor, row: Ticket) -> ClaimResult | None:
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


async def claim_in(
    s: AsyncSession, actor: Actor, row: Ticket, now: datetime, *, detail: str | None = None
) -> ClaimResult | None:
    """The claim rules, in the caller's transaction (never commits): HELD / ALREADY_YOURS
    when the ticket cannot be taken, CLAIMED when this actor won, None when another claim
    won the race meanwhile and nothing could be decided (look again). Used by
    :meth:`TicketService.claim` (the button, /claim) and by a first reply (relay)."""
    outcome = await held(s, actor, row)
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
            detail=detail,
            at=now,
        )
        if gets_expert:
            await s.execute(
                update(Expert).where(Expert.id == actor.expert_id).values(last_assigned_at=now)
            )
        await s.flush()
        await s.refresh(row)
        view = await ticket_view(s, row)
        return ClaimResult(ClaimOutcome.CLAIMED, view, view.claimed_by)
    # Lost the race (or the ticket moved): look again with the winner's commit.
    await s.refresh(row)
    return await held(s, actor, row)


class TicketService:
    """Tickets' whole life. ``clock`` returns aware UTC now (tests pass a fixed one)."""

    def __init__(
        self,
        sessions: SessionFactory,
        zone: ZoneInfo,
        *,
        clock: Callable[[], datetime] = _utcnow,
        urgent_within: timedelta = URGENT_WITHIN,
    ) -> None:
        self._sessions = sessions
        self._zone = zone
        self._clock = clock
        self._urgent_within = urgent_within

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
        assessment = assess_priority(question, deadline, now, self._urgent_within)
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
                    seq = await next_seq(s, year)
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
                result = await claim_in(s, actor, row, now)
                if result is not None:
                    return result
        raise StaleAction("the ticket keeps changing; try again")

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
        """Set or clear the matter deadline; one within DEADLINE_URGENT_DAYS makes it urgent."""
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
                urgent_within=self._urgent_within,
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
