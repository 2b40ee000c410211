"""Events (forum sessions, training courses): sign-up, waiting list, reminders, check-in,
feedback, the registration list as CSV.

* **Sign-up** takes the company, contact and phone from the member's profile at that moment.
  The event row is locked while seats are counted, so two members can never take the last
  seat together; when the event is full the member goes on the waiting list.
* **Cancelling** a seat moves the first member of the waiting list up (oldest first) and
  tells them through the outbox.
* **Reminders** are outbox rows like every other follow-up, created at sign-up: the day
  before at 10:00 (or the start of civil hours, if later) and an hour before — moved into
  civil hours, or left out when that hour is before civil hours (the day-before reminder has
  done it). After the event, a 1–5 feedback question (to those checked in, when staff checked
  anyone in; else to everyone registered). Each is checked again when it is due: a cancelled
  registration or event is not reminded.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.calendar import WorkCalendar
from bot.services.callback_codes import Cb
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.followups import Button, Delivery, Outgoing, Skip
from bot.services.members import preferred_lang
from bot.services.reminders import ClaimedReminder, ReminderSpec, cancel_keys, schedule
from bot.services.roles import is_staff, load_actor
from bot.services.timefmt import format_datetime
from bot.settings import Settings
from db.models import Announcement, Company, Event, Registration, Role, User
from db.session import SessionFactory, make_engine, make_session_factory

REGISTERED = "registered"
WAITING = "waiting"
CANCELLED = "cancelled"

K_DAY = "event_day"
K_HOUR = "event_hour"
K_SEAT = "event_seat"
K_FEEDBACK = "event_feedback"
KINDS = (K_DAY, K_HOUR, K_SEAT, K_FEEDBACK)
"""Outbox kinds this module prepares (they travel in the follow-up lane)."""

CB_CANCEL = Cb.CANCEL_SIGNUP
CB_FEEDBACK = Cb.EVENT_FEEDBACK
CB_CHECKIN = Cb.CHECK_IN

DAY_BEFORE_AT = time(10, 0)
FEEDBACK_AFTER = timedelta(hours=3)


ScheduleHook = Callable[[Sequence[tuple[str, datetime]]], None]


class EventError(DomainError):
    def __init__(self, text_key: str, **params: object) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.params = params


@dataclass(frozen=True, slots=True)
class EventInput:
    title: str
    starts_at: datetime
    place: str | None
    link: str | None
    capacity: int | None


_WHEN = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s+(\d{1,2})[:：](\d{2})\s*$")


def parse_event(text: str, zone: Any, now: datetime) -> EventInput:
    """Four lines: title; 'YYYY-MM-DD HH:MM' (local); place or https link; capacity (optional,
    0 or empty: unlimited)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 3:
        raise EventError("ev_parse_lines")
    title, when_text, where = lines[0][:200], lines[1], lines[2][:300]
    match = _WHEN.match(when_text)
    if match is None:
        raise EventError("ev_parse_when", text=when_text[:40])
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        starts = datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise EventError("ev_parse_when", text=when_text[:40]) from None
    if starts <= now:
        raise EventError("ev_parse_past")
    capacity: int | None = None
    if len(lines) > 3:
        digits = lines[3].strip()
        if not digits.isdigit() or len(digits) > 6:
            raise EventError("ev_parse_capacity", text=digits[:20])
        capacity = int(digits) or None
    link = where if where.lower().startswith(("http://", "https://")) else None
    return EventInput(title, starts, None if link else where, link, capacity)


@dataclass(frozen=True, slots=True)
class SignupResult:
    event_id: int
    title: str
    starts_at: datetime
    status: str  # registered | waiting
    already: bool
    position: int = 0  # place on the waiting list


@dataclass(frozen=True, slots=True)
class CancelResult:
    event_id: int
    title: str
    promoted_user_id: int | None


