"""Telegram users as members: first contact, language preference, dialogue state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import DEFAULT_LANG, normalise_lang
from bot.services.dialog import DialogState, parse_state
from bot.services.inbox import preparatory
from db.models import Role, User
from db.session import SessionFactory
from faq.models import Lang


@dataclass(frozen=True, slots=True)
class Profile:
    """What handlers need to know about the user behind an update."""

    id: int
    lang: Lang
    role: Role
    chosen_lang: Lang | None
    dialog_state: DialogState | None
    dialog_data: dict[str, Any]
    dialog_since: datetime | None = None  # when the state was set (routing: who spoke last)


@dataclass(frozen=True, slots=True)
class TelegramIdentity:
    id: int
    first_name: str
    username: str | None
    language_code: str | None


class UserFacts(Protocol):
    """The user columns a profile is made of (a ``User`` or a row of them)."""

    @property
    def id(self) -> int: ...
    @property
    def lang(self) -> str | None: ...
    @property
    def detected_lang(self) -> str | None: ...
    @property
    def telegram_lang(self) -> str | None: ...
    @property
    def role(self) -> Role: ...
    @property
    def dialog_state(self) -> str | None: ...
    @property
    def dialog_data(self) -> dict[str, Any] | None: ...


def preferred_lang(user: UserFacts) -> Lang:
    """The member's choice, else the language of their last message, else Telegram's."""
    for value in (user.lang, user.detected_lang, normalise_lang(user.telegram_lang)):
        lang = normalise_lang(value)
        if lang is not None:
            return lang
    return DEFAULT_LANG


SINCE = "_since"
"""dialog_data key: when the state was set (kept out of Profile.dialog_data)."""


def _since(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def profile_of_row(user: UserFacts) -> Profile:
    return Profile(
        id=user.id,
        lang=preferred_lang(user),
        role=user.role,
        chosen_lang=normalise_lang(user.lang),
        dialog_state=parse_state(user.dialog_state),
        dialog_data={k: v for k, v in (user.dialog_data or {}).items() if k != SINCE},
        dialog_since=_since((user.dialog_data or {}).get(SINCE)),
    )


async def upsert_user(session: AsyncSession, who: TelegramIdentity) -> User:
    user = await session.get(User, who.id)
    if user is None:
        # First contact. INSERT … ON CONFLICT DO NOTHING: when the same person writes in two
        # chats at once, the second insert waits for the first and yields, instead of
        # failing with IntegrityError (the first-contact race).
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(User)
            .values(
                id=who.id,
                first_name=who.first_name[:255],
                username=who.username,
                telegram_lang=who.language_code,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        user = await session.get(User, who.id)
        if user is None:
            raise RuntimeError(f"user {who.id} neither inserted nor found")
        return user
    if (user.first_name, user.username, user.telegram_lang) != (
        who.first_name[:255],
        who.username,
        who.language_code,
    ):
        user.first_name = who.first_name[:255]
        user.username = who.username
        user.telegram_lang = who.language_code
    if user.blocked_bot_at is not None:
        user.blocked_bot_at = None  # they are talking to us again
    return user


class MemberService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def touch(self, who: TelegramIdentity, detected: Lang | None = None) -> Profile:
        """Record that this user is talking to us; remember the language they wrote in.
        Repeatable bookkeeping: it does not mark the update being handled done."""
        with preparatory():
            return await self._touch(who, detected)

    async def _touch(self, who: TelegramIdentity, detected: Lang | None) -> Profile:
        async with self._sessions() as s, s.begin():
            user = await upsert_user(s, who)
            if detected is not None and user.detected_lang != detected:
                user.detected_lang = detected
            return profile_of_row(user)

    async def choose_lang(self, who: TelegramIdentity, lang: Lang) -> Profile:
        async with self._sessions() as s, s.begin():
            user = await upsert_user(s, who)
            user.lang = lang
            user.detected_lang = lang
            return profile_of_row(user)

    async def set_dialog(
        self,
        user_id: int,
        state: DialogState | None,
        data: dict[str, Any] | None = None,
        since: datetime | None = None,
    ) -> None:
        """Set the user's dialogue state; ``since`` (default now) is when it was chosen —
        given when a state is put back as it was (after a /profile change)."""
        at = since or datetime.now(UTC)
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is not None:
                user.dialog_state = state.value if state is not None else None
                user.dialog_data = {**(data or {}), SINCE: at.isoformat()}

    async def lang_of(self, user_id: int, telegram_lang: str | None = None) -> Lang:
        """Read-only language lookup (for notices that must not touch the user row)."""
        async with self._sessions() as s:
            user = await s.get(User, user_id)
        if user is not None:
            return preferred_lang(user)
        return normalise_lang(telegram_lang) or DEFAULT_LANG

    async def mark_blocked(self, user_id: int) -> None:
        async with self._sessions() as s, s.begin():
            user = await s.get(User, user_id)
            if user is not None:
                user.blocked_bot_at = datetime.now(UTC)
