"""Follow-up rules: which reminders a ticket needs, and what a due reminder says (if anything).

Two halves, both free of Telegram:

1. **Scheduling** is state-driven. After anything happens to a ticket (opened, assigned,
   claimed, a message either way, waiting for the member, resolved, closed, reopened, deadline
   set or changed) call :meth:`FollowupService.on_ticket_event` — or :func:`sync_ticket` inside
   your own transaction. It computes the reminders the ticket's *current* state calls for
   (:func:`desired_reminders`, a pure function), creates the missing ones (idempotent by key)
   and cancels pending ones the state no longer calls for. Keys carry the instant they are
   anchored to (e.g. the member's last message), so a new message starts a new chain.

2. **Sending**: the scheduler claims a due row and asks :meth:`FollowupService.prepare`
   whether it is still relevant *now* (the ticket may have been claimed, answered or resolved
   since) and what to send. The answer is a :class:`Delivery` of plain :class:`Outgoing`
   messages (chat id, catalog key, values, language, button spec) or a :class:`Skip`.
   Auto-closing and the urgent flag are applied here, in the database, before sending.

Staff reminders land in working hours (the calendar adds *working* hours; deadline and report
times are moved onto working time); member messages are moved into civil hours.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import load_catalog
from bot.services.calendar import WorkCalendar
from bot.services.callback_codes import Cb
from bot.services.errors import DomainError, NotAllowed, NotFound, StaleAction
from bot.services.members import preferred_lang
from bot.services.reminders import (
    ClaimedReminder,
    ReminderKind,
    ReminderSpec,
    cancel_keys,
    pending_for_ticket,
    schedule,
)
from bot.services.stats import StatsService, day_range, render_text
from db.models import (
    Company,
    Expert,
    Priority,
    Role,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
)
from db.session import SessionFactory
from faq.models import Lang

log = logging.getLogger(__name__)

K = ReminderKind

# Callback codes of the buttons below (all codes: bot.services.callback_codes).
CB_RATE = Cb.RATE
CB_NOT_SOLVED = Cb.NOT_SOLVED
CB_REOPEN = Cb.REOPEN
CB_REASSIGN = Cb.REASSIGN_MENU
CB_TICKET = Cb.TICKET_VIEW

OPEN = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING_MEMBER,
    }
)
UNCLAIMED_STATES = frozenset({TicketStatus.NEW, TicketStatus.ASSIGNED})
EXPERT_STATES = frozenset({TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS})
DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
# Kinds derived from the ticket's state (reconciled by sync); return visits are explicit.
MANAGED_KINDS = frozenset(
    {
        K.UNCLAIMED,
        K.UNCLAIMED_ADMIN,
        K.EXPERT_WAITING,
        K.EXPERT_ESCALATION,
        K.MEMBER_NUDGE,
        K.MEMBER_AUTOCLOSE,
        K.CHECKIN,
        K.DEADLINE,
    }
)
EXCERPT = 200
NOTE_MAX = 500


# -- policy -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowupPolicy:
    """Every interval of the follow-up rules; the application builds it from settings."""

    staff_chat_id: int | None = None  # STAFF_CHAT_ID
    admin_ids: tuple[int, ...] = ()  # ADMIN_USER_IDS (users with role admin are added)
    staff_lang: Lang = "zh"  # STAFF_LANG: language of staff-group messages
    unclaimed_hours: float = 2.0  # UNCLAIMED_REMINDER_HOURS (working) → staff group
    unclaimed_admin_hours: float = 2.0  # UNCLAIMED_ADMIN_HOURS (working, after that) → admins
    expert_reminder_days: float = 1.0  # EXPERT_REMINDER_DAYS: working days after member msg
    expert_reminders: int = 2  # EXPERT_REMINDER_COUNT: to the expert before admins are told
    member_nudge_days: float = 3.0  # MEMBER_NUDGE_DAYS (calendar days, civil hours)
    member_close_days: float = 7.0  # MEMBER_CLOSE_DAYS (calendar days, civil hours)
    checkin_days: float = 3.0  # CHECKIN_DAYS after resolution (civil hours)
    deadline_days: tuple[int, ...] = (7, 3, 1)  # DEADLINE_REMINDER_DAYS
    urgent_within_days: int = 3  # DEADLINE_URGENT_DAYS: priority → urgent
    report_weekday: int = 0  # REPORT_WEEKDAY (Monday = 0)
    report_time: time = time(9, 0)  # REPORT_TIME (local)
    report_weeks: int = 8  # REPORT_CHART_WEEKS
    report_gaps: int = 5  # REPORT_GAPS: FAQ gaps listed in the weekly report
    return_visit_max_days: int = 730  # RETURN_VISIT_MAX_DAYS

    def __post_init__(self) -> None:
        if min(self.unclaimed_hours, self.unclaimed_admin_hours, self.expert_reminder_days) <= 0:
            raise ValueError("reminder intervals must be positive")
        if self.member_close_days <= self.member_nudge_days:
            raise ValueError("MEMBER_CLOSE_DAYS must exceed MEMBER_NUDGE_DAYS")
        if self.expert_reminders < 1:
            raise ValueError("EXPERT_REMINDER_COUNT must be at least 1")
        if not 0 <= self.report_weekday <= 6:
            raise ValueError("REPORT_WEEKDAY must be 0 (Monday) … 6 (Sunday)")
        if any(d < 1 for d in self.deadline_days):
            raise ValueError("DEADLINE_REMINDER_DAYS must be whole days ≥ 1")


# -- what the Telegram layer gets --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: label from the catalog, callback as (kind, arg) for callbacks.encode."""

    text_key: str
    kind: str
    arg: str = ""
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: ``catalog.t(lang, text_key, **params)`` to ``chat_id``.

    With ``photo`` set, send the PNG with the text as its caption (≤ 1024 characters).
    ``buttons`` are rows of :class:`Button`.
    """

    chat_id: int
    text_key: str
    params: Mapping[str, object]
    lang: Lang
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: bytes | None = None
    html: str | None = None  # ready HTML instead of text_key (outbox messages)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to send for a claimed reminder. ``refresh_ticket_id``: edit that ticket's card."""

    reminder: ClaimedReminder
    messages: tuple[Outgoing, ...]
    refresh_ticket_id: int | None = None

    @property
    def recipient_user_id(self) -> int | None:
        """The private-chat user, if any: the one to mark when Telegram says 'blocked'."""
        return self.reminder.recipient_id


