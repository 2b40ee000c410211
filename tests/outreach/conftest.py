"""People and companies for the outreach tests (each test gets a fresh database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from db.models import Company, Role, User
from db.session import SessionFactory

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ADMIN, EDITOR, STAFF = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    lang: str | None = None
    telegram_lang: str | None = None
    company: str | None = None
    blocked: bool = False


COMPANIES = {
    "机械A": ("machinery", ";us;eu;", "ningbo"),
    "电子B": ("electronics", ";eu;", "cixi"),
    "纺织C": ("textiles", ";us;", "ningbo"),
}

MEMBERS = (
    Member(101, lang="zh", company="机械A"),
    Member(102, telegram_lang="en-GB", company="电子B"),
    Member(103, lang="en", company="纺织C"),
    Member(104, telegram_lang="zh-hans"),
    Member(105, lang="zh", blocked=True, company="机械A"),
)


async def populate(sessions: SessionFactory) -> dict[str, int]:
    async with sessions() as s, s.begin():
        ids: dict[str, int] = {}
        for name, (industry, markets, city) in COMPANIES.items():
            company = Company(
                name=name,
                name_key=name,
                is_member=True,
                industry=industry,
                export_markets=markets,
                city=city,
            )
            s.add(company)
            await s.flush()
            ids[name] = company.id
        s.add_all(
            [
                User(id=ADMIN, first_name="admin", role=Role.ADMIN, lang="zh"),
                User(id=EDITOR, first_name="editor", role=Role.EDITOR, lang="en"),
                User(id=STAFF, first_name="staff", role=Role.STAFF),
            ]
        )
        for m in MEMBERS:
            s.add(
                User(
                    id=m.id,
                    first_name=f"m{m.id}",
                    lang=m.lang,
                    telegram_lang=m.telegram_lang,
                    company_id=ids[m.company] if m.company else None,
                    contact_name=f"contact {m.id}",
                    blocked_bot_at=NOW if m.blocked else None,
                )
            )
    return ids
