"""Service-quality statistics for a period: what members asked, how fast experts helped.

Definitions (a period is the half-open UTC interval [start, end)):

* **questions** — free-text questions members asked (``questions`` rows created in the period);
  **faq_answered** — those the engine answered from the FAQ (action ``answer``);
  **solved** — those where the member marked an FAQ answer shown for it "solved" and did not
  then ask for an expert; **asked_expert** — those the engine escalated or where the member
  asked for an expert after an answer; **fallback** — no confident answer and no escalation.
* **self-service rate** = solved / questions (None when there were no questions). It counts
  only explicit "solved" taps, so it is a lower bound: silent satisfied readers are not in it.
* **tickets opened** — tickets created in the period; **resolved** — tickets whose
  ``resolved_at`` falls in the period (a reopened ticket loses its ``resolved_at`` until it is
  resolved again); **reopened** — ``reopened`` audit events in the period.
* **first-response time** — working hours from a ticket's creation to the expert's first
  reply, over tickets whose first reply falls in the period; **resolution time** — working
  hours from creation to ``resolved_at``, over tickets resolved in the period. Both are given
  as median and 90th percentile (linear interpolation between closest ranks).
* **satisfaction** — average of the 1–5 ratings given in the period (``checkin`` audit events
  joined to the ticket's rating) and their count.
* **FAQ gaps** — questions the FAQ could not serve (defined once, in
  bot/services/faq_gaps.py: a fallback or tentative answer, a flagged answer, or an answer
  after which the member asked for an expert), except those staff dismissed or added as a
  phrasing; grouped by similarity of their normalised text (rapidfuzz), largest group first,
  with an example; a group staff marked as needing a new entry says so.

Dates shown to people are local (the calendar's zone); everything stored and compared is UTC.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Catalog, load_catalog
from bot.services.calendar import WorkCalendar
from bot.services.errors import DomainError
from bot.services.faq_gaps import (
    GAP_LIMIT,
    GAP_SIMILARITY,
    NO_CATEGORY,
    FaqGap,
    GapQuestion,
    cluster_gaps,
    gap_questions,
)
from bot.services.outreach import OutreachSummary, outreach_summary
from db.models import Expert, FaqView, GapStatus, Question, Ticket, TicketEvent
from db.session import SessionFactory
from faq.models import CATEGORIES, Lang

__all__ = ["FaqGap", "GapQuestion", "cluster_gaps"]  # re-exported: the report's gap types

REVIEWED = frozenset({GapStatus.PHRASING.value, GapStatus.DISMISSED.value})


class PeriodError(DomainError):
    """The period text could not be understood; tell the user `stats_bad_period`."""

    text_key = "stats_bad_period"


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("naive datetime: pass aware UTC datetimes")
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")


def _local_midnight(day: date, calendar: WorkCalendar) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=calendar.zone).astimezone(UTC)


def day_range(first: date, last: date, calendar: WorkCalendar) -> Period:
    """Local calendar days `first`..`last` inclusive."""
    if last < first:
        raise PeriodError("the period ends before it starts")
    return Period(
        _local_midnight(first, calendar), _local_midnight(last + timedelta(days=1), calendar)
    )


_RELATIVE = re.compile(r"^(\d{1,3})\s*(d|天|日)$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|~|to|至|—|–)\s*(\d{4}-\d{2}-\d{2})$")


def parse_period(text: str, now: datetime, calendar: WorkCalendar) -> Period:
    """Period argument of `/stats`.

    ``""``/``7d`` last 7 days · ``Nd`` last N days (1–366) · ``today``/``今天`` ·
    ``week``/``本周`` this week so far · ``lastweek``/``上周`` · ``month``/``本月`` ·
    ``lastmonth``/``上月`` · ``2026-11`` a month · ``2026-11-03`` a day ·
    ``2026-11-01..2026-11-30`` local days inclusive. Raises PeriodError.
    """
    word = text.strip().lower()
    today = calendar.local_date(now)
    if word in ("", "7d"):
        return Period(now - timedelta(days=7), now)
    if m := _RELATIVE.match(word):
        days = int(m.group(1))
        if not 1 <= days <= 366:
            raise PeriodError(f"{days} days is out of range")
        return Period(now - timedelta(days=days), now)
    if word in ("today", "今天"):
        return Period(_local_midnight(today, calendar), now)
    monday = today - timedelta(days=today.weekday())
    if word in ("week", "本周"):
        return Period(_local_midnight(monday, calendar), now)
    if word in ("lastweek", "last-week", "上周"):
        return day_range(monday - timedelta(days=7), monday - timedelta(days=1), calendar)
    first_of_month = today.replace(day=1)
    if word in ("month", "本月"):
        return Period(_local_midnight(first_of_month, calendar), now)
    if word in ("lastmonth", "last-month", "上月"):
        last_day = first_of_month - timedelta(days=1)
        return day_range(last_day.replace(day=1), last_day, calendar)
    try:
        if m := _MONTH.match(word):
            first = date(int(m.group(1)), int(m.group(2)), 1)
            following = (first + timedelta(days=32)).replace(day=1)
            return day_range(first, following - timedelta(days=1), calendar)
        if m := _RANGE.match(word):
            return day_range(
                date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2)), calendar
            )
        if re.match(r"^\d{4}-\d{2}-\d{2}$", word):
            day = date.fromisoformat(word)
            return day_range(day, day, calendar)
    except ValueError as exc:
        raise PeriodError(str(exc)) from exc
    raise PeriodError(f"unknown period {text!r}")


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Durations:
    """Working-hour durations: how many, median and 90th percentile (None when empty)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Durations:
        data = sorted(values)
        if not data:
            return cls()
        return cls(len(data), statistics.median(data), percentile(data, 90))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default 'linear' method)."""
    if not sorted_values:
        raise ValueError("no values")
    rank = (len(sorted_values) - 1) * pct / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Figures for one category or one expert."""

    key: str  # category code, or the expert's roster key ("none" when unassigned)
    name_zh: str
    name_en: str
    questions: int = 0
    faq_answered: int = 0
    solved: int = 0
    tickets_opened: int = 0
    tickets_resolved: int = 0
    tickets_reopened: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    rating_avg: float | None = None
    rating_count: int = 0

    def name(self, lang: Lang) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class ServiceStats:
    period: Period
    zone: str
    questions: int
    faq_answered: int
    solved: int
    asked_expert: int
    fallback: int
    tickets_opened: int
    tickets_resolved: int
    tickets_reopened: int
    first_response: Durations
    resolution: Durations
    rating_avg: float | None
    rating_count: int
    by_category: tuple[GroupStats, ...]
    by_expert: tuple[GroupStats, ...]
    gaps: tuple[FaqGap, ...]
    outreach: OutreachSummary | None = None  # announcements and events (issue 11)

    @property
    def self_service_rate(self) -> float | None:
        return self.solved / self.questions if self.questions else None


