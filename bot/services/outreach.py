"""Announcements: subscriptions, composing a draft, planning its recipients, cancelling,
progress and reports. Sending is the outbox's job (``bot/services/broadcast.py``).

Life of an announcement::

    draft ──confirm (now)──────▶ sending ──last row done──▶ sent
      │   └─confirm (later)─▶ scheduled ──due──▶ sending
      └──/cancel or a new /announce──▶ cancelled ◀──cancel (scheduled or sending)

Confirming plans the recipients in one transaction: one outbox row per member
(``reminders``, kind ``announcement``, key ``ann:<announcement>:<user>``, due at the
scheduled time), chosen by :func:`bot.services.audience.recipients_query`. The key makes a
second plan a no-op, the outbox claims each row once, and whether the member still wants the
topic, or has blocked the bot, is checked again when their row is sent. Cancelling marks the
rows not yet sent as cancelled; a row already claimed is checked against the announcement's
status before it is sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.audience import (
    DEFAULT_ON,
    INTEREST_TOPICS,
    TOPICS,
    Audience,
    recipients_query,
)
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.members import preferred_lang
from bot.services.roles import is_admin, load_actor
from db.models import (
    AlertTicket,
    Announcement,
    Event,
    Registration,
    Reminder,
    ReminderStatus,
    Role,
    Subscription,
    User,
    UTCDateTime,
)
from db.session import SessionFactory
from faq.models import Lang

log = logging.getLogger(__name__)

OUTBOX_KIND = "announcement"
"""The outbox kind of one announcement to one member; the paced broadcast lane claims it."""
KINDS = ("news", "event", "alert")
KIND_TOPIC = {"event": "events", "alert": "alerts"}
BODY_LIMIT = 3500  # visible characters: leaves room for the header and the event block
OPTED_OUT = "opted_out"
BLOCKED = "blocked"
IN_DOUBT = "in doubt"
"""``last_error`` prefix of a row whose send began without a clear answer: it may or may not
have reached the member and is never sent again (bot.services.broadcast)."""
CANCELLED = "announcement cancelled"

TYPED_STEPS = frozenset({"text_zh", "text_en", "media", "audience_filter", "event", "schedule"})
"""Draft steps that wait for the author's next message (the others wait for a button)."""


class ComposeError(DomainError):
    """Input the draft cannot take; ``text_key`` names the catalog text for the author."""

    def __init__(self, text_key: str, **params: object) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.params = params


_DRAFT_FIELDS = frozenset(
    {
        "step",
        "text_zh",
        "text_en",
        "media_kind",
        "media_file_id",
        "topic",
        "priority",
        "audience",
        "event_id",
    }
)


def may_announce(role: Role) -> bool:
    return is_admin(role) or role is Role.EDITOR


def outbox_key(announcement_id: int, user_id: int) -> str:
    return f"ann:{announcement_id}:{user_id}"


def _prefix(announcement_id: int) -> str:
    return f"ann:{announcement_id}:%"


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class Draft:
    """An announcement as its author and the preview see it."""

    id: int
    author_id: int
    kind: str
    topic: str | None
    priority: str
    status: str
    step: str | None
    text_zh: str | None
    text_en: str | None
    media_kind: str | None
    media_file_id: str | None
    audience: Audience
    event_id: int | None
    scheduled_at: datetime | None
    recipients: int
    progress_chat_id: int | None
    progress_message_id: int | None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in ("zh", "en") if self.text(lang))

    def text(self, lang: str) -> str | None:
        return self.text_zh if lang == "zh" else self.text_en

    @property
    def effective_topic(self) -> str | None:
        return KIND_TOPIC.get(self.kind, self.topic)


