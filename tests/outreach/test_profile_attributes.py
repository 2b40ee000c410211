"""Company attributes a member gives in the profile dialogue: stored where the member list
import keeps them, so audiences by industry, market and city reach that member; on SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services.attributes import CITIES, INDUSTRIES, MARKETS
from bot.services.audience import Audience, parse_filter, recipients_query
from bot.services.companies import CompanyService, MemberRow, ProfileError
from bot.services.errors import NotFound
from db.models import Company, User
from db.session import SessionFactory
from tests.outreach.conftest import populate

NEWCOMER, NO_COMPANY = 201, 202


async def _newcomer(sessions: SessionFactory) -> CompanyService:
    """A member who typed a company nobody knows (no attributes), and one without company."""
    await populate(sessions)
    async with sessions() as s, s.begin():
        s.add_all([User(id=NEWCOMER, first_name="n"), User(id=NO_COMPANY, first_name="x")])
    companies = CompanyService(sessions)
    await companies.link_user(NEWCOMER, "慈溪新达五金厂")
    return companies


async def _reached(sessions: SessionFactory, text: str) -> set[int]:
    async with sessions() as s:
        rows = await s.execute(recipients_query(parse_filter(text), "alerts"))
        return {int(r[0]) for r in rows.all()}


async def test_attributes_set_in_the_dialogue_make_audiences_reach_the_member(
    sessions: SessionFactory,
) -> None:
    companies = await _newcomer(sessions)
    assert await companies.missing_attributes(NEWCOMER) == ("industry", "export_markets", "city")
    assert NEWCOMER not in await _reached(sessions, "industry: 机械装备")

    assert await companies.set_attribute(NEWCOMER, "industry", INDUSTRIES["machinery"]) == (
        "机械装备"
    )
    # Typed names of the fixed list are stored as the import stores 'US, EU'.
    assert await companies.set_attribute(NEWCOMER, "export_markets", "美国，EU") == ";us;eu;"
    assert await companies.set_attribute(NEWCOMER, "city", "  Cixi ") == CITIES["cixi"]
    assert await companies.set_attribute(NEWCOMER, "industry", "Machinery") == "机械装备"
    assert await companies.missing_attributes(NEWCOMER) == ()

    assert NEWCOMER in await _reached(sessions, "industry: 机械装备")
    assert NEWCOMER in await _reached(sessions, "industry: machinery")  # English name
    assert NEWCOMER in await _reached(sessions, "market: 美国")  # alias of the stored code
    assert NEWCOMER in await _reached(sessions, "market: EU; city: Cixi")
    assert NEWCOMER not in await _reached(sessions, "city: 宁波")
    assert NEWCOMER not in await _reached(sessions, "market: JP")


async def test_bad_attribute_input_changes_nothing(sessions: SessionFactory) -> None:
    companies = await _newcomer(sessions)
    for attribute, value, field, reason in [
        ("industry", "   ", "industry", "empty"),
        ("industry", "机" * 101, "industry", "too_long"),
        ("city", "城" * 51, "city", "too_long"),
        ("export_markets", " , ;", "markets", "empty"),
        ("export_markets", ", ".join(f"market{i}" for i in range(40)), "markets", "too_long"),
    ]:
        with pytest.raises(ProfileError) as caught:
            await companies.set_attribute(NEWCOMER, attribute, value)
        assert (caught.value.field, caught.value.reason) == (field, reason)
    assert await companies.missing_attributes(NEWCOMER) == ("industry", "export_markets", "city")
    with pytest.raises(NotFound):
        await companies.set_attribute(NO_COMPANY, "city", "宁波")
    assert await companies.missing_attributes(NO_COMPANY) == ()


async def test_member_list_values_win_and_are_not_asked(sessions: SessionFactory) -> None:
    companies = await _newcomer(sessions)
    await companies.set_attribute(NEWCOMER, "city", "宁波")
    # The association's list names the company later, with a city and an industry.
    report = await companies.import_members(
        [MemberRow(2, "慈溪新达五金厂", "NBIP-0100", None, "五金", None, "慈溪")]
    )
    assert report.updated == 1
    async with sessions() as s:
        row = await s.scalar(select(Company).where(Company.member_no == "NBIP-0100"))
        assert row is not None
        assert (row.industry, row.export_markets, row.city) == ("五金", None, "慈溪")
    assert await companies.missing_attributes(NEWCOMER) == ("export_markets",)


def test_fixed_lists_are_valid_filter_values() -> None:
    assert parse_filter("market: " + ", ".join(MARKETS)) == Audience(markets=MARKETS)
    assert parse_filter("industry: " + ", ".join(INDUSTRIES)).industries == tuple(
        INDUSTRIES.values()
    )
    assert parse_filter("city: " + ", ".join(CITIES)).cities == tuple(CITIES.values())
