"""Members' personal data under PIPL: consent, access (/mydata), erasure (/forget),
retention, and blocking abusive users.

* **Consent**: before the profile dialogue collects a company, a contact name or a phone, the
  member reads a short notice (what, why, how long, who sees it) and agrees; the agreement is
  stored with the notice's version and time. A new version is asked for again.
* **Access**: :meth:`PrivacyService.export` gathers everything stored about a member:
  profile, consents, questions, FAQ reads, tickets with their messages and ratings.
* **Erasure**: :meth:`PrivacyService.forget` removes the person and keeps the statistics:
  their rows move to an anonymous stand-in user (a random negative id, unrelated to the
  Telegram id), every text they or the team wrote about their tickets is erased, and the
  user row and consents are deleted. Open tickets are closed first by the caller (so the
  expert is told).
* **Retention**: :meth:`PrivacyService.anonymise_expired` erases question texts and the
  texts of tickets closed longer ago than the retention period, and the contact name and
  phone of members with no activity since.
* **Blocking**: an admin blocks a user; they get one polite notice, then silence, and of
  their messages only a counter is kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import NotAllowed
from bot.services.outreach import expire_registrations, export_member, forget_member
from bot.services.tickets import run_update
from bot.services.tickets.rules import OPEN
from db.models import (
    Block,
    Company,
    Consent,
    FaqView,
    Question,
    Reminder,
    ReminderStatus,
    Role,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
    User,
    utcnow,
)
from db.session import SessionFactory

NOTICE_VERSION = "2026-12"
"""The version of the notice in the catalogs (``pv_notice``); change it with the text."""
ERASED = ""
"""What an erased text becomes where the column cannot be empty."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """What :meth:`PrivacyService.forget` did."""

    stand_in: int  # the anonymous user id the statistics now point to
    tickets: int
    questions: int
    messages: int


@dataclass(frozen=True, slots=True)
class Expiry:
    """What one retention sweep anonymised."""

    tickets: int
    questions: int
    profiles: int


@dataclass(frozen=True, slots=True)
class BlockCheck:
    blocked: bool
    notify: bool  # the first message since the block: send the one notice


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to month ends)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class PrivacyService:
    def __init__(
        self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    # --- consent ---------------------------------------------------------------------------

    async def has_consent(self, user_id: int, version: str = NOTICE_VERSION) -> bool:
        async with self._sessions() as s:
            found = await s.scalar(
                select(Consent.id).where(Consent.user_id == user_id, Consent.version == version)
            )
            return found is not None

    async def consent_time(self, user_id: int, version: str = NOTICE_VERSION) -> datetime | None:
        async with self._sessions() as s:
            return await s.scalar(
                select(Consent.accepted_at).where(
                    Consent.user_id == user_id, Consent.version == version
                )
            )

    async def record_consent(
        self, user_id: int, lang: str, version: str = NOTICE_VERSION
    ) -> datetime:
        """Store the agreement (once per version); returns when it was given."""
        async with self._sessions() as s, s.begin():
            row = await s.scalar(
                select(Consent).where(Consent.user_id == user_id, Consent.version == version)
            )
            if row is None:
                row = Consent(
                    user_id=user_id, version=version, lang=lang, accepted_at=self._clock()
                )
                s.add(row)
            return row.accepted_at

    # --- access ----------------------------------------------------------------------------

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about ``user_id``, as JSON-ready data (times in UTC, ISO 8601).
        Staff notes on their tickets are internal working notes and are listed by count."""
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            company = await s.get(Company, user.company_id) if user and user.company_id else None
            consents = (
                await s.scalars(
                    select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
                )
            ).all()
            questions = (
                await s.scalars(
                    select(Question).where(Question.user_id == user_id).order_by(Question.id)
                )
            ).all()
            reads = (
                await s.scalars(
                    select(FaqView).where(FaqView.user_id == user_id).order_by(FaqView.id)
                )
            ).all()
            tickets = (
                await s.scalars(
                    select(Ticket).where(Ticket.user_id == user_id).order_by(Ticket.id)
                )
            ).all()
            ticket_ids = [t.id for t in tickets]
            messages = (
                (
                    await s.scalars(
                        select(TicketMessage)
                        .where(TicketMessage.ticket_id.in_(ticket_ids))
                        .order_by(TicketMessage.id)
                    )
                ).all()
                if ticket_ids
                else []
            )
            block = await s.get(Block, user_id)
            outreach = await export_member(s, user_id)
        numbers = {t.id: t.number for t in tickets}
        return {
            "generated_at": _iso(self._clock()),
            "notice_version": NOTICE_VERSION,
            "profile": None
            if user is None
            else {
                "telegram_user_id": user.id,
                "first_name": user.first_name,
                "username": user.username,
                "language": user.lang or user.detected_lang or user.telegram_lang,
                "role": user.role.value,
                "company": None
                if company is None
                else {"name": company.name, "association_member": company.is_member},
                "contact_name": user.contact_name,
                "phone": user.phone,
                "first_seen_at": _iso(user.created_at),
                "updated_at": _iso(user.updated_at),
            },
            "consents": [
                {"version": c.version, "language": c.lang, "accepted_at": _iso(c.accepted_at)}
                for c in consents
            ],
            "questions": [
                {
                    "text": q.text,
                    "language": q.lang,
                    "category": q.category,
                    "outcome": q.action,
                    "faq_entry": q.faq_id,
                    "asked_at": _iso(q.created_at),
                }
                for q in questions
            ],
            "faq_reads": [
                {"faq_entry": v.faq_id, "feedback": v.feedback, "read_at": _iso(v.created_at)}
                for v in reads
            ],
            "tickets": [
                {
                    "number": t.number,
                    "category": t.category,
                    "status": t.status.value,
                    "question": t.question,
                    "summary": t.summary,
                    "rating": t.rating,
                    "rating_comment": t.rating_comment,
                    "opened_at": _iso(t.created_at),
                    "resolved_at": _iso(t.resolved_at),
                    "closed_at": _iso(t.closed_at),
                    "messages": [
                        {
                            "from": "you" if m.direction == "member" else "expert",
                            "text": m.text,
                            "file": m.file_name or (m.file_kind if m.file_id else None),
                            "at": _iso(m.created_at),
                        }
                        for m in messages
                        if m.ticket_id == t.id and m.direction != "note"
                    ],
                    "internal_notes": sum(
                        1 for m in messages if m.ticket_id == t.id and m.direction == "note"
                    ),
                }
                for t in tickets
                if t.id in numbers
            ],
            **outreach,
            "blocked": None
            if block is None
            else {"since": _iso(block.created_at), "messages_dropped": block.dropped},
        }

    # --- erasure ---------------------------------------------------------------------------

    async def forget(self, user_id: int) -> Erasure:
        """Erase ``user_id``'s personal data and detach the statistics from them. Only
        members may be forgotten this way (a team member is demoted by an admin first)."""
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is None:
                return Erasure(stand_in=0, tickets=0, questions=0, messages=0)
            if user.role is not Role.MEMBER:
                raise NotAllowed("team members are not forgotten by themselves")
            stand_in = await _new_stand_in(s, user)
            ticket_ids = list(
                (await s.scalars(select(Ticket.id).where(Ticket.user_id == user_id))).all()
            )
            messages = await _erase_ticket_texts(s, ticket_ids)
            await s.execute(
                update(Ticket).where(Ticket.user_id == user_id).values(user_id=stand_in)
            )
            await s.execute(
                update(TicketMessage)
                .where(TicketMessage.sender_id == user_id)
                .values(sender_id=stand_in, source_chat_id=None)
            )
            await s.execute(
                update(TicketEvent)
                .where(TicketEvent.actor_id == user_id)
                .values(actor_id=stand_in)
            )
            questions = await run_update(
                s,
                update(Question)
                .where(Question.user_id == user_id)
                .values(user_id=stand_in, text=ERASED, chat_id=stand_in, message_id=None),
            )
            await s.execute(
                update(FaqView).where(FaqView.user_id == user_id).values(user_id=stand_in)
            )
            await s.execute(
                update(Reminder)
                .where(Reminder.recipient_id == user_id, Reminder.status == ReminderStatus.PENDING)
                .values(status=ReminderStatus.CANCELLED)
            )
            for reminder in (
                await s.scalars(select(Reminder).where(Reminder.recipient_id == user_id))
            ).all():
                # Outbox keys such as "ann:<id>:<user id>" name the person too.
                parts = reminder.key.split(":")
                reminder.key = ":".join(str(stand_in) if p == str(user_id) else p for p in parts)
                reminder.recipient_id = None
            await forget_member(s, user_id, stand_in)  # subscriptions, event registrations
            await s.execute(delete(Consent).where(Consent.user_id == user_id))
            await s.delete(user)
            return Erasure(stand_in, len(ticket_ids), int(questions or 0), messages)

    # --- retention -------------------------------------------------------------------------

    async def anonymise_expired(self, months: int) -> Expiry:
        """Erase texts older than ``months`` (0: keep everything): tickets closed before the
        cut-off, questions asked before it (unless an open ticket still needs them), and the
        contact name and phone of members with no ticket or question since."""
        if months <= 0:
            return Expiry(0, 0, 0)
        now = self._clock()
        cutoff = months_before(now, months)
        async with self._sessions() as s, s.begin():
            expired = list(
                (
                    await s.scalars(
                        select(Ticket.id).where(
                            Ticket.status == TicketStatus.CLOSED,
                            Ticket.closed_at < cutoff,
                            or_(Ticket.question != ERASED, Ticket.summary.is_not(None)),
                        )
                    )
                ).all()
            )
            await _erase_ticket_texts(s, expired)
            for ticket_id in expired:
                s.add(TicketEvent(ticket_id=ticket_id, kind="anonymised", created_at=now))
            still_needed = exists().where(
                Ticket.question_id == Question.id, Ticket.status.in_(OPEN)
            )
            questions = await run_update(
                s,
                update(Question)
                .where(Question.created_at < cutoff, Question.text != ERASED, ~still_needed)
                .values(text=ERASED)
                .execution_options(synchronize_session=False),
            )
            recent_ticket = exists().where(
                Ticket.user_id == User.id,
                or_(
                    Ticket.created_at >= cutoff,
                    Ticket.status.in_(OPEN),
                    Ticket.closed_at >= cutoff,
                ),
            )
            recent_question = exists().where(
                Question.user_id == User.id, Question.created_at >= cutoff
            )
            profiles = await run_update(
                s,
                update(User)
                .where(
                    User.role == Role.MEMBER,
                    or_(User.contact_name.is_not(None), User.phone.is_not(None)),
                    User.updated_at < cutoff,
                    ~recent_ticket,
                    ~recent_question,
                )
                .values(contact_name=None, phone=None)
                .execution_options(synchronize_session=False),
            )
            await expire_registrations(s, cutoff)  # contacts on sign-ups of past events
            return Expiry(len(expired), int(questions or 0), int(profiles or 0))

    # --- blocking --------------------------------------------------------------------------

    async def block(self, admin_id: int, user_id: int) -> bool:
        """True if newly blocked. Team members cannot be blocked (demote them first)."""
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is not None and user.role is not Role.MEMBER:
                raise NotAllowed("team members are demoted, not blocked")
            if await s.get(Block, user_id) is not None:
                return False
            s.add(Block(user_id=user_id, blocked_by=admin_id, created_at=self._clock()))
            return True

    async def unblock(self, user_id: int) -> bool:
        async with self._sessions() as s, s.begin():
            connection = await s.connection()
            result = await connection.execute(delete(Block).where(Block.user_id == user_id))
            return bool(result.rowcount)

    async def check_blocked(self, user_id: int) -> BlockCheck:
        """For every update of a user: count a blocked user's message; the first one since
        the block is answered with the notice, the rest with silence."""
        async with self._sessions() as s, s.begin():
            # A conditional UPDATE says both whether the user is blocked and, atomically,
            # whether this is the message that gets the notice.
            first = await run_update(
                s,
                update(Block)
                .where(Block.user_id == user_id, Block.notified_at.is_(None))
                .values(notified_at=self._clock(), dropped=Block.dropped + 1),
            )
            if first:
                return BlockCheck(blocked=True, notify=True)
            later = await run_update(
                s, update(Block).where(Block.user_id == user_id).values(dropped=Block.dropped + 1)
            )
            return BlockCheck(blocked=bool(later), notify=False)

    async def blocked_count(self) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(Block)) or 0)