@dataclass(frozen=True, slots=True)
class MyEvent:
    event_id: int
    title: str
    starts_at: datetime
    status: str
    place: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    id: int
    user_id: int
    status: str
    company: str | None
    contact_name: str | None
    phone: str | None
    created_at: datetime
    checked_in_at: datetime | None
    feedback: int | None


@dataclass(frozen=True, slots=True)
class EventSummary:
    event_id: int
    title: str
    starts_at: datetime
    capacity: int | None
    registered: int
    waiting: int
    checked_in: int
    feedback_count: int
    feedback_avg: float | None


def reminder_times(cal: WorkCalendar, starts_at: datetime) -> dict[str, datetime | None]:
    """When each reminder of an event starting at ``starts_at`` is due (None: not sent)."""
    local_day = cal.local_date(starts_at)
    day_clock = max(DAY_BEFORE_AT, cal.civil_start)
    day_before: datetime | None = cal.local_instant(local_day - timedelta(days=1), day_clock)
    hour_before: datetime | None = starts_at - timedelta(hours=1)
    assert hour_before is not None
    if not cal.is_civil_time(hour_before):
        civil_end = cal.local_instant(local_day, cal.civil_end)
        civil_start = cal.local_instant(local_day, cal.civil_start)
        if hour_before >= civil_end:
            hour_before = civil_end - timedelta(minutes=30)
        elif hour_before < civil_start:
            hour_before = None
    return {
        K_DAY: day_before,
        K_HOUR: hour_before,
        K_FEEDBACK: cal.next_civil_time(starts_at + FEEDBACK_AFTER),
    }


def _key(kind: str, event_id: int, user_id: int) -> str:
    return f"{kind}:{event_id}:{user_id}"


