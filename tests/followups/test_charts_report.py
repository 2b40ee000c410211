"""The weekly chart (PNG, no font warnings) and the `ipdesk report` core."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.i18n import load_catalog
from bot.services.charts import weekly_chart
from bot.services.report import ReportError, build_report, parse_dates, run_report_url
from bot.services.stats import WeekPoint
from db.session import SessionFactory
from tests.followups import CAL, MEMBER, add_ticket, add_user, local

PNG = b"\x89PNG\r\n\x1a\n"


def _weeks(n: int) -> list[WeekPoint]:
    start = date(2026, 10, 5)
    return [
        WeekPoint(
            start + timedelta(weeks=i),
            tickets_opened=i * 3,
            self_service_rate=None if i == 2 else 0.1 * i,
            first_response_median=None if i == 2 else 2.0 + i,
            resolution_median=10.0 + i,
            rating_avg=None if i % 3 else 4.2,
            rating_count=0 if i % 3 else 5,
        )
        for i in range(n)
    ]


def _size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_weekly_chart_is_a_png_with_gaps_for_missing_weeks() -> None:
    png = weekly_chart(_weeks(8))  # filterwarnings=error: a missing glyph would fail here
    assert png.startswith(PNG)
    assert _size(png) == (800, 900)
    assert weekly_chart(_weeks(8)) == png  # deterministic (no timestamp in the file)


def test_weekly_chart_with_one_or_no_week() -> None:
    assert weekly_chart(_weeks(1)).startswith(PNG)
    assert weekly_chart([]).startswith(PNG)


async def test_report_text_csv_and_chart(sessions: SessionFactory, tmp_path: Path) -> None:
    await add_user(sessions, MEMBER)
    await add_ticket(sessions, created_at=local(2026, 11, 24, 10))
    out = await build_report(
        sessions,
        CAL,
        "2026-11-23",
        "2026-11-29",
        lang="en",
        csv_path=tmp_path / "r.csv",
        chart_path=tmp_path / "r.png",
    )
    assert out.text.startswith("📊 Service quality 2026-11-23 to 2026-11-29")
    assert "opened 1" in out.text
    assert "<" not in out.text  # plain text for a terminal
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert out.csv_rows == len(rows) - 1
    assert ["2026-11-23", "2026-11-29", "total", "", "tickets_opened", "1"] in rows
    assert (tmp_path / "r.png").read_bytes().startswith(PNG)


async def test_report_from_a_database_url(engine: object, database_url: str) -> None:
    text = await run_report_url(database_url, CAL, "2026-11-01", "2026-11-30", lang="zh")
    assert re.match(r"📊 服务质量统计 2026-11-01 至 2026-11-30", text)


def test_report_dates_are_checked() -> None:
    assert parse_dates("2026-11-01", "2026-11-30") == (date(2026, 11, 1), date(2026, 11, 30))
    for a, b in (("2026-11-31", "2026-12-01"), ("2026-12-01", "2026-11-01"), ("x", "y")):
        with pytest.raises(ReportError):
            parse_dates(a, b)


def test_every_catalog_key_the_followups_use_exists_in_both_languages() -> None:
    catalog = load_catalog()
    root = Path(__file__).resolve().parents[2] / "bot" / "services"
    used: set[str] = set()
    for name in ("followups.py", "stats.py"):
        used |= set(re.findall(r'"((?:fu|stats)_[a-z0-9_]+)"', (root / name).read_text("utf-8")))
    used |= {
        f"fu_status_{s}"
        for s in ("new", "assigned", "in_progress", "waiting_member", "resolved", "closed")
    }
    used |= {
        f"stats_cat_{c}"
        for c in ("trademark", "patent", "copyright", "infringement", "general", "none")
    }
    assert len(used) > 40
    for lang in ("zh", "en"):
        missing = used - catalog.keys(lang)
        assert not missing, (lang, missing)