def as_draft(row: Announcement) -> Draft:
    return Draft(
        id=row.id,
        author_id=row.author_id,
        kind=row.kind,
        topic=row.topic,
        priority=row.priority,
        status=row.status,
        step=row.compose_step,
        text_zh=row.text_zh,
        text_en=row.text_en,
        media_kind=row.media_kind,
        media_file_id=row.media_file_id,
        audience=Audience.from_json(row.audience),
        event_id=row.event_id,
        scheduled_at=row.scheduled_at,
        recipients=row.recipients,
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
    )


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the sending of one announcement stands (counted from its outbox rows)."""

    announcement_id: int
    status: str
    recipients: int
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    opted_out: int = 0
    cancelled: int = 0
    in_doubt: int = 0  # of the failed: the send began, its answer was lost (never resent)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.opted_out + self.cancelled

    @property
    def waiting(self) -> int:
        return max(0, self.recipients - self.done)


@dataclass(frozen=True, slots=True)
class AnnouncementReport:
    progress: Progress
    kind: str
    topic: str | None
    created_at: datetime
    signups: int = 0
    waiting_list: int = 0
    attended: int = 0
    feedback_count: int = 0
    feedback_avg: float | None = None
    expert_tickets: int = 0


@dataclass(frozen=True, slots=True)
class OutreachSummary:
    """The weekly report's outreach section."""

    announcements: int
    reach: int
    signups: int
    attendance: int
    feedback_count: int
    satisfaction: float | None
    by_kind: dict[str, int] = field(default_factory=dict)


