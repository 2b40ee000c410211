"""Glue between the reminder rows (the truth) and the PTB JobQueue / APScheduler (the timer).

* :class:`ReminderPump` does the work: release rows whose worker died, claim due rows (each
  row to exactly one worker, across processes), ask the follow-up rules whether each is still
  relevant and what to send, hand it to the injected ``sender`` and record the outcome.
  It knows nothing of Telegram: ``sender`` is an async callable ``Delivery -> SendResult``.
* :class:`ReminderJobs` keeps the JobQueue in step: one repeating job runs the pump every
  ``interval`` (catch-all, also picks up rows other processes created), and one-off jobs named
  ``reminder:<key>`` fire at the exact due instant of rows due within ``horizon`` — so the
  scheduler only ever holds a small window of jobs, rebuilt from the database at start-up and
  on every tick, and 100,000 future reminders cost nothing in memory.

Start-up order (``post_init``)::

    pump = ReminderPump(ReminderStore(sessions), followups, sender)
    jobs = ReminderJobs(app.job_queue, pump)
    followups.set_schedule_hook(jobs.watch)
    await followups.ensure_weekly_report()
    await followups.sync_open_tickets()
    await jobs.start()          # overdue rows are claimed and sent here, once
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.services.followups import Delivery, Skip
from bot.services.reminders import ClaimedReminder, ReminderStore
from db.models import ReminderStatus

if TYPE_CHECKING:
    from telegram.ext import JobQueue

log = logging.getLogger(__name__)

PUMP_JOB = "reminder-pump"
JOB_PREFIX = "reminder:"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the sender reports. Build with :meth:`sent`, :meth:`retry` or :meth:`permanent`.

    * retry — Telegram 429 (pass its ``retry_after`` seconds), 5xx, network errors, timeouts;
    * permanent — 403 "bot was blocked by the user" / "user is deactivated" (pass
      ``blocked_user_id`` to mark the user), 400 "chat not found"; never retried.
    """

    ok: bool
    retryable: bool = False
    error: str | None = None
    retry_after: float | None = None
    blocked_user_id: int | None = None
    parts_sent: int = 0  # with retry: messages of the delivery that did go out

    @classmethod
    def sent(cls) -> SendResult:
        return cls(ok=True)

    @classmethod
    def retry(
        cls, error: str, retry_after: float | None = None, parts_sent: int = 0
    ) -> SendResult:
        return cls(
            ok=False, retryable=True, error=error, retry_after=retry_after, parts_sent=parts_sent
        )

    @classmethod
    def permanent(cls, error: str, blocked_user_id: int | None = None) -> SendResult:
        return cls(ok=False, retryable=False, error=error, blocked_user_id=blocked_user_id)


class Preparer(Protocol):
    """FollowupService satisfies this; the benchmark uses a trivial one."""

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip: ...


Sender = Callable[[Delivery], Awaitable[SendResult]]
TicketChanged = Callable[[int], Awaitable[None]]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class PumpCounters:
    claimed: int = 0
    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    lease_lost: int = 0  # completed by us after our lease ran out and another worker took it


