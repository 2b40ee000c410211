"""Reminder rows: schedule, cancel, claim, complete and retry. The database is the truth.

Life of a row::

    pending ──claim_due──▶ sending ──mark_sent──────▶ sent
       ▲  │                  │ ├──mark_retry (K left)──▶ pending (due later, back-off)
       │  │                  │ ├──mark_retry (none left) / mark_failed ─▶ failed
       │  │                  │ └──mark_cancelled (pointless at send time) ─▶ cancelled
       │  └──cancel (pointless now)──────────────────────────────────────────▶ cancelled
       └──release_stale (a worker died holding it; its lease ran out)

* ``schedule`` is idempotent by ``key``: the second call with the same key is a no-op,
  whatever the state of the first row (a sent reminder is not sent again).
* ``claim_due`` hands each due row to exactly one worker. On PostgreSQL one transaction
  picks the due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (concurrent workers skip each
  other's rows instead of waiting) and marks them with ``UPDATE … RETURNING``. SQLite has one
  writer at a time: a single ``UPDATE … WHERE id IN (SELECT due ids) AND status = 'pending'
  RETURNING`` runs under its write lock, so a row another writer already took no longer
  matches ``status = 'pending'`` and is never returned twice.
* ``attempts`` counts claims: a row is claimed, then sent or not. It therefore also counts a
  worker that crashed while holding it, so a reminder that kills its worker cannot loop
  forever.
* A row whose payload carries ``on_failure`` (:data:`ON_FAILURE`) has that row scheduled in
  the same transaction that marks it failed — however it fails (last retry, a permanent
  error, a lease that ran out with no attempts left) — e.g. to tell a relayed message's
  sender that it could not be delivered.
* Completion is fenced: ``mark_*`` only touch a row still ``sending`` *and* claimed by the
  caller's ``worker_id`` — a worker whose lease expired cannot overwrite the outcome of the
  worker that took the row over.

A crash after Telegram accepted a message and before its "sent" mark is committed means the
row is sent again once its lease expires (at-least-once across a crash; exactly once
otherwise). The announcement lane is at most once instead: it commits ``attempted_at``
before each request and never releases a row whose send began (bot.services.broadcast).
The pump group-commits "sent" marks at most ``flush_interval`` (50 ms) after the
first unrecorded send, so that window is the few messages sent in the last 50 ms.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Reminder, ReminderStatus, User
from db.session import SessionFactory

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500
PARTS_SENT = "parts_sent"  # payload key: messages of a delivery already sent
ON_FAILURE = "on_failure"
"""Payload key: ``{"kind", "recipient_id", "payload"}`` of a row to schedule (key
``failed:<this row's key>``, due at once) when this row is marked failed."""


class ReminderKind(enum.StrEnum):
    """What a reminder is for; followups.py knows what each one says and to whom."""

    UNCLAIMED = "unclaimed"  # staff group: nobody has claimed the ticket
    UNCLAIMED_ADMIN = "unclaimed_admin"  # each admin, privately: still unclaimed
    EXPERT_WAITING = "expert_waiting"  # the expert: the member is waiting for an answer
    EXPERT_ESCALATION = "expert_escalation"  # each admin: expert silent, offer reassign
    MEMBER_NUDGE = "member_nudge"  # the member: the expert is waiting for information
    MEMBER_AUTOCLOSE = "member_autoclose"  # close the ticket, tell the member (reopen button)
    CHECKIN = "checkin"  # the member: solved? 1-5 rating
    DEADLINE = "deadline"  # the expert or the staff group: matter deadline in N days
    RETURN_VISIT = "return_visit"  # 回访: the expert (or staff member) who scheduled it
    RETURN_VISIT_MEMBER = "return_visit_member"  # the member, when included
    WEEKLY_REPORT = "weekly_report"  # staff group: statistics and chart


@dataclass(frozen=True, slots=True)
class ReminderSpec:
    """A reminder to create. ``key`` must identify the follow-up, e.g. 'checkin:42:0'."""

    key: str
    kind: str
    due_at: datetime
    ticket_id: int | None = None
    recipient_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    """A row this worker now holds in status 'sending'."""

    id: int
    key: str
    kind: str
    ticket_id: int | None
    recipient_id: int | None
    due_at: datetime
    payload: Mapping[str, Any]
    attempts: int
    claimed_by: str
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off: base · 2^(attempts-1), capped; Telegram's retry_after wins."""

    max_attempts: int = 6
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        exp: timedelta = self.base * (2 ** max(0, attempts - 1))
        delay: timedelta = min(exp, self.cap)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        return delay


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass aware UTC datetimes")
    return at.astimezone(UTC)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def held_by(reminder: ClaimedReminder) -> tuple[Any, ...]:
    """Conditions for a row still being sent by the worker that claimed it: completion is
    fenced, so a worker whose lease ran out cannot overwrite its successor's outcome."""
    return (
        Reminder.id == reminder.id,
        Reminder.status == ReminderStatus.SENDING,
        Reminder.claimed_by == reminder.claimed_by,
    )


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# -- scheduling (repository functions: they never commit) --------------------------------


async def schedule(session: AsyncSession, spec: ReminderSpec) -> bool:
    """Insert the reminder unless its key exists. True when this call created it."""
    values: dict[str, Any] = {
        "key": spec.key,
        "kind": str(spec.kind),
        "due_at": _aware(spec.due_at),
        "ticket_id": spec.ticket_id,
        "recipient_id": spec.recipient_id,
        "payload": dict(spec.payload),
        "status": ReminderStatus.PENDING,
        "attempts": 0,
    }
    if _dialect(session) == "postgresql":
        stmt: Any = (
            pg_insert(Reminder).values(**values).on_conflict_do_nothing(index_elements=["key"])
        )
    else:
        stmt = (
            sqlite_insert(Reminder).values(**values).on_conflict_do_nothing(index_elements=["key"])
        )
    result = await session.execute(stmt)
    return _rowcount(result) == 1


def failure_notice(kind: str, recipient_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The ``on_failure`` entry of a payload (:data:`ON_FAILURE`)."""
    return {"kind": kind, "recipient_id": recipient_id, "payload": dict(payload)}


async def _schedule_failure_notice(
    session: AsyncSession,
    key: str,
    payload: Mapping[str, Any] | None,
    ticket_id: int | None,
    now: datetime,
) -> None:
    notice = (payload or {}).get(ON_FAILURE)
    if not isinstance(notice, Mapping):
        return
    await schedule(
        session,
        ReminderSpec(
            key=f"failed:{key}",
            kind=str(notice["kind"]),
            due_at=now,
            ticket_id=ticket_id,
            recipient_id=int(notice["recipient_id"]),
            payload=dict(notice.get("payload") or {}),
        ),
    )


async def schedule_many(session: AsyncSession, specs: Sequence[ReminderSpec]) -> list[str]:
    """Schedule each spec; returns the keys that were newly created."""
    created = []
    for spec in specs:
        if await schedule(session, spec):
            created.append(spec.key)
    return created


async def cancel_keys(session: AsyncSession, keys: Collection[str], reason: str) -> int:
    """Cancel the still-pending reminders with these keys."""
    if not keys:
        return 0
    result = await session.execute(
        update(Reminder)
        .where(Reminder.key.in_(list(keys)), Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, last_error=reason[:MAX_ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def pending_for_ticket(
    session: AsyncSession, ticket_id: int, kinds: Collection[str] | None = None
) -> list[Reminder]:
    stmt = select(Reminder).where(
        Reminder.ticket_id == ticket_id, Reminder.status == ReminderStatus.PENDING
    )
    if kinds is not None:
        stmt = stmt.where(Reminder.kind.in_(list(kinds)))
    return list((await session.scalars(stmt)).all())


# -- the store used by workers ------------------------------------------------------------

OUTBOX_PREFIX = "out."
"""Kinds of outbox rows (bot.services.outbox), which are sent in order per chat."""


def _held_up(pick: Any, now: datetime) -> Any:
    """An earlier outbox row of the same chat must go first: one still being sent, one
    being retried (so a retry keeps its place), or one already due. A row scheduled for
    later that was never tried does not hold up what is due now."""
    earlier = aliased(Reminder)
    return (
        select(earlier.id)
        .where(
            earlier.recipient_id == pick.recipient_id,
            earlier.id < pick.id,
            earlier.kind.startswith(OUTBOX_PREFIX),
            or_(
                earlier.status == ReminderStatus.SENDING,
                and_(
                    earlier.status == ReminderStatus.PENDING,
                    or_(earlier.attempts > 0, earlier.due_at <= now),
                ),
            ),
        )
        .correlate(pick)
        .exists()
    )


def _claimed(row: Any) -> ClaimedReminder:
    return ClaimedReminder(
        id=row.id,
        key=row.key,
        kind=row.kind,
        ticket_id=row.ticket_id,
        recipient_id=row.recipient_id,
        due_at=row.due_at,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
    )


class ReminderStore:
    """Transactions over reminder rows for the scheduler's workers (one per call)."""

    def __init__(
        self,
        sessions: SessionFactory,
        retry: RetryPolicy | None = None,
        *,
        only_kinds: Collection[str] | None = None,
        exclude_kinds: Collection[str] = (),
    ) -> None:
        """``only_kinds`` / ``exclude_kinds`` make a lane: a store that claims (and reports
        as due) only some kinds, so a paced worker for broadcasts and the follow-up pump
        share one table without either waiting behind the other's rows."""
        self._sessions = sessions
        self.retry = retry or RetryPolicy()
        self._only = list(only_kinds) if only_kinds is not None else None
        self._exclude = list(exclude_kinds)

    def _lane(self, kind: Any) -> list[Any]:
        conditions: list[Any] = []
        if self._only is not None:
            conditions.append(kind.in_(self._only))
        if self._exclude:
            conditions.append(kind.not_in(self._exclude))
        return conditions

    async def schedule(self, spec: ReminderSpec) -> bool:
        async with self._sessions() as s, s.begin():
            return await schedule(s, spec)

    async def cancel(self, keys: Collection[str], reason: str) -> int:
        async with self._sessions() as s, s.begin():
            return await cancel_keys(s, keys, reason)

    async def claim_due(
        self, now: datetime, worker_id: str, limit: int = 100
    ) -> list[ClaimedReminder]:
        """Move up to `limit` due pending rows to 'sending' for this worker, oldest first."""
        now = _aware(now)
        async with self._sessions() as s, s.begin():
            pick = aliased(Reminder)
            due = (
                select(pick.id)
                .where(
                    pick.status == ReminderStatus.PENDING,
                    pick.due_at <= now,
                    or_(~pick.kind.startswith(OUTBOX_PREFIX), ~_held_up(pick, now)),
                )
                .where(*self._lane(pick.kind))
                .order_by(pick.due_at, pick.id)
                .limit(limit)
            )
            target: Any
            if _dialect(s) == "postgresql":
                # Lock the picked rows first, skipping rows other workers hold. (Inside an
                # UPDATE's IN (…) the planner may rescan a LIMIT … FOR UPDATE subquery and
                # pick more rows than asked; a separate statement cannot.)
                ids = list((await s.scalars(due.with_for_update(skip_locked=True))).all())
                if not ids:
                    return []
                target = ids
            else:
                # SQLite: one statement under the database's single write lock; the
                # non-correlated subquery is evaluated once.
                target = due.correlate(None).scalar_subquery()
            stmt = (
                update(Reminder)
                .where(Reminder.id.in_(target))
                .where(Reminder.status == ReminderStatus.PENDING)
                .values(
                    status=ReminderStatus.SENDING,
                    claimed_by=worker_id,
                    claimed_at=now,
                    attempted_at=None,
                    attempts=Reminder.attempts + 1,
                )
                .returning(
                    Reminder.id,
                    Reminder.key,
                    Reminder.kind,
                    Reminder.ticket_id,
                    Reminder.recipient_id,
                    Reminder.due_at,
                    Reminder.payload,
                    Reminder.attempts,
                    Reminder.claimed_by,
                    Reminder.claimed_at,
                )
                .execution_options(synchronize_session=False)
            )
            rows = (await s.execute(stmt)).all()
        return sorted((_claimed(r) for r in rows), key=lambda r: (r.due_at, r.id))

    async def release_stale(self, now: datetime, lease: timedelta) -> int:
        """Rows held in 'sending' longer than `lease` (their worker died) go back to pending.

        A row that has used up its attempts this way is marked failed instead.
        """
        now = _aware(now)
        cutoff = now - lease
        async with self._sessions() as s, s.begin():
            stale = (
                Reminder.status == ReminderStatus.SENDING,
                Reminder.claimed_at < cutoff,
                *self._lane(Reminder.kind),  # each lane frees its own rows
            )
            failed = (
                await s.execute(
                    update(Reminder)
                    .where(*stale, Reminder.attempts >= self.retry.max_attempts)
                    .values(
                        status=ReminderStatus.FAILED,
                        last_error="lease expired; no attempts left",
                    )
                    .returning(Reminder.key, Reminder.payload, Reminder.ticket_id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            for key, payload, ticket_id in failed:
                await _schedule_failure_notice(s, key, payload, ticket_id, now)
            released = await s.execute(
                update(Reminder)
                .where(*stale)
                .values(
                    status=ReminderStatus.PENDING,
                    claimed_by=None,
                    claimed_at=None,
                    last_error="lease expired: the worker holding it stopped",
                )
                .execution_options(synchronize_session=False)
            )
        count = len(failed) + _rowcount(released)
        if count:
            log.warning("released %d reminder(s) held by stopped workers", count)
        return count

    async def _finish(
        self, reminder: ClaimedReminder, *, failed_at: datetime | None = None, **values: Any
    ) -> bool:
        """Complete a row this worker holds; ``failed_at``: it is marked failed (its
        ``on_failure`` row is scheduled in the same transaction)."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Reminder)
                .where(*held_by(reminder))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            held = _rowcount(result) == 1
            if held and failed_at is not None:
                await _schedule_failure_notice(
                    s, reminder.key, reminder.payload, reminder.ticket_id, _aware(failed_at)
                )
            return held

    async def mark_sent(self, reminder: ClaimedReminder, now: datetime) -> bool:
        """Record the send. False if this worker no longer holds the row (lease lost)."""
        return await self._finish(
            reminder, status=ReminderStatus.SENT, sent_at=_aware(now), last_error=None
        )

    async def mark_sent_many(
        self, reminders: Sequence[ClaimedReminder], worker_id: str, now: datetime
    ) -> int:
        """Record several sends by one worker in one transaction; returns rows still held."""
        if not reminders:
            return 0
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Reminder)
                .where(
                    Reminder.id.in_([r.id for r in reminders]),
                    Reminder.status == ReminderStatus.SENDING,
                    Reminder.claimed_by == worker_id,
                )
                .values(status=ReminderStatus.SENT, sent_at=_aware(now), last_error=None)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result)

    async def mark_cancelled(self, reminder: ClaimedReminder, reason: str) -> bool:
        return await self._finish(
            reminder, status=ReminderStatus.CANCELLED, last_error=reason[:MAX_ERROR_CHARS]
        )

    async def mark_retry(
        self,
        reminder: ClaimedReminder,
        now: datetime,
        error: str,
        retry_after: float | None = None,
        parts_sent: int = 0,
    ) -> ReminderStatus:
        """A retryable failure: back to pending later, or failed when attempts are used up.

        ``parts_sent``: messages of a multi-message delivery that did go out; kept in the
        row's payload so the retry (even after a restart) resumes after them."""
        if reminder.attempts >= self.retry.max_attempts:
            await self._finish(
                reminder,
                failed_at=now,
                status=ReminderStatus.FAILED,
                last_error=f"gave up after {reminder.attempts} attempts: {error}"[
                    :MAX_ERROR_CHARS
                ],
            )
            return ReminderStatus.FAILED
        delay = self.retry.delay(reminder.attempts, retry_after)
        progress: dict[str, Any] = {}
        if parts_sent > int(reminder.payload.get(PARTS_SENT, 0)):
            progress["payload"] = {**reminder.payload, PARTS_SENT: parts_sent}
        await self._finish(
            reminder,
            **progress,
            status=ReminderStatus.PENDING,
            due_at=_aware(now) + delay,
            claimed_by=None,
            claimed_at=None,
            attempted_at=None,  # the failure was clear: nothing went out
            last_error=error[:MAX_ERROR_CHARS],
        )
        return ReminderStatus.PENDING

    async def mark_failed(
        self,
        reminder: ClaimedReminder,
        now: datetime,
        error: str,
        blocked_user_id: int | None = None,
    ) -> bool:
        """A permanent failure: no retry. A user who blocked the bot is marked as such."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(Reminder)
                .where(*held_by(reminder))
                .values(status=ReminderStatus.FAILED, last_error=error[:MAX_ERROR_CHARS])
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) == 1:
                await _schedule_failure_notice(
                    s, reminder.key, reminder.payload, reminder.ticket_id, _aware(now)
                )
            if blocked_user_id is not None:
                await s.execute(
                    update(User)
                    .where(User.id == blocked_user_id, User.blocked_bot_at.is_(None))
                    .values(blocked_bot_at=_aware(now))
                    .execution_options(synchronize_session=False)
                )
            return _rowcount(result) == 1

    async def next_due_at(self) -> datetime | None:
        async with self._sessions() as s:
            value = await s.scalar(
                select(func.min(Reminder.due_at)).where(
                    Reminder.status == ReminderStatus.PENDING, *self._lane(Reminder.kind)
                )
            )
        if value is None:
            return None
        # min() bypasses the column type on SQLite: it comes back as text or naive.
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    async def pending_between(
        self, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[tuple[str, datetime]]:
        """(key, due_at) of pending rows due in [start, end), soonest first, at most `limit`."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(Reminder.key, Reminder.due_at)
                .where(
                    Reminder.status == ReminderStatus.PENDING,
                    Reminder.due_at >= _aware(start),
                    Reminder.due_at < _aware(end),
                    *self._lane(Reminder.kind),
                )
                .order_by(Reminder.due_at)
                .limit(limit)
            )
            return [(k, d) for k, d in rows.all()]

    async def counts(self) -> dict[str, int]:
        """Rows per status (for /health-style checks and the benchmark)."""
        async with self._sessions() as s:
            rows = await s.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
            return {str(status): int(n) for status, n in rows.all()}