@dataclass(frozen=True, slots=True)
class WeekPoint:
    """One week of the chart (local week starting Monday)."""

    week_start: date
    tickets_opened: int
    self_service_rate: float | None
    first_response_median: float | None
    resolution_median: float | None
    rating_avg: float | None
    rating_count: int


# -- computation --------------------------------------------------------------------------


@dataclass
class _Acc:
    questions: int = 0
    faq_answered: int = 0
    solved: int = 0
    opened: int = 0
    resolved: int = 0
    reopened: int = 0
    frt: list[float] = field(default_factory=list)
    rt: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)


def _in(column: Any, period: Period) -> Any:
    return and_(column >= period.start, column < period.end)


def _avg(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


class StatsService:
    def __init__(
        self,
        sessions: SessionFactory,
        calendar: WorkCalendar,
        *,
        catalog: Catalog | None = None,
        gap_similarity: float = GAP_SIMILARITY,
        gap_limit: int = GAP_LIMIT,
    ) -> None:
        self._sessions = sessions
        self._calendar = calendar
        self._catalog = catalog
        self._gap_similarity = gap_similarity
        self._gap_limit = gap_limit

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    async def compute(self, period: Period, *, with_gaps: bool = True) -> ServiceStats:
        async with self._sessions() as s:
            return await self._compute(s, period, with_gaps)

    async def _compute(self, s: AsyncSession, period: Period, with_gaps: bool) -> ServiceStats:
        cal = self._calendar
        cats: dict[str, _Acc] = defaultdict(_Acc)
        experts: dict[int | None, _Acc] = defaultdict(_Acc)
        total = _Acc()
        asked_expert = fallback = 0

        # Questions and the feedback on the answers shown for them.
        q_rows = (
            await s.execute(
                select(
                    Question.id, Question.category, Question.action, Question.lang, Question.text
                ).where(_in(Question.created_at, period))
            )
        ).all()
        feedback: dict[int, set[str]] = defaultdict(set)
        fb_rows = await s.execute(
            select(FaqView.question_id, FaqView.feedback)
            .join(Question, Question.id == FaqView.question_id)
            .where(_in(Question.created_at, period), FaqView.feedback.is_not(None))
        )
        for qid, fb in fb_rows.all():
            if qid is not None and fb is not None:
                feedback[qid].add(fb)
        for qid, category, action, _lang, _text in q_rows:
            cat = category or NO_CATEGORY
            marks = feedback.get(qid, set())
            is_solved = "solved" in marks and "expert" not in marks
            wants_expert = action == "escalate" or "expert" in marks
            for acc in (total, cats[cat]):
                acc.questions += 1
                acc.faq_answered += action in ("answer", "tentative")
                acc.solved += is_solved
            asked_expert += wants_expert
            fallback += action == "fallback"

        # Tickets: opened, first replies, resolutions in the period.
        t_cols = (
            Ticket.id,
            Ticket.category,
            Ticket.expert_id,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
        )
        opened = (await s.execute(select(*t_cols).where(_in(Ticket.created_at, period)))).all()
        for _tid, cat, expert_id, *_ in opened:
            for acc in (total, cats[cat], experts[expert_id]):
                acc.opened += 1
        responded = (
            await s.execute(select(*t_cols).where(_in(Ticket.first_response_at, period)))
        ).all()
        for _tid, cat, expert_id, created, first, _res in responded:
            if first is None:
                continue
            hours = cal.working_hours_between(created, first)
            for acc in (total, cats[cat], experts[expert_id]):
                acc.frt.append(hours)
        resolved = (await s.execute(select(*t_cols).where(_in(Ticket.resolved_at, period)))).all()
        for _tid, cat, expert_id, created, _first, res in resolved:
            if res is None:
                continue
            hours = cal.working_hours_between(created, res)
            for acc in (total, cats[cat], experts[expert_id]):
                acc.resolved += 1
                acc.rt.append(hours)

        # Audit events: reopenings and check-in ratings.
        ev_rows = (
            await s.execute(
                select(
                    TicketEvent.kind,
                    TicketEvent.ticket_id,
                    Ticket.category,
                    Ticket.expert_id,
                    Ticket.rating,
                )
                .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .where(
                    _in(TicketEvent.created_at, period),
                    TicketEvent.kind.in_(["reopened", "checkin"]),
                )
            )
        ).all()
        rated: dict[int, tuple[str, int | None, int]] = {}
        for kind, tid, cat, expert_id, rating in ev_rows:
            if kind == "reopened":
                for acc in (total, cats[cat], experts[expert_id]):
                    acc.reopened += 1
            elif rating is not None:
                rated[tid] = (cat, expert_id, rating)  # one rating per ticket and period
        for cat, expert_id, rating in rated.values():
            for acc in (total, cats[cat], experts[expert_id]):
                acc.ratings.append(rating)

        names = await self._expert_names(s, [e for e in experts if e is not None])
        by_category = tuple(
            _group(cat, cat, cat, acc)
            for cat, acc in sorted(cats.items(), key=lambda kv: _category_order(kv[0]))
        )
        by_expert = tuple(
            _group(*names.get(eid, (NO_CATEGORY, "", "")), acc)
            for eid, acc in sorted(
                experts.items(), key=lambda kv: (kv[0] is None, names.get(kv[0], ("",))[0])
            )
        )
        gaps: tuple[FaqGap, ...] = ()
        if with_gaps:
            items = [
                q
                for q in await gap_questions(s, period.start, period.end)
                if q.status not in REVIEWED
            ]
            gaps = tuple(cluster_gaps(items, self._gap_similarity, self._gap_limit))
        return ServiceStats(
            period=period,
            zone=str(cal.zone),
            questions=total.questions,
            faq_answered=total.faq_answered,
            solved=total.solved,
            asked_expert=asked_expert,
            fallback=fallback,
            tickets_opened=total.opened,
            tickets_resolved=total.resolved,
            tickets_reopened=total.reopened,
            first_response=Durations.of(total.frt),
            resolution=Durations.of(total.rt),
            rating_avg=_avg(total.ratings),
            rating_count=len(total.ratings),
            by_category=by_category,
            by_expert=by_expert,
            gaps=gaps,
            outreach=await outreach_summary(s, period.start, period.end),
        )

    async def _expert_names(
        self, s: AsyncSession, ids: Sequence[int]
    ) -> dict[int | None, tuple[str, str, str]]:
        if not ids:
            return {}
        rows = await s.execute(
            select(Expert.id, Expert.key, Expert.name_zh, Expert.name_en).where(Expert.id.in_(ids))
        )
        return {eid: (key, zh, en) for eid, key, zh, en in rows.all()}

    async def weekly_series(self, now: datetime, weeks: int = 8) -> list[WeekPoint]:
        """The last `weeks` complete local weeks before `now`'s week, oldest first."""
        this_monday = self._calendar.week_start(now)
        points = []
        async with self._sessions() as s:
            for back in range(weeks, 0, -1):
                monday = this_monday - timedelta(weeks=back)
                period = day_range(monday, monday + timedelta(days=6), self._calendar)
                st = await self._compute(s, period, with_gaps=False)
                points.append(
                    WeekPoint(
                        week_start=monday,
                        tickets_opened=st.tickets_opened,
                        self_service_rate=st.self_service_rate,
                        first_response_median=st.first_response.median,
                        resolution_median=st.resolution.median,
                        rating_avg=st.rating_avg,
                        rating_count=st.rating_count,
                    )
                )
        return points

    # -- rendering --------------------------------------------------------------------------

    def render(self, stats: ServiceStats, lang: Lang, *, html: bool = True) -> str:
        return render_text(stats, lang, self._calendar, self._catalog or load_catalog(), html=html)


def _category_order(cat: str) -> tuple[int, str]:
    order: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}
    return (order.get(cat, len(order)), cat)