class EventService:
    def __init__(self, sessions: SessionFactory, calendar: WorkCalendar) -> None:
        self._sessions = sessions
        self._cal = calendar
        self.zone = calendar.zone
        self._hook: ScheduleHook | None = None

    def set_schedule_hook(self, hook: ScheduleHook) -> None:
        """Told (key, due) of each reminder created, after its commit: the JobQueue then
        sends those due soon (a moved-up member's notice) at once, not at the next tick."""
        self._hook = hook

    def _notify(self, created: list[tuple[str, datetime]]) -> None:
        if created and self._hook is not None:
            self._hook(created)

    # -- members ------------------------------------------------------------------------------

    async def signup(
        self, event_id: int, user_id: int, announcement_id: int | None, now: datetime
    ) -> SignupResult:
        created: list[tuple[str, datetime]] = []
        result = await self._signup(event_id, user_id, announcement_id, now, created)
        self._notify(created)
        return result

    async def _signup(
        self,
        event_id: int,
        user_id: int,
        announcement_id: int | None,
        now: datetime,
        created: list[tuple[str, datetime]],
    ) -> SignupResult:
        async with self._sessions() as s, s.begin():
            event = await s.get(Event, event_id, with_for_update=True)
            if event is None or event.cancelled_at is not None:
                raise EventError("ev_gone")
            if event.starts_at <= now:
                raise EventError("ev_past")
            user = await s.get(User, user_id)
            if user is None:
                raise NotFound("unknown user")
            reg = await s.scalar(
                select(Registration).where(
                    Registration.event_id == event_id, Registration.user_id == user_id
                )
            )
            if reg is not None and reg.status != CANCELLED:
                position = await self._position(s, reg) if reg.status == WAITING else 0
                return SignupResult(
                    event_id, event.title, event.starts_at, reg.status, True, position
                )
            taken = await self._count(s, event_id, REGISTERED)
            status = REGISTERED if event.capacity is None or taken < event.capacity else WAITING
            company = (
                await s.scalar(select(Company.name).where(Company.id == user.company_id))
                if user.company_id
                else None
            )
            if reg is None:
                reg = Registration(event_id=event_id, user_id=user_id, created_at=now)
                s.add(reg)
            reg.status = status
            reg.company = company
            reg.contact_name = user.contact_name
            reg.phone = user.phone
            # From the button: trusted only if that announcement exists and carried this event.
            reg.announcement_id = await s.scalar(
                select(Announcement.id).where(
                    Announcement.id == (announcement_id or 0), Announcement.event_id == event_id
                )
            )
            reg.queued_at = now
            await s.flush()
            if status == REGISTERED:
                created += await self._schedule(s, event, user_id, now)
            position = await self._position(s, reg) if status == WAITING else 0
            return SignupResult(event_id, event.title, event.starts_at, status, False, position)

    async def cancel(self, event_id: int, user_id: int, now: datetime) -> CancelResult:
        created: list[tuple[str, datetime]] = []
        result = await self._cancel(event_id, user_id, now, created)
        self._notify(created)
        return result

    async def _cancel(
        self, event_id: int, user_id: int, now: datetime, created: list[tuple[str, datetime]]
    ) -> CancelResult:
        async with self._sessions() as s, s.begin():
            event = await s.get(Event, event_id, with_for_update=True)
            if event is None:
                raise EventError("ev_gone")
            reg = await s.scalar(
                select(Registration).where(
                    Registration.event_id == event_id,
                    Registration.user_id == user_id,
                    Registration.status != CANCELLED,
                )
            )
            if reg is None:
                raise EventError("ev_not_registered")
            had_seat = reg.status == REGISTERED
            reg.status = CANCELLED
            await cancel_keys(
                s, [_key(k, event_id, user_id) for k in KINDS], "registration cancelled"
            )
            promoted = None
            if had_seat and event.starts_at > now:
                promoted = await self._promote(s, event, now, created)
            return CancelResult(event_id, event.title, promoted)

    async def mine(self, user_id: int, now: datetime) -> list[MyEvent]:
        """The member's registrations (and waiting-list places) for events not yet over."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(Event, Registration.status)
                .join(Registration, Registration.event_id == Event.id)
                .where(
                    Registration.user_id == user_id,
                    Registration.status != CANCELLED,
                    Event.cancelled_at.is_(None),
                    Event.starts_at > now - timedelta(hours=3),
                )
                .order_by(Event.starts_at)
            )
            return [
                MyEvent(e.id, e.title, e.starts_at, status, e.place, e.link)
                for e, status in rows.all()
            ]

    async def feedback(self, event_id: int, user_id: int, stars: int, now: datetime) -> int:
        if not 1 <= stars <= 5:
            raise EventError("ev_feedback_range")
        async with self._sessions() as s, s.begin():
            reg = await s.scalar(
                select(Registration).where(
                    Registration.event_id == event_id,
                    Registration.user_id == user_id,
                    Registration.status == REGISTERED,
                )
            )
            if reg is None:
                raise EventError("ev_not_registered")
            reg.feedback = stars
            reg.feedback_at = now
            return stars

    # -- staff --------------------------------------------------------------------------------

    async def _staff(self, s: AsyncSession, actor_id: int) -> None:
        actor = await load_actor(s, actor_id)
        if not (is_staff(actor.role) or actor.role is Role.EDITOR):
            raise NotAllowed("events are for staff")

    async def summary(self, actor_id: int | None, event_id: int) -> EventSummary:
        async with self._sessions() as s:
            if actor_id is not None:
                await self._staff(s, actor_id)
            return await event_summary(s, event_id)

    async def registrations(self, actor_id: int | None, event_id: int) -> list[RegistrationRow]:
        """Everyone who signed up, in sign-up order (``actor_id`` None: the command line)."""
        async with self._sessions() as s:
            if actor_id is not None:
                await self._staff(s, actor_id)
            if await s.get(Event, event_id) is None:
                raise NotFound(f"no event {event_id}")
            rows = await s.scalars(
                select(Registration)
                .where(Registration.event_id == event_id)
                .order_by(Registration.queued_at, Registration.id)
            )
            return [
                RegistrationRow(
                    r.id,
                    r.user_id,
                    r.status,
                    r.company,
                    r.contact_name,
                    r.phone,
                    r.created_at,
                    r.checked_in_at,
                    r.feedback,
                )
                for r in rows.all()
            ]

    async def export_csv(self, actor_id: int | None, event_id: int) -> str:
        rows = await self.registrations(actor_id, event_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "registration",
                "status",
                "company",
                "contact",
                "phone",
                "telegram_user_id",
                "signed_up",
                "checked_in",
                "feedback",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.id,
                    r.status,
                    _cell(r.company),
                    _cell(r.contact_name),
                    _cell(r.phone),
                    r.user_id,
                    r.created_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
                    r.checked_in_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
                    if r.checked_in_at
                    else "",
                    r.feedback or "",
                ]
            )
        return out.getvalue()

    async def check_in(
        self, actor_id: int, event_id: int, registration_id: int, now: datetime
    ) -> RegistrationRow:
        async with self._sessions() as s, s.begin():
            await self._staff(s, actor_id)
            reg = await s.get(Registration, registration_id)
            if reg is None or reg.event_id != event_id or reg.status != REGISTERED:
                raise EventError("ev_checkin_unknown", registration=registration_id)
            if reg.checked_in_at is None:
                reg.checked_in_at = now
            return RegistrationRow(
                reg.id,
                reg.user_id,
                reg.status,
                reg.company,
                reg.contact_name,
                reg.phone,
                reg.created_at,
                reg.checked_in_at,
                reg.feedback,
            )

    async def upcoming(self, now: datetime, limit: int = 20) -> list[EventSummary]:
        async with self._sessions() as s:
            ids = await s.scalars(
                select(Event.id)
                .where(Event.starts_at > now - timedelta(days=7), Event.cancelled_at.is_(None))
                .order_by(Event.starts_at)
                .limit(limit)
            )
            return [await event_summary(s, i) for i in ids.all()]

    # -- the outbox ---------------------------------------------------------------------------

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        event_id = int(reminder.payload.get("event", 0))
        user_id = reminder.recipient_id
        async with self._sessions() as s:
            event = await s.get(Event, event_id)
            user = await s.get(User, user_id) if user_id is not None else None
            reg = await s.scalar(
                select(Registration).where(
                    Registration.event_id == event_id, Registration.user_id == user_id
                )
            )
            anyone_in = await s.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.event_id == event_id, Registration.checked_in_at.isnot(None))
            )
        if event is None or user is None or reg is None:
            return Skip("event or registration gone")
        if event.cancelled_at is not None or reg.status != REGISTERED:
            return Skip("registration no longer active")
        if user.blocked_bot_at is not None:
            return Skip("member blocked the bot", failed=True)
        lang = preferred_lang(user)
        when = format_datetime(event.starts_at, self.zone, lang)
        params = {"title": event.title, "when": when, "place": event.place or event.link or ""}
        if reminder.kind == K_FEEDBACK:
            if anyone_in and reg.checked_in_at is None:
                return Skip("did not attend")
            buttons = (
                tuple(
                    Button("fu_btn_rate", CB_FEEDBACK, f"{event_id}.{n}", {"n": n})
                    for n in range(1, 6)
                ),
            )
            out = Outgoing(user.id, "ev_feedback_ask", params, lang, buttons)
        elif reminder.kind == K_SEAT:
            out = Outgoing(user.id, "ev_promoted", params, lang, _cancel_button(event_id))
        elif reminder.kind in (K_DAY, K_HOUR):
            if event.starts_at <= now:
                return Skip("event has started")
            key = "ev_reminder_day" if reminder.kind == K_DAY else "ev_reminder_hour"
            out = Outgoing(user.id, key, params, lang, _cancel_button(event_id))
        else:
            return Skip(f"unknown event reminder {reminder.kind!r}", failed=True)
        return Delivery(reminder, (out,))

    # -- internals ----------------------------------------------------------------------------

    async def _schedule(
        self, s: AsyncSession, event: Event, user_id: int, now: datetime
    ) -> list[tuple[str, datetime]]:
        created = []
        for kind, due in reminder_times(self._cal, event.starts_at).items():
            if due is None or due <= now:
                continue
            key = _key(kind, event.id, user_id)
            spec = ReminderSpec(
                key=key, kind=kind, due_at=due, recipient_id=user_id, payload={"event": event.id}
            )
            if await schedule(s, spec):
                created.append((key, due))
        return created

    async def _promote(
        self, s: AsyncSession, event: Event, now: datetime, created: list[tuple[str, datetime]]
    ) -> int | None:
        if event.capacity is not None:
            taken = await self._count(s, event.id, REGISTERED)
            if taken >= event.capacity:
                return None
        nxt = await s.scalar(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status == WAITING)
            .order_by(Registration.queued_at, Registration.id)
            .limit(1)
        )
        if nxt is None:
            return None
        nxt.status = REGISTERED
        await s.flush()
        created += await self._schedule(s, event, nxt.user_id, now)
        key = f"{K_SEAT}:{event.id}:{nxt.user_id}:{int(now.timestamp())}"
        seat = ReminderSpec(
            key=key, kind=K_SEAT, due_at=now, recipient_id=nxt.user_id, payload={"event": event.id}
        )
        if await schedule(s, seat):
            created.append((key, now))
        return nxt.user_id

    @staticmethod
    async def _count(s: AsyncSession, event_id: int, status: str) -> int:
        n = await s.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == event_id, Registration.status == status)
        )
        return int(n or 0)

    @staticmethod
    async def _position(s: AsyncSession, reg: Registration) -> int:
        n = await s.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == reg.event_id,
                Registration.status == WAITING,
                (Registration.queued_at < reg.queued_at)
                | ((Registration.queued_at == reg.queued_at) & (Registration.id <= reg.id)),
            )
        )
        return int(n or 0)


def _cancel_button(event_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button("ev_btn_cancel", CB_CANCEL, str(event_id)),),)


def _cell(value: str | None) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


async def event_summary(s: AsyncSession, event_id: int) -> EventSummary:
    event = await s.get(Event, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    rows = await s.execute(
        select(Registration.status, func.count())
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    )
    counts = {str(k): int(n) for k, n in rows.all()}
    checked = await s.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event_id, Registration.checked_in_at.isnot(None))
    )
    fb = (
        await s.execute(
            select(func.count(Registration.feedback), func.avg(Registration.feedback)).where(
                Registration.event_id == event_id, Registration.feedback.isnot(None)
            )
        )
    ).one()
    return EventSummary(
        event.id,
        event.title,
        event.starts_at,
        event.capacity,
        counts.get(REGISTERED, 0),
        counts.get(WAITING, 0),
        int(checked or 0),
        int(fb[0] or 0),
        float(fb[1]) if fb[1] is not None else None,
    )


class Preparer(Protocol):
    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip: ...


class KindRouter:
    """The follow-up lane's preparer: event reminders here, everything else to ``default``
    (the follow-up rules)."""

    def __init__(self, default: Preparer, events: EventService) -> None:
        self._default = default
        self._events = events

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        if reminder.kind in KINDS:
            return await self._events.prepare(reminder, now)
        return await self._default.prepare(reminder, now)


async def export_csv_url(settings: Settings, event_id: int) -> str:
    """``ipdesk events export``: open the database, export, dispose of the engine."""
    from bot.followup_config import build_calendar

    engine = make_engine(settings.database_url)
    try:
        service = EventService(make_session_factory(engine), build_calendar(settings))
        return await service.export_csv(None, event_id)
    finally:
        await engine.dispose()
