"""The one durable outbox for everything the bot sends on its own.

Notices, staff-group cards, reminders (and, for other modules, announcements) are rows in
the ``reminders`` table, written in the same transaction as the change they announce and
sent by the one claiming worker of :mod:`bot.scheduler` (the reminder pump). So a message
is never lost to a crash or a Telegram error, and never sent twice by two processes.

Use it like this (the whole API)::

    from bot.services.outbox import enqueue, message_payload

    async with sessions() as s, s.begin():
        ...  # the change itself
        await enqueue(s, chat_id, "announcement", message_payload(html="<b>…</b>"))
    services.outbox.wake()  # after the commit: send now rather than at the next tick

or, outside another transaction, ``await services.outbox.send(chat_id, kind, payload)``.

* ``enqueue(session, chat_id, kind, payload, *, key=None, ticket_id=None, due_at=None)``
  adds a row (never commits). ``kind`` is a short label of what it is ("notice",
  "announcement" …; stored as ``out.<kind>``); ``key`` makes the call idempotent (a second
  enqueue with the same key is a no-op, whatever became of the first row); ``due_at`` sends
  it later. Returns True when a row was created.
* ``message_payload(html=… | text_key=…, params=…, lang=…, buttons=…)`` is the payload of
  a plain message: ready HTML, or a catalog key rendered in ``lang`` at send time.
  ``buttons`` are rows of ``(text_key, callback code, arg)``.

How rows are sent (bot.services.reminders, bot.scheduler):

* claimed with a lease — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update
  on SQLite — so two processes never send the same row;
* in order per chat: a row is not claimed while an earlier outbox row of its chat is still
  pending or being sent; other chats are not held up (no head-of-line blocking);
* retried with exponential back-off while the bot runs (Telegram's retry_after wins), and
  marked failed after the last attempt, or at once when the recipient blocked the bot
  (the user is then marked as such);
* staff-group cards are coalesced — one pending row per ticket, rendered from the ticket's
  state at send time, so the latest state wins — and paced: rows for a group chat are due at
  least ``GROUP_GAP`` apart (Telegram allows about 20 messages a minute in a group).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.followups import Button, Delivery, Outgoing, Skip
from bot.services.reminders import ClaimedReminder, ReminderSpec, schedule
from db.models import Reminder, ReminderStatus
from db.session import SessionFactory
from faq.models import Lang

PREFIX = "out."
"""Reminder kinds of outbox rows start with this."""
CARD = PREFIX + "card"
"""The staff-group card of ``ticket_id``: posted, or edited to the ticket's current state."""
GROUP_GAP = timedelta(seconds=3)
"""Rows for one group chat are due at least this far apart (≈ 20 a minute)."""

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def is_outbox(kind: str) -> bool:
    return kind.startswith(PREFIX)


def message_payload(
    *,
    html: str | None = None,
    text_key: str | None = None,
    params: Mapping[str, object] | None = None,
    lang: str = "zh",
    buttons: Iterable[Iterable[tuple[str, str, str]]] = (),
) -> dict[str, Any]:
    """The payload of a plain message: ready HTML, or a catalog key rendered at send time
    (``params`` are HTML-escaped then). Buttons: rows of (label key, callback code, arg)."""
    if (html is None) == (text_key is None):
        raise ValueError("give exactly one of html and text_key")
    return {
        "html": html,
        "text_key": text_key,
        "params": {k: str(v) for k, v in (params or {}).items()},
        "lang": lang,
        "buttons": [[list(b) for b in row] for row in buttons],
    }


