"""Follow-ups, reminders, statistics: shared helpers (fixtures live in each test module)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from bot.scheduler import SendResult
from bot.services.calendar import WorkCalendar
from bot.services.followups import Delivery, FollowupPolicy, Skip
from bot.services.reminders import ClaimedReminder
from db.models import Expert, Priority, Role, Ticket, TicketStatus, User
from db.session import SessionFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 23 November 2026, 09:00 in Shanghai.
MONDAY_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STAFF_CHAT = -100123
ADMIN = 900
EXPERT_USER = 700
MEMBER = 500

CAL = WorkCalendar(
    zone=SHANGHAI,
    holidays=frozenset({date(2026, 12, 31), date(2027, 1, 1)}),
    extra_workdays=frozenset({date(2027, 1, 2)}),  # a make-up Saturday
)
POLICY = FollowupPolicy(staff_chat_id=STAFF_CHAT, admin_ids=(ADMIN,))


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI).astimezone(UTC)


_seq = count(1)


async def add_user(
    sessions: SessionFactory, user_id: int, *, lang: str = "zh", role: Role = Role.MEMBER
) -> None:
    async with sessions() as s, s.begin():
        s.add(User(id=user_id, first_name=f"u{user_id}", lang=lang, role=role))


async def add_expert(
    sessions: SessionFactory, user_id: int = EXPERT_USER, key: str = "wang"
) -> int:
    await add_user(sessions, user_id, lang="zh", role=Role.EXPERT)
    async with sessions() as s, s.begin():
        expert = Expert(
            key=key,
            user_id=user_id,
            name_zh="王律师",
            name_en="Lawyer Wang",
            categories=["trademark"],
            languages=["zh", "en"],
        )
        s.add(expert)
        await s.flush()
        return expert.id


async def add_ticket(
    sessions: SessionFactory,
    *,
    user_id: int = MEMBER,
    created_at: datetime = MONDAY_9,
    status: TicketStatus = TicketStatus.NEW,
    expert_id: int | None = None,
    category: str = "trademark",
    lang: str = "zh",
    **fields: Any,
) -> int:
    seq = next(_seq)
    async with sessions() as s, s.begin():
        ticket = Ticket(
            number=f"IP-2026-{seq:04d}",
            year=2026,
            seq=seq,
            user_id=user_id,
            lang=lang,
            category=category,
            question="我们的商标被抢注了，怎么办？",
            status=status,
            priority=fields.pop("priority", Priority.NORMAL),
            expert_id=expert_id,
            created_at=created_at,
            last_member_message_at=fields.pop("last_member_message_at", created_at),
            **fields,
        )
        s.add(ticket)
        await s.flush()
        return ticket.id


async def base_people(sessions: SessionFactory) -> int:
    """Member 500 (zh), admin 900, expert 700 (王律师); returns the expert id."""
    await add_user(sessions, MEMBER, lang="zh")
    await add_user(sessions, ADMIN, lang="en", role=Role.ADMIN)
    return await add_expert(sessions)


class PassThrough:
    """A preparer that always sends, with no message content (durability tests)."""

    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        return Delivery(reminder, ())


@dataclass
class Recorder:
    """A sender that records what it was handed; outcomes can be scripted per key."""

    outcomes: dict[str, list[SendResult]] = field(default_factory=dict)
    sent: list[Delivery] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    yield_every: int = 1

    async def __call__(self, delivery: Delivery) -> SendResult:
        key = delivery.reminder.key
        self.attempts.append(key)
        if len(self.attempts) % self.yield_every == 0:
            await asyncio.sleep(0)  # let a concurrent pump interleave
        script = self.outcomes.get(key)
        result = script.pop(0) if script else SendResult.sent()
        if result.ok:
            self.sent.append(delivery)
        return result

    @property
    def keys(self) -> list[str]:
        return [d.reminder.key for d in self.sent]


class Clock:
    """An injected clock for pumps: `now` is moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