class OutreachService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self.composing: set[int] = set()
        """Authors whose draft waits for a typed message (the compose filter reads it)."""
        self.drafting: set[int] = set()
        """Authors with a draft at any step (their /cancel drops it)."""
        self._waker: Callable[[], None] | None = None
        self._stopper: Callable[[], Awaitable[None]] | None = None

    def attach_lane(self, wake: Callable[[], None], stop: Callable[[], Awaitable[None]]) -> None:
        """The sending lane's controls: wake (a confirmed announcement starts at once) and
        stop (at shutdown)."""
        self._waker, self._stopper = wake, stop

    async def stop_lane(self) -> None:
        if self._stopper is not None:
            await self._stopper()
            self._stopper = self._waker = None

    def wake_sender(self) -> None:
        if self._waker is not None:
            self._waker()

    async def lang_of(self, user_id: int) -> Lang:
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            return preferred_lang(user) if user is not None else "zh"

    # -- subscriptions -------------------------------------------------------------------

    async def subscriptions(self, user_id: int) -> dict[str, bool]:
        async with self._sessions() as s:
            rows = await s.execute(
                select(Subscription.topic, Subscription.enabled).where(
                    Subscription.user_id == user_id
                )
            )
            chosen = {topic: bool(enabled) for topic, enabled in rows.all()}
        return {t: chosen.get(t, t in DEFAULT_ON) for t in TOPICS}

    async def toggle(self, user_id: int, topic: str) -> dict[str, bool]:
        """Switch one topic for the member; returns all their topics."""
        if topic not in TOPICS:
            raise NotFound(f"no topic {topic!r}")
        async with self._sessions() as s, s.begin():
            if await s.get(User, user_id) is None:
                raise NotFound("unknown user")
            row = await s.get(Subscription, (user_id, topic), with_for_update=True)
            if row is None:
                s.add(Subscription(user_id=user_id, topic=topic, enabled=topic not in DEFAULT_ON))
            else:
                row.enabled = not row.enabled
        return await self.subscriptions(user_id)

    # -- composing -----------------------------------------------------------------------

    async def load_composing(self) -> int:
        """Rebuild the set of authors in a typed step (at start-up); their count."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(Announcement.author_id, Announcement.compose_step).where(
                    Announcement.status == "draft"
                )
            )
            drafts = rows.all()
        # In place: the compose filters hold these very sets.
        self.composing.clear()
        self.composing.update(a for a, step in drafts if step in TYPED_STEPS)
        self.drafting.clear()
        self.drafting.update(a for a, _ in drafts)
        return len(self.composing)

    async def start(self, author_id: int, kind: str) -> Draft:
        """A new draft of ``kind``; the author's older drafts are dropped."""
        if kind not in KINDS:
            raise ComposeError("ann_bad_kind")
        async with self._sessions() as s, s.begin():
            await self._authorise(s, author_id)
            await s.execute(
                update(Announcement)
                .where(Announcement.author_id == author_id, Announcement.status == "draft")
                .values(status="cancelled", compose_step=None, cancelled_at=_now())
            )
            row = Announcement(
                kind=kind,
                topic=KIND_TOPIC.get(kind),
                priority="normal",
                status="draft",
                author_id=author_id,
                compose_step="text_zh",
                audience={},
                recipients=0,
            )
            s.add(row)
            await s.flush()
            draft = as_draft(row)
        self._track(draft)
        return draft

    async def draft_of(self, author_id: int) -> Draft | None:
        async with self._sessions() as s:
            row = await s.scalar(
                select(Announcement)
                .where(Announcement.author_id == author_id, Announcement.status == "draft")
                .order_by(Announcement.id.desc())
                .limit(1)
            )
            return as_draft(row) if row is not None else None

    async def get(self, announcement_id: int) -> Draft:
        async with self._sessions() as s:
            row = await s.get(Announcement, announcement_id)
            if row is None:
                raise NotFound(f"no announcement {announcement_id}")
            return as_draft(row)

    async def update_draft(self, author_id: int, **values: Any) -> Draft:
        """Change the author's draft (fields of :class:`Announcement`; ``step`` for the step)."""
        unknown = set(values) - _DRAFT_FIELDS
        if unknown:
            raise ValueError(f"not a draft field: {sorted(unknown)}")
        if "step" in values:
            values["compose_step"] = values.pop("step")
        if "audience" in values and isinstance(values["audience"], Audience):
            values["audience"] = values["audience"].to_json()
        if "topic" in values and values["topic"] not in (None, *INTEREST_TOPICS):
            raise ComposeError("ann_bad_topic")
        async with self._sessions() as s, s.begin():
            await self._authorise(s, author_id)
            row = await s.scalar(
                select(Announcement)
                .where(Announcement.author_id == author_id, Announcement.status == "draft")
                .order_by(Announcement.id.desc())
                .limit(1)
                .with_for_update()
            )
            if row is None:
                raise ComposeError("ann_no_draft")
            for name, value in values.items():
                setattr(row, name, value)
            await s.flush()
            draft = as_draft(row)
        self._track(draft)
        return draft

    async def attach_event(
        self,
        author_id: int,
        title: str,
        starts_at: datetime,
        place: str | None,
        link: str | None,
        capacity: int | None,
        step: str,
    ) -> Draft:
        async with self._sessions() as s, s.begin():
            await self._authorise(s, author_id)
            event = Event(
                title=title,
                starts_at=starts_at,
                place=place,
                link=link,
                capacity=capacity,
                created_by=author_id,
            )
            s.add(event)
            await s.flush()
            event_id = event.id
        return await self.update_draft(author_id, event_id=event_id, step=step)

    async def discard(self, author_id: int) -> bool:
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Announcement)
                .where(Announcement.author_id == author_id, Announcement.status == "draft")
                .values(status="cancelled", compose_step=None, cancelled_at=_now())
            )
        self.composing.discard(author_id)
        self.drafting.discard(author_id)
        return _rowcount(result) > 0

    async def count(self, draft: Draft) -> dict[str, int]:
        """Recipients the draft would reach now, per language."""
        topic = draft.effective_topic
        if topic is None:
            return {}
        query = recipients_query(draft.audience, topic).subquery()
        async with self._sessions() as s:
            rows = await s.execute(select(query.c.lang, func.count()).group_by(query.c.lang))
            return {str(lang): int(n) for lang, n in rows.all()}

    async def confirm(
        self,
        author_id: int,
        now: datetime,
        at: datetime | None,
        progress_chat_id: int | None,
        progress_message_id: int | None,
    ) -> Draft:
        """Plan one outbox row per recipient, due ``at`` (or now); the draft is sent."""
        async with self._sessions() as s, s.begin():
            await self._authorise(s, author_id)
            row = await s.scalar(
                select(Announcement)
                .where(Announcement.author_id == author_id, Announcement.status == "draft")
                .order_by(Announcement.id.desc())
                .limit(1)
                .with_for_update()
            )
            if row is None:
                raise ComposeError("ann_no_draft")
            draft = as_draft(row)
            if not draft.languages:
                raise ComposeError("ann_no_text")
            topic = draft.effective_topic
            if topic is None:
                raise ComposeError("ann_bad_topic")
            due = at if at is not None and at > now else now
            count = await plan(s, draft.id, draft.audience, topic, due)
            row.recipients = count
            row.status = "scheduled" if due > now else "sending"
            row.scheduled_at = due
            row.planned_at = now
            row.compose_step = None
            row.progress_chat_id = progress_chat_id
            row.progress_message_id = progress_message_id
            if count == 0:
                row.status = "sent"
                row.finished_at = now
            await s.flush()
            draft = as_draft(row)
        self.composing.discard(author_id)
        self.drafting.discard(author_id)
        return draft

    async def set_progress_message(
        self, announcement_id: int, chat_id: int, message_id: int
    ) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id)
                .values(progress_chat_id=chat_id, progress_message_id=message_id)
            )

    async def cancel(self, actor_id: int, announcement_id: int) -> Progress:
        """Stop a scheduled or running announcement: rows not yet sent are cancelled."""
        async with self._sessions() as s, s.begin():
            await self._authorise(s, actor_id)
            row = await s.get(Announcement, announcement_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no announcement {announcement_id}")
            if row.status not in ("scheduled", "sending"):
                raise ComposeError("ann_not_cancellable", status=row.status)
            row.status = "cancelled"
            row.cancelled_at = _now()
            await s.execute(
                update(Reminder)
                .where(
                    Reminder.kind == OUTBOX_KIND,
                    Reminder.key.like(_prefix(announcement_id)),
                    Reminder.status == ReminderStatus.PENDING,
                )
                .values(status=ReminderStatus.CANCELLED, last_error=CANCELLED)
                .execution_options(synchronize_session=False)
            )
        return await self.progress(announcement_id)

    async def recent(self, limit: int = 10) -> list[Draft]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(Announcement)
                .where(Announcement.status != "draft")
                .order_by(Announcement.id.desc())
                .limit(limit)
            )
            return [as_draft(r) for r in rows.all()]

    async def _authorise(self, s: AsyncSession, user_id: int) -> None:
        actor = await load_actor(s, user_id)
        if not may_announce(actor.role):
            raise NotAllowed("only admins and editors may announce")

    def _track(self, draft: Draft) -> None:
        if draft.status == "draft" and draft.step in TYPED_STEPS:
            self.composing.add(draft.author_id)
        else:
            self.composing.discard(draft.author_id)
        if draft.status == "draft":
            self.drafting.add(draft.author_id)
        else:
            self.drafting.discard(draft.author_id)

    # -- reports ---------------------------------------------------------------------------

    async def report(self, announcement_id: int) -> AnnouncementReport:
        async with self._sessions() as s:
            progress = await progress_of(s, announcement_id)
            row = await s.get(Announcement, announcement_id)
            assert row is not None
            regs = (
                await s.execute(
                    select(
                        func.count().filter(Registration.status == "registered"),
                        func.count().filter(Registration.status == "waiting"),
                        func.count(Registration.checked_in_at),
                        func.count(Registration.feedback),
                        func.avg(Registration.feedback),
                    ).where(Registration.announcement_id == announcement_id)
                )
            ).one()
            tickets = await s.scalar(
                select(func.count())
                .select_from(AlertTicket)
                .where(AlertTicket.announcement_id == announcement_id)
            )
        return AnnouncementReport(
            progress=progress,
            kind=row.kind,
            topic=row.topic,
            created_at=row.created_at,
            signups=int(regs[0] or 0),
            waiting_list=int(regs[1] or 0),
            attended=int(regs[2] or 0),
            feedback_count=int(regs[3] or 0),
            feedback_avg=float(regs[4]) if regs[4] is not None else None,
            expert_tickets=int(tickets or 0),
        )

    async def summary(self, start: datetime, end: datetime) -> OutreachSummary:
        """Announcements planned in [start, end): how many, their reach (delivered), and the
        sign-ups, attendance and satisfaction of events that took place in the period."""
        async with self._sessions() as s:
            return await outreach_summary(s, start, end)

    async def link_alert_ticket(self, announcement_id: int, ticket_id: int) -> None:
        async with self._sessions() as s, s.begin():
            if await s.get(Announcement, announcement_id) is None:
                raise NotFound(f"no announcement {announcement_id}")
            if await s.get(AlertTicket, ticket_id) is None:
                s.add(AlertTicket(ticket_id=ticket_id, announcement_id=announcement_id))

    async def alert_summary(self, announcement_id: int) -> tuple[str, str]:
        """(kind, a one-line plain summary of the text) for the ticket opened from it."""
        async with self._sessions() as s:
            row = await s.get(Announcement, announcement_id)
            if row is None or row.status in ("draft",):
                raise NotFound(f"no announcement {announcement_id}")
            text = row.text_zh or row.text_en or ""
        return row.kind, plain_summary(text)

    # -- progress --------------------------------------------------------------------------

    async def progress(self, announcement_id: int) -> Progress:
        async with self._sessions() as s:
            return await progress_of(s, announcement_id)

    async def finish_if_done(self, announcement_id: int, now: datetime) -> Progress:
        """Mark a sending announcement sent once none of its rows waits; its progress."""
        async with self._sessions() as s, s.begin():
            progress = await progress_of(s, announcement_id)
            if progress.status in ("sending", "scheduled") and progress.waiting == 0:
                await s.execute(
                    update(Announcement)
                    .where(
                        Announcement.id == announcement_id,
                        Announcement.status.in_(("sending", "scheduled")),
                    )
                    .values(status="sent", finished_at=now)
                )
                progress = await progress_of(s, announcement_id)
        return progress

    async def start_due(self, now: datetime) -> list[int]:
        """Scheduled announcements whose time has come become 'sending'; their ids."""
        async with self._sessions() as s, s.begin():
            ids = list(
                (
                    await s.scalars(
                        select(Announcement.id).where(
                            Announcement.status == "scheduled", Announcement.scheduled_at <= now
                        )
                    )
                ).all()
            )
            if ids:
                await s.execute(
                    update(Announcement)
                    .where(Announcement.id.in_(ids), Announcement.status == "scheduled")
                    .values(status="sending")
                )
        return ids

    async def running(self) -> list[int]:
        async with self._sessions() as s:
            rows = await s.scalars(select(Announcement.id).where(Announcement.status == "sending"))
            return list(rows.all())