async def enqueue(
    session: AsyncSession,
    chat_id: int,
    kind: str,
    payload: Mapping[str, Any],
    *,
    key: str | None = None,
    ticket_id: int | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Add a message for ``chat_id`` to the outbox in the caller's transaction (never
    commits). True when a row was created (False: ``key`` existed already)."""
    now = now or _utcnow()
    full_kind = kind if is_outbox(kind) else PREFIX + kind
    due = due_at or now
    if chat_id < 0:
        due = max(due, await _next_group_slot(session, chat_id, now))
    spec = ReminderSpec(
        key=key or f"{full_kind}:{uuid.uuid4().hex}",
        kind=full_kind,
        due_at=due,
        ticket_id=ticket_id,
        recipient_id=chat_id,
        payload=dict(payload),
    )
    return await schedule(session, spec)


async def enqueue_card(
    session: AsyncSession,
    chat_id: int,
    ticket_id: int,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Post or refresh the card of ``ticket_id`` in ``chat_id`` (never commits). Coalesced:
    while a card row of the ticket is pending, nothing is added (its reason is updated);
    the card is rendered from the ticket when it is sent. True when a row was created."""
    pending = await session.execute(
        update(Reminder)
        .where(
            Reminder.kind == CARD,
            Reminder.ticket_id == ticket_id,
            Reminder.status == ReminderStatus.PENDING,
        )
        .values(payload={"reason": reason} if reason else Reminder.payload)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(pending) > 0:
        return False
    return await enqueue(
        session, chat_id, CARD, {"reason": reason} if reason else {}, ticket_id=ticket_id, now=now
    )


async def _next_group_slot(session: AsyncSession, chat_id: int, now: datetime) -> datetime:
    latest = await session.scalar(
        select(func.max(Reminder.due_at)).where(
            Reminder.recipient_id == chat_id,
            Reminder.kind.startswith(PREFIX),
            Reminder.due_at > now - GROUP_GAP,
        )
    )
    if latest is None:
        return now
    if isinstance(latest, str):  # max() bypasses the column type on SQLite
        latest = datetime.fromisoformat(latest)
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return max(now, latest + GROUP_GAP)


class Outbox:
    """The outbox as a service: its own transaction, and a way to wake the sending worker
    (installed by the application once the worker runs; until then rows wait for it)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._wake: Callable[[], None] | None = None
        self._stop: Callable[[], Awaitable[None]] | None = None

    def set_wake(
        self, wake: Callable[[], None], stop: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Install the worker's wake-up (and the way to stop it at shutdown)."""
        self._wake = wake
        self._stop = stop

    async def close(self) -> None:
        """At shutdown: stop the worker's sending in progress (rows stay in the database)."""
        self._wake = None
        if self._stop is not None:
            await self._stop()

    def wake(self) -> None:
        """Send what is due now instead of at the worker's next tick."""
        if self._wake is not None:
            self._wake()

    async def send(
        self,
        chat_id: int,
        kind: str,
        payload: Mapping[str, Any],
        *,
        key: str | None = None,
        ticket_id: int | None = None,
        due_at: datetime | None = None,
    ) -> bool:
        async with self._sessions() as s, s.begin():
            created = await enqueue(
                s, chat_id, kind, payload, key=key, ticket_id=ticket_id, due_at=due_at
            )
        self.wake()
        return created

    async def card(self, chat_id: int, ticket_id: int, reason: str | None = None) -> None:
        async with self._sessions() as s, s.begin():
            await enqueue_card(s, chat_id, ticket_id, reason=reason)
        self.wake()


class _Preparer(Protocol):
    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip: ...


class OutboxPreparer:
    """What the pump sends for a claimed row: follow-up reminders are decided by the
    follow-up rules; an outbox message is its payload; other outbox kinds (cards) are
    rendered by their own sender at send time."""

    def __init__(self, followups: _Preparer) -> None:
        self._followups = followups

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        if not is_outbox(reminder.kind):
            return await self._followups.prepare(reminder, now)
        if reminder.recipient_id is None:
            return Skip("outbox row without a chat", failed=True)
        p = reminder.payload
        if not (p.get("html") or p.get("text_key")):
            return Delivery(reminder, (), refresh_ticket_id=None)
        lang: Lang = "en" if p.get("lang") == "en" else "zh"
        buttons = tuple(
            tuple(Button(str(b[0]), str(b[1]), str(b[2]) if len(b) > 2 else "") for b in row)
            for row in p.get("buttons") or ()
        )
        message = Outgoing(
            chat_id=reminder.recipient_id,
            text_key=str(p.get("text_key") or ""),
            params=dict(p.get("params") or {}),
            lang=lang,
            buttons=buttons,
            html=p.get("html"),
        )
        return Delivery(reminder, (message,))
