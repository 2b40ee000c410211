"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/ipdesk.sqlite3"
_CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d$"


class SettingsError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


def _parse_id_list(value: object) -> object:
    """Accept "1, 2 3" as well as a JSON list: admins paste ids in many shapes."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[\s,;]+", value.strip()) if p]
        return [int(p) for p in parts]
    return value


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_api_file_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None

    database_url: str = DEFAULT_DATABASE_URL
    staff_chat_id: int | None = None
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Shanghai"

    match_answer_threshold: float | None = Field(default=None, ge=0, le=100)
    match_suggest_threshold: float | None = Field(default=None, ge=0, le=100)
    match_margin: float | None = Field(default=None, ge=0, le=100)

    # Telegram asks bots to stay near 30 messages/s overall; 0 lifts the limiter (429s are
    # still retried). Updates of different chats are handled this many at a time.
    telegram_max_rate: float = Field(default=30, ge=0)
    concurrent_updates: int = Field(default=16, ge=1, le=256)
    flood_max_messages: int = Field(default=8, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)

    office_address_zh: str = "请向协会秘书处查询地址"
    office_address_en: str = "please ask the secretariat for the address"
    office_phone: str = "请联系秘书处 / ask the secretariat"
    office_email: str = "请联系秘书处 / ask the secretariat"
    office_hours_zh: str = "周一至周五 9:00–17:00（法定节假日除外）"
    office_hours_en: str = "Monday to Friday, 9:00–17:00 (closed on public holidays)"
    expert_first_reply_hours: int = Field(default=8, ge=1, le=240)

    # Follow-ups: working time decides when staff reminders fire; members hear from us
    # only in civil hours. Intervals are in working hours/days or calendar days as named.
    workday_start: str = Field(default="09:00", pattern=_CLOCK)
    workday_end: str = Field(default="17:00", pattern=_CLOCK)
    civil_start: str = Field(default="09:00", pattern=_CLOCK)
    civil_end: str = Field(default="20:00", pattern=_CLOCK)
    holidays: Annotated[list[date], NoDecode] = Field(default_factory=list)
    extra_workdays: Annotated[list[date], NoDecode] = Field(default_factory=list)
    staff_lang: Literal["zh", "en"] = "zh"
    unclaimed_reminder_hours: float = Field(default=2.0, gt=0)
    unclaimed_admin_hours: float = Field(default=2.0, gt=0)
    expert_reminder_days: float = Field(default=1.0, gt=0)
    expert_reminder_count: int = Field(default=2, ge=1, le=10)
    member_nudge_days: float = Field(default=3.0, gt=0)
    member_close_days: float = Field(default=7.0, gt=0)
    checkin_days: float = Field(default=3.0, gt=0)
    deadline_reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [7, 3, 1]
    )
    deadline_urgent_days: int = Field(default=3, ge=0)
    report_weekday: int = Field(default=0, ge=0, le=6)
    report_time: str = Field(default="09:00", pattern=_CLOCK)
    report_chart_weeks: int = Field(default=8, ge=1, le=104)
    report_gaps: int = Field(default=5, ge=0, le=50)
    reminder_poll_seconds: float = Field(default=30.0, gt=0)
    reminder_lease_seconds: float = Field(default=300.0, gt=0)
    reminder_max_attempts: int = Field(default=6, ge=1)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _parse_id_list(value)

    @field_validator("holidays", "extra_workdays", mode="before")
    @classmethod
    def _split_dates(cls, value: object) -> object:
        if isinstance(value, str):
            return [p for p in re.split(r"[\s,;]+", value.strip()) if p]
        return value

    @field_validator("deadline_reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        return _parse_id_list(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite://… or postgresql+asyncpg://…")
        return value

    @field_validator("telegram_api_base_url", "telegram_api_file_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        answer, suggest = self.match_answer_threshold, self.match_suggest_threshold
        if answer is not None and suggest is not None and suggest > answer:
            raise ValueError("MATCH_SUGGEST_THRESHOLD must not exceed MATCH_ANSWER_THRESHOLD")
        if self.member_close_days <= self.member_nudge_days:
            raise ValueError("MEMBER_CLOSE_DAYS must exceed MEMBER_NUDGE_DAYS")
        if _minutes(self.workday_end) <= _minutes(self.workday_start):
            raise ValueError("WORKDAY_END must be after WORKDAY_START")
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def file_base_url(self) -> str | None:
        """Explicit file URL, else the base URL with its final `/bot` made `/file/bot`."""
        if self.telegram_api_file_url:
            return self.telegram_api_file_url
        base = self.telegram_api_base_url
        if base is None:
            return None
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            rest = self.database_url[len(prefix) :].split("?", 1)[0]
            return None if rest in ("", ":memory:") else Path(rest)
        return None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
    if name.startswith("_") or not first["loc"]:
        name = "configuration"
    return f"{name}: {first['msg']}"


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
