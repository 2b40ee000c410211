"""Sending announcements: a thin, paced lane over the bot's one outbox (the reminder pump).

* The rows are ordinary outbox rows (``reminders``, kind ``announcement``). A second
  :class:`~bot.scheduler.ReminderPump` claims only that kind (a lane of
  :class:`~bot.services.reminders.ReminderStore`); the follow-up pump excludes it. Claiming,
  leases, retries with back-off, fenced completion, "blocked" marking and the restart
  behaviour are therefore exactly the outbox's.
* :class:`BroadcastPreparer` decides at send time: the announcement was cancelled → the row
  is cancelled; the member switched the topic off → cancelled as ``opted_out``; blocked →
  failed as ``blocked``; otherwise the message in the member's language (the other one, with a
  note, when theirs is missing).
* :class:`Pacer` holds the lane under ``BROADCAST_MAX_RATE`` messages a second. The bot's own
  cap (``TELEGRAM_MAX_RATE``) is higher, so replies to members always find room: they never
  wait behind a broadcast, which is only ever a few rows claimed at a time. On PostgreSQL,
  where several processes may send one broadcast, :class:`SharedPacer` hands out the sending
  slots from one database row instead (``send_pace``): the cap holds for all of them
  together, not per process.

**At most once per recipient.** Telegram has no idempotency key: after a request goes out,
only its answer says whether the message was delivered, and a crash (kill -9), a lost
connection or a read timeout can take that answer away. The lane therefore commits, just
before each request, that the send began (``reminders.attempted_at``, fenced on the claim:
:meth:`LaneStore.mark_attempt`), and a row whose send began without a clear answer is never
sent again: when its worker died it is marked failed ``in doubt`` instead of being released
(:meth:`LaneStore.release_stale`), and a timeout or network error after the request may have
left is failed the same way (the sender decides, ``handlers.broadcast``). What is guaranteed:

* no member ever gets one announcement twice — across kill -9, restarts and processes;
* every row claimed but not yet attempted when a worker died is sent after the lease
  (``REMINDER_LEASE_SECONDS``) by whichever process comes first;
* clear failures (429 flood control, a connection that was never made) are retried;
* the price: a row in doubt — at most one per sending pump at a crash, plus each ambiguous
  network error — may have reached the member or not; it counts as failed (``in doubt`` in
  its ``last_error``) and is not retried. Exactly once is therefore what happens whenever
  Telegram answers; at most once is what is promised when it cannot.
* :class:`BroadcastWorker` runs the lane in the background: claim a small batch, send it at
  the paced rate, report which announcements moved (for the sender's live progress), and
  sleep until woken or the poll interval passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from bot.i18n import Catalog
from bot.services.audience import DEFAULT_ON
from bot.services.callback_codes import Cb
from bot.services.followups import Delivery, Skip
from bot.services.members import preferred_lang
from bot.services.outreach import (
    BLOCKED,
    CANCELLED,
    IN_DOUBT,
    OPTED_OUT,
    OUTBOX_KIND,
    Draft,
    as_draft,
)
from bot.services.reminders import ClaimedReminder, ReminderStore, RetryPolicy, held_by
from bot.services.timefmt import format_datetime
from db.models import (
    Announcement,
    Block,
    Event,
    Reminder,
    ReminderStatus,
    Subscription,
    User,
)
from db.session import SessionFactory
from faq.models import Lang

log = logging.getLogger(__name__)

CB_SIGNUP = Cb.SIGN_UP
CB_EXPERT = Cb.ALERT_EXPERT
CAPTION_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    label: str
    kind: str
    arg: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """One announcement as one member gets it: HTML text, optional media, buttons."""

    text: str
    media_kind: str | None = None
    media_file_id: str | None = None
    buttons: tuple[ButtonSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class BroadcastDelivery(Delivery):
    """A Delivery for the announcement lane: what :class:`Rendered` says, to ``chat_id``."""

    chat_id: int = 0
    rendered: Rendered | None = None
    announcement_id: int = 0


def _lang(value: str | None) -> Lang:
    return "en" if value == "en" else "zh"


def render(catalog: Catalog, draft: Draft, event: Event | None, lang: Lang, zone: Any) -> Rendered:
    """The message a member whose language is ``lang`` receives (also the preview)."""
    body = draft.text(lang)
    note = ""
    if body is None:
        other: Lang = "en" if lang == "zh" else "zh"
        body = draft.text(other) or ""
        note = catalog.t(lang, "ann_other_language_note")
    if draft.kind == "alert":
        header = catalog.t(lang, "ann_header_alert")
        if draft.priority == "high":
            header = catalog.t(lang, "ann_priority_high") + " " + header
    else:
        header = catalog.t(lang, f"ann_header_{draft.kind}")
    parts = [header, body]
    buttons: list[ButtonSpec] = []
    if event is not None:
        parts.append(event_block(catalog, event, lang, zone))
        buttons.append(
            ButtonSpec(catalog.t(lang, "ann_btn_signup"), CB_SIGNUP, f"{event.id}.{draft.id}")
        )
    if draft.kind == "alert":
        buttons.append(ButtonSpec(catalog.t(lang, "ann_btn_expert"), CB_EXPERT, str(draft.id)))
    if note:
        parts.append(note)
    parts.append(catalog.t(lang, "ann_footer"))
    return Rendered(
        "\n\n".join(p for p in parts if p),
        draft.media_kind,
        draft.media_file_id,
        tuple(buttons),
    )


def event_block(catalog: Catalog, event: Event, lang: Lang, zone: Any) -> str:
    lines = [
        catalog.t(lang, "ev_block_title", title=event.title),
        catalog.t(lang, "ev_block_when", when=format_datetime(event.starts_at, zone, lang)),
    ]
    if event.place:
        lines.append(catalog.t(lang, "ev_block_place", place=event.place))
    if event.link:
        lines.append(catalog.t(lang, "ev_block_link", link=event.link))
    if event.capacity:
        lines.append(catalog.t(lang, "ev_block_capacity", capacity=event.capacity))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _MemberState:
    lang: Lang
    blocked: bool
    choices: dict[str, bool]


class LaneStore(ReminderStore):
    """The announcement lane's store: claims only announcement rows, lets the preparer read
    the members of each claimed batch with three queries instead of three per row, and keeps
    each row at most once (see the module docstring)."""

    def __init__(
        self, sessions: SessionFactory, preparer: BroadcastPreparer, retry: RetryPolicy | None
    ) -> None:
        super().__init__(sessions, retry, only_kinds=(OUTBOX_KIND,))
        self._preparer = preparer

    async def mark_attempt(self, reminder: ClaimedReminder, now: datetime) -> bool:
        """Commit that the send of this row begins now. False — do not send — when this
        worker no longer holds the row (its lease ran out and another process took it)."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Reminder)
                .where(*held_by(reminder))
                .values(attempted_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    async def release_stale(self, now: datetime, lease: timedelta) -> int:
        """Rows of a dead worker: those whose send began are failed ``in doubt`` (never sent
        again); the others go back to pending, as in every lane."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Reminder)
                .where(
                    Reminder.kind == OUTBOX_KIND,
                    Reminder.status == ReminderStatus.SENDING,
                    Reminder.claimed_at < now - lease,
                    Reminder.attempted_at.is_not(None),
                )
                .values(
                    status=ReminderStatus.FAILED,
                    last_error=f"{IN_DOUBT}: the worker stopped during the send",
                )
                .execution_options(synchronize_session=False)
            )
        doubted = int(getattr(result, "rowcount", 0))
        if doubted:
            log.warning("%d announcement message(s) in doubt after a stopped worker", doubted)
        return doubted + await super().release_stale(now, lease)

    async def claim_due(
        self, now: datetime, worker_id: str, limit: int = 100
    ) -> list[ClaimedReminder]:
        rows = await super().claim_due(now, worker_id, limit)
        if rows:
            await self._preparer.prefetch(rows)
        return rows


class BroadcastPreparer:
    """The lane's preparer (see the module docstring); caches each announcement briefly."""

    def __init__(
        self, sessions: SessionFactory, catalog: Catalog, zone: Any, cache_seconds: float = 1.0
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._zone = zone
        self._cache_seconds = cache_seconds
        self._cache: dict[int, tuple[float, Draft, Event | None]] = {}
        self.touched: set[int] = set()
        """Announcements whose rows this preparer handled since the caller last cleared it."""
        self._members: dict[int, _MemberState] = {}

    async def _announcement(self, announcement_id: int) -> tuple[Draft, Event | None] | None:
        hit = self._cache.get(announcement_id)
        if hit is not None and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1], hit[2]
        async with self._sessions() as s:
            row = await s.get(Announcement, announcement_id)
            if row is None:
                return None
            event = await s.get(Event, row.event_id) if row.event_id is not None else None
            draft = as_draft(row)
        self._cache[announcement_id] = (time.monotonic(), draft, event)
        return draft, event

    async def prefetch(self, rows: Sequence[ClaimedReminder]) -> None:
        """Read the state of a claimed batch's members in one go (see :class:`LaneStore`)."""
        ids = [r.recipient_id for r in rows if r.recipient_id is not None]
        if not ids:
            return
        async with self._sessions() as s:
            users = (await s.scalars(select(User).where(User.id.in_(ids)))).all()
            stopped = set(
                (await s.scalars(select(Block.user_id).where(Block.user_id.in_(ids)))).all()
            )
            choices = (
                await s.execute(
                    select(Subscription.user_id, Subscription.topic, Subscription.enabled).where(
                        Subscription.user_id.in_(ids)
                    )
                )
            ).all()
        by_user: dict[int, dict[str, bool]] = {}
        for user_id, topic, enabled in choices:
            by_user.setdefault(int(user_id), {})[str(topic)] = bool(enabled)
        for user in users:
            self._members[user.id] = _MemberState(
                preferred_lang(user),
                user.blocked_bot_at is not None or user.id in stopped,
                by_user.get(user.id, {}),
            )

    async def _member(self, user_id: int) -> _MemberState | None:
        state = self._members.pop(user_id, None)
        if state is not None:
            return state
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            if user is None:
                return None
            stopped = await s.get(Block, user_id) is not None  # an admin stopped them
            rows = await s.execute(
                select(Subscription.topic, Subscription.enabled).where(
                    Subscription.user_id == user_id
                )
            )
            choices = {str(t): bool(e) for t, e in rows.all()}
        return _MemberState(
            preferred_lang(user), user.blocked_bot_at is not None or stopped, choices
        )

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        announcement_id = int(reminder.payload.get("a", 0))
        self.touched.add(announcement_id)
        found = await self._announcement(announcement_id)
        user_id = reminder.recipient_id
        if found is None or user_id is None:
            return Skip("announcement no longer exists", failed=True)
        draft, event = found
        member = await self._member(user_id)
        if draft.status == "cancelled" or (event is not None and event.cancelled_at is not None):
            return Skip(CANCELLED)  # the announcement, or the event it invites to
        if member is None:
            return Skip("user no longer exists", failed=True)
        if member.blocked:
            return Skip(BLOCKED, failed=True)
        topic = draft.effective_topic or ""
        choice = member.choices.get(topic)
        wanted = (topic in DEFAULT_ON) if choice is None else choice
        if not wanted:
            return Skip(OPTED_OUT)
        rendered = render(self._catalog, draft, event, member.lang, self._zone)
        return BroadcastDelivery(
            reminder=reminder,
            messages=(),
            chat_id=user_id,
            rendered=rendered,
            announcement_id=announcement_id,
        )


class Pacer:
    """At most ``rate`` acquisitions a second, evenly spaced (0: no limit)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            now = self._clock()
            wait = self._next - now
            if wait > 0:
                await asyncio.sleep(wait)
                now = self._next
            self._next = max(now, self._next) + 1.0 / self.rate


class SharedPacer:
    """:class:`Pacer` across processes (PostgreSQL): each acquisition takes the next slot
    from the lane's ``send_pace`` row — one UPSERT on the database's clock, so every process
    sees one sequence of slots ``1/rate`` seconds apart — and waits until that slot."""

    _TAKE = text(
        "INSERT INTO send_pace (lane, next_at)"
        " VALUES (:lane, EXTRACT(EPOCH FROM clock_timestamp()) + CAST(:step AS float8))"
        " ON CONFLICT (lane) DO UPDATE SET next_at = GREATEST(send_pace.next_at,"
        " EXTRACT(EPOCH FROM clock_timestamp())) + CAST(:step AS float8)"
        " RETURNING next_at - CAST(:step AS float8),"
        " CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS float8)"
    )

    def __init__(self, sessions: SessionFactory, rate: float, lane: str = OUTBOX_KIND) -> None:
        self.rate = rate
        self._sessions = sessions
        self._lane = lane

    async def reserve(self) -> tuple[float, float]:
        """Take the next slot: (slot, now), both seconds since the epoch on the database."""
        async with self._sessions() as s, s.begin():
            row = (
                await s.execute(self._TAKE, {"lane": self._lane, "step": 1.0 / self.rate})
            ).one()
        return float(row[0]), float(row[1])

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        slot, now = await self.reserve()
        if slot > now:
            await asyncio.sleep(slot - now)


def lane_pacer(sessions: SessionFactory, database_url: str, rate: float) -> Pacer | SharedPacer:
    """The lane's pacer: shared through the database on PostgreSQL (several processes may
    send); in memory on SQLite (one process)."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return SharedPacer(sessions, rate)
    return Pacer(rate)