async def _new_stand_in(s: AsyncSession, user: User) -> int:
    """An anonymous member row for the statistics: random negative id, no name, no contact,
    the same company (a company is not a person) and language."""
    while True:
        stand_in = -(secrets.randbelow(2**52) + 1)
        if await s.get(User, stand_in) is None:
            break
    s.add(
        User(
            id=stand_in,
            first_name="",
            role=Role.MEMBER,
            company_id=user.company_id,
            lang=user.lang,
            created_at=user.created_at,
        )
    )
    await s.flush()
    return stand_in


async def _erase_ticket_texts(s: AsyncSession, ticket_ids: list[int]) -> int:
    """Erase what was written on these tickets: question, summary, rating comment, every
    message and attachment, event details. Returns the number of messages erased."""
    if not ticket_ids:
        return 0
    await s.execute(
        update(Ticket)
        .where(Ticket.id.in_(ticket_ids))
        .values(question=ERASED, summary=None, rating_comment=None)
    )
    erased = await run_update(
        s,
        update(TicketMessage)
        .where(
            TicketMessage.ticket_id.in_(ticket_ids),
            or_(TicketMessage.text.is_not(None), TicketMessage.file_id.is_not(None)),
        )
        .values(text=None, file_id=None, file_name=None),
    )
    await s.execute(
        update(TicketEvent)
        .where(and_(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.detail.is_not(None)))
        .values(detail=None)
    )
    return erased
