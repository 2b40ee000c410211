"""Pure rules: the deadline a member states, urgency, ticket numbers, status transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.services.tickets import (
    TRANSITIONS,
    UrgentReason,
    assess_priority,
    can_transition,
    parse_number,
    urgent_signals,
)
from bot.services.timefmt import format_date, format_datetime, parse_deadline
from db.models import Priority, TicketStatus
from tests.services import T0, ZONE

# T0 is Friday 27 November 2026, 10:00 in Ningbo.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("对方律师函要求12月5日前回复", date(2026, 12, 5)),
        ("请于2026-12-05前答复", date(2026, 12, 5)),
        ("2026年12月5日开庭", date(2026, 12, 5)),
        ("十二月五日前必须提交", date(2026, 12, 5)),
        ("下周五之前要答辩", date(2026, 12, 4)),  # Friday of next week
        ("本周五前", date(2026, 11, 27)),  # today is Friday
        ("7天内回复", date(2026, 12, 4)),
        ("七日内提出异议", date(2026, 12, 4)),
        ("三十日内", date(2026, 12, 27)),
        ("3个工作日内", date(2026, 12, 2)),  # Mon, Tue, Wed
        ("两周内", date(2026, 12, 11)),
        ("一个月内", date(2026, 12, 27)),
        ("明天开庭", date(2026, 11, 28)),
        ("本月底前", date(2026, 11, 30)),
        ("截止到1月5日", date(2027, 1, 5)),  # year-less, early next year
        ("12月1日收到律师函，要求12月10日前回复", date(2026, 12, 10)),  # the cued date wins
        ("please reply by Dec 5", date(2026, 12, 5)),
        ("hearing on 5 December 2026", date(2026, 12, 5)),
        ("the deadline is 2026/12/03.", date(2026, 12, 3)),
        ("We must respond within 7 days", date(2026, 12, 4)),
        ("within 10 business days", date(2026, 12, 11)),
        ("within a week", date(2026, 12, 4)),
        ("by next Friday", date(2026, 12, 4)),
        ("opposition period ends on January 8th", date(2027, 1, 8)),
        ("due tomorrow", date(2026, 11, 28)),
        ("by the end of the month", date(2026, 11, 30)),
    ],
)
def test_deadlines_are_read(text: str, expected: date) -> None:
    found = parse_deadline(text, T0, ZONE)
    assert found is not None, text
    assert found.tzinfo is not None
    assert found.utcoffset() == timedelta(0)
    local = found.astimezone(ZONE)
    assert (local.date(), local.hour, local.minute) == (expected, 23, 59)


@pytest.mark.parametrize(
    "text",
    [
        "我们的商标被人抢注了怎么办",
        "我们2020年注册的商标",
        "11月20日收到了律师函",  # a past date is an event, not a deadline
        "2025-03-01 申请的专利",
        "周五开会讨论",  # a bare weekday without a deadline word
        "we met on Monday",
        "商标注册 12月",
        "2026-02-30 前",  # no such day
        "",
    ],
)
def test_no_deadline(text: str) -> None:
    assert parse_deadline(text, T0, ZONE) is None


def test_deadline_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_deadline("12月5日前", datetime(2026, 11, 27), ZONE)


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("我们收到了法院传票", (UrgentReason.SUMMONS,)),
        ("需要应诉，怎么办", (UrgentReason.SUMMONS,)),
        ("我司被起诉商标侵权", (UrgentReason.SUMMONS,)),
        ("收到法院傳票", (UrgentReason.SUMMONS,)),  # Traditional
        ("We were served with a summons yesterday", (UrgentReason.SUMMONS,)),
        ("our company has been sued in Germany", (UrgentReason.SUMMONS,)),
        ("出口的货物被海关扣留了", (UrgentReason.CUSTOMS,)),
        ("宁波海关扣货，说侵犯商标权", (UrgentReason.CUSTOMS,)),
        ("货被扣押在海关", (UrgentReason.CUSTOMS,)),
        ("our shipment was detained by customs in Hamburg", (UrgentReason.CUSTOMS,)),
        ("Customs seized 200 cartons", (UrgentReason.CUSTOMS,)),
        ("customs detention notice received", (UrgentReason.CUSTOMS,)),
        ("收到传票，同时海关扣留了货物", (UrgentReason.SUMMONS, UrgentReason.CUSTOMS)),
        # the cases the triage engine escalated but tickets left normal (issue 8)
        ("court paper came today from shenzhen court", (UrgentReason.SUMMONS,)),
        ("our container was held at ningbo customs for trademark", (UrgentReason.CUSTOMS,)),
        ("亞馬遜TRO 凍結了帳戶", (UrgentReason.PLATFORM,)),
        ("amazon suspended our store after a patent complaint", (UrgentReason.PLATFORM,)),
        ("我们想起诉对方侵权", ()),  # suing someone else is not a summons
        ("如何办理海关知识产权备案", ()),
        ("how do I record my trademark with customs?", ()),
        ("商标续展需要多久", ()),
    ],
)
def test_urgent_signals(text: str, reasons: tuple[UrgentReason, ...]) -> None:
    assert urgent_signals(text) == reasons


@pytest.mark.parametrize(
    ("days", "priority"),
    [(-1, Priority.URGENT), (0, Priority.URGENT), (3, Priority.URGENT), (4, Priority.NORMAL)],
)
def test_deadline_within_three_days_is_urgent(days: int, priority: Priority) -> None:
    assessment = assess_priority("商标问题", T0 + timedelta(days=days), T0)
    assert assessment.priority is priority
    assert (UrgentReason.DEADLINE in assessment.reasons) is (priority is Priority.URGENT)


@pytest.mark.parametrize(("window", "priority"), [(3, Priority.NORMAL), (5, Priority.URGENT)])
def test_deadline_urgent_days_is_the_window(window: int, priority: Priority) -> None:
    # DEADLINE_URGENT_DAYS reaches the assessment: a deadline 4 days out is urgent with 5
    assessment = assess_priority("商标问题", T0 + timedelta(days=4), T0, timedelta(days=window))
    assert assessment.priority is priority


def test_urgency_comes_from_the_triage_signals() -> None:
    # one source of truth: every message the engine escalates for an urgent signal is urgent
    from faq.normalize import fold
    from faq.signals import load_signals

    for signal in load_signals().signals:
        for text in signal.positive:
            assert bool(urgent_signals(text)) is any(
                s.urgent for s in load_signals().fired(fold(text))
            ), text


def test_priority_without_deadline() -> None:
    assert assess_priority("一般咨询", None, T0).priority is Priority.NORMAL
    urgent = assess_priority("海关扣货", None, T0)
    assert (urgent.priority, urgent.reasons) == (Priority.URGENT, (UrgentReason.CUSTOMS,))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("IP-2026-0042", "IP-2026-0042"),
        ("ip-2026-42", "IP-2026-0042"),
        (" IP 2026 0042 ", "IP-2026-0042"),
        ("ＩＰ－２０２６－００４２", "IP-2026-0042"),
        ("2026-0042", "IP-2026-0042"),
        ("IP-2026-12345", "IP-2026-12345"),
        ("42", None),
        ("IP-26-0042", None),
        ("hello", None),
    ],
)
def test_ticket_numbers(text: str, number: str | None) -> None:
    assert parse_number(text) == number


def test_status_machine() -> None:
    s = TicketStatus
    assert can_transition(s.NEW, s.ASSIGNED)
    assert can_transition(s.ASSIGNED, s.IN_PROGRESS)
    assert can_transition(s.IN_PROGRESS, s.WAITING_MEMBER)
    assert can_transition(s.WAITING_MEMBER, s.IN_PROGRESS)
    assert can_transition(s.IN_PROGRESS, s.RESOLVED)
    assert can_transition(s.RESOLVED, s.CLOSED)
    assert can_transition(s.RESOLVED, s.IN_PROGRESS)  # reopen
    assert can_transition(s.CLOSED, s.IN_PROGRESS)  # reopen
    assert not can_transition(s.CLOSED, s.RESOLVED)
    assert not can_transition(s.RESOLVED, s.WAITING_MEMBER)
    assert not can_transition(s.NEW, s.WAITING_MEMBER)
    assert not can_transition(s.CLOSED, s.CLOSED)
    assert set(TRANSITIONS) == set(TicketStatus)


def test_local_display() -> None:
    moment = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)
    assert format_date(moment, ZONE, "zh") == "2026年12月5日"
    assert format_datetime(moment, ZONE, "en") == "5 Dec 2026, 14:30"
    assert format_datetime(moment, ZONE, "zh") == "2026年12月5日 14:30"
