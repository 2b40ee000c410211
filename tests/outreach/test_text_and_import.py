"""Safe announcement HTML and the member list's audience attributes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services.companies import CompanyService, parse_member_csv
from bot.services.safehtml import sanitise, visible_length
from db.models import Company
from db.session import SessionFactory


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("<b>粗体</b> and <i>it</i>", "<b>粗体</b> and <i>it</i>"),
        ("<strong>x</strong><em>y</em>", "<b>x</b><i>y</i>"),
        ("<b>open", "<b>open</b>"),
        ("closed</b> only", "closed only"),
        ("<b><i>cross</b></i>", "<b><i>cross</i></b>"),
        ("1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (
            '<a href="https://ipr.example/x?a=1&b=2">link</a>',
            '<a href="https://ipr.example/x?a=1&amp;b=2">link</a>',
        ),
        ('<a href="javascript:alert(1)">x</a>', '&lt;a href="javascript:alert(1)"&gt;x'),
        ('<span class="tg-spoiler">s</span>', "<tg-spoiler>s</tg-spoiler>"),
        ("<img src=x onerror=1>", "&lt;img src=x onerror=1&gt;"),
        ("&lt;b&gt; typed escaped", "&lt;b&gt; typed escaped"),
    ],
)
def test_sanitise(given: str, expected: str) -> None:
    assert sanitise(given) == expected


def test_visible_length_counts_text_not_tags() -> None:
    assert visible_length("<b>ab</b>&amp;c") == 4


def test_member_csv_reads_audience_attributes() -> None:
    data = (
        "企业名称,会员编号,行业,出口市场,城市\n"
        '宁波甲机械有限公司,NB1,Machinery,"US, EU",宁波\n'
        "宁波乙电子有限公司,NB2,,,\n"
    )
    rows, problems = parse_member_csv(data)
    assert problems == []
    assert (rows[0].industry, rows[0].export_markets, rows[0].city) == (
        "Machinery",
        ";us;eu;",
        "宁波",
    )
    assert (rows[1].industry, rows[1].export_markets, rows[1].city) == (None, None, None)


async def test_import_keeps_attributes_a_later_list_leaves_empty(sessions: SessionFactory) -> None:
    service = CompanyService(sessions)
    first, _ = parse_member_csv("name,member_no,industry,city\n甲机械有限公司,NB1,机械,宁波\n")
    await service.import_members(first)
    second, _ = parse_member_csv("name,member_no,export_markets\n甲机械有限公司,NB1,US\n")
    result = await service.import_members(second)
    assert result.updated == 1
    async with sessions() as s:
        company = await s.scalar(select(Company))
    assert company is not None
    assert (company.industry, company.export_markets, company.city) == ("机械", ";us;", "宁波")
