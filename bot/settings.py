"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import os
import re
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

_CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d$"
WEBHOOK_SECRET_MIN = 16
"""Telegram accepts 1–256 characters of A–Z a–z 0–9 _ -; we ask for at least this many."""
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


class SettingsError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


def _parse_id_list(value: object) -> object:
    """Accept "1, 2 3" as well as a JSON list: admins paste ids in many shapes."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[\s,;]+", value.strip()) if p]
        return [int(p) for p in parts]
    return value


def default_home() -> Path:
    """The per-user data directory: $XDG_DATA_HOME/ipdesk, else ~/.local/share/ipdesk."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "ipdesk"


def home_from_environment() -> Path:
    """IPDESK_HOME if set, else the per-user data directory; never the current folder."""
    given = os.environ.get("IPDESK_HOME")
    return Path(given).expanduser().resolve() if given else default_home()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def normalise_database_url(value: str) -> str:
    """Accept what people paste (postgres://, postgresql://, sqlite:///relative) and return
    the async-driver URL with an absolute SQLite path; %-escapes in the password survive."""
    # SQLAlchemy is imported only when needed: `ipdesk ask` on the default SQLite URL
    # should not pay ~90 ms for it.
    plain = value.strip()
    prefix = "sqlite+aiosqlite:///"
    if plain.startswith(prefix) and "?" not in plain and plain[len(prefix) :].startswith("/"):
        return plain
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value.strip())
    except (ArgumentError, ValueError):
        raise ValueError(
            "not a database URL: expected postgresql://user:password@host:5432/dbname "
            "(escape @ : / % in the password as %40 %3A %2F %25) or sqlite:///path/file.sqlite3"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if not url.database:
            raise ValueError("the database name is missing: postgresql://user:pw@host/dbname")
        url = url.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
        if url.database and url.database != ":memory:":
            url = url.set(database=str(Path(url.database).expanduser().absolute()))
    else:
        raise ValueError(f"unsupported database {backend!r}: use PostgreSQL or SQLite")
    return url.render_as_string(hide_password=False)


def describe_database(database_url: str) -> str:
    """Where the data is, for people: the SQLite file, or the server URL without password."""
    from sqlalchemy.engine import make_url

    url: URL = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database or ':memory:'}"
    return "PostgreSQL " + url.set(drivername="postgresql").render_as_string(hide_password=True)


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
    # http://host:port or socks5://user:pass@host:port: how a server in mainland China
    # reaches Telegram (both for sending and for long polling).
    telegram_proxy: SecretStr | None = None
    # How the bot talks to the Bot API: aiohttp (bot/http.py, the lighter) or PTB's httpx.
    # With TELEGRAM_PROXY set, httpx is used (it supports socks proxies).
    telegram_http: Literal["aiohttp", "httpx"] = "aiohttp"
    # Connections kept open to the Bot API for sending (aiohttp).
    telegram_pool_size: int = Field(default=64, ge=1, le=1024)
    # The event loop of `ipdesk run`: uvloop (less CPU per message) or the standard asyncio.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"

    # Where the default SQLite database, backups and logs live (not the current folder).
    ipdesk_home: Path = Field(default_factory=home_from_environment)
    # Unset: $IPDESK_HOME/ipdesk.sqlite3.
    database_url: str = ""
    staff_chat_id: int | None = None
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Shanghai"

    match_answer_threshold: float | None = Field(default=None, ge=0, le=100)
    match_suggest_threshold: float | None = Field(default=None, ge=0, le=100)
    match_margin: float | None = Field(default=None, ge=0, le=100)

    # Telegram asks bots to stay near 30 messages/s overall; 0 lifts the limiter (429s are
    # still retried). Updates of different chats are handled this many at a time.
    telegram_max_rate: float = Field(default=30, ge=0)
    # Announcements (issue 11) are sent at most this fast, below TELEGRAM_MAX_RATE so that
    # replies to members always find room; 0 lifts this cap (TELEGRAM_MAX_RATE still applies).
    broadcast_max_rate: float = Field(default=20, ge=0)
    concurrent_updates: int = Field(default=16, ge=1, le=256)
    # Triage decisions remembered per process for repeated questions (0: none).
    triage_cache_size: int = Field(default=1024, ge=0)
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
    # An update stored in the inbox but not handled by a process that stopped renewing its
    # claim for this long is handled by another one (PostgreSQL, several processes).
    inbox_lease_seconds: float = Field(default=60.0, ge=3)
    # Times an update's handling may begin (its first, then each resumption after a stop or
    # takeover) before it is given up as failing: marked failed and the member told.
    inbox_max_attempts: int = Field(default=3, ge=1)

    # Personal data: question texts and personal fields of tickets closed longer ago than
    # this are anonymised by a daily job (0: keep until a member asks to be forgotten).
    retention_months: int = Field(default=24, ge=0, le=240)
    # Daily backups (unset BACKUP_DIR: $IPDESK_HOME/backups), the newest BACKUP_KEEP kept.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=14, ge=0, le=3650)
    backup_time: str = Field(default="03:30", pattern=_CLOCK)

    @model_validator(mode="before")
    @classmethod
    def _default_database(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("database_url"):
            home = data.get("ipdesk_home")
            base = Path(str(home)).expanduser() if home else home_from_environment()
            return {**data, "database_url": sqlite_url(base.absolute() / "ipdesk.sqlite3")}
        return data

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
        return normalise_database_url(value)

    @field_validator("ipdesk_home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("webhook_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not _WEBHOOK_SECRET.match(secret) or len(secret) < WEBHOOK_SECRET_MIN:
            raise ValueError(
                f"use at least {WEBHOOK_SECRET_MIN} characters of A-Z a-z 0-9 _ - "
                "(make one with `ipdesk secret`)"
            )
        return value

    @field_validator("telegram_proxy")
    @classmethod
    def _proxy_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        scheme, sep, rest = raw.partition("://")
        if not sep or scheme.lower() not in PROXY_SCHEMES or not rest.strip("/"):
            raise ValueError("expected http://host:port or socks5://user:password@host:port")
        return SecretStr(raw)

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
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET must be set in webhook mode (WEBHOOK_URL is set): anyone who "
                "knows the URL could otherwise post forged updates; make one with `ipdesk secret`"
            )
        return self

    @property
    def backup_directory(self) -> Path:
        return (self.backup_dir or self.ipdesk_home / "backups").expanduser().absolute()

    @property
    def database_label(self) -> str:
        return describe_database(self.database_url)

    def unset_office_details(self) -> list[str]:
        """The office contact variables still at their placeholder (answers then tell
        members to ask the secretariat)."""
        names = ("office_phone", "office_email", "office_address_zh", "office_address_en")
        fields = type(self).model_fields
        return [n.upper() for n in names if getattr(self, n) == fields[n].default]

    def secrets(self) -> list[str]:
        """Values that must never reach a log line or the terminal."""
        found: list[str] = []
        for secret in (self.telegram_bot_token, self.webhook_secret, self.telegram_proxy):
            if secret is not None:
                found.append(secret.get_secret_value())
        from sqlalchemy.engine import make_url

        password = make_url(self.database_url).password
        if password:
            found.append(str(password))
        return [s for s in found if len(s) >= 4]

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
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
    if name.startswith("_") or not first["loc"]:
        name = "configuration"
    message = str(first["msg"]).removeprefix("Value error, ")
    if name == "configuration":
        return message
    return f"{name}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with one line naming the variable.

    `.env` is read from IPDESK_HOME (the environment's, or the per-user data directory) and
    then from the current folder, which wins."""
    overrides.setdefault("_env_file", (home_from_environment() / ".env", Path(".env")))
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
