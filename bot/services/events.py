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
* **Staff edit** an event (:func:`parse_change`, :meth:`EventService.change`): a new date
  moves every registrant's reminders (pending ones are cancelled, new ones scheduled); a new
  date, place or link is told to registrants and the waiting list; more seats move the
  waiting list up; fewer seats than are taken are refused (nobody loses a seat).
* **Cancelling an event** (:meth:`EventService.cancel_event`) stops its reminders, and
  registrants and the waiting list are told in their language (at a civil hour, through the
  outbox); invitations to it that are not yet sent are not sent.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update
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
from db.models import (
    Announcement,
    Company,
    Event,
    Registration,
    Reminder,
    ReminderStatus,
    Role,
    User,
)
from db.session import SessionFactory, make_engine, make_session_factory

REGISTERED = "registered"
WAITING = "waiting"
CANCELLED = "cancelled"

K_DAY = "event_day"
K_HOUR = "event_hour"
K_SEAT = "event_seat"
K_FEEDBACK = "event_feedback"
K_CHANGED = "event_changed"
K_CANCELLED = "event_cancelled"
KINDS = (K_DAY, K_HOUR, K_SEAT, K_FEEDBACK, K_CHANGED, K_CANCELLED)
TIMED = (K_DAY, K_HOUR, K_FEEDBACK)
"""The reminders that follow the event's date."""
CHANGES = ("date", "place", "link", "capacity")
"""What staff may change with ``/event N <what> <value>``."""
"""Outbox kinds this module prepares (they travel in the follow-up lane)."""

CB_CANCEL = Cb.CANCEL_SIGNUP
CB_FEEDBACK = Cb.EVENT_FEEDBACK
CB_CHECKIN = Cb.CHECK_IN
CB_CANCEL_EVENT = Cb.CANCEL_EVENT

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
    title, where = lines[0][:200], lines[2][:300]
    starts = _parse_when(lines[1], zone, now)
    capacity = _parse_capacity(lines[3]) if len(lines) > 3 else None
    link = where if where.lower().startswith(("http://", "https://")) else None
    return EventInput(title, starts, None if link else where, link, capacity)


def _parse_when(text: str, zone: Any, now: datetime) -> datetime:
    """'YYYY-MM-DD HH:MM' local time, in the future, as UTC."""
    match = _WHEN.match(text)
    if match is None:
        raise EventError("ev_parse_when", text=text[:40])
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        starts = datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise EventError("ev_parse_when", text=text[:40]) from None
    if starts <= now:
        raise EventError("ev_parse_past")
    return starts


def _parse_capacity(text: str) -> int | None:
    """A seat count; 0 means unlimited (None)."""
    digits = text.strip()
    if not digits.isdigit() or len(digits) > 6:
        raise EventError("ev_parse_capacity", text=digits[:20])
    return int(digits) or None


@dataclass(frozen=True, slots=True)
class EventChange:
    """One edit: ``field`` in :data:`CHANGES`; ``value`` a UTC datetime (date), text (place,
    link) or a seat count (capacity; None: unlimited)."""

    field: str
    value: datetime | str | int | None


def parse_change(field: str, text: str, zone: Any, now: datetime) -> EventChange:
    """``/event N date 2027-01-20 14:00`` · ``place …`` · ``link https://…`` ·
    ``capacity 50`` (0: unlimited). Raises EventError with the catalog key on bad input."""
    field, text = field.lower(), text.strip()
    if field not in CHANGES:
        raise EventError("ev_usage")
    if not text:
        raise EventError("ev_change_empty")
    if field == "date":
        return EventChange(field, _parse_when(text, zone, now))
    if field == "capacity":
        return EventChange(field, _parse_capacity(text))
    if field == "link":
        if not text.lower().startswith(("http://", "https://")) or len(text) > 500:
            raise EventError("ev_change_link")
        return EventChange(field, text)
    return EventChange(field, text[:300])


@dataclass(frozen=True, slots=True)
class ChangeResult:
    summary: EventSummary
    told: int  # registrants and waiting members who will be told of the change
    promoted: tuple[int, ...]  # moved up from the waiting list (more seats)


@dataclass(frozen=True, slots=True)
class EventCancelled:
    event_id: int
    title: str
    told: int  # registrants and waiting members who will be told
    already: bool


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
    cancelled: bool = False


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


