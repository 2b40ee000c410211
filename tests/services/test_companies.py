"""Member companies: name keys, fuzzy matching, the member list CSV, profiles and phones."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.companies import (
    CompanyInfo,
    CompanyService,
    MemberListError,
    ProfileError,
    company_key,
    normalise_phone,
    parse_member_csv,
    rank_companies,
    valid_credit_code,
)
from bot.services.errors import NotFound
from bot.services.tickets import TicketService
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_user

EXAMPLE = Path(__file__).parents[1] / "data" / "members.example.csv"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("宁波市甬兴电器有限公司", "甬兴电器"),
        ("宁波甬兴电器", "甬兴电器"),
        ("甬兴电器（宁波）有限公司", "甬兴电器"),
        ("宁波海天塑机股份有限公司", "海天塑机"),
        ("浙江四明模具有限责任公司", "浙江四明模具"),
        ("寧波市甬興電器有限公司", "甬兴电器"),  # Traditional characters
        ("ＡＢＣ贸易有限公司", "abc贸易"),  # full-width letters
        ("Ningbo Bright Star Textiles Co., Ltd.", "bright star textiles"),
        ("BRIGHT STAR TEXTILES CO.,LTD", "bright star textiles"),
        ("Acme Inc.", "acme"),
        ("Tesco", "tesco"),  # "co" inside a word is not a suffix
        ("宁波市", "宁波市"),  # nothing left to strip to
    ],
)
def test_company_key(name: str, key: str) -> None:
    assert company_key(name) == key


def _company(id_: int, name: str, member: bool = True) -> CompanyInfo:
    return CompanyInfo(id_, name, f"M{id_}" if member else None, member, None)


POOL = [
    _company(1, "宁波市甬兴电器有限公司"),
    _company(2, "宁波甬新电子有限公司"),
    _company(3, "宁波海天塑机股份有限公司"),
    _company(4, "Ningbo Bright Star Textiles Co., Ltd."),
    _company(5, "慈溪兴达五金厂", member=False),
]


@pytest.mark.parametrize(
    ("typed", "best"),
    [
        ("宁波甬兴电器", 1),
        ("甬兴电器有限公司", 1),
        ("甬兴电器", 1),
        ("宁波市甬興電器", 1),
        ("海天塑机", 3),
        ("bright star textiles", 4),
        ("Bright Star Textile Co Ltd", 4),
        ("兴达五金", 5),
    ],
)
def test_matching_finds_the_company(typed: str, best: int) -> None:
    matches = rank_companies(typed, POOL)
    assert matches, typed
    assert matches[0].company.id == best
    assert matches[0].score >= 85


def test_exact_key_scores_100_and_unrelated_names_score_nothing() -> None:
    assert rank_companies("宁波甬兴电器", POOL)[0].score == 100
    assert rank_companies("宁波甬兴电器", POOL)[0].confident
    assert rank_companies("杭州西湖茶叶", POOL) == []
    assert rank_companies("", POOL) == []


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("0574-87654321", "0574-87654321"),
        ("(0574) 8765 4321", "0574-87654321"),
        ("057487654321", "0574-87654321"),
        ("010 12345678", "010-12345678"),
        ("+86 574 87654321", "0574-87654321"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_good_phones(raw: str, normalised: str) -> None:
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12812345678", "bad_format"),  # mobiles start 13–19
        ("1381234567", "bad_format"),  # ten digits
        ("87654321", "bad_format"),  # landline without area code
        ("+86 12812345678", "bad_format"),
        ("+1234", "bad_format"),
        ("phone: 138", "bad_characters"),
        ("138123456780x", "bad_characters"),
    ],
)
def test_bad_phones(raw: str, reason: str) -> None:
    with pytest.raises(ProfileError) as refused:
        normalise_phone(raw)
    assert (refused.value.field, refused.value.reason) == ("phone", reason)


def test_credit_codes() -> None:
    assert valid_credit_code("91350100M000100Y43")
    assert not valid_credit_code("91350100M000100Y44")  # wrong check character
    assert not valid_credit_code("91350100M000100Y4")
    assert not valid_credit_code("91350100I000100Y43")  # I is not used


def test_member_csv_reports_bad_rows_by_line() -> None:
    text = (
        "name,member_no,credit_code\n"
        "宁波市甬兴电器有限公司,NBIP-0001,91350100M000100Y43\n"  # line 2
        ",NBIP-0002,\n"  # 3: no name
        "宁波海天塑机股份有限公司,NBIP-0003,12345\n"  # 4: bad credit code
        "\n"  # 5: blank, ignored
        "Foo Trading,NBIP-0001,\n"  # 6: member number repeats line 2
        "宁波甬兴电器,NBIP-0009,\n"  # 7: same company as line 2
        '"Ningbo Bright Star Textiles Co., Ltd.",NBIP-0004,\n'  # 8: good
        "慈溪兴达五金厂,,\n"  # 9: good, no member number
    )
    rows, problems = parse_member_csv(text.encode("utf-8-sig"))
    assert [(r.line, r.member_no) for r in rows] == [(2, "NBIP-0001"), (8, "NBIP-0004"), (9, None)]
    assert [p.line for p in problems] == [3, 4, 6, 7]
    assert "empty" in problems[0].message
    assert "credit code" in problems[1].message
    assert "repeats line 2" in problems[2].message
    assert "repeats line 2" in problems[3].message


def test_member_csv_encodings_and_headers() -> None:
    text = "企业名称;会员编号\n宁波市甬兴电器有限公司;NBIP-0001\n"
    rows, problems = parse_member_csv(text.encode("gb18030"))  # Excel on Chinese Windows
    assert problems == []
    assert rows[0].name == "宁波市甬兴电器有限公司"
    with pytest.raises(MemberListError, match="member_no"):
        parse_member_csv(b"name,phone\nA,1\n")
    with pytest.raises(MemberListError, match="empty"):
        parse_member_csv(b"")


async def test_member_list_import_and_reimport(sessions: SessionFactory, tmp_path: Path) -> None:
    companies = CompanyService(sessions)
    first = await companies.import_members_csv(EXAMPLE)
    assert (first.created, first.updated, first.unchanged, first.problems) == (4, 0, 0, ())
    again = await companies.import_members_csv(EXAMPLE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    renamed = tmp_path / "members.csv"
    renamed.write_text(
        "name,member_no\n"
        "宁波甬兴电器集团有限公司,NBIP-0001\n"  # renamed, same member number
        "宁波海天塑机股份有限公司,NBIP-0002\n"
        "宁波新星科技有限公司,\n"  # new, without a number
        ",NBIP-0099\n",  # bad row: the rest is still imported
        encoding="utf-8",
    )
    third = await companies.import_members_csv(renamed)
    assert (third.created, third.updated, third.unchanged) == (1, 1, 1)
    assert [p.line for p in third.problems] == [5]
    assert third.members_not_in_file == 2  # reported, never demoted
    assert "line 5:" in third.summary()
    best = (await companies.match_company("甬兴电器集团"))[0]
    assert (best.company.name, best.company.member_no) == ("宁波甬兴电器集团有限公司", "NBIP-0001")
    assert len(await companies.match_company("宁波新星科技")) == 1


async def test_member_number_conflicting_with_another_name_is_refused(
    sessions: SessionFactory,
) -> None:
    companies = CompanyService(sessions)
    rows, _ = parse_member_csv("name,member_no\n甬兴电器,A1\n海天塑机,A2\n")
    await companies.import_members(rows)
    clash, _ = parse_member_csv("name,member_no\n海天塑机,A1\n")
    report = await companies.import_members(clash)
    assert [p.line for p in report.problems] == [2]
    assert "belongs to" in report.problems[0].message
    assert (await companies.match_company("甬兴电器"))[0].company.member_no == "A1"


async def test_linking_users_to_companies(sessions: SessionFactory) -> None:
    companies = CompanyService(sessions)
    await companies.import_members_csv(EXAMPLE)
    for user_id in (1, 2, 3):
        await add_user(sessions, user_id)
    match = (await companies.match_company("宁波甬兴电器"))[0]
    assert match.company.is_member

    linked = await companies.link_user(1, match.company.id)
    assert (linked.company.id, linked.created) == (match.company.id, False)
    # A colleague types the name slightly differently: same key, same company.
    assert (await companies.link_user(2, "甬兴电器有限公司")).company.id == match.company.id

    stranger = await companies.link_user(3, "杭州西湖茶叶有限公司")
    assert stranger.created
    assert not stranger.company.is_member
    again = await companies.link_user(3, "杭州西湖茶叶")
    assert (again.company.id, again.created) == (stranger.company.id, False)

    with pytest.raises(NotFound):
        await companies.link_user(1, 9999)
    with pytest.raises(NotFound):
        await companies.link_user(42, "x")
    with pytest.raises(ProfileError) as refused:
        await companies.link_user(1, "   ")
    assert refused.value.reason == "empty"


async def test_a_non_member_company_becomes_a_member_when_listed(
    sessions: SessionFactory,
) -> None:
    companies = CompanyService(sessions)
    await add_user(sessions, 1)
    created = await companies.link_user(1, "宁波甬兴电器")
    assert not created.company.is_member
    report = await companies.import_members_csv(EXAMPLE)
    assert report.updated == 1
    now = await companies.get(created.company.id)
    assert now.is_member
    assert now.member_no == "NBIP-0001"
    assert now.name == "宁波市甬兴电器有限公司"


async def test_linking_attaches_earlier_tickets(sessions: SessionFactory) -> None:
    companies = CompanyService(sessions)
    tickets = TicketService(sessions, ZONE, clock=Clock())
    await add_user(sessions, 1)
    ref = await tickets.open(
        1, lang="zh", category="trademark", question="商标被抢注", faq_id=None, question_id=None
    )
    linked = await companies.link_user(1, "宁波甬兴电器")
    view = await tickets.view_ticket(1, ref.id)
    assert view.company is not None
    assert view.company.id == linked.company.id


async def test_profile(sessions: SessionFactory) -> None:
    companies = CompanyService(sessions)
    await add_user(sessions, 1)
    assert not (await companies.profile(1)).complete
    profile = await companies.save_profile(1, "  王 经理 ", "138-1234-5678")
    assert (profile.contact_name, profile.phone) == ("王 经理", "13812345678")
    assert not profile.complete  # no company yet
    await companies.link_user(1, "宁波甬兴电器")
    assert (await companies.profile(1)).complete

    with pytest.raises(ProfileError) as refused:
        await companies.save_profile(1, "王", "12345")
    assert (refused.value.field, refused.value.reason) == ("phone", "bad_format")
    assert (await companies.profile(1)).phone == "13812345678"  # bad input changed nothing
    with pytest.raises(ProfileError) as refused:
        await companies.save_profile(1, " ", None)
    assert refused.value.field == "contact_name"
    assert (await companies.save_profile(1, "王", "")).phone is None  # phone is optional
    assert (await companies.profile(777)).company is None


async def test_the_member_list_wins_where_it_has_a_value(sessions: SessionFactory) -> None:
    """/profile: what the list set is marked and cannot be changed or deleted in the bot;
    what it leaves empty the member fills in, changes and deletes."""
    companies = CompanyService(sessions)
    header = "name,member_no,industry,city\n"
    rows, _ = parse_member_csv(header + "宁波甬兴电器有限公司,N-1,电子电器,\n")
    await companies.import_members(rows)
    await add_user(sessions, 1)
    await companies.link_user(1, "宁波甬兴电器")
    member = await companies.profile(1)
    assert (member.industry, member.export_markets, member.city) == ("电子电器", None, None)
    assert member.listed == frozenset({"industry"})
    for attempt in (
        companies.set_attribute(1, "industry", "模具"),
        companies.clear_attribute(1, "industry"),
    ):
        with pytest.raises(ProfileError) as refused:
            await attempt
        assert (refused.value.field, refused.value.reason) == ("industry", "listed")
    assert await companies.set_attribute(1, "city", "cixi") == "慈溪"
    await companies.clear_attribute(1, "city")
    assert await companies.set_attribute(1, "export_markets", "US, 欧盟") == ";us;eu;"
    member = await companies.profile(1)
    assert (member.industry, member.export_markets, member.city) == ("电子电器", ";us;eu;", None)
    # A later list that names the city marks it too; an empty cell keeps the marks.
    rows, _ = parse_member_csv(header + "宁波甬兴电器有限公司,N-1,,宁波\n")
    await companies.import_members(rows)
    member = await companies.profile(1)
    assert member.listed == frozenset({"industry", "city"})
    assert (member.industry, member.city) == ("电子电器", "宁波")
    await companies.save_profile(1, "王", "13812345678")
    await companies.clear_phone(1)
    assert (await companies.profile(1)).phone is None
