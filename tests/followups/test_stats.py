"""Service-quality statistics: definitions, working-hour percentiles, FAQ gaps, text and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from bot.i18n import load_catalog
from bot.services.stats import (
    CSV_HEADER,
    GapQuestion,
    Period,
    PeriodError,
    StatsService,
    cluster_gaps,
    csv_text,
    day_range,
    parse_period,
    percentile,
    render_text,
)
from db.models import Expert, FaqView, Question, TicketEvent, TicketStatus
from db.session import SessionFactory
from tests.followups import CAL, MEMBER, add_ticket, add_user, local

WEEK = day_range(date(2026, 11, 23), date(2026, 11, 29), CAL)


async def _question(
    sessions: SessionFactory,
    text: str,
    action: str,
    category: str | None,
    at: datetime,
    feedback: str | None = None,
    lang: str = "zh",
) -> None:
    async with sessions() as s, s.begin():
        q = Question(
            user_id=MEMBER,
            chat_id=MEMBER,
            text=text,
            lang=lang,
            category=category,
            action=action,
            faq_id="tm-x" if action == "answer" else None,
            created_at=at,
        )
        s.add(q)
        await s.flush()
        if action == "answer":
            s.add(
                FaqView(
                    user_id=MEMBER,
                    faq_id="tm-x",
                    question_id=q.id,
                    source="answer",
                    lang=lang,
                    feedback=feedback,
                    created_at=at,
                )
            )


async def _dataset(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    mon = local(2026, 11, 23, 9)
    await _question(sessions, "商标怎么续展", "answer", "trademark", mon, "solved")
    await _question(sessions, "商标许可备案要多久", "answer", "trademark", mon, "expert")
    await _question(sessions, "商标被抢注了怎么办", "fallback", "trademark", mon)
    await _question(sessions, "我们的商标被人抢注怎么办？", "fallback", "trademark", mon)
    await _question(sessions, "今天天气如何", "fallback", None, mon)
    await _question(sessions, "专利侵权诉讼", "escalate", "patent", mon)
    await _question(sessions, "软件著作权登记", "answer", "copyright", mon)
    await _question(
        sessions, "上周的问题", "answer", "trademark", mon - timedelta(days=1), "solved"
    )
    async with sessions() as s, s.begin():
        a = Expert(key="a", name_zh="甲", name_en="Alpha")
        b = Expert(key="b", name_zh="乙", name_en="Beta")
        s.add_all([a, b])
        await s.flush()
        ids = a.id, b.id
    t1 = await add_ticket(
        sessions,
        created_at=mon,
        expert_id=ids[0],
        status=TicketStatus.RESOLVED,
        first_response_at=local(2026, 11, 23, 11),
        resolved_at=local(2026, 11, 24, 9),
        rating=5,
    )
    t2 = await add_ticket(
        sessions,
        created_at=local(2026, 11, 23, 16),
        expert_id=ids[0],
        status=TicketStatus.RESOLVED,
        first_response_at=local(2026, 11, 24, 10),
        resolved_at=local(2026, 11, 25, 17),
        rating=3,
    )
    await add_ticket(sessions, created_at=local(2026, 11, 24, 10), category="patent")
    t4 = await add_ticket(
        sessions,
        created_at=local(2026, 11, 20, 16),
        expert_id=ids[1],
        status=TicketStatus.RESOLVED,
        first_response_at=local(2026, 11, 23, 10),
        resolved_at=local(2026, 11, 23, 12),
    )
    async with sessions() as s, s.begin():
        s.add_all(
            [
                TicketEvent(ticket_id=t1, kind="checkin", created_at=local(2026, 11, 27, 10)),
                TicketEvent(ticket_id=t2, kind="checkin", created_at=local(2026, 11, 28, 10)),
                TicketEvent(ticket_id=t4, kind="reopened", created_at=local(2026, 11, 26, 10)),
            ]
        )


async def test_figures_for_a_week(sessions: SessionFactory) -> None:
    await _dataset(sessions)
    stats = await StatsService(sessions, CAL).compute(WEEK)
    assert (stats.questions, stats.faq_answered, stats.solved) == (7, 3, 1)
    assert (stats.asked_expert, stats.fallback) == (2, 3)
    assert stats.self_service_rate == pytest.approx(1 / 7)
    assert (stats.tickets_opened, stats.tickets_resolved, stats.tickets_reopened) == (3, 3, 1)
    assert (stats.first_response.count, stats.first_response.median) == (3, 2.0)
    assert stats.resolution.median == 8.0  # working hours: 8, 17, 4
    assert stats.resolution.p90 == pytest.approx(15.2)
    assert (stats.rating_avg, stats.rating_count) == (4.0, 2)
    cats = {g.key: g for g in stats.by_category}
    assert (cats["trademark"].questions, cats["trademark"].solved) == (4, 1)
    assert cats["patent"].tickets_opened == 1
    experts = {g.key: g for g in stats.by_expert}
    assert (experts["a"].tickets_opened, experts["a"].tickets_resolved) == (2, 2)
    assert experts["a"].rating_avg == 4.0
    assert experts["b"].tickets_reopened == 1
    assert experts["none"].tickets_opened == 1
    top = stats.gaps[0]
    assert (top.count, top.category) == (2, "trademark")
    assert top.example in {"商标被抢注了怎么办", "我们的商标被人抢注怎么办？"}
    # the expert request after an answer, and the uncategorised fallback (issue 8: gaps
    # include questions the engine could not place)
    assert [g.count for g in stats.gaps] == [2, 1, 1]
    assert {g.category for g in stats.gaps[1:]} == {"trademark", "none"}


async def test_empty_period(sessions: SessionFactory) -> None:
    stats = await StatsService(sessions, CAL).compute(WEEK)
    assert stats.questions == 0
    assert stats.self_service_rate is None
    assert stats.first_response.median is None
    text = render_text(stats, "en", CAL, load_catalog(), html=False)
    assert "No unanswered questions" in text
    assert "—" in text


async def test_text_in_both_languages_and_csv(sessions: SessionFactory) -> None:
    await _dataset(sessions)
    service = StatsService(sessions, CAL)
    stats = await service.compute(WEEK)
    zh = render_text(stats, "zh", CAL, load_catalog(), html=False)
    en = service.render(stats, "en", html=True)
    assert "2026-11-23 至 2026-11-29" in zh
    assert "14.3%" in zh
    assert "商标被" in zh
    assert "Self-service rate: 14.3%" in en
    assert "median 8.0, 90th percentile 15.2" in en
    assert "Alpha" in en
    rows = list(csv.reader(io.StringIO(csv_text(stats, CAL))))
    assert tuple(rows[0]) == CSV_HEADER
    table = {(r[2], r[3], r[4]): r[5] for r in rows[1:]}
    assert table[("total", "", "questions")] == "7"
    assert table[("total", "", "self_service_rate")] == "0.1429"
    assert table[("expert", "a", "rating_avg")] == "4.0000"
    assert table[("faq_gap", "1", "count")] == "2"
    assert rows[1][0:2] == ["2026-11-23", "2026-11-29"]


def test_gap_clustering_groups_similar_wordings() -> None:
    items = [
        GapQuestion(t, "trademark", lang)
        for t, lang in [
            ("商标被抢注了怎么办", "zh"),
            ("商標被搶註了怎麼辦", "zh"),
            ("商标被人抢注怎么办", "zh"),
            ("How do I record a trademark licence?", "en"),
            ("how to record trademark license", "en"),
            ("专利年费滞纳金", "zh"),
        ]
    ]
    gaps = cluster_gaps(items)
    assert [g.count for g in gaps] == [3, 2, 1]
    assert gaps[1].lang == "en"
    assert cluster_gaps(items, limit=1)[0].count == 3
    assert cluster_gaps([]) == []


def test_percentile_is_linear_between_ranks() -> None:
    assert percentile([1.0], 90) == 1.0
    ten = [float(i) for i in range(1, 11)]
    assert percentile(ten, 90) == pytest.approx(9.1)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_period_words() -> None:
    now = local(2026, 11, 25, 15)  # Wednesday
    assert parse_period("", now, CAL) == Period(now - timedelta(days=7), now)
    assert parse_period("30d", now, CAL) == Period(now - timedelta(days=30), now)
    assert parse_period("本周", now, CAL) == Period(local(2026, 11, 23), now)
    assert parse_period("lastweek", now, CAL) == Period(local(2026, 11, 16), local(2026, 11, 23))
    assert parse_period("上月", now, CAL) == Period(local(2026, 10, 1), local(2026, 11, 1))
    assert parse_period("2026-02", now, CAL) == Period(local(2026, 2, 1), local(2026, 3, 1))
    assert parse_period("2026-11-01..2026-11-03", now, CAL) == Period(
        local(2026, 11, 1), local(2026, 11, 4)
    )
    assert parse_period("today", now, CAL) == Period(local(2026, 11, 25), now)
    for bad in ("yesterday-ish", "0d", "999d", "2026-13", "2026-11-05..2026-11-01"):
        with pytest.raises(PeriodError):
            parse_period(bad, now, CAL)