RunOnce = Callable[[], Awaitable[int]]
Moved = Callable[[set[int]], Awaitable[set[int]]]
"""Told which announcements moved (or may still be moving); returns those now finished."""


class BroadcastWorker:
    """Runs the announcement lane until stopped: one loop per pump (``run_onces``), each
    claiming and sending on its own, so no pump waits for another's batch to end."""

    def __init__(
        self,
        run_onces: Sequence[RunOnce],
        preparer: BroadcastPreparer,
        on_moved: Moved,
        *,
        idle_seconds: float = 5.0,
    ) -> None:
        self._run_onces = list(run_onces)
        self._preparer = preparer
        self._on_moved = on_moved
        self.idle_seconds = idle_seconds
        self._wakes = [asyncio.Event() for _ in self._run_onces]
        self._open: set[int] = set()  # announcements seen moving and not yet finished
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._loop(i), name=f"broadcast-sender-{i}")
                for i in range(len(self._run_onces))
            ]

    def wake(self) -> None:
        for event in self._wakes:
            event.set()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the loops: each finishes the batch in hand (within ``grace`` seconds, so no
        transaction is cut off mid-way — a cancelled rollback logged a traceback at
        shutdown), then whatever is left is cancelled."""
        self._stopping = True
        self.wake()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def step(self, index: int | None = None) -> int:
        """One batch of one pump (or of each, at once); then tell the caller which
        announcements moved. Rows handled."""
        runs = self._run_onces if index is None else [self._run_onces[index]]
        handled = 0
        try:
            handled = sum(await asyncio.gather(*(run() for run in runs)))
        finally:
            touched, self._preparer.touched = self._preparer.touched, set()
            # Another pump may have prepared this pump's last rows' announcement already
            # (and reported it while they were still being sent): announcements stay open
            # until the reporter says they are finished.
            self._open |= touched
            if self._open and (touched or handled):
                try:
                    self._open -= await self._on_moved(set(self._open))
                except Exception:
                    log.exception("broadcast progress update failed")
        return handled

    async def _loop(self, index: int) -> None:
        wake = self._wakes[index]
        while not self._stopping:
            # Cleared before the batch, not after it: a wake that arrives while the batch
            # runs (an announcement confirmed after its claim found nothing) keeps the event
            # set, so the loop goes round at once instead of idling idle_seconds.
            wake.clear()
            try:
                handled = await self.step(index)
            except Exception:
                log.exception("broadcast batch failed; retrying after a pause")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.idle_seconds)


def utcnow() -> datetime:
    return datetime.now(UTC)