def _now() -> datetime:
    return datetime.now(UTC)


async def plan(
    s: AsyncSession, announcement_id: int, audience: Audience, topic: str, due: datetime
) -> int:
    """One pending outbox row per recipient, in one INSERT … SELECT; rows created."""
    members = recipients_query(audience, topic).subquery()
    key = literal(f"ann:{announcement_id}:") + cast(members.c.id, String)
    rows = select(
        literal(OUTBOX_KIND).label("kind"),
        key.label("key"),
        members.c.id.label("recipient_id"),
        literal(due, type_=UTCDateTime()).label("due_at"),
        literal({"a": announcement_id}, type_=JSON()).label("payload"),
        literal(ReminderStatus.PENDING.value).label("status"),
        literal(0).label("attempts"),
    )
    result = await s.execute(
        insert(Reminder).from_select(
            ["kind", "key", "recipient_id", "due_at", "payload", "status", "attempts"], rows
        )
    )
    count = _rowcount(result)
    if count < 0:  # some drivers do not report INSERT … SELECT counts
        count = int(
            await s.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.kind == OUTBOX_KIND, Reminder.key.like(_prefix(announcement_id)))
            )
            or 0
        )
    return count


async def progress_of(s: AsyncSession, announcement_id: int) -> Progress:
    row = await s.get(Announcement, announcement_id)
    if row is None:
        raise NotFound(f"no announcement {announcement_id}")
    blocked = Reminder.last_error.like(f"{BLOCKED}%")
    kind_col = case_status(blocked)
    rows = await s.execute(
        select(kind_col, func.count())
        .where(Reminder.kind == OUTBOX_KIND, Reminder.key.like(_prefix(announcement_id)))
        .group_by(kind_col)
    )
    counts = {str(k): int(n) for k, n in rows.all()}
    in_doubt = await s.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(
            Reminder.kind == OUTBOX_KIND,
            Reminder.key.like(_prefix(announcement_id)),
            Reminder.status == ReminderStatus.FAILED,
            Reminder.last_error.like(f"{IN_DOUBT}%"),
        )
    )
    return Progress(
        announcement_id=announcement_id,
        status=row.status,
        recipients=row.recipients,
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        blocked=counts.get("blocked", 0),
        opted_out=counts.get("opted_out", 0),
        cancelled=counts.get("cancelled", 0),
        in_doubt=int(in_doubt or 0),
    )