@dataclass(frozen=True, slots=True)
class Skip:
    """Don't send: cancelled (pointless) or, with ``failed``, failed (e.g. member blocked us)."""

    reason: str
    failed: bool = False
    refresh_ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class SyncResult:
    scheduled: tuple[ReminderSpec, ...] = ()
    cancelled: int = 0
    priority_raised: bool = False  # the ticket became urgent: refresh its card


@dataclass(frozen=True, slots=True)
class CheckinResult:
    ticket_id: int
    number: str
    rating: int | None
    reopened: bool
    notify: tuple[Outgoing, ...] = ()  # e.g. tell the expert the member reopened it


@dataclass(frozen=True, slots=True)
class ReopenResult:
    ticket_id: int
    number: str
    notify: tuple[Outgoing, ...] = ()


@dataclass(frozen=True, slots=True)
class ReturnVisit:
    ticket_id: int
    number: str
    due_at: datetime
    member_due_at: datetime | None
    keys: tuple[str, ...]


class FollowupInputError(DomainError):
    """Bad input from a user: reply with ``catalog.t(lang, text_key, **params)``."""

    def __init__(self, text_key: str, **params: object) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.params = params


# -- pure rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the rules need to know about one ticket, as plain data."""

    id: int
    user_id: int
    status: TicketStatus
    priority: Priority
    created_at: datetime
    expert_id: int | None = None
    expert_user_id: int | None = None
    claimed_at: datetime | None = None
    last_member_message_at: datetime | None = None
    last_expert_message_at: datetime | None = None
    waiting_since: datetime | None = None  # entered waiting_member
    resolved_at: datetime | None = None
    rating: int | None = None
    deadline_at: datetime | None = None
    admin_ids: tuple[int, ...] = ()


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def member_waiting(t: TicketFacts) -> bool:
    """The member spoke last (or only the member has spoken)."""
    return t.last_member_message_at is not None and (
        t.last_expert_message_at is None or t.last_expert_message_at < t.last_member_message_at
    )


def deadline_reminder_due(deadline_at: datetime, days: int, cal: WorkCalendar) -> datetime:
    """Opening of the last working day on or before the local date `days` before the deadline.

    Moved earlier, never later: a reminder due on a Sunday comes on Friday morning.
    """
    target = cal.local_date(deadline_at) - timedelta(days=days)
    return cal.last_workday_start_on_or_before(target)


def days_left(deadline_at: datetime, now: datetime, cal: WorkCalendar) -> int:
    """Local calendar days from today to the deadline's day (0 = today)."""
    return (cal.local_date(deadline_at) - cal.local_date(now)).days