class ReminderPump:
    def __init__(
        self,
        store: ReminderStore,
        preparer: Preparer,
        sender: Sender,
        *,
        worker_id: str | None = None,
        batch_size: int = 100,
        lease: timedelta = timedelta(minutes=5),
        clock: Clock = _utcnow,
        on_ticket_changed: TicketChanged | None = None,
        flush_interval: float = 0.05,
    ) -> None:
        self.store = store
        self.flush_interval = flush_interval
        self._unrecorded: list[ClaimedReminder] = []
        self._first_unrecorded = 0.0
        self._preparer = preparer
        self._sender = sender
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.lease = lease
        self._clock = clock
        self._on_ticket_changed = on_ticket_changed
        self._lock = asyncio.Lock()
        self.counters = PumpCounters()

    async def startup(self, now: datetime | None = None) -> int:
        """After a (re)start: free rows of dead workers, then send everything overdue, once."""
        now = now or self._clock()
        await self.store.release_stale(now, self.lease)
        return await self.drain(now)

    async def run_once(self, now: datetime | None = None) -> int:
        """Release expired leases, claim one batch of due rows and process it; rows handled."""
        async with self._lock:
            now = now or self._clock()
            await self.store.release_stale(now, self.lease)
            claimed = await self.store.claim_due(now, self.worker_id, self.batch_size)
            self.counters.claimed += len(claimed)
            try:
                for reminder in claimed:
                    await self._process(reminder, now)
            finally:
                await self._flush()
            return len(claimed)

    async def drain(self, now: datetime | None = None, max_batches: int = 10_000) -> int:
        """Run batches until fewer than a full batch is due; the total handled."""
        total = 0
        for _ in range(max_batches):
            handled = await self.run_once(now)
            total += handled
            if handled < self.batch_size:
                break
        return total

    async def drain_all(self, max_batches: int = 10_000) -> int:
        """Run batches until nothing more is claimable now (outbox rows of one chat are
        claimed one at a time, in order); the total handled."""
        total = 0
        for _ in range(max_batches):
            handled = await self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    async def _process(self, reminder: ClaimedReminder, now: datetime) -> None:
        try:
            decision = await self._preparer.prepare(reminder, now)
        except Exception as exc:
            log.exception("preparing reminder %s failed", reminder.key)
            await self._retry(reminder, f"prepare failed: {exc!r}", None)
            return
        if isinstance(decision, Skip):
            if decision.failed:
                await self._completed(
                    await self.store.mark_failed(reminder, self._clock(), decision.reason)
                )
                self.counters.failed += 1
            else:
                await self._completed(await self.store.mark_cancelled(reminder, decision.reason))
                self.counters.cancelled += 1
            log.info("reminder %s not sent: %s", reminder.key, decision.reason)
            await self._changed(decision.refresh_ticket_id)
            return
        try:
            result = await self._sender(decision)
        except Exception as exc:  # a sender bug must not lose the reminder
            log.exception("sending reminder %s raised", reminder.key)
            result = SendResult.retry(f"sender raised {exc!r}")
        if result.ok:
            await self._record_sent(reminder)
            self.counters.sent += 1
        elif result.retryable:
            await self._retry(
                reminder,
                result.error or "retryable failure",
                result.retry_after,
                result.parts_sent,
            )
        else:
            error = result.error or "permanent failure"
            log.warning("reminder %s failed permanently: %s", reminder.key, error)
            await self._completed(
                await self.store.mark_failed(
                    reminder, self._clock(), error, blocked_user_id=result.blocked_user_id
                )
            )
            self.counters.failed += 1
        await self._changed(decision.refresh_ticket_id)

    async def _record_sent(self, reminder: ClaimedReminder) -> None:
        """Group commit: "sent" marks are written together, ≤ flush_interval after the first.

        With real Telegram sends (≥ 30 ms each) that is one or two rows per transaction; with
        a fast sender a whole batch. A crash loses at most the marks of that short window.
        """
        if not self._unrecorded:
            self._first_unrecorded = time.monotonic()
        self._unrecorded.append(reminder)
        if time.monotonic() - self._first_unrecorded >= self.flush_interval:
            await self._flush()

    async def _flush(self) -> None:
        rows, self._unrecorded = self._unrecorded, []
        if rows:
            held = await self.store.mark_sent_many(rows, self.worker_id, self._clock())
            self.counters.lease_lost += len(rows) - held

    async def _retry(
        self, reminder: ClaimedReminder, error: str, after: float | None, parts_sent: int = 0
    ) -> None:
        status = await self.store.mark_retry(reminder, self._clock(), error, after, parts_sent)
        if status is ReminderStatus.FAILED:
            self.counters.failed += 1
            log.warning("reminder %s gave up: %s", reminder.key, error)
        else:
            self.counters.retried += 1

    async def _completed(self, ok: bool) -> None:
        if not ok:
            self.counters.lease_lost += 1

    async def _changed(self, ticket_id: int | None) -> None:
        if ticket_id is not None and self._on_ticket_changed is not None:
            try:
                await self._on_ticket_changed(ticket_id)
            except Exception:
                log.exception("refreshing ticket %s after a reminder failed", ticket_id)


