"""Shared builders for the service tests: users, experts, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.experts import ExpertService, ExpertSpec
from db.models import Role, User
from db.session import SessionFactory
from faq.models import Lang

ZONE = ZoneInfo("Asia/Shanghai")
# Friday 27 November 2026, 10:00 in Ningbo.
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand: services never read the wall clock in these tests."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def add_user(
    sessions: SessionFactory,
    user_id: int,
    role: Role = Role.MEMBER,
    first_name: str = "",
    company_id: int | None = None,
) -> None:
    async with sessions() as s, s.begin():
        s.add(
            User(
                id=user_id,
                first_name=first_name or f"user{user_id}",
                role=role,
                company_id=company_id,
            )
        )


def spec(
    key: str,
    user_id: int,
    *,
    categories: tuple[str, ...] = ("trademark",),
    languages: tuple[Lang, ...] = ("zh",),
    max_open: int = 5,
    active: bool = True,
) -> ExpertSpec:
    return ExpertSpec(
        key=key,
        user_id=user_id,
        name_zh=f"专家{key}",
        name_en=f"Expert {key}",
        title_zh="律师",
        title_en="Attorney",
        categories=categories,
        languages=languages,
        max_open=max_open,
        active=active,
    )


async def add_experts(sessions: SessionFactory, *specs: ExpertSpec) -> dict[str, int]:
    """Import ``specs``; return expert id by key."""
    experts = ExpertService(sessions)
    await experts.import_roster(specs)
    return {e.key: e.id for e in await experts.list()}