def desired_reminders(
    t: TicketFacts, policy: FollowupPolicy, cal: WorkCalendar
) -> list[ReminderSpec]:
    """The state-derived reminders this ticket calls for now (return visits aside)."""
    specs: list[ReminderSpec] = []
    staff = {"audience": "staff"}
    if t.status in UNCLAIMED_STATES and t.claimed_at is None:
        first = cal.add_working_hours(t.created_at, policy.unclaimed_hours)
        second = cal.add_working_hours(
            t.created_at, policy.unclaimed_hours + policy.unclaimed_admin_hours
        )
        specs.append(
            ReminderSpec(f"unclaimed:{t.id}:staff", K.UNCLAIMED, first, t.id, None, staff)
        )
        specs += [
            ReminderSpec(
                f"unclaimed:{t.id}:admin:{a}",
                K.UNCLAIMED_ADMIN,
                second,
                t.id,
                a,
                {"audience": "user"},
            )
            for a in t.admin_ids
        ]
    elif (
        t.status in EXPERT_STATES
        and t.expert_id is not None
        and member_waiting(t)
        and t.last_member_message_at is not None
    ):
        anchor = t.last_member_message_at
        step = cal.workday_hours * policy.expert_reminder_days
        dues = [
            cal.add_working_hours(anchor, step * n) for n in range(1, policy.expert_reminders + 2)
        ]
        base = {"audience": "user", "anchor": _iso(anchor), "expert_id": t.expert_id}
        if t.expert_user_id is not None:
            for stage in range(1, policy.expert_reminders + 1):
                specs.append(
                    ReminderSpec(
                        f"expert_wait:{t.id}:{_epoch(anchor)}:{stage}",
                        K.EXPERT_WAITING,
                        dues[stage - 1],
                        t.id,
                        t.expert_user_id,
                        {**base, "stage": stage, "supersede_at": _iso(dues[stage])},
                    )
                )
        specs += [
            ReminderSpec(
                f"expert_wait:{t.id}:{_epoch(anchor)}:admin:{a}",
                K.EXPERT_ESCALATION,
                dues[-1],
                t.id,
                a,
                {**base, "stage": policy.expert_reminders + 1},
            )
            for a in t.admin_ids
        ]
    if t.status is TicketStatus.WAITING_MEMBER and t.waiting_since is not None:
        anchor = t.waiting_since
        replied = t.last_member_message_at is not None and t.last_member_message_at > anchor
        if not replied:
            nudge = cal.next_civil_time(anchor + timedelta(days=policy.member_nudge_days))
            close = cal.next_civil_time(anchor + timedelta(days=policy.member_close_days))
            base = {"audience": "user", "anchor": _iso(anchor)}
            specs.append(
                ReminderSpec(
                    f"member_nudge:{t.id}:{_epoch(anchor)}",
                    K.MEMBER_NUDGE,
                    nudge,
                    t.id,
                    t.user_id,
                    {**base, "supersede_at": _iso(close)},
                )
            )
            specs.append(
                ReminderSpec(
                    f"member_close:{t.id}:{_epoch(anchor)}",
                    K.MEMBER_AUTOCLOSE,
                    close,
                    t.id,
                    t.user_id,
                    base,
                )
            )
    if t.status in DONE and t.resolved_at is not None and t.rating is None:
        # Closing a resolved ticket keeps its check-in; an auto-closed one was never resolved.
        due = cal.next_civil_time(t.resolved_at + timedelta(days=policy.checkin_days))
        specs.append(
            ReminderSpec(
                f"checkin:{t.id}:{_epoch(t.resolved_at)}",
                K.CHECKIN,
                due,
                t.id,
                t.user_id,
                {"audience": "user", "resolved": _iso(t.resolved_at)},
            )
        )
    if t.deadline_at is not None and t.status in OPEN:
        days = sorted(set(policy.deadline_days), reverse=True)  # 7, 3, 1
        dues = [deadline_reminder_due(t.deadline_at, d, cal) for d in days]
        ep = _epoch(t.deadline_at)
        for i, (d, due) in enumerate(zip(days, dues, strict=True)):
            if due >= t.deadline_at:
                continue
            payload: dict[str, Any] = {"deadline": _iso(t.deadline_at), "days": d}
            if i + 1 < len(dues):
                payload["supersede_at"] = _iso(dues[i + 1])
            specs.append(
                ReminderSpec(
                    f"deadline:{t.id}:{ep}:{d}:staff",
                    K.DEADLINE,
                    due,
                    t.id,
                    None,
                    {**payload, "audience": "staff"},
                )
            )
            if t.expert_user_id is not None:
                specs.append(
                    ReminderSpec(
                        f"deadline:{t.id}:{ep}:{d}:expert:{t.expert_id}",
                        K.DEADLINE,
                        due,
                        t.id,
                        t.expert_user_id,
                        {**payload, "audience": "user", "expert_id": t.expert_id},
                    )
                )
    return specs


def _superseded(payload: Mapping[str, Any], now: datetime) -> bool:
    at = payload.get("supersede_at")
    return at is not None and datetime.fromisoformat(str(at)) <= now


# -- repository helpers (never commit) ---------------------------------------------------


async def _admin_ids(session: AsyncSession, policy: FollowupPolicy) -> tuple[int, ...]:
    rows = await session.scalars(select(User.id).where(User.role == Role.ADMIN))
    return tuple(sorted(set(policy.admin_ids) | set(rows.all())))


async def _waiting_since(session: AsyncSession, ticket: Ticket) -> datetime | None:
    """When the ticket last entered waiting_member (audit trail), else the expert's last msg."""
    entered = await session.scalar(
        select(TicketEvent.created_at)
        .where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.to_status == TicketStatus.WAITING_MEMBER.value,
        )
        .order_by(TicketEvent.created_at.desc(), TicketEvent.id.desc())
        .limit(1)
    )
    candidates = [at for at in (entered, ticket.last_expert_message_at) if at is not None]
    return max(candidates) if candidates else None


async def _facts(
    session: AsyncSession, ticket: Ticket, policy: FollowupPolicy, admins: tuple[int, ...] | None
) -> TicketFacts:
    expert = await session.get(Expert, ticket.expert_id) if ticket.expert_id else None
    waiting = (
        await _waiting_since(session, ticket)
        if ticket.status is TicketStatus.WAITING_MEMBER
        else None
    )
    return TicketFacts(
        id=ticket.id,
        user_id=ticket.user_id,
        status=ticket.status,
        priority=ticket.priority,
        created_at=ticket.created_at,
        expert_id=ticket.expert_id,
        expert_user_id=expert.user_id if expert is not None and expert.active else None,
        claimed_at=ticket.claimed_at,
        last_member_message_at=ticket.last_member_message_at,
        last_expert_message_at=ticket.last_expert_message_at,
        waiting_since=waiting,
        resolved_at=ticket.resolved_at,
        rating=ticket.rating,
        deadline_at=ticket.deadline_at,
        admin_ids=admins if admins is not None else await _admin_ids(session, policy),
    )


def _event(
    ticket: Ticket,
    kind: str,
    actor_id: int | None,
    now: datetime,
    detail: str | None = None,
    from_status: TicketStatus | None = None,
) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor_id,
        kind=kind,
        from_status=from_status.value if from_status is not None else None,
        to_status=ticket.status.value if from_status is not None else None,
        detail=detail,
        created_at=now,
    )


