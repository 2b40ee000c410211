"""Typed SQLAlchemy 2.0 models. Timestamps are stored in UTC; no business rules here."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CleanText(TypeDecorator[str]):
    """Text as members type it, minus NUL and other control characters: PostgreSQL refuses
    NUL in text, and none of them means anything in a message (tab and newlines stay)."""

    impl: Any = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _CONTROL.sub("", value)


class CleanString(CleanText):
    """A bounded CleanText (VARCHAR(n))."""

    impl = String
    cache_ok = True


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Role(enum.StrEnum):
    MEMBER = "member"
    EXPERT = "expert"
    STAFF = "staff"
    ADMIN = "admin"
    EDITOR = "editor"  # composes announcements (issue 11); handles no tickets


class TicketStatus(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_MEMBER = "waiting_member"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable, readable in SQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CleanString(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    member_no: Mapped[str | None] = mapped_column(String(50), unique=True)
    is_member: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_code: Mapped[str | None] = mapped_column(String(32))
    # Optional attributes from the member list, for announcement audiences. Matching keys:
    # lower-case; ``export_markets`` is ";us;eu;" (each market between semicolons).
    industry: Mapped[str | None] = mapped_column(CleanString(100))
    export_markets: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(CleanString(50))
    # Which of those the member list set (";industry;city;"): members cannot change these in
    # the bot (/profile), the next import would put the list's value back anyway.
    listed: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class User(Base):
    """A Telegram user as the bot knows them; the id is Telegram's user id."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(CleanString(255), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    telegram_lang: Mapped[str | None] = mapped_column(String(16))
    lang: Mapped[str | None] = mapped_column(String(2))  # explicit choice
    detected_lang: Mapped[str | None] = mapped_column(String(2))  # of their last message
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.MEMBER)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    contact_name: Mapped[str | None] = mapped_column(CleanString(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    dialog_state: Mapped[str | None] = mapped_column(String(40))
    dialog_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    blocked_bot_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, onupdate=utcnow
    )

    company: Mapped[Company | None] = relationship(lazy="raise")


class Question(Base):
    """Every free-text question a member asked, with the engine's decision."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(CleanText)
    lang: Mapped[str] = mapped_column(String(2))
    category: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))
    faq_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(default=0.0)
    # The engine answered but marked the question as possibly needing an expert.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, index=True
    )


class FaqView(Base):
    """An FAQ answer shown to a user, and what they said about it."""

    __tablename__ = "faq_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    source: Mapped[str] = mapped_column(String(12))  # answer | browse | suggestion | related
    lang: Mapped[str] = mapped_column(String(2))
    feedback: Mapped[str | None] = mapped_column(String(12))  # solved | expert
    feedback_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, index=True
    )


class Expert(Base):
    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    org_zh: Mapped[str] = mapped_column(String(200), default="")
    org_en: Mapped[str] = mapped_column(String(200), default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_open: Mapped[int] = mapped_column(Integer, default=10)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_tickets_year_seq"),
        Index("ix_tickets_status_priority", "status", "priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    lang: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(CleanText)
    faq_id: Mapped[str | None] = mapped_column(String(64))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.NEW
    )
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "priority"), default=Priority.NORMAL
    )
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"), index=True)
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    deadline_at: Mapped[datetime | None]
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str | None] = mapped_column(CleanText)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(CleanText)
    last_member_message_at: Mapped[datetime | None]
    last_expert_message_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, index=True
    )

    expert: Mapped[Expert | None] = relationship(lazy="raise")
    company: Mapped[Company | None] = relationship(lazy="raise")


class TicketEvent(Base):
    """Audit trail: who changed what on a ticket, when and why."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class TicketMessage(Base):
    """Everything said on a ticket: member ↔ expert relay and private staff notes."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    sender_id: Mapped[int] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(10))  # member | expert | note
    text: Mapped[str | None] = mapped_column(CleanText)
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_kind: Mapped[str | None] = mapped_column(String(12))  # photo | document
    file_name: Mapped[str | None] = mapped_column(String(255))
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    source_message_id: Mapped[int | None] = mapped_column(BigInteger)
    delivered_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    delivered_message_id: Mapped[int | None] = mapped_column(BigInteger)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class Reminder(Base):
    """A follow-up that must fire once; the scheduler is only a cache of these rows."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due", "status", "due_at"),
        # A lane claims one kind in due order (announcements: thousands due at once).
        Index("ix_reminders_kind_status_due", "kind", "status", "due_at", "id"),
        # the outbox sends in order per chat: "is an earlier row of this chat unsent?"
        Index("ix_reminders_recipient_status", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    # e.g. "unclaimed:42:1": scheduling the same follow-up twice is a no-op
    key: Mapped[str] = mapped_column(String(120), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ReminderStatus] = mapped_column(
        _enum(ReminderStatus, "reminder_status"), default=ReminderStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # When the send of the current claim began (committed before the request goes out): a
    # row left 'sending' with this set may have been delivered; at-most-once lanes never
    # send it again (bot.services.broadcast).
    attempted_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class SendPace(Base):
    """The next free sending slot of a paced lane, shared by every process (PostgreSQL):
    seconds since the epoch on the database's clock."""

    __tablename__ = "send_pace"

    lane: Mapped[str] = mapped_column(String(30), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class Consent(Base):
    """A member agreed to one version of the personal-data notice (shown before the profile
    dialogue collects anything); a new version of the notice is asked for again."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[str] = mapped_column(String(20))
    lang: Mapped[str] = mapped_column(String(2))
    accepted_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class Block(Base):
    """A user an admin stopped: one polite notice, then silence; only a counter is kept."""

    __tablename__ = "blocks"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    blocked_by: Mapped[int | None] = mapped_column(BigInteger)
    notified_at: Mapped[datetime | None]
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class FaqPhrasing(Base):
    """A member's wording that staff added to an FAQ entry from Telegram.

    The bot merges these into the knowledge base of faq/data/ (see bot/services/phrasings.py);
    ``ipdesk faq export`` writes them into the YAML files for review.
    """

    __tablename__ = "faq_phrasings"

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    lang: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(CleanString(300))
    # normalised text: one wording belongs to one entry
    text_key: Mapped[str] = mapped_column(String(300), unique=True)
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL")
    )
    added_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class FaqState(Base):
    """One row (id 1): the version of the stored phrasings, bumped by every change, so that
    each bot process sees cheaply whether its engine is out of date."""

    __tablename__ = "faq_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    phrasings_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class GapStatus(enum.StrEnum):
    PHRASING = "phrasing"  # added as a phrasing of an entry
    NEW_ENTRY = "new_entry"  # the knowledge base needs a new entry for it
    DISMISSED = "dismissed"  # not a gap (spam, off topic)


class FaqGapReview(Base):
    """What staff decided about a question the FAQ could not serve (one row per question)."""

    __tablename__ = "faq_gap_reviews"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    status: Mapped[GapStatus] = mapped_column(_enum(GapStatus, "gap_status"))
    faq_id: Mapped[str | None] = mapped_column(String(64))
    phrasing_id: Mapped[int | None] = mapped_column(
        ForeignKey("faq_phrasings.id", ondelete="SET NULL"), index=True
    )
    reviewed_by: Mapped[int] = mapped_column(BigInteger)
    reviewed_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


# -- outreach (issue 11): subscriptions, announcements, events ------------------------------


class Subscription(Base):
    """A member's explicit choice for one topic; without a row the topic's default applies."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, onupdate=utcnow
    )


class Event(Base):
    """A forum session or training course members can sign up for."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(CleanString(200))
    starts_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(CleanString(300))
    link: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)
    cancelled_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class Announcement(Base):
    """What staff tell members; each recipient is one outbox row (reminders, kind
    'announcement', key 'ann:<id>:<user id>')."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # news | event | alert
    topic: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # normal | high
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    author_id: Mapped[int] = mapped_column(BigInteger)
    compose_step: Mapped[str | None] = mapped_column(String(20))
    text_zh: Mapped[str | None] = mapped_column(CleanText)
    text_en: Mapped[str | None] = mapped_column(CleanText)
    media_kind: Mapped[str | None] = mapped_column(String(10))  # photo | document
    media_file_id: Mapped[str | None] = mapped_column(String(255))
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    scheduled_at: Mapped[datetime | None]
    planned_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class Registration(Base):
    """A member's sign-up for an event: registered, waiting (list) or cancelled."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_registrations_event_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # registered | waiting | cancelled
    company: Mapped[str | None] = mapped_column(CleanString(200))
    contact_name: Mapped[str | None] = mapped_column(CleanString(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id"))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # order of the waiting list
    checked_in_at: Mapped[datetime | None]
    feedback: Mapped[int | None] = mapped_column(Integer)
    feedback_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, onupdate=utcnow
    )


class AlertTicket(Base):
    """A ticket a member opened from an alert's "talk to an expert" button."""

    __tablename__ = "alert_tickets"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class InboxUpdate(Base):
    """An update as Telegram sent it, stored before it is confirmed (getUpdates offset) or
    answered (webhook 200) and handled from here once (bot/services/inbox.py).

    ``payload`` holds what members wrote: it is cleared when the update is done, and done rows
    (kept only so that a re-delivered update_id is recognised) are pruned after a day.
    """

    __tablename__ = "inbox_updates"
    __table_args__ = (Index("ix_inbox_updates_done_claimed", "done_at", "claimed_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[str | None] = mapped_column(Text)
    # the process handling it and when it took it (renewed while it runs); another process
    # takes over an unfinished update whose claim has expired
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    done_at: Mapped[datetime | None]
    # times its handling began (stored: the first; each resume or takeover adds one, committed
    # before handling); one that reaches the limit unfinished is failed instead (done_at set)
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    failed_at: Mapped[datetime | None]
