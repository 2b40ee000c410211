"""Build the follow-up calendar and policy from settings (one place, used by bot and CLI)."""

from __future__ import annotations

from datetime import timedelta

from bot.services.calendar import WorkCalendar, parse_clock
from bot.services.followups import FollowupPolicy
from bot.services.reminders import RetryPolicy
from bot.settings import Settings


def build_calendar(settings: Settings) -> WorkCalendar:
    return WorkCalendar(
        settings.zone,
        workday_start=parse_clock(settings.workday_start),
        workday_end=parse_clock(settings.workday_end),
        holidays=frozenset(settings.holidays),
        extra_workdays=frozenset(settings.extra_workdays),
        civil_start=parse_clock(settings.civil_start),
        civil_end=parse_clock(settings.civil_end),
    )


def build_policy(settings: Settings) -> FollowupPolicy:
    return FollowupPolicy(
        staff_chat_id=settings.staff_chat_id,
        admin_ids=tuple(settings.admin_user_ids),
        staff_lang=settings.staff_lang,
        unclaimed_hours=settings.unclaimed_reminder_hours,
        unclaimed_admin_hours=settings.unclaimed_admin_hours,
        expert_reminder_days=settings.expert_reminder_days,
        expert_reminders=settings.expert_reminder_count,
        member_nudge_days=settings.member_nudge_days,
        member_close_days=settings.member_close_days,
        checkin_days=settings.checkin_days,
        deadline_days=tuple(settings.deadline_reminder_days),
        urgent_within_days=settings.deadline_urgent_days,
        report_weekday=settings.report_weekday,
        report_time=parse_clock(settings.report_time),
        report_weeks=settings.report_chart_weeks,
        report_gaps=settings.report_gaps,
    )


def build_retry(settings: Settings) -> RetryPolicy:
    return RetryPolicy(max_attempts=settings.reminder_max_attempts)


def poll_interval(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.reminder_poll_seconds)