async def sync_ticket(
    session: AsyncSession,
    ticket_id: int,
    policy: FollowupPolicy,
    cal: WorkCalendar,
    now: datetime,
    *,
    admins: tuple[int, ...] | None = None,
) -> SyncResult:
    """Bring the ticket's reminders in line with its state, inside the caller's transaction.

    Also raises the priority to urgent when a matter deadline is within
    ``policy.urgent_within_days`` local days (recorded as a ``priority`` event).
    """
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        return SyncResult()
    facts = await _facts(session, ticket, policy, admins)
    raised = False
    if (
        ticket.deadline_at is not None
        and ticket.status in OPEN
        and ticket.priority is Priority.NORMAL
        and days_left(ticket.deadline_at, now, cal) <= policy.urgent_within_days
    ):
        ticket.priority = Priority.URGENT
        session.add(_event(ticket, "priority", None, now, "urgent: matter deadline near"))
        raised = True
    wanted = desired_reminders(facts, policy, cal)
    wanted_keys = {s.key for s in wanted}
    stale = [
        r.key
        for r in await pending_for_ticket(session, ticket.id, MANAGED_KINDS)
        if r.key not in wanted_keys
    ]
    cancelled = await cancel_keys(session, stale, f"no longer needed ({ticket.status.value})")
    created = []
    for spec in wanted:
        if _superseded(spec.payload, now):
            continue  # a later stage is already due: don't create a row only to skip it
        if spec.kind == K.DEADLINE and spec.due_at <= now:
            continue  # the deadline was set after this reminder's moment: nothing to catch up
        if await schedule(session, spec):
            created.append(spec)
    return SyncResult(tuple(created), cancelled, raised)