def case_status(blocked: Any) -> Any:
    """Outbox row → report bucket: sent, failed, blocked, opted_out, cancelled, waiting."""
    return case(
        (Reminder.status == ReminderStatus.SENT, "sent"),
        (and_(Reminder.status == ReminderStatus.FAILED, blocked), "blocked"),
        (Reminder.status == ReminderStatus.FAILED, "failed"),
        (
            and_(Reminder.status == ReminderStatus.CANCELLED, Reminder.last_error == OPTED_OUT),
            "opted_out",
        ),
        (Reminder.status == ReminderStatus.CANCELLED, "cancelled"),
        else_="waiting",
    )


def plain_summary(html_text: str, limit: int = 120) -> str:
    """The first line of an announcement as plain text, cut at ``limit`` characters."""
    plain = unescape(re.sub(r"<[^>]+>", "", html_text)).strip()
    first = plain.splitlines()[0] if plain else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


async def outreach_summary(s: AsyncSession, start: datetime, end: datetime) -> OutreachSummary:
    rows = await s.execute(
        select(Announcement.kind, func.count())
        .where(
            Announcement.planned_at >= start,
            Announcement.planned_at < end,
            Announcement.status.in_(("sending", "sent", "scheduled", "cancelled")),
        )
        .group_by(Announcement.kind)
    )
    by_kind = {str(k): int(n) for k, n in rows.all()}
    reach = await s.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(
            Reminder.kind == OUTBOX_KIND,
            Reminder.status == ReminderStatus.SENT,
            Reminder.sent_at >= start,
            Reminder.sent_at < end,
        )
    )
    signups = await s.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.created_at >= start, Registration.created_at < end)
    )
    held = (
        await s.execute(
            select(
                func.count(Registration.checked_in_at),
                func.count(Registration.feedback),
                func.avg(Registration.feedback),
            )
            .join(Event, Event.id == Registration.event_id)
            .where(Event.starts_at >= start, Event.starts_at < end)
        )
    ).one()
    return OutreachSummary(
        announcements=sum(by_kind.values()),
        reach=int(reach or 0),
        signups=int(signups or 0),
        attendance=int(held[0] or 0),
        feedback_count=int(held[1] or 0),
        satisfaction=float(held[2]) if held[2] is not None else None,
        by_kind=by_kind,
    )