class ReminderJobs:
    """Installs the pump on a PTB JobQueue: a repeating catch-all plus precise one-off jobs."""

    def __init__(
        self,
        job_queue: JobQueue[Any],
        pump: ReminderPump,
        *,
        interval: timedelta = timedelta(seconds=30),
        horizon: timedelta = timedelta(minutes=10),
        clock: Clock = _utcnow,
        max_jobs: int = 10_000,
    ) -> None:
        self._jq = job_queue
        self.max_jobs = max_jobs
        self._pump = pump
        self.interval = interval
        self.horizon = horizon
        self._clock = clock
        self._timed: dict[str, datetime] = {}  # keys with a one-off job, and when
        self._kicked = asyncio.Event()
        self._kick_task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def timed_keys(self) -> dict[str, datetime]:
        return dict(self._timed)

    async def start(self, now: datetime | None = None) -> int:
        """Claim what is overdue (once), install the repeating job, load the first window."""
        now = now or self._clock()
        handled = await self._pump.startup(now)
        self._jq.run_repeating(
            self._tick,
            interval=self.interval,
            first=self.interval,
            name=PUMP_JOB,
            job_kwargs={
                "id": PUMP_JOB,
                "replace_existing": True,
                "coalesce": True,
                "max_instances": 1,
            },
        )
        await self.refresh_window(now)
        return handled

    async def refresh_window(self, now: datetime | None = None) -> int:
        """(Re)create one-off jobs for pending rows due within the horizon; jobs added."""
        now = now or self._clock()
        for key, due in list(self._timed.items()):
            if due < now - self.interval:
                del self._timed[key]  # fired (or was claimed elsewhere) long ago
        rows = await self._pump.store.pending_between(now, now + self.horizon, self.max_jobs)
        return sum(self._at(key, due, now) for key, due in rows)

    def watch(self, items: Sequence[tuple[str, datetime]]) -> None:
        """Schedule hook for FollowupService: precise jobs for new rows due soon."""
        now = self._clock()
        for key, due in items:
            if due < now + self.horizon:
                self._at(key, due, now)

    def _at(self, key: str, due: datetime, now: datetime) -> bool:
        if self._timed.get(key) == due:
            return False
        name = JOB_PREFIX + key
        if key in self._timed:
            # Re-timed: drop the old job. (replace_existing alone only applies once the
            # scheduler runs, and post_init runs before PTB starts the JobQueue.)
            for job in self._jq.get_jobs_by_name(name):
                job.schedule_removal()
        when: datetime | timedelta = due if due > now else timedelta(0)
        self._jq.run_once(
            self._fire,
            when=when,
            name=name,
            job_kwargs={"id": name, "replace_existing": True, "misfire_grace_time": None},
        )
        self._timed[key] = due
        return True

    def cancel(self, key: str) -> None:
        """Drop the one-off job of a reminder (the row's own status is what really counts)."""
        self._timed.pop(key, None)
        for job in self._jq.get_jobs_by_name(JOB_PREFIX + key):
            job.schedule_removal()

    def kick(self) -> None:
        """Send what is due now (the outbox calls this after a commit), without waiting for
        the next tick. Kicks coalesce: one task drains the rows, looping while new kicks
        arrive and waiting for rows due within one interval (paced group messages)."""
        if self._stopping:
            return
        self._kicked.set()
        if self._kick_task is None or self._kick_task.done():
            self._kick_task = asyncio.get_running_loop().create_task(self._kick_loop())

    async def stop(self, grace: float = 5.0) -> None:
        """Stop kicking (at shutdown, before the database is closed): the batch in progress
        may finish within ``grace`` seconds (so no transaction is cut off), then the task is
        cancelled. Rows not sent stay in the database and go out at the next start."""
        self._stopping = True
        self._kicked.set()  # out of its wait for the next due row
        task, self._kick_task = self._kick_task, None
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _kick_loop(self) -> None:
        try:
            while not self._stopping:
                self._kicked.clear()
                handled = await self._pump.drain_all()
                if self._kicked.is_set():
                    continue
                due = await self._pump.store.next_due_at()
                if self._kicked.is_set():
                    # Kicked while reading: a row committed meanwhile may be due now, and
                    # the answer above may predate it. (Returning here lost that wake-up:
                    # the row waited for the next tick.) No await from here to the wait
                    # below, so a kick cannot slip in between.
                    continue
                if due is None:
                    return
                wait = (due - self._clock()).total_seconds()
                if wait > self.interval.total_seconds() or (wait <= 0 and not handled):
                    return  # later rows, or rows held up behind a retry: the tick's job
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kicked.wait(), timeout=max(wait, 0.0))
        except Exception:
            log.exception("sending from the outbox failed; the next tick retries")

    async def _tick(self, _context: Any) -> None:
        # Until nothing is claimable: rows that become due while a batch is processed (the
        # failure notice of a relay marked failed, the next outbox row of a chat, claimed
        # one at a time) go out now, not one tick later.
        await self._pump.drain_all()
        await self.refresh_window()

    async def _fire(self, _context: Any) -> None:
        await self._pump.run_once()


def install(
    job_queue: JobQueue[Any],
    pump: ReminderPump,
    *,
    interval: timedelta = timedelta(seconds=30),
    horizon: timedelta = timedelta(minutes=10),
) -> ReminderJobs:
    """Build the :class:`ReminderJobs` for this JobQueue; call ``await jobs.start()`` next."""
    return ReminderJobs(job_queue, pump, interval=interval, horizon=horizon)
