"""Working time of the association: office hours, weekends, holidays, civil hours.

All instants going in and out are aware UTC ``datetime``s; the calendar converts to the
association's zone (Asia/Shanghai by default) only to decide what a local day and hour are.

* **Working time** — staff reminders fire only then: ``workday_start``–``workday_end`` local
  time on a working day. A working day is a weekday not in ``holidays``, or any day listed in
  ``extra_workdays`` (China's 调休 make-up Saturdays and Sundays).
* **Civil time** — messages to members are sent only then: ``civil_start``–``civil_end`` local
  time, every day of the week (a member may read a check-in on Saturday, not at 03:00).

Intervals are half-open: a working day from 09:00 to 17:00 contains 09:00 but not 17:00.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A guard for loops over days: a calendar with no working day in this many days is broken.
_MAX_DAYS = 3 * 366


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("naive datetime: pass aware UTC datetimes")


def parse_clock(text: str) -> time:
    """'09:00' or '9' → time(9, 0); for settings such as WORKDAY_START."""
    text = text.strip()
    hour, _, minute = text.partition(":")
    try:
        return time(int(hour), int(minute or 0))
    except ValueError as exc:
        raise ValueError(f"not a clock time (HH:MM): {text!r}") from exc


def parse_dates(items: Iterable[str | date]) -> frozenset[date]:
    """Holiday lists from settings: ISO dates ('2026-10-01') or date objects."""
    out: set[date] = set()
    for item in items:
        if isinstance(item, date):
            out.add(item)
            continue
        text = item.strip()
        if text:
            out.add(date.fromisoformat(text))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    workday_start: time = time(9, 0)
    workday_end: time = time(17, 0)
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Monday is 0
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    civil_start: time = time(9, 0)
    civil_end: time = time(20, 0)

    def __post_init__(self) -> None:
        if not self.workday_start < self.workday_end:
            raise ValueError("WORKDAY_START must be before WORKDAY_END")
        if not self.civil_start < self.civil_end:
            raise ValueError("CIVIL_START must be before CIVIL_END")
        if len(self.weekend) >= 7 and not self.extra_workdays:
            raise ValueError("a week needs at least one working day")

    # -- days ---------------------------------------------------------------------------

    @property
    def workday_hours(self) -> float:
        """Length of one working day in hours (8.0 for 09:00–17:00): 'one working day'."""
        start = datetime.combine(date(2000, 1, 3), self.workday_start)
        end = datetime.combine(date(2000, 1, 3), self.workday_end)
        return (end - start).total_seconds() / 3600

    def local_date(self, at: datetime) -> date:
        _require_aware(at)
        return at.astimezone(self.zone).date()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def local_instant(self, day: date, clock: time) -> datetime:
        """The UTC instant of `clock` local time on `day`."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            self.local_instant(day, self.workday_start),
            self.local_instant(day, self.workday_end),
        )

    def _workdays_from(self, day: date) -> Iterator[date]:
        for offset in range(_MAX_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_workday(candidate):
                yield candidate
        raise ValueError(f"no working day within {_MAX_DAYS} days of {day}")

    # -- working time -------------------------------------------------------------------

    def is_working_time(self, at: datetime) -> bool:
        day = self.local_date(at)
        if not self.is_workday(day):
            return False
        start, end = self._window(day)
        return start <= at < end

    def next_working_instant(self, at: datetime) -> datetime:
        """`at` itself when it is working time, else the start of the next working period."""
        day = self.local_date(at)
        for candidate in self._workdays_from(day):
            start, end = self._window(candidate)
            if at < end:
                return max(at, start).astimezone(UTC)
        raise AssertionError("unreachable")  # pragma: no cover

    def last_workday_start_on_or_before(self, day: date) -> datetime:
        """Opening time of the latest working day not after `day` (deadline reminders)."""
        for offset in range(_MAX_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_workday(candidate):
                return self.local_instant(candidate, self.workday_start)
        raise ValueError(f"no working day within {_MAX_DAYS} days before {day}")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant when `hours` of working time have elapsed after `start`.

        Time outside working hours does not count: Friday 16:00 + 2 working hours is Monday
        10:00 (09:00–17:00, Monday a working day). ``hours == 0`` gives the next working
        instant. The result is always inside a working period or at its closing instant.
        """
        _require_aware(start)
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        for day in self._workdays_from(self.local_date(start)):
            open_at, close_at = self._window(day)
            if start >= close_at:
                continue
            begin = max(start, open_at)
            available = close_at - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours in [start, end); 0 when end is not after start."""
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return 0.0
        total = timedelta()
        day = self.local_date(start)
        last = self.local_date(end)
        while day <= last:
            if self.is_workday(day):
                open_at, close_at = self._window(day)
                lo, hi = max(start, open_at), min(end, close_at)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    # -- civil time (members) -----------------------------------------------------------

    def is_civil_time(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        start = self.local_instant(local.date(), self.civil_start)
        end = self.local_instant(local.date(), self.civil_end)
        return start <= at < end

    def next_civil_time(self, at: datetime) -> datetime:
        """`at` when it is a civil hour to message a member, else the next civil-hour start."""
        _require_aware(at)
        day = self.local_date(at)
        for offset in range(2):
            candidate = day + timedelta(days=offset)
            start = self.local_instant(candidate, self.civil_start)
            end = self.local_instant(candidate, self.civil_end)
            if at < end:
                return max(at, start).astimezone(UTC)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- weeks ----------------------------------------------------------------------------

    def week_start(self, at: datetime) -> date:
        """Local date of the Monday of the week containing `at`."""
        day = self.local_date(at)
        return day - timedelta(days=day.weekday())