def _excerpt(text: str | None, limit: int = EXCERPT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_local(at: datetime, cal: WorkCalendar) -> str:
    return at.astimezone(cal.zone).strftime("%Y-%m-%d %H:%M")


def _hours(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# -- the service --------------------------------------------------------------------------

ScheduleHook = Callable[[Sequence[tuple[str, datetime]]], None]

_WHEN_RELATIVE = re.compile(r"^(\d{1,4})\s*(h|小时|d|天|w|周)$", re.IGNORECASE)
_WHEN_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_WHEN_DATETIME = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]+(\d{1,2}):(\d{2})$")


def parse_when(text: str, now: datetime, cal: WorkCalendar) -> datetime:
    """When a return visit is due, read in the association's zone.

    ``3d``/``3天``, ``2w``/``2周``, ``4h``/``4小时``: that long from now, moved into working
    time. ``2026-12-01``: the opening of that day (or of the next working day).
    ``2026-12-01 15:00``: exactly then, local time. Raises FollowupInputError.
    """
    text = " ".join(text.strip().split())
    try:
        if m := _WHEN_RELATIVE.match(text):
            n, unit = int(m.group(1)), m.group(2).lower()
            hours = {"h": 1, "小时": 1, "d": 24, "天": 24, "w": 168, "周": 168}[unit] * n
            if hours == 0:
                raise FollowupInputError("fu_rv_bad_when", when=text)
            return cal.next_working_instant(now + timedelta(hours=hours))
        if m := _WHEN_DATETIME.match(text):
            y, mo, d, hh, mm = (int(g) for g in m.groups())
            return datetime(y, mo, d, hh, mm, tzinfo=cal.zone).astimezone(UTC)
        if m := _WHEN_DATE.match(text):
            y, mo, d = (int(g) for g in m.groups())
            return cal.next_working_instant(cal.local_instant(date(y, mo, d), cal.workday_start))
    except (ValueError, OverflowError) as exc:
        raise FollowupInputError("fu_rv_bad_when", when=text) from exc
    raise FollowupInputError("fu_rv_bad_when", when=text)


class FollowupService:
    """Follow-up rules over a session factory. Every ``now`` defaults to the wall clock."""

    def __init__(
        self,
        sessions: SessionFactory,
        calendar: WorkCalendar,
        policy: FollowupPolicy,
        *,
        stats: StatsService | None = None,
        on_schedule: ScheduleHook | None = None,
    ) -> None:
        self._sessions = sessions
        self.calendar = calendar
        self.policy = policy
        self._stats = stats or StatsService(sessions, calendar)
        self._on_schedule = on_schedule

    def set_schedule_hook(self, hook: ScheduleHook | None) -> None:
        """Called with (key, due_at) of every newly created reminder (scheduler timing)."""
        self._on_schedule = hook

    def _notify(self, specs: Sequence[ReminderSpec]) -> None:
        if self._on_schedule is not None and specs:
            self._on_schedule([(s.key, s.due_at) for s in specs])

    @staticmethod
    def _now(now: datetime | None) -> datetime:
        return datetime.now(UTC) if now is None else now.astimezone(UTC)

    # -- scheduling ---------------------------------------------------------------------

    async def on_ticket_event(self, ticket_id: int, now: datetime | None = None) -> SyncResult:
        """Call after any change to a ticket; safe to call twice (idempotent)."""
        now = self._now(now)
        async with self._sessions() as s, s.begin():
            result = await sync_ticket(s, ticket_id, self.policy, self.calendar, now)
        self._notify(result.scheduled)
        return result

    async def sync_open_tickets(self, now: datetime | None = None) -> int:
        """Start-up repair: sync every ticket that is open or awaiting its check-in."""
        now = self._now(now)
        async with self._sessions() as s:
            ids = list(
                (
                    await s.scalars(
                        select(Ticket.id).where(Ticket.status.in_([*OPEN, TicketStatus.RESOLVED]))
                    )
                ).all()
            )
            admins = await _admin_ids(s, self.policy)
        created: list[ReminderSpec] = []
        for tid in ids:
            async with self._sessions() as s, s.begin():
                result = await sync_ticket(s, tid, self.policy, self.calendar, now, admins=admins)
            created += result.scheduled
        self._notify(created)
        return len(created)

    async def ensure_weekly_report(self, now: datetime | None = None) -> list[ReminderSpec]:
        """Make sure the next weekly reports exist (this week's if missed today, and next)."""
        now = self._now(now)
        cal, p = self.calendar, self.policy
        today = cal.local_date(now)
        this_week = today - timedelta(days=today.weekday()) + timedelta(days=p.report_weekday)
        specs = []
        for day in (this_week, this_week + timedelta(weeks=1)):
            nominal = cal.local_instant(day, p.report_time)
            due = cal.next_working_instant(nominal)
            if due < now - timedelta(hours=12):
                continue  # long past: that week's report is not sent late
            year, week, _ = day.isocalendar()
            specs.append(
                ReminderSpec(
                    f"weekly_report:{year}-W{week:02d}",
                    K.WEEKLY_REPORT,
                    due,
                    None,
                    None,
                    {"audience": "staff", "week_of": day.isoformat()},
                )
            )
        async with self._sessions() as s, s.begin():
            created = [spec for spec in specs if await schedule(s, spec)]
        self._notify(created)
        return created

    async def schedule_return_visit(
        self,
        ticket_id: int,
        actor_id: int,
        when_text: str,
        note: str,
        include_member: bool,
        now: datetime | None = None,
    ) -> ReturnVisit:
        """回访: ping `actor_id` at `when_text` with the ticket's summary and `note`.

        Allowed for staff and admins, and for the expert assigned to the ticket. With
        `include_member`, the member gets a short notice at a civil hour the same day.
        Scheduling the same visit twice is a no-op. Raises NotFound, NotAllowed,
        FollowupInputError (fu_rv_bad_when, fu_rv_past, fu_rv_too_far, fu_rv_note_long).
        """
        now = self._now(now)
        due = parse_when(when_text, now, self.calendar)
        if due <= now:
            raise FollowupInputError("fu_rv_past", when=when_text)
        if due > now + timedelta(days=self.policy.return_visit_max_days):
            raise FollowupInputError("fu_rv_too_far", days=self.policy.return_visit_max_days)
        note = " ".join(note.split())
        if len(note) > NOTE_MAX:
            raise FollowupInputError("fu_rv_note_long", max=NOTE_MAX)
        async with self._sessions() as s, s.begin():
            ticket = await s.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(f"ticket {ticket_id}")
            await self._authorise_staff_or_expert(s, ticket, actor_id)
            base = {"note": note, "actor_id": actor_id}
            specs = [
                ReminderSpec(
                    f"return_visit:{ticket.id}:{_epoch(due)}:{actor_id}",
                    K.RETURN_VISIT,
                    due,
                    ticket.id,
                    actor_id,
                    {**base, "audience": "user"},
                )
            ]
            member_due = None
            if include_member:
                member_due = self.calendar.next_civil_time(due)
                specs.append(
                    ReminderSpec(
                        f"return_visit_member:{ticket.id}:{_epoch(due)}",
                        K.RETURN_VISIT_MEMBER,
                        member_due,
                        ticket.id,
                        ticket.user_id,
                        {"audience": "user", "actor_id": actor_id},
                    )
                )
            created = [spec for spec in specs if await schedule(s, spec)]
            if created:
                s.add(
                    _event(
                        ticket,
                        "return_visit",
                        actor_id,
                        now,
                        f"{_fmt_local(due, self.calendar)} {note}".strip(),
                    )
                )
            number = ticket.number
        self._notify(created)
        return ReturnVisit(ticket_id, number, due, member_due, tuple(s.key for s in specs))

    async def _authorise_staff_or_expert(
        self, s: AsyncSession, ticket: Ticket, actor_id: int
    ) -> None:
        if actor_id in self.policy.admin_ids:
            return
        actor = await s.get(User, actor_id)
        if actor is not None and actor.role in (Role.STAFF, Role.ADMIN):
            return
        if ticket.expert_id is not None:
            expert = await s.get(Expert, ticket.expert_id)
            if expert is not None and expert.user_id == actor_id:
                return
        raise NotAllowed("only staff or the ticket's expert may schedule a return visit")

    # -- member answers -------------------------------------------------------------------

    async def record_checkin(
        self,
        ticket_id: int,
        user_id: int,
        rating: int | None,
        solved: bool,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> CheckinResult:
        """Store the member's check-in answer on their own resolved or closed ticket.

        ``solved=False`` reopens the ticket to the same expert (status in_progress, or new
        when it had no expert; reopen_count + 1; a ``reopened`` event), restarts the
        expert's reminders and returns a notice for the expert in ``notify``. The rating
        (1–5, optional when not solved) and comment are stored on the ticket; answering again
        overwrites them. Raises NotFound (not theirs), StaleAction (ticket not resolved),
        FollowupInputError (fu_bad_rating, fu_comment_long).
        """
        now = self._now(now)
        if rating is not None and not 1 <= rating <= 5:
            raise FollowupInputError("fu_bad_rating")
        if solved and rating is None:
            raise FollowupInputError("fu_bad_rating")
        comment = comment.strip() if comment else None
        if comment and len(comment) > 2000:
            raise FollowupInputError("fu_comment_long", max=2000)
        async with self._sessions() as s, s.begin():
            ticket = await self._own_ticket(s, ticket_id, user_id)
            if ticket.status not in DONE:
                raise StaleAction("ticket is not resolved")
            if rating is not None:
                ticket.rating = rating
            if comment:
                ticket.rating_comment = comment
            s.add(
                _event(
                    ticket,
                    "checkin",
                    user_id,
                    now,
                    f"rating={rating if rating is not None else '-'}; "
                    f"solved={'yes' if solved else 'no'}",
                )
            )
            notify: tuple[Outgoing, ...] = ()
            if not solved:
                notify = await self._reopen(s, ticket, user_id, now, "checkin: not solved")
            await s.flush()
            result = await sync_ticket(s, ticket.id, self.policy, self.calendar, now)
            out = CheckinResult(ticket.id, ticket.number, ticket.rating, not solved, notify)
        self._notify(result.scheduled)
        return out

    async def add_checkin_comment(
        self, ticket_id: int, user_id: int, comment: str, now: datetime | None = None
    ) -> None:
        """The optional comment after a rating (the member's next message)."""
        now = self._now(now)
        comment = comment.strip()
        if not comment:
            raise FollowupInputError("fu_comment_empty")
        if len(comment) > 2000:
            raise FollowupInputError("fu_comment_long", max=2000)
        async with self._sessions() as s, s.begin():
            ticket = await self._own_ticket(s, ticket_id, user_id)
            ticket.rating_comment = comment
            s.add(_event(ticket, "checkin_comment", user_id, now, None))

    async def member_reopen(
        self, ticket_id: int, user_id: int, now: datetime | None = None
    ) -> ReopenResult:
        """The member reopens their resolved or (auto-)closed ticket (button on the notice)."""
        now = self._now(now)
        async with self._sessions() as s, s.begin():
            ticket = await self._own_ticket(s, ticket_id, user_id)
            if ticket.status not in DONE:
                raise StaleAction("ticket is open")
            notify = await self._reopen(s, ticket, user_id, now, "member reopened")
            await s.flush()
            result = await sync_ticket(s, ticket.id, self.policy, self.calendar, now)
            out = ReopenResult(ticket.id, ticket.number, notify)
        self._notify(result.scheduled)
        return out

    async def _own_ticket(self, s: AsyncSession, ticket_id: int, user_id: int) -> Ticket:
        ticket = await s.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None or ticket.user_id != user_id:
            raise NotFound(f"ticket {ticket_id}")  # someone else's ticket looks absent
        return ticket

    async def _reopen(
        self, s: AsyncSession, ticket: Ticket, actor_id: int, now: datetime, why: str
    ) -> tuple[Outgoing, ...]:
        before = ticket.status
        ticket.status = (
            TicketStatus.IN_PROGRESS if ticket.expert_id is not None else TicketStatus.NEW
        )
        ticket.reopen_count = (ticket.reopen_count or 0) + 1
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.last_member_message_at = now  # the member now waits for the expert
        s.add(_event(ticket, "reopened", actor_id, now, why, from_status=before))
        expert = await s.get(Expert, ticket.expert_id) if ticket.expert_id else None
        if expert is None or expert.user_id is None:
            return ()
        lang = await self._lang_of_expert(s, expert)
        return (
            Outgoing(
                expert.user_id,
                "fu_reopened_expert",
                {
                    "number": ticket.number,
                    "question": _excerpt(ticket.question),
                    "comment": ticket.rating_comment or "—",
                },
                lang,
                ((Button("fu_btn_open_ticket", CB_TICKET, str(ticket.id)),),),
            ),
        )

    # -- languages and names ------------------------------------------------------------

    async def _lang_of_expert(self, s: AsyncSession, expert: Expert) -> Lang:
        if expert.user_id is not None:
            user = await s.get(User, expert.user_id)
            if user is not None and (user.lang or user.detected_lang or user.telegram_lang):
                return preferred_lang(user)
        for code in expert.languages or ():
            if code in ("zh", "en"):
                return "zh" if code == "zh" else "en"
        return self.policy.staff_lang

    @staticmethod
    def _expert_name(expert: Expert | None, lang: Lang) -> str:
        if expert is None:
            return "—"
        return expert.name_zh if lang == "zh" else expert.name_en

    # -- sending --------------------------------------------------------------------------

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        """Decide, at send time, whether `reminder` still matters and what to send."""
        now = now.astimezone(UTC)
        if reminder.kind == K.WEEKLY_REPORT:
            return await self._weekly_report(reminder, now)
        if reminder.ticket_id is None:
            return Skip(f"unknown reminder kind {reminder.kind!r} without a ticket")
        async with self._sessions() as s, s.begin():
            ticket = await s.get(Ticket, reminder.ticket_id, with_for_update=True)
            if ticket is None:
                return Skip("ticket no longer exists")
            return await self._dispatch(s, reminder, ticket, now)

    async def _dispatch(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        match r.kind:
            case K.UNCLAIMED | K.UNCLAIMED_ADMIN:
                return await self._unclaimed(s, r, t, now)
            case K.EXPERT_WAITING | K.EXPERT_ESCALATION:
                return await self._expert_waiting(s, r, t, now)
            case K.MEMBER_NUDGE:
                return await self._member_nudge(s, r, t, now)
            case K.MEMBER_AUTOCLOSE:
                return await self._member_autoclose(s, r, t, now)
            case K.CHECKIN:
                return await self._checkin(s, r, t, now)
            case K.DEADLINE:
                return await self._deadline(s, r, t, now)
            case K.RETURN_VISIT | K.RETURN_VISIT_MEMBER:
                return await self._return_visit(s, r, t)
            case _:
                return Skip(f"unknown reminder kind {r.kind!r}")

    def _staff_target(self) -> int | None:
        return self.policy.staff_chat_id

    async def _user_target(
        self, s: AsyncSession, reminder: ClaimedReminder
    ) -> tuple[int, Lang] | Skip:
        if reminder.recipient_id is None:
            return Skip("no recipient")
        user = await s.get(User, reminder.recipient_id)
        if user is not None and user.blocked_bot_at is not None:
            return Skip("recipient has blocked the bot", failed=True)
        lang = preferred_lang(user) if user is not None else self.policy.staff_lang
        return reminder.recipient_id, lang

    async def _unclaimed(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        if t.status not in UNCLAIMED_STATES or t.claimed_at is not None:
            return Skip(f"ticket claimed or moved on ({t.status.value})")
        hours = _hours(self.calendar.working_hours_between(t.created_at, now))
        params = {"number": t.number, "hours": hours, "question": _excerpt(t.question)}
        if r.kind == K.UNCLAIMED:
            chat = self._staff_target()
            if chat is None:
                return Skip("STAFF_CHAT_ID is not configured", failed=True)
            return Delivery(
                r, (Outgoing(chat, "fu_unclaimed_staff", params, self.policy.staff_lang),)
            )
        target = await self._user_target(s, r)
        if isinstance(target, Skip):
            return target
        chat, lang = target
        buttons = ((Button("fu_btn_assign", CB_REASSIGN, str(t.id)),),)
        return Delivery(r, (Outgoing(chat, "fu_unclaimed_admin", params, lang, buttons),))

    async def _expert_waiting(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        anchor = datetime.fromisoformat(str(r.payload.get("anchor")))
        if t.status not in EXPERT_STATES:
            return Skip(f"ticket no longer waits for the expert ({t.status.value})")
        if t.expert_id != r.payload.get("expert_id"):
            return Skip("ticket was reassigned")
        if t.last_member_message_at is None or _epoch(t.last_member_message_at) != _epoch(anchor):
            return Skip("the member wrote again: a new reminder chain replaces this one")
        if t.last_expert_message_at is not None and t.last_expert_message_at >= anchor:
            return Skip("the expert has answered")
        if _superseded(r.payload, now):
            return Skip("superseded by a later reminder that is also due")
        target = await self._user_target(s, r)
        if isinstance(target, Skip):
            return target
        chat, lang = target
        expert = await s.get(Expert, t.expert_id) if t.expert_id else None
        params = {
            "number": t.number,
            "hours": _hours(self.calendar.working_hours_between(anchor, now)),
            "question": _excerpt(t.question),
            "expert": self._expert_name(expert, lang),
            "reminders": self.policy.expert_reminders,
        }
        if r.kind == K.EXPERT_WAITING:
            buttons = ((Button("fu_btn_open_ticket", CB_TICKET, str(t.id)),),)
            return Delivery(r, (Outgoing(chat, "fu_expert_waiting", params, lang, buttons),))
        buttons = ((Button("fu_btn_reassign", CB_REASSIGN, str(t.id)),),)
        return Delivery(r, (Outgoing(chat, "fu_expert_escalation", params, lang, buttons),))

    async def _member_waiting_still(self, s: AsyncSession, r: ClaimedReminder, t: Ticket) -> bool:
        if t.status is not TicketStatus.WAITING_MEMBER:
            return False
        anchor = datetime.fromisoformat(str(r.payload.get("anchor")))
        since = await _waiting_since(s, t)
        if since is None or _epoch(since) != _epoch(anchor):
            return False
        return not (t.last_member_message_at is not None and t.last_member_message_at > anchor)

    async def _member_nudge(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        if not await self._member_waiting_still(s, r, t):
            return Skip("the member answered or the ticket moved on")
        if _superseded(r.payload, now):
            return Skip("superseded: the ticket is due to be closed")
        target = await self._user_target(s, r)
        if isinstance(target, Skip):
            return target
        chat, lang = target
        expert = await s.get(Expert, t.expert_id) if t.expert_id else None
        days_to_close = self.policy.member_close_days - self.policy.member_nudge_days
        params = {
            "number": t.number,
            "expert": self._expert_name(expert, lang),
            "days": _hours(days_to_close),
        }
        return Delivery(r, (Outgoing(chat, "fu_member_nudge", params, lang),))

    async def _member_autoclose(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        if await self._member_waiting_still(s, r, t):
            before = t.status
            t.status = TicketStatus.CLOSED
            t.closed_at = now
            s.add(_event(t, "auto_closed", None, now, r.key, from_status=before))
            await s.flush()
            await sync_ticket(s, t.id, self.policy, self.calendar, now)
        else:
            # A retry after the close was committed: send the notice that is still owed.
            closed_by_us = await s.scalar(
                select(TicketEvent.id).where(
                    TicketEvent.ticket_id == t.id,
                    TicketEvent.kind == "auto_closed",
                    TicketEvent.detail == r.key,
                )
            )
            if closed_by_us is None or t.status is not TicketStatus.CLOSED:
                return Skip("the member answered or the ticket moved on")
        target = await self._user_target(s, r)
        if isinstance(target, Skip):
            return Skip(target.reason, target.failed, refresh_ticket_id=t.id)
        chat, lang = target
        params = {"number": t.number, "days": _hours(self.policy.member_close_days)}
        buttons = ((Button("fu_btn_reopen", CB_REOPEN, str(t.id)),),)
        return Delivery(
            r,
            (Outgoing(chat, "fu_member_autoclosed", params, lang, buttons),),
            refresh_ticket_id=t.id,
        )

    async def _checkin(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        resolved = r.payload.get("resolved")
        if t.status not in DONE or t.resolved_at is None or t.rating is not None:
            return Skip("ticket reopened or already rated")
        if resolved is None or _epoch(t.resolved_at) != _epoch(datetime.fromisoformat(resolved)):
            return Skip("ticket was resolved again since")
        target = await self._user_target(s, r)
        if isinstance(target, Skip):
            return target
        chat, lang = target
        expert = await s.get(Expert, t.expert_id) if t.expert_id else None
        params = {
            "number": t.number,
            "expert": self._expert_name(expert, lang),
            "question": _excerpt(t.question, 120),
        }
        stars = tuple(Button("fu_btn_rate", CB_RATE, f"{t.id}.{n}", {"n": n}) for n in range(1, 6))
        buttons = (stars, (Button("fu_btn_not_solved", CB_NOT_SOLVED, str(t.id)),))
        return Delivery(r, (Outgoing(chat, "fu_checkin", params, lang, buttons),))

    async def _deadline(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket, now: datetime
    ) -> Delivery | Skip:
        deadline = r.payload.get("deadline")
        if t.status not in OPEN or t.deadline_at is None or deadline is None:
            return Skip("ticket closed or deadline removed")
        if _epoch(t.deadline_at) != _epoch(datetime.fromisoformat(deadline)):
            return Skip("deadline changed")
        if t.deadline_at <= now:
            return Skip("deadline has passed")
        if "expert_id" in r.payload and t.expert_id != r.payload["expert_id"]:
            return Skip("ticket was reassigned")
        if _superseded(r.payload, now):
            return Skip("superseded by a nearer deadline reminder that is also due")
        refresh = None
        left = days_left(t.deadline_at, now, self.calendar)
        if t.priority is Priority.NORMAL and left <= self.policy.urgent_within_days:
            t.priority = Priority.URGENT
            s.add(_event(t, "priority", None, now, "urgent: matter deadline near"))
            refresh = t.id
        if r.payload.get("audience") == "staff":
            chat = self._staff_target()
            if chat is None:
                return Skip(
                    "STAFF_CHAT_ID is not configured", failed=True, refresh_ticket_id=refresh
                )
            lang: Lang = self.policy.staff_lang
        else:
            target = await self._user_target(s, r)
            if isinstance(target, Skip):
                return Skip(target.reason, target.failed, refresh_ticket_id=refresh)
            chat, lang = target
        expert = await s.get(Expert, t.expert_id) if t.expert_id else None
        params = {
            "number": t.number,
            "days": left,
            "deadline": _fmt_local(t.deadline_at, self.calendar),
            "question": _excerpt(t.question),
            "expert": self._expert_name(expert, lang),
        }
        buttons = ((Button("fu_btn_open_ticket", CB_TICKET, str(t.id)),),)
        return Delivery(
            r, (Outgoing(chat, "fu_deadline", params, lang, buttons),), refresh_ticket_id=refresh
        )

    async def _return_visit(
        self, s: AsyncSession, r: ClaimedReminder, t: Ticket
    ) -> Delivery | Skip:
        target = await self._user_target(s, r)
        if isinstance(target, Skip):
            return target
        chat, lang = target
        expert = await s.get(Expert, t.expert_id) if t.expert_id else None
        if r.kind == K.RETURN_VISIT_MEMBER:
            params: dict[str, object] = {
                "number": t.number,
                "expert": self._expert_name(expert, lang),
            }
            return Delivery(r, (Outgoing(chat, "fu_return_visit_member", params, lang),))
        company = ""
        if t.company_id is not None:
            found = await s.get(Company, t.company_id)
            company = found.name if found is not None else ""
        params = {
            "number": t.number,
            "status": load_catalog().raw(lang, f"fu_status_{t.status.value}"),
            "company": company or "—",
            "question": _excerpt(t.question),
            "summary": _excerpt(t.summary) or "—",
            "note": str(r.payload.get("note") or "—"),
        }
        buttons = ((Button("fu_btn_open_ticket", CB_TICKET, str(t.id)),),)
        return Delivery(r, (Outgoing(chat, "fu_return_visit", params, lang, buttons),))

    async def _weekly_report(self, r: ClaimedReminder, now: datetime) -> Delivery | Skip:
        chat = self._staff_target()
        if chat is None:
            return Skip("STAFF_CHAT_ID is not configured", failed=True)
        cal, lang = self.calendar, self.policy.staff_lang
        this_monday = cal.week_start(now)
        period = day_range(this_monday - timedelta(days=7), this_monday - timedelta(days=1), cal)
        stats = await self._stats.compute(period)
        series = await self._stats.weekly_series(now, self.policy.report_weeks)
        from bot.services.charts import weekly_chart  # matplotlib: loaded when first needed

        png = weekly_chart(series)
        body = render_text(
            stats, lang, cal, load_catalog(), html=False, gap_limit=self.policy.report_gaps
        )
        start, end = period.start, period.end - timedelta(microseconds=1)
        caption = {
            "start": cal.local_date(start).isoformat(),
            "end": cal.local_date(end).isoformat(),
        }
        await self.ensure_weekly_report(now)
        return Delivery(
            r,
            (
                Outgoing(chat, "stats_weekly_caption", caption, lang, photo=png),
                Outgoing(chat, "stats_weekly_body", {"body": body}, lang),
            ),
        )