# -- personal data (called by bot.services.privacy) -------------------------------------------


async def export_member(s: AsyncSession, user_id: int) -> dict[str, Any]:
    """What outreach keeps about a member, for /mydata."""
    subs = (
        await s.execute(
            select(Subscription.topic, Subscription.enabled).where(Subscription.user_id == user_id)
        )
    ).all()
    regs = (
        await s.execute(
            select(Registration, Event.title, Event.starts_at)
            .join(Event, Event.id == Registration.event_id)
            .where(Registration.user_id == user_id)
            .order_by(Registration.id)
        )
    ).all()
    return {
        "subscriptions": {str(t): bool(e) for t, e in subs},
        "event_registrations": [
            {
                "event": title,
                "starts_at": starts.isoformat(),
                "status": r.status,
                "company": r.company,
                "contact_name": r.contact_name,
                "phone": r.phone,
                "checked_in_at": r.checked_in_at.isoformat() if r.checked_in_at else None,
                "feedback": r.feedback,
            }
            for r, title, starts in regs
        ],
    }


async def forget_member(s: AsyncSession, user_id: int, stand_in: int) -> None:
    """/forget: topic choices go; registrations move to the anonymous stand-in without the
    company, contact and phone (attendance and feedback still count)."""
    await s.execute(delete(Subscription).where(Subscription.user_id == user_id))
    await s.execute(
        update(Registration)
        .where(Registration.user_id == user_id)
        .values(user_id=stand_in, company=None, contact_name=None, phone=None)
    )


async def expire_registrations(s: AsyncSession, cutoff: datetime) -> int:
    """Retention: the contact and phone kept on sign-ups of events before ``cutoff``."""
    past = select(Event.id).where(Event.starts_at < cutoff).scalar_subquery()
    result = await s.execute(
        update(Registration)
        .where(
            Registration.event_id.in_(past),
            (Registration.contact_name.is_not(None)) | (Registration.phone.is_not(None)),
        )
        .values(contact_name=None, phone=None)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)
