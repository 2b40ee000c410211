"""Core of `ipdesk report --from DATE --to DATE [--lang zh|en] [--csv FILE] [--chart FILE]`.

The command line (bot/cli.py) only parses arguments and calls :func:`run_report_url`:

    def cmd_report(args, settings):
        from bot.services.report import ReportError, run_report_url
        try:
            text = asyncio.run(run_report_url(settings.database_url, calendar, args.date_from,
                                              args.date_to, lang=args.lang, csv_path=...))
        except ReportError as exc:
            print(exc, file=sys.stderr); return 2
        print(text); return 0
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.i18n import Catalog, load_catalog
from bot.services.calendar import WorkCalendar
from bot.services.charts import weekly_chart
from bot.services.stats import PeriodError, ServiceStats, StatsService, day_range, render_text
from bot.services.stats import write_csv as _write_csv
from db.session import SessionFactory, make_engine, make_session_factory
from faq.models import Lang


class ReportError(Exception):
    """Bad command-line input; the message is meant for the person at the terminal."""


@dataclass(frozen=True, slots=True)
class ReportOutput:
    text: str
    stats: ServiceStats
    csv_rows: int | None = None
    chart_bytes: int | None = None


def parse_dates(date_from: str, date_to: str) -> tuple[date, date]:
    """Two ISO dates (local, inclusive). Raises ReportError with a readable message."""
    try:
        first, last = date.fromisoformat(date_from.strip()), date.fromisoformat(date_to.strip())
    except ValueError as exc:
        raise ReportError(f"dates must look like 2026-11-01 ({exc})") from None
    if last < first:
        raise ReportError("--to is before --from")
    if (last - first).days > 3660:
        raise ReportError("the period is longer than ten years")
    return first, last


async def build_report(
    sessions: SessionFactory,
    calendar: WorkCalendar,
    date_from: str,
    date_to: str,
    *,
    lang: Lang = "zh",
    csv_path: Path | None = None,
    chart_path: Path | None = None,
    chart_weeks: int = 8,
    catalog: Catalog | None = None,
) -> ReportOutput:
    """Statistics for local days `date_from`..`date_to` inclusive, as plain text.

    Writes the CSV (UTF-8 with BOM, long format: see stats.CSV_HEADER) when `csv_path` is
    given, and the weekly chart of the `chart_weeks` weeks before `date_to` when `chart_path`.
    """
    first, last = parse_dates(date_from, date_to)
    try:
        period = day_range(first, last, calendar)
    except PeriodError as exc:
        raise ReportError(str(exc)) from None
    service = StatsService(sessions, calendar, catalog=catalog)
    stats = await service.compute(period)
    text = render_text(stats, lang, calendar, catalog or load_catalog(), html=False)
    rows = None
    if csv_path is not None:
        rows = await asyncio.to_thread(_write_csv, stats, calendar, csv_path)
    size = None
    if chart_path is not None:
        series = await service.weekly_series(period.end, chart_weeks)
        png = weekly_chart(series)
        await asyncio.to_thread(chart_path.write_bytes, png)
        size = len(png)
    return ReportOutput(text, stats, rows, size)


async def run_report_url(
    database_url: str,
    calendar: WorkCalendar,
    date_from: str,
    date_to: str,
    *,
    lang: Lang = "zh",
    csv_path: Path | None = None,
    chart_path: Path | None = None,
) -> str:
    """Open the database, build the report, dispose of the engine; returns the text."""
    engine = make_engine(database_url)
    try:
        out = await build_report(
            make_session_factory(engine),
            calendar,
            date_from,
            date_to,
            lang=lang,
            csv_path=csv_path,
            chart_path=chart_path,
        )
    finally:
        await engine.dispose()
    return out.text
