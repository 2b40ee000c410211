"""Relay storage: every message between a member and the team is stored on its ticket.

The handler's loop for one incoming message::

    member writes  → ticket = reply target (ticket_for_reply) or the one open ticket
                     (tickets_for_member_message: 0 → new question, 1 → it, several → ask)
                   → record_member_message(...)         # stored before anything is sent
                   → copy to result.recipient_id (None: the staff group)
                   → mark_delivered(result.id, chat_id, sent_message_id)
    expert replies → ticket_for_reply(expert_chat, replied_to_message_id) or /reply NUMBER
                   → record_expert_message(...) → copy to the member → mark_delivered(...)
    staff note     → add_note(...)                      # never reaches the member

Storing first and marking delivery afterwards means nothing accepted is lost: after a
restart :meth:`RelayService.undelivered` lists what still has to be sent. Recording is
idempotent per (source chat, source message), so an update Telegram delivers twice is
stored once. Albums: each part is recorded as it arrives (same ``media_group_id``);
:meth:`RelayService.album` returns the parts in order for sending as one album.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotAllowed, NotFound, StaleAction
from bot.services.experts import OPEN_STATUSES, ExpertInfo, expert_info
from bot.services.roles import load_actor
from bot.services.tickets import (
    OPEN,
    URGENT_WITHIN,
    ClaimOutcome,
    TicketKey,
    TicketView,
    add_event,
    apply_member_text,
    claim_in,
    load_ticket,
    team_can_act,
    team_can_view,
    ticket_view,
    ticket_views,
    transition,
)
from db.models import Expert, Ticket, TicketMessage, TicketStatus
from db.session import SessionFactory
from faq.models import Lang

TEXT_MAX = 10_000
FILE_KINDS = ("photo", "document")


class Direction(enum.StrEnum):
    MEMBER = "member"  # member → team
    EXPERT = "expert"  # team → member (staff replies count as the expert side)
    NOTE = "note"  # private staff note; never shown to the member
    BOT = "bot"  # a message the bot sent about the ticket (card, notice); only for routing


@dataclass(frozen=True, slots=True)
class RelayedMessage:
    """A stored message and where the handler should send it.

    ``recipient_id``: for a member message the ticket's responder (claimer, else assigned
    expert) or None, meaning "post it in the staff group"; for a team reply the member;
    None for notes. ``recipient_lang`` is the ticket's language for team replies.
    """

    id: int
    ticket_id: int
    ticket_number: str
    direction: Direction
    sender_id: int
    text: str | None
    file_id: str | None
    file_kind: str | None
    file_name: str | None
    media_group_id: str | None
    recipient_id: int | None
    recipient_lang: Lang | None
    sender_expert: ExpertInfo | None  # a team reply's author, to show their name
    delivered: bool
    duplicate: bool = False  # this source message was stored before (update redelivered)
    status_change: tuple[TicketStatus, TicketStatus] | None = None
    priority_raised: bool = False
    first_response: bool = False
    claimed: bool = False  # this reply claimed the ticket (tell the member who answers)
    source_chat_id: int | None = None  # where the sender wrote it (their receipt goes there)
    delivered_chat_id: int | None = None  # where the copy went, once delivered


class RelayRefused(DomainError):
    """Unusable message; ``reason``: ``empty``, ``too_long``, ``bad_file_kind``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_content(text: str | None, file_id: str | None, file_kind: str | None) -> str | None:
    text = text.strip() if text else None
    if not text and not file_id:
        raise RelayRefused("empty")
    if text and len(text) > TEXT_MAX:
        raise RelayRefused("too_long")
    if file_id and file_kind not in FILE_KINDS:
        raise RelayRefused("bad_file_kind")
    return text or None


async def _recorded(
    s: AsyncSession, ticket_id: int, chat_id: int | None, message_id: int | None
) -> TicketMessage | None:
    if chat_id is None or message_id is None:
        return None
    return await s.scalar(
        select(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id,
            TicketMessage.source_chat_id == chat_id,
            TicketMessage.source_message_id == message_id,
        )
    )