def _group(key: str, name_zh: str, name_en: str, acc: _Acc) -> GroupStats:
    return GroupStats(
        key=key,
        name_zh=name_zh,
        name_en=name_en,
        questions=acc.questions,
        faq_answered=acc.faq_answered,
        solved=acc.solved,
        tickets_opened=acc.opened,
        tickets_resolved=acc.resolved,
        tickets_reopened=acc.reopened,
        first_response=Durations.of(acc.frt),
        resolution=Durations.of(acc.rt),
        rating_avg=_avg(acc.ratings),
        rating_count=len(acc.ratings),
    )


# -- text ---------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class _Renderer:
    def __init__(self, catalog: Catalog, lang: Lang, html: bool) -> None:
        self.catalog, self.lang, self.html = catalog, lang, html

    def __call__(self, key: str, **values: object) -> str:
        if self.html:
            return self.catalog.t(self.lang, key, **values)
        return self.catalog.raw(self.lang, key).format(**values)

    def category(self, code: str) -> str:
        key = f"stats_cat_{code}"
        if key in self.catalog.keys(self.lang):
            return self.catalog.raw(self.lang, key)
        return code


def render_text(
    stats: ServiceStats,
    lang: Lang,
    calendar: WorkCalendar,
    catalog: Catalog,
    *,
    html: bool = True,
    gap_limit: int | None = None,
) -> str:
    """The statistics as a message (HTML-escaped values when `html`, else plain for a CLI)."""
    r = _Renderer(catalog, lang, html)
    first = calendar.local_date(stats.period.start)
    last = calendar.local_date(stats.period.end - timedelta(microseconds=1))
    lines = [
        r("stats_title", start=first.isoformat(), end=last.isoformat(), zone=stats.zone),
        r(
            "stats_questions",
            questions=stats.questions,
            answered=stats.faq_answered,
            solved=stats.solved,
            expert=stats.asked_expert,
            fallback=stats.fallback,
        ),
        r("stats_self_service", rate=_pct(stats.self_service_rate)),
        r(
            "stats_tickets",
            opened=stats.tickets_opened,
            resolved=stats.tickets_resolved,
            reopened=stats.tickets_reopened,
        ),
        r(
            "stats_first_response",
            median=_num(stats.first_response.median),
            p90=_num(stats.first_response.p90),
            count=stats.first_response.count,
        ),
        r(
            "stats_resolution",
            median=_num(stats.resolution.median),
            p90=_num(stats.resolution.p90),
            count=stats.resolution.count,
        ),
        r("stats_satisfaction", avg=_num(stats.rating_avg, 2), count=stats.rating_count),
    ]
    if stats.by_category:
        lines += ["", r("stats_by_category")]
        lines += [
            r(
                "stats_group_line",
                name=r.category(g.key),
                questions=g.questions,
                solved=g.solved,
                opened=g.tickets_opened,
                resolved=g.tickets_resolved,
                frt=_num(g.first_response.median),
                rt=_num(g.resolution.median),
                rating=_num(g.rating_avg, 1),
                ratings=g.rating_count,
            )
            for g in stats.by_category
        ]
    experts = [
        g
        for g in stats.by_expert
        if g.tickets_opened or g.tickets_resolved or g.first_response.count or g.rating_count
    ]
    if experts:
        lines += ["", r("stats_by_expert")]
        for g in experts:
            name = g.name(lang) if g.key != NO_CATEGORY else r("stats_unassigned")
            lines.append(
                r(
                    "stats_expert_line",
                    name=name,
                    opened=g.tickets_opened,
                    resolved=g.tickets_resolved,
                    frt=_num(g.first_response.median),
                    frt90=_num(g.first_response.p90),
                    rt=_num(g.resolution.median),
                    rating=_num(g.rating_avg, 1),
                    ratings=g.rating_count,
                )
            )
    gaps = stats.gaps[:gap_limit] if gap_limit is not None else stats.gaps
    lines += ["", r("stats_gaps_title")]
    if gaps:
        lines += [
            r(
                "stats_gap_line",
                rank=i,
                count=g.count,
                example=g.example,
                category=r.category(g.category),
            )
            + (r("gp_report_needs_entry") if g.needs_entry else "")
            for i, g in enumerate(gaps, 1)
        ]
        lines.append(r("gp_report_hint"))
    else:
        lines.append(r("stats_gaps_none"))
    if stats.outreach is not None:
        lines += ["", *outreach_lines(r, stats.outreach)]
    return "\n".join(lines)


