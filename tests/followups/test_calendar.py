"""Working hours, weekends, holidays and civil hours in the association's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.calendar import WorkCalendar, parse_clock, parse_dates
from tests.followups import CAL, local


def test_adding_working_hours_skips_the_night_and_the_weekend() -> None:
    friday_16 = local(2026, 11, 27, 16)
    assert CAL.add_working_hours(friday_16, 2) == local(2026, 11, 30, 10)  # Monday 10:00
    assert CAL.add_working_hours(local(2026, 11, 23, 10), 2) == local(2026, 11, 23, 12)
    # Saturday evening counts from Monday's opening.
    assert CAL.add_working_hours(local(2026, 11, 28, 20), 8) == local(2026, 11, 30, 17)
    assert CAL.add_working_hours(local(2026, 11, 28, 20), 0) == local(2026, 11, 30, 9)


def test_holidays_are_skipped_and_make_up_days_count() -> None:
    # Wed 30 Dec 16:00 + 2 h: 31 Dec and 1 Jan are holidays, Sat 2 Jan is a make-up day.
    assert CAL.add_working_hours(local(2026, 12, 30, 16), 2) == local(2027, 1, 2, 10)
    assert not CAL.is_workday(date(2026, 12, 31))
    assert CAL.is_workday(date(2027, 1, 2))
    assert not CAL.is_workday(date(2027, 1, 3))


def test_working_hours_between_counts_only_office_time() -> None:
    assert CAL.working_hours_between(local(2026, 11, 27, 16), local(2026, 11, 30, 10)) == 2
    assert CAL.working_hours_between(local(2026, 11, 23, 8), local(2026, 11, 23, 18)) == 8
    assert CAL.working_hours_between(local(2026, 11, 23, 12), local(2026, 11, 23, 11)) == 0
    start = local(2026, 11, 23, 9, 30)
    for hours in (0.5, 3, 7.5, 8, 17, 40):
        assert CAL.working_hours_between(start, CAL.add_working_hours(start, hours)) == hours


def test_working_time_and_next_working_instant() -> None:
    assert CAL.is_working_time(local(2026, 11, 23, 9))
    assert not CAL.is_working_time(local(2026, 11, 23, 17))  # closing instant is outside
    assert not CAL.is_working_time(local(2026, 11, 28, 11))  # Saturday
    assert CAL.next_working_instant(local(2026, 11, 23, 12)) == local(2026, 11, 23, 12)
    assert CAL.next_working_instant(local(2026, 11, 27, 18)) == local(2026, 11, 30, 9)
    assert CAL.last_workday_start_on_or_before(date(2026, 11, 29)) == local(2026, 11, 27, 9)


def test_civil_hours_for_members_include_weekends_but_not_nights() -> None:
    assert CAL.next_civil_time(local(2026, 11, 28, 3)) == local(2026, 11, 28, 9)  # Saturday
    assert CAL.next_civil_time(local(2026, 11, 28, 21)) == local(2026, 11, 29, 9)
    assert CAL.next_civil_time(local(2026, 11, 28, 19, 59)) == local(2026, 11, 28, 19, 59)
    assert CAL.is_civil_time(local(2026, 11, 28, 12))
    assert not CAL.is_civil_time(local(2026, 11, 28, 20))


def test_other_zone_and_configuration() -> None:
    berlin = WorkCalendar(
        zone=ZoneInfo("Europe/Berlin"),
        workday_start=parse_clock("8:30"),
        workday_end=parse_clock("16:30"),
    )
    # Friday 16:00 CET + 1 h → Monday 09:00 CET (08:00 UTC).
    got = berlin.add_working_hours(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), 1)
    assert got == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert berlin.workday_hours == 8
    assert parse_dates(["2026-10-01", " ", date(2026, 10, 2)]) == {
        date(2026, 10, 1),
        date(2026, 10, 2),
    }
    with pytest.raises(ValueError, match="WORKDAY_START"):
        WorkCalendar(workday_start=time(18), workday_end=time(9))
    with pytest.raises(ValueError, match="clock"):
        parse_clock("nine")
    with pytest.raises(ValueError, match="naive"):
        CAL.add_working_hours(datetime(2026, 11, 23, 9), 1)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_hours(local(2026, 11, 23, 9), -1)
    assert CAL.week_start(local(2026, 11, 29, 23)) == date(2026, 11, 23)
    assert CAL.local_date(local(2026, 11, 23, 0, 30)) == date(2026, 11, 23)
    assert CAL.local_date(local(2026, 11, 23, 0, 30) - timedelta(hours=1)) == date(2026, 11, 22)