class RelayService:
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

    async def record_member_message(
        self,
        user_id: int,
        ticket: TicketKey,
        *,
        text: str | None = None,
        file_id: str | None = None,
        file_kind: str | None = None,
        file_name: str | None = None,
        media_group_id: str | None = None,
        source_chat_id: int | None = None,
        source_message_id: int | None = None,
    ) -> RelayedMessage:
        """Store a member's message on their own open ticket.

        A ticket waiting for the member goes back to in progress; a deadline or a
        summons/customs mention in the text is picked up (priority only rises).
        NotFound if the ticket is not theirs; StaleAction if it is resolved or closed (the
        handler offers to reopen it or to ask a new question); RelayRefused for no content.
        """
        content = _check_content(text, file_id, file_kind)
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row = await load_ticket(s, ticket)
            if row.user_id != user_id:
                raise NotFound(f"no ticket {ticket!r}")
            again = await _recorded(s, row.id, source_chat_id, source_message_id)
            if again is not None:
                return await self._result(s, row, again, duplicate=True)
            if row.status not in OPEN:
                raise StaleAction(f"{row.number} is {row.status.value}")
            message = TicketMessage(
                ticket_id=row.id,
                sender_id=user_id,
                direction=Direction.MEMBER.value,
                text=content,
                file_id=file_id,
                file_kind=file_kind if file_id else None,
                file_name=file_name,
                media_group_id=media_group_id,
                source_chat_id=source_chat_id,
                source_message_id=source_message_id,
                created_at=now,
            )
            s.add(message)
            change = None
            if row.status is TicketStatus.WAITING_MEMBER:
                seen = await transition(
                    s,
                    row,
                    TicketStatus.IN_PROGRESS,
                    actor_id=user_id,
                    kind="member_reply",
                    at=now,
                )
                change = (seen, row.status)
            raised = await apply_member_text(
                s,
                row,
                content or "",
                actor_id=user_id,
                now=now,
                zone=self._zone,
                urgent_within=self._urgent_within,
            )
            row.last_member_message_at = now
            await s.flush()
            return await self._result(
                s, row, message, status_change=change, priority_raised=raised
            )

    async def record_expert_message(
        self,
        actor_id: int,
        ticket: TicketKey,
        *,
        text: str | None = None,
        file_id: str | None = None,
        file_kind: str | None = None,
        file_name: str | None = None,
        media_group_id: str | None = None,
        source_chat_id: int | None = None,
        source_message_id: int | None = None,
    ) -> RelayedMessage:
        """Store a team reply to the member (staff, or the ticket's expert/claimer).

        The first reply on an unclaimed ticket claims it for the sender (atomically, as
        :meth:`TicketService.claim`) and moves new/assigned to in progress; the first team
        reply sets ``first_response_at`` (``first_response`` in the result).
        NotAllowed for anyone else; StaleAction if the ticket is resolved or closed.
        """
        content = _check_content(text, file_id, file_kind)
        now = self._clock()
        async with self._sessions() as s, s.begin():
            actor = await load_actor(s, actor_id)
            row = await load_ticket(s, ticket)
            if not team_can_view(actor, row):
                raise NotFound(f"no ticket {ticket!r}")
            if not team_can_act(actor, row):
                raise NotAllowed(f"{row.number} is not yours")
            again = await _recorded(s, row.id, source_chat_id, source_message_id)
            if again is not None:
                return await self._result(s, row, again, duplicate=True)
            if row.status not in OPEN:
                raise StaleAction(f"{row.number} is {row.status.value}")
            change = None
            claimed = False
            if row.claimed_by is None:
                # The first reply claims the ticket, by the same rules as the Claim button.
                seen = row.status
                result = await claim_in(s, actor, row, now, detail="by replying")
                if result is not None and result.outcome is ClaimOutcome.CLAIMED:
                    claimed = True
                    if result.ticket.status is not seen:
                        change = (seen, result.ticket.status)
            message = TicketMessage(
                ticket_id=row.id,
                sender_id=actor_id,
                direction=Direction.EXPERT.value,
                text=content,
                file_id=file_id,
                file_kind=file_kind if file_id else None,
                file_name=file_name,
                media_group_id=media_group_id,
                source_chat_id=source_chat_id,
                source_message_id=source_message_id,
                created_at=now,
            )
            s.add(message)
            first = row.first_response_at is None
            if first:
                row.first_response_at = now
                add_event(s, row.id, actor_id, "first_response", at=now)
            row.last_expert_message_at = now
            await s.flush()
            return await self._result(
                s, row, message, status_change=change, first_response=first, claimed=claimed
            )

    async def add_note(self, actor_id: int, ticket: TicketKey, text: str) -> RelayedMessage:
        """A private note by a team member who can see the ticket (any status). Notes are
        never returned in member views and have no recipient."""
        content = _check_content(text, None, None)
        now = self._clock()
        async with self._sessions() as s, s.begin():
            actor = await load_actor(s, actor_id)
            if not actor.team:
                raise NotAllowed("notes are for staff and experts")
            row = await load_ticket(s, ticket)
            if not team_can_view(actor, row):
                raise NotFound(f"no ticket {ticket!r}")
            message = TicketMessage(
                ticket_id=row.id,
                sender_id=actor_id,
                direction=Direction.NOTE.value,
                text=content,
                created_at=now,
            )
            s.add(message)
            await s.flush()
            return await self._result(s, row, message)

    async def record_bot_message(
        self, ticket: TicketKey, chat_id: int, message_id: int, text: str | None = None
    ) -> None:
        """Remember a message the bot sent about a ticket (assignment notice, 摸底, card) so a
        reply to it is routed to the ticket (:meth:`ticket_for_reply`). Not shown in history.
        """
        now = self._clock()
        async with self._sessions() as s, s.begin():
            row = await load_ticket(s, ticket)
            s.add(
                TicketMessage(
                    ticket_id=row.id,
                    sender_id=0,
                    direction=Direction.BOT.value,
                    text=text,
                    delivered_chat_id=chat_id,
                    delivered_message_id=message_id,
                    delivered_at=now,
                    created_at=now,
                )
            )

    async def mark_delivered(
        self, message_id: int, chat_id: int, delivered_message_id: int
    ) -> None:
        """Record where a stored message was delivered (the copy's chat and message id)."""
        async with self._sessions() as s, s.begin():
            message = await s.get(TicketMessage, message_id)
            if message is None:
                raise NotFound(f"no message {message_id}")
            message.delivered_chat_id = chat_id
            message.delivered_message_id = delivered_message_id
            message.delivered_at = self._clock()

    async def ticket_for_reply(self, chat_id: int, message_id: int) -> TicketView | None:
        """The ticket a reply belongs to: the replied-to message is a relayed copy, a source
        message, a bot notice, or the staff-group card of a ticket. None if unknown.

        No authorisation here: the ``record_*`` call that follows checks the sender.
        """
        async with self._sessions() as s:
            ticket_id = await s.scalar(
                select(TicketMessage.ticket_id)
                .where(
                    or_(
                        and_(
                            TicketMessage.delivered_chat_id == chat_id,
                            TicketMessage.delivered_message_id == message_id,
                        ),
                        and_(
                            TicketMessage.source_chat_id == chat_id,
                            TicketMessage.source_message_id == message_id,
                        ),
                    )
                )
                .order_by(TicketMessage.id.desc())
                .limit(1)
            )
            if ticket_id is None:
                ticket_id = await s.scalar(
                    select(Ticket.id).where(
                        Ticket.card_chat_id == chat_id, Ticket.card_message_id == message_id
                    )
                )
            if ticket_id is None:
                return None
            row = await load_ticket(s, ticket_id)
            return await ticket_view(s, row)

    async def tickets_for_member_message(self, user_id: int) -> list[TicketView]:
        """The member's open tickets, most recently active first (redacted): none → treat
        the message as a new question; one → it belongs there; several → ask which."""
        async with self._sessions() as s:
            rows = (
                await s.scalars(
                    select(Ticket)
                    .where(Ticket.user_id == user_id, Ticket.status.in_(OPEN_STATUSES))
                    .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                )
            ).all()
            views = await ticket_views(s, rows, redact=True)
        _never = datetime.min.replace(tzinfo=UTC)
        return sorted(
            views,
            key=lambda v: max(
                v.created_at,
                v.last_member_message_at or _never,
                v.last_expert_message_at or _never,
            ),
            reverse=True,
        )

    async def messages(self, ids: Sequence[int]) -> list[RelayedMessage]:
        """Stored member and team messages by id, in id order (the outbox's relay rows)."""
        async with self._sessions() as s:
            found = (
                await s.scalars(
                    select(TicketMessage)
                    .where(
                        TicketMessage.id.in_(list(ids)),
                        TicketMessage.direction.in_([Direction.MEMBER, Direction.EXPERT]),
                    )
                    .order_by(TicketMessage.id)
                )
            ).all()
            results = []
            for message in found:
                row = await load_ticket(s, message.ticket_id)
                results.append(await self._result(s, row, message))
            return results

    async def album(self, ticket_id: int, media_group_id: str) -> list[RelayedMessage]:
        """The stored parts of one album on a ticket, in arrival order."""
        async with self._sessions() as s:
            row = await load_ticket(s, ticket_id)
            parts = (
                await s.scalars(
                    select(TicketMessage)
                    .where(
                        TicketMessage.ticket_id == row.id,
                        TicketMessage.media_group_id == media_group_id,
                        TicketMessage.direction.in_([Direction.MEMBER, Direction.EXPERT]),
                    )
                    .order_by(TicketMessage.id)
                )
            ).all()
            return [await self._result(s, row, part) for part in parts]

    async def undelivered(self, limit: int = 200, after_id: int = 0) -> list[RelayedMessage]:
        """Member and team messages stored but not yet marked delivered, oldest first, from
        after ``after_id`` (page through them; a crash between sending and marking may send
        one twice)."""
        async with self._sessions() as s:
            messages = (
                await s.scalars(
                    select(TicketMessage)
                    .where(
                        TicketMessage.delivered_at.is_(None),
                        TicketMessage.direction.in_([Direction.MEMBER, Direction.EXPERT]),
                        TicketMessage.id > after_id,
                    )
                    .order_by(TicketMessage.id)
                    .limit(limit)
                )
            ).all()
            results = []
            for message in messages:
                row = await load_ticket(s, message.ticket_id)
                results.append(await self._result(s, row, message))
            return results

    @staticmethod
    async def _result(
        s: AsyncSession,
        row: Ticket,
        message: TicketMessage,
        *,
        duplicate: bool = False,
        status_change: tuple[TicketStatus, TicketStatus] | None = None,
        priority_raised: bool = False,
        first_response: bool = False,
        claimed: bool = False,
    ) -> RelayedMessage:
        direction = Direction(message.direction)
        recipient: int | None = None
        recipient_lang: Lang | None = None
        sender_expert: ExpertInfo | None = None
        if direction is Direction.MEMBER:
            recipient = row.claimed_by
            if recipient is None and row.expert_id is not None:
                recipient = await s.scalar(
                    select(Expert.user_id).where(Expert.id == row.expert_id)
                )
        elif direction is Direction.EXPERT:
            recipient = row.user_id
            recipient_lang = "en" if row.lang == "en" else "zh"
            sender = await s.scalar(select(Expert).where(Expert.user_id == message.sender_id))
            sender_expert = expert_info(sender) if sender is not None else None
        return RelayedMessage(
            id=message.id,
            ticket_id=row.id,
            ticket_number=row.number,
            direction=direction,
            sender_id=message.sender_id,
            text=message.text,
            file_id=message.file_id,
            file_kind=message.file_kind,
            file_name=message.file_name,
            media_group_id=message.media_group_id,
            recipient_id=recipient,
            recipient_lang=recipient_lang,
            sender_expert=sender_expert,
            delivered=message.delivered_at is not None,
            duplicate=duplicate,
            status_change=status_change,
            priority_raised=priority_raised,
            first_response=first_response,
            claimed=claimed,
            source_chat_id=message.source_chat_id,
            delivered_chat_id=message.delivered_chat_id,
        )