def outreach_lines(r: _Renderer, o: OutreachSummary) -> list[str]:
    """The report's outreach section: announcements sent, reach, sign-ups, attendance and
    satisfaction with events."""
    return [
        r("ob_report_title"),
        r(
            "ob_report_line",
            announcements=o.announcements,
            news=o.by_kind.get("news", 0),
            events=o.by_kind.get("event", 0),
            alerts=o.by_kind.get("alert", 0),
            reach=o.reach,
            signups=o.signups,
            attendance=o.attendance,
            satisfaction=_num(o.satisfaction, 1),
            feedback=o.feedback_count,
        ),
    ]


# -- CSV ----------------------------------------------------------------------------------

CSV_HEADER = ("period_start", "period_end", "scope", "key", "metric", "value")


def _group_metrics(g: GroupStats) -> Iterable[tuple[str, object]]:
    yield "questions", g.questions
    yield "faq_answered", g.faq_answered
    yield "solved", g.solved
    yield "tickets_opened", g.tickets_opened
    yield "tickets_resolved", g.tickets_resolved
    yield "tickets_reopened", g.tickets_reopened
    yield "first_response_count", g.first_response.count
    yield "first_response_median_h", g.first_response.median
    yield "first_response_p90_h", g.first_response.p90
    yield "resolution_count", g.resolution.count
    yield "resolution_median_h", g.resolution.median
    yield "resolution_p90_h", g.resolution.p90
    yield "rating_avg", g.rating_avg
    yield "rating_count", g.rating_count