def _stamped(kind: str, event_id: int, user_id: int, now: datetime) -> str:
    """A key for a second row of the same kind for the same member (named by the time)."""
    return f"{kind}:{event_id}:{user_id}@{now.timestamp():.3f}"


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
            await self._cancel_like(
                s,
                *(f"{k}:{event_id}:{user_id}@%" for k in KINDS),
                reason="registration cancelled",
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

    async def change(
        self, actor_id: int, event_id: int, change: EventChange, now: datetime
    ) -> ChangeResult:
        """Apply one staff edit (see the module docstring)."""
        created: list[tuple[str, datetime]] = []
        async with self._sessions() as s, s.begin():
            await self._staff(s, actor_id)
            event = await s.get(Event, event_id, with_for_update=True)
            if event is None:
                raise NotFound(f"no event {event_id}")
            if event.cancelled_at is not None:
                raise EventError("ev_gone")
            if event.starts_at <= now:
                raise EventError("ev_past")
            people = await self._active(s, event_id)
            promoted: list[int] = []
            told = 0
            if change.field == "capacity":
                seats = change.value if isinstance(change.value, int) else None
                taken = await self._count(s, event_id, REGISTERED)
                if seats is not None and seats < taken:
                    raise EventError("ev_capacity_below", taken=taken)
                event.capacity = seats
                await s.flush()
                while (moved := await self._promote(s, event, now, created)) is not None:
                    promoted.append(moved)
            else:
                if change.field == "date":
                    assert isinstance(change.value, datetime)
                    event.starts_at = change.value
                    registered = [u for u, status in people if status == REGISTERED]
                    await self._cancel_timed(s, event_id, "event date changed")
                    for user_id in registered:
                        created += await self._schedule(s, event, user_id, now)
                elif change.field == "place":
                    event.place, event.link = str(change.value), None
                else:
                    event.link, event.place = str(change.value), None
                await self._cancel_like(s, f"{K_CHANGED}:{event_id}:%", reason="superseded")
                told = await self._tell(s, event, K_CHANGED, [u for u, _ in people], now, created)
            summary = await event_summary(s, event_id)
        self._notify(created)
        return ChangeResult(summary, told, tuple(promoted))

    async def cancel_event(self, actor_id: int, event_id: int, now: datetime) -> EventCancelled:
        """Cancel the event: reminders stop, registrants and the waiting list are told once."""
        created: list[tuple[str, datetime]] = []
        async with self._sessions() as s, s.begin():
            await self._staff(s, actor_id)
            event = await s.get(Event, event_id, with_for_update=True)
            if event is None:
                raise NotFound(f"no event {event_id}")
            if event.cancelled_at is not None:
                return EventCancelled(event.id, event.title, 0, True)
            event.cancelled_at = now
            await self._cancel_timed(s, event_id, "event cancelled")
            await self._cancel_like(s, f"{K_CHANGED}:{event_id}:%", reason="event cancelled")
            people = [u for u, _ in await self._active(s, event_id)]
            told = await self._tell(s, event, K_CANCELLED, people, now, created)
            title = event.title
        self._notify(created)
        return EventCancelled(event_id, title, told, False)

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
        if reminder.kind == K_CANCELLED:
            active = event.cancelled_at is not None and reg.status != CANCELLED
        elif reminder.kind == K_CHANGED:
            active = event.cancelled_at is None and reg.status != CANCELLED
        else:
            active = event.cancelled_at is None and reg.status == REGISTERED
        if not active:
            return Skip("registration no longer active")
        if user.blocked_bot_at is not None:
            return Skip("member blocked the bot", failed=True)
        lang = preferred_lang(user)
        when = format_datetime(event.starts_at, self.zone, lang)
        params = {"title": event.title, "when": when, "place": event.place or event.link or ""}
        if reminder.kind == K_CANCELLED:
            return Delivery(reminder, (Outgoing(user.id, "ev_event_cancelled", params, lang),))
        if reminder.kind == K_CHANGED:
            if event.starts_at <= now:
                return Skip("event has started")
            buttons = _cancel_button(event_id)
            out = Outgoing(user.id, f"ev_event_changed_{reg.status}", params, lang, buttons)
            return Delivery(reminder, (out,))
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
            # The plain key first; once it was used (a reminder sent, or cancelled because
            # the date moved or the member signed up again), a successor named by the time.
            for key in (_key(kind, event.id, user_id), _stamped(kind, event.id, user_id, now)):
                spec = ReminderSpec(
                    key=key,
                    kind=kind,
                    due_at=due,
                    recipient_id=user_id,
                    payload={"event": event.id},
                )
                if await schedule(s, spec):
                    created.append((key, due))
                    break
        return created

    async def _cancel_timed(self, s: AsyncSession, event_id: int, reason: str) -> None:
        """Cancel the pending date-bound reminders of every registrant of the event."""
        await self._cancel_like(s, *(f"{kind}:{event_id}:%" for kind in TIMED), reason=reason)

    @staticmethod
    async def _cancel_like(s: AsyncSession, *patterns: str, reason: str) -> None:
        """Cancel the pending outbox rows whose key matches one of the LIKE ``patterns``."""
        await s.execute(
            update(Reminder)
            .where(
                or_(*(Reminder.key.like(p) for p in patterns)),
                Reminder.status == ReminderStatus.PENDING,
            )
            .values(status=ReminderStatus.CANCELLED, last_error=reason)
            .execution_options(synchronize_session=False)
        )

    async def _active(self, s: AsyncSession, event_id: int) -> list[tuple[int, str]]:
        """(user id, status) of the registered and waiting members, in sign-up order."""
        rows = await s.execute(
            select(Registration.user_id, Registration.status)
            .where(Registration.event_id == event_id, Registration.status != CANCELLED)
            .order_by(Registration.queued_at, Registration.id)
        )
        return [(int(u), str(st)) for u, st in rows.all()]

    async def _tell(
        self,
        s: AsyncSession,
        event: Event,
        kind: str,
        users: Sequence[int],
        now: datetime,
        created: list[tuple[str, datetime]],
    ) -> int:
        """One outbox notice of ``kind`` to each user, at the next civil hour."""
        due = self._cal.next_civil_time(now)
        told = 0
        for user_id in users:
            # Each notice its own row, even for two edits within the same instant.
            key = f"{_stamped(kind, event.id, user_id, now)}.{secrets.token_hex(4)}"
            spec = ReminderSpec(
                key=key, kind=kind, due_at=due, recipient_id=user_id, payload={"event": event.id}
            )
            if await schedule(s, spec):
                created.append((key, due))
                told += 1
        return told

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
        event.cancelled_at is not None,
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
