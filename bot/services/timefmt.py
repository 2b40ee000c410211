"""Local time: showing stored UTC instants in the association's zone, and reading the matter
deadline a member states in a message (:func:`parse_deadline`). Pure functions, no I/O.

Deadlines are calendar dates; a stated date means "by the end of that day" in the
association's zone (23:59 local), returned as an aware UTC datetime.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from faq.models import Lang
from faq.normalize import fold

END_OF_DAY = time(23, 59)
_MAX_AHEAD = timedelta(days=5 * 366)  # a "deadline" years away is a misreading
_YEARLESS_WINDOW = timedelta(days=183)  # "1月5日" in December means next January


# --- display ---------------------------------------------------------------------------------


def to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; pass aware UTC datetimes")
    return moment.astimezone(zone)


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(moment: datetime, zone: ZoneInfo, lang: Lang) -> str:
    """``2026年12月5日`` / ``5 Dec 2026`` in the association's zone."""
    local = to_local(moment, zone)
    if lang == "en":
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}"
    return f"{local.year}年{local.month}月{local.day}日"


def format_datetime(moment: datetime, zone: ZoneInfo, lang: Lang) -> str:
    """``2026年12月5日 14:30`` / ``5 Dec 2026, 14:30`` in the association's zone."""
    local = to_local(moment, zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    sep = ", " if lang == "en" else " "
    return f"{format_date(moment, zone, lang)}{sep}{clock}"


def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """23:59 of ``day`` in ``zone``, as aware UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).astimezone(UTC)


# --- deadline parsing ------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = re.compile(
    r"([零〇一二两三四五六七八九十]{1,3})(?=\s*(?:个\s*)?(?:月|日|号|天|周|星期|礼拜|工作))"
)
_EN_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
_EN_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_EN_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5,
    "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}

_MONTH_NAMES = "|".join(sorted(_EN_MONTHS, key=len, reverse=True))
_WEEKDAY_NAMES = "|".join(sorted(_EN_WEEKDAYS, key=len, reverse=True))
_EN_COUNT = "|".join(sorted(_EN_NUMBERS, key=len, reverse=True))

_FULL_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*[日号]?"
)
_ZH_MONTH_DAY = re.compile(r"(?<![\d年/.\-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_EN_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_NAMES})\b\.?(?:,?\s*(\d{{4}}))?"
)
_EN_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}}))?"
)
_ZH_WITHIN = re.compile(
    r"(?<![\d月])(\d{1,3})\s*(个\s*工作日|个?\s*工作天|工作日|天|日|周|星期|个?\s*礼拜|个\s*月)"
    r"\s*(?:之内|以内|内)"
)
_EN_WITHIN = re.compile(
    rf"\b(?:within|in|no later than|not later than)\s+(\d{{1,3}}|{_EN_COUNT})\s+"
    r"(?:(business|working|calendar)\s+)?(days?|weeks?|months?)\b"
)
_ZH_WEEKDAY = re.compile(r"(下个?|本|这个?)?\s*(?:周|星期|礼拜)([一二三四五六日天])")
_EN_WEEKDAY = re.compile(rf"\b(next|this|coming)?\s*({_WEEKDAY_NAMES})\b")
_ZH_DAYS = re.compile(r"(大后天|后天|明天|明日|今天|今日|今晚)")
_EN_DAYS = re.compile(r"\b(the day after tomorrow|tomorrow|today|tonight)\b")
_ZH_MONTH_END = re.compile(r"(下个?月|本月|这个?月)?\s*(月底|月末|底)|(今年|年)(底|末)")
_EN_MONTH_END = re.compile(r"\bend of (?:the |this )?(next )?(month|year)\b")

# Words that make a date a deadline rather than a mention (looked for next to the date).
_CUE_BEFORE = re.compile(
    r"(截止|截至|期限|最迟|最晚|开庭|听证|届满|到期|答辩期|异议期|deadline|due|by|before|until|"
    r"till|no later than|not later than|expires?|hearing|respond|reply)\W{0,3}$"
)
_CUE_AFTER = re.compile(r"^\s*(前|之前|以前|截止|到期|届满|为止|开庭|听证|deadline)")
_CUE_SPAN = 14


@dataclass(frozen=True, slots=True)
class _Candidate:
    day: date
    cued: bool


def _cn_to_int(text: str) -> int:
    if "十" not in text:
        value = 0
        for ch in text:
            value = value * 10 + _CN_DIGITS[ch]
        return value
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _arabic(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        try:
            return str(_cn_to_int(match.group(1)))
        except KeyError:
            return match.group(1)

    return _CN_NUMBER.sub(repl, text)


def _cued(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _CUE_SPAN) : start].rstrip()
    after = text[end : end + _CUE_SPAN]
    return bool(_CUE_BEFORE.search(before) or _CUE_AFTER.search(after))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _yearless(today: date, month: int, day: int) -> date | None:
    this_year = _safe_date(today.year, month, day)
    if this_year is not None and this_year >= today:
        return this_year
    following = _safe_date(today.year + 1, month, day)
    if following is not None and following - today <= _YEARLESS_WINDOW:
        return following
    return None  # a past date: something that happened, not a deadline


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _add_working_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _span(day: date, count: int, unit: str, working: bool) -> date:
    if unit.startswith(("month", "个月")):
        return _add_months(day, count)
    if unit.startswith(("week", "周", "星期", "礼拜", "个礼拜")):
        return day + timedelta(weeks=count)
    if working:
        return _add_working_days(day, count)
    return day + timedelta(days=count)


def _weekday(today: date, weekday: int, next_week: bool) -> date:
    if next_week:
        monday_next = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        return monday_next + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _candidates(text: str, today: date) -> list[_Candidate]:
    found: list[_Candidate] = []
    taken: list[tuple[int, int]] = []

    def add(day: date | None, start: int, end: int, cued: bool | None = None) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        if day is not None:
            found.append(_Candidate(day, _cued(text, start, end) if cued is None else cued))

    for m in _FULL_DATE.finditer(text):
        add(_safe_date(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end())
    for m in _ZH_MONTH_DAY.finditer(text):
        add(_yearless(today, int(m[1]), int(m[2])), m.start(), m.end())
    for pattern, day_group, month_group in ((_EN_DAY_MONTH, 1, 2), (_EN_MONTH_DAY, 2, 1)):
        for m in pattern.finditer(text):
            day_no, month = int(m[day_group]), _EN_MONTHS[m[month_group]]
            year = m[3]
            day = _safe_date(int(year), month, day_no) if year else _yearless(today, month, day_no)
            add(day, m.start(), m.end())
    for m in _ZH_WITHIN.finditer(text):
        unit = re.sub(r"\s+", "", m[2])
        add(_span(today, int(m[1]), unit, "工作" in unit), m.start(), m.end(), cued=True)
    for m in _EN_WITHIN.finditer(text):
        count = int(m[1]) if m[1].isdigit() else _EN_NUMBERS[m[1]]
        working = m[2] in ("business", "working")
        add(_span(today, count, m[3], working), m.start(), m.end(), cued=True)
    for m in _ZH_WEEKDAY.finditer(text):
        qualifier = m[1] or ""
        day = _weekday(today, _ZH_WEEKDAYS[m[2]], qualifier.startswith("下"))
        cued = bool(qualifier) or _cued(text, m.start(), m.end())
        if cued:
            add(day, m.start(), m.end(), cued=True)
    for m in _EN_WEEKDAY.finditer(text):
        qualifier = m[1] or ""
        day = _weekday(today, _EN_WEEKDAYS[m[2]], qualifier == "next")
        if qualifier or _cued(text, m.start(), m.end()):
            add(day, m.start(), m.end(), cued=True)
    for m in _ZH_DAYS.finditer(text):
        offset = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1}.get(m[1], 0)
        add(today + timedelta(days=offset), m.start(), m.end())
    for m in _EN_DAYS.finditer(text):
        offset = {"the day after tomorrow": 2, "tomorrow": 1}.get(m[1], 0)
        add(today + timedelta(days=offset), m.start(), m.end())
    for m in _ZH_MONTH_END.finditer(text):
        if m[3]:  # 年底
            add(date(today.year, 12, 31), m.start(), m.end())
            continue
        if m[2] == "底" and not m[1]:
            continue  # a bare 底 is not a date
        base = _add_months(today.replace(day=1), 1 if (m[1] or "").startswith("下") else 0)
        add(base.replace(day=calendar.monthrange(base.year, base.month)[1]), m.start(), m.end())
    for m in _EN_MONTH_END.finditer(text):
        if m[2] == "year":
            add(date(today.year + (1 if m[1] else 0), 12, 31), m.start(), m.end(), cued=True)
            continue
        base = _add_months(today.replace(day=1), 1 if m[1] else 0)
        day = base.replace(day=calendar.monthrange(base.year, base.month)[1])
        add(day, m.start(), m.end(), cued=True)
    return found


def parse_deadline(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The matter deadline a member states, as 23:59 local of that day in aware UTC, or None.

    Understands full dates (``2026-12-05``, ``2026年12月5日``), month and day (``12月5日前``,
    ``十二月五日``, ``by Dec 5``, ``5 December``), spans (``7天内``, ``3个工作日内``,
    ``within 7 days``, ``within 10 business days``), weekdays (``下周五`` = Friday of next
    week, ``本周五``/``周五前``, ``next Friday`` = Friday of next week, ``by Friday`` = the
    coming one), ``明天``/``tomorrow`` and ``月底``/``end of the month``.

    Dates in the past are ignored (they are events, not deadlines); a year-less date already
    past this year counts for next year only when it is within half a year. When several
    dates are stated, those next to a deadline word (前, 截止, 开庭, by, before, due,
    hearing …) win; among them the earliest is returned.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    today = now.astimezone(zone).date()
    folded = _arabic(fold(text))
    future = [c for c in _candidates(folded, today) if today <= c.day <= today + _MAX_AHEAD]
    if not future:
        return None
    cued = [c for c in future if c.cued]
    chosen = min(c.day for c in (cued or future))
    return end_of_local_day(chosen, zone)