def csv_rows(stats: ServiceStats, calendar: WorkCalendar) -> list[tuple[str, ...]]:
    """Long format: one (scope, key, metric, value) row per figure; dates are local."""
    start = calendar.local_date(stats.period.start).isoformat()
    end = calendar.local_date(stats.period.end - timedelta(microseconds=1)).isoformat()

    def fmt(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.4f}"
        return str(value)

    rows: list[tuple[str, ...]] = []
    total: Mapping[str, object] = {
        "questions": stats.questions,
        "faq_answered": stats.faq_answered,
        "solved": stats.solved,
        "asked_expert": stats.asked_expert,
        "fallback": stats.fallback,
        "self_service_rate": stats.self_service_rate,
        "tickets_opened": stats.tickets_opened,
        "tickets_resolved": stats.tickets_resolved,
        "tickets_reopened": stats.tickets_reopened,
        "first_response_count": stats.first_response.count,
        "first_response_median_h": stats.first_response.median,
        "first_response_p90_h": stats.first_response.p90,
        "resolution_count": stats.resolution.count,
        "resolution_median_h": stats.resolution.median,
        "resolution_p90_h": stats.resolution.p90,
        "rating_avg": stats.rating_avg,
        "rating_count": stats.rating_count,
    }
    rows += [(start, end, "total", "", k, fmt(v)) for k, v in total.items()]
    for scope, groups in (("category", stats.by_category), ("expert", stats.by_expert)):
        for g in groups:
            rows += [(start, end, scope, g.key, k, fmt(v)) for k, v in _group_metrics(g)]
    for i, gap in enumerate(stats.gaps, 1):
        rows.append((start, end, "faq_gap", str(i), "count", str(gap.count)))
        rows.append((start, end, "faq_gap", str(i), "example", gap.example))
        rows.append((start, end, "faq_gap", str(i), "category", gap.category))
    if stats.outreach is not None:
        o = stats.outreach
        for metric, value in (
            ("announcements", o.announcements),
            ("reach", o.reach),
            ("signups", o.signups),
            ("attendance", o.attendance),
            ("event_feedback_count", o.feedback_count),
            ("event_satisfaction", o.satisfaction),
        ):
            rows.append((start, end, "outreach", "", metric, fmt(value)))
    return rows


def write_csv(stats: ServiceStats, calendar: WorkCalendar, target: Path | TextIO) -> int:
    """Write the CSV (UTF-8 with BOM so Excel opens Chinese correctly); returns data rows."""
    rows = csv_rows(stats, calendar)
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8-sig", newline="") as fh:
            _write(fh, rows)
    else:
        _write(target, rows)
    return len(rows)


def _write(fh: TextIO, rows: Sequence[tuple[str, ...]]) -> None:
    writer = csv.writer(fh)
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)


def csv_text(stats: ServiceStats, calendar: WorkCalendar) -> str:
    buf = io.StringIO()
    write_csv(stats, calendar, buf)
    return buf.getvalue()
