"""The expert roster (专家库): file format, validation, and the ExpertService.

The roster file is YAML; ``tests/data/experts.example.yaml`` documents the format at its
top. :func:`parse_roster` validates a whole file and reports every mistake at once, each
naming the entry (``entry 3 (key "zhang-wei"): …``); :meth:`ExpertService.import_roster`
upserts by ``key`` so the same file can be imported again and again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.roles import is_admin, load_actor, raise_role
from db.models import Expert, Role, Ticket, TicketStatus
from db.session import SessionFactory
from faq.models import CATEGORIES, LANGS, Lang

OPEN_STATUSES: tuple[TicketStatus, ...] = (
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_MEMBER,
)
"""Statuses that count towards an expert's load and a member's open tickets."""

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
MAX_OPEN_LIMIT = 100
DEFAULT_MAX_OPEN = 10
_FIELDS = {
    "key",
    "telegram_user_id",
    "name",
    "title",
    "organisation",
    "categories",
    "languages",
    "max_open_tickets",
    "active",
}


@dataclass(frozen=True, slots=True)
class ExpertSpec:
    """A roster entry as written in the file (or typed by an admin), validated."""

    key: str
    user_id: int
    name_zh: str
    name_en: str
    title_zh: str = ""
    title_en: str = ""
    org_zh: str = ""
    org_en: str = ""
    categories: tuple[str, ...] = ("general",)
    languages: tuple[Lang, ...] = ("zh",)
    max_open: int = DEFAULT_MAX_OPEN
    active: bool = True


@dataclass(frozen=True, slots=True)
class ExpertInfo:
    """An expert as handlers show them. Never render ``user_id`` to members."""

    id: int
    key: str
    user_id: int | None
    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    org_zh: str
    org_en: str
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    max_open: int
    active: bool
    last_assigned_at: datetime | None

    def name(self, lang: Lang) -> str:
        return (self.name_en if lang == "en" else self.name_zh) or self.name_zh or self.name_en

    def title(self, lang: Lang) -> str:
        return (self.title_en if lang == "en" else self.title_zh) or self.title_zh or self.title_en

    def organisation(self, lang: Lang) -> str:
        return (self.org_en if lang == "en" else self.org_zh) or self.org_zh or self.org_en


@dataclass(frozen=True, slots=True)
class RosterImport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    not_in_file: tuple[str, ...]  # keys in the database the file does not mention (untouched)

    def summary(self) -> str:
        text = (
            f"experts: {len(self.created)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
        if self.not_in_file:
            text += f"; not in the file (left as they are): {', '.join(self.not_in_file)}"
        return text


class RosterError(DomainError):
    """The roster file (or an admin's entry) is invalid; ``problems`` lists every mistake."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class ExpertConflict(DomainError):
    """``add`` of a key or Telegram id already on the roster; ``reason`` says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- validation (pure) ---------------------------------------------------------------------


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if len(value) <= limit else None


def _bilingual(
    entry: Mapping[str, Any], field: str, limit: int, *, required: bool, problems: list[str]
) -> tuple[str, str]:
    value = entry.get(field)
    if value is None:
        if required:
            problems.append(f"{field}: missing (give zh and en)")
        return "", ""
    if not isinstance(value, Mapping):
        problems.append(f"{field}: must be a mapping like {{zh: …, en: …}}")
        return "", ""
    unknown = sorted(str(k) for k in value if k not in LANGS)
    if unknown:
        problems.append(f"{field}: unknown language {', '.join(unknown)} (use zh, en)")
    out: dict[str, str] = {}
    for lang in LANGS:
        raw = value.get(lang)
        if raw is None:
            if required:
                problems.append(f"{field}.{lang}: missing")
            out[lang] = ""
            continue
        text = _text(raw, limit)
        if text is None:
            problems.append(f"{field}.{lang}: must be text of at most {limit} characters")
            out[lang] = ""
        elif required and not text:
            problems.append(f"{field}.{lang}: empty")
            out[lang] = ""
        else:
            out[lang] = text
    return out["zh"], out["en"]


def _choices(
    entry: Mapping[str, Any], field: str, allowed: Sequence[str], problems: list[str]
) -> tuple[str, ...]:
    value = entry.get(field)
    if value is None:
        problems.append(f"{field}: missing (use {', '.join(allowed)})")
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        problems.append(f"{field}: must be a non-empty list of {', '.join(allowed)}")
        return ()
    chosen: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            problems.append(f"{field}: unknown value {item!r} (use {', '.join(allowed)})")
        elif item not in chosen:
            chosen.append(item)
    return tuple(chosen)


def validate_entry(entry: object) -> tuple[ExpertSpec | None, list[str]]:
    """One roster entry → (spec, []) or (None, problems). Pure."""
    if not isinstance(entry, Mapping):
        return None, ["must be a mapping of key: value"]
    problems: list[str] = []
    unknown = sorted(str(k) for k in entry if k not in _FIELDS)
    if unknown:
        problems.append(
            f"unknown field {', '.join(unknown)} (allowed: {', '.join(sorted(_FIELDS))})"
        )
    key = entry.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.append(
            "key: required; 2–40 characters of a-z, 0-9, - and _, starting with a letter or digit"
        )
    user_id = entry.get("telegram_user_id")
    if isinstance(user_id, str) and user_id.strip().isdigit():
        user_id = int(user_id.strip())
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
        problems.append("telegram_user_id: required; the expert's numeric Telegram user id")
    name_zh, name_en = _bilingual(entry, "name", 100, required=True, problems=problems)
    title_zh, title_en = _bilingual(entry, "title", 200, required=False, problems=problems)
    org_zh, org_en = _bilingual(entry, "organisation", 200, required=False, problems=problems)
    categories = _choices(entry, "categories", CATEGORIES, problems)
    languages = _choices(entry, "languages", LANGS, problems)
    max_open = entry.get("max_open_tickets", DEFAULT_MAX_OPEN)
    if (
        isinstance(max_open, bool)
        or not isinstance(max_open, int)
        or not (1 <= max_open <= MAX_OPEN_LIMIT)
    ):
        problems.append(f"max_open_tickets: a whole number from 1 to {MAX_OPEN_LIMIT}")
    active = entry.get("active", True)
    if not isinstance(active, bool):
        problems.append("active: true or false")
    if problems:
        return None, problems
    assert isinstance(key, str)
    assert isinstance(user_id, int)
    assert isinstance(max_open, int)
    return (
        ExpertSpec(
            key=key,
            user_id=user_id,
            name_zh=name_zh,
            name_en=name_en,
            title_zh=title_zh,
            title_en=title_en,
            org_zh=org_zh,
            org_en=org_en,
            categories=categories,
            languages=tuple(lang for lang in LANGS if lang in languages),
            max_open=max_open,
            active=bool(active),
        ),
        [],
    )


def _label(index: int, entry: object) -> str:
    key = entry.get("key") if isinstance(entry, Mapping) else None
    return f"entry {index}" + (f' (key "{key}")' if isinstance(key, str) and key else "")


def parse_roster(data: object, source: str = "roster") -> list[ExpertSpec]:
    """Validate loaded YAML (``{experts: [...]}`` or a bare list); raise RosterError listing
    every problem as ``source: entry N (key "k"): field: what is wrong``."""
    entries = data.get("experts") if isinstance(data, Mapping) else data
    if not isinstance(entries, list) or not entries:
        raise RosterError([f"{source}: expected a list under 'experts:' with at least one entry"])
    problems: list[str] = []
    specs: list[ExpertSpec] = []
    seen_keys: dict[str, int] = {}
    seen_ids: dict[int, int] = {}
    for index, entry in enumerate(entries, start=1):
        label = _label(index, entry)
        spec, errors = validate_entry(entry)
        problems.extend(f"{source}: {label}: {e}" for e in errors)
        if spec is None:
            continue
        if spec.key in seen_keys:
            problems.append(f"{source}: {label}: key already used by entry {seen_keys[spec.key]}")
        if spec.user_id in seen_ids:
            first = seen_ids[spec.user_id]
            problems.append(f"{source}: {label}: telegram_user_id already used by entry {first}")
        seen_keys.setdefault(spec.key, index)
        seen_ids.setdefault(spec.user_id, index)
        specs.append(spec)
    if problems:
        raise RosterError(problems)
    return specs


def load_roster_file(path: Path) -> list[ExpertSpec]:
    """Read and validate a roster YAML file; RosterError on any problem (file name included)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError([f"{path.name}: cannot read the file ({exc})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RosterError([f"{path.name}: not valid YAML{where}"]) from None
    return parse_roster(data, path.name)


# --- repository helpers (never commit) -----------------------------------------------------


def expert_info(row: Expert) -> ExpertInfo:
    return ExpertInfo(
        id=row.id,
        key=row.key,
        user_id=row.user_id,
        name_zh=row.name_zh,
        name_en=row.name_en,
        title_zh=row.title_zh,
        title_en=row.title_en,
        org_zh=row.org_zh,
        org_en=row.org_en,
        categories=tuple(row.categories or ()),
        languages=tuple(row.languages or ()),
        max_open=row.max_open,
        active=row.active,
        last_assigned_at=row.last_assigned_at,
    )


async def open_counts(session: AsyncSession) -> dict[int, int]:
    """Open tickets per expert id (experts with none are absent). Never commits."""
    rows = await session.execute(
        select(Ticket.expert_id, func.count())
        .where(Ticket.expert_id.is_not(None), Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.expert_id)
    )
    return {int(expert_id): int(count) for expert_id, count in rows if expert_id is not None}


async def find_expert(session: AsyncSession, ref: int | str) -> Expert | None:
    """By roster key; else, for digits, by expert id, then by Telegram user id."""
    if isinstance(ref, str):
        ref = ref.strip()
        row = await session.scalar(select(Expert).where(Expert.key == ref.lower()))
        if row is not None or not ref.isdigit():
            return row
        ref = int(ref)
    row = await session.get(Expert, ref)
    if row is not None:
        return row
    return await session.scalar(select(Expert).where(Expert.user_id == ref))


def _apply(row: Expert, spec: ExpertSpec) -> bool:
    values: dict[str, Any] = {
        "user_id": spec.user_id,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "title_zh": spec.title_zh,
        "title_en": spec.title_en,
        "org_zh": spec.org_zh,
        "org_en": spec.org_en,
        "categories": list(spec.categories),
        "languages": list(spec.languages),
        "max_open": spec.max_open,
        "active": spec.active,
    }
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def _require_admin(session: AsyncSession, actor_id: int) -> None:
    if not is_admin((await load_actor(session, actor_id)).role):
        raise NotAllowed("only an admin may manage the roster")


class ExpertService:
    """The roster in the database. Admin-only operations take ``actor_id`` and check it."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def import_roster(self, specs: Iterable[ExpertSpec]) -> RosterImport:
        """Upsert validated entries by ``key`` in one transaction (trusted: the CLI).

        Gives each expert's Telegram user at least the ``expert`` role (staff and admins keep
        theirs). Entries missing from the file are left untouched and reported. A Telegram id
        that already belongs to another key in the database is refused (RosterError) and
        nothing is written.
        """
        specs = list(specs)
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        async with self._sessions() as s, s.begin():
            existing = {e.key: e for e in (await s.scalars(select(Expert))).all()}
            by_user = {e.user_id: e.key for e in existing.values() if e.user_id is not None}
            file_keys = {spec.key for spec in specs}
            problems = [
                f'key "{spec.key}": telegram_user_id {spec.user_id} already belongs to expert '
                f'"{by_user[spec.user_id]}" (change or remove one of them)'
                for spec in specs
                if by_user.get(spec.user_id, spec.key) != spec.key
                and by_user[spec.user_id] not in file_keys
            ]
            if problems:
                raise RosterError(problems)
            # Free the Telegram ids being moved between keys in this file before reassigning.
            moving = {
                spec.user_id for spec in specs if by_user.get(spec.user_id, spec.key) != spec.key
            }
            for holder in existing.values():
                if holder.user_id in moving:
                    holder.user_id = None
            await s.flush()
            for spec in specs:
                row = existing.get(spec.key)
                if row is None:
                    fresh = Expert(key=spec.key, name_zh=spec.name_zh, name_en=spec.name_en)
                    _apply(fresh, spec)
                    s.add(fresh)
                    created.append(spec.key)
                elif _apply(row, spec):
                    updated.append(spec.key)
                else:
                    unchanged.append(spec.key)
                await s.flush()
                await raise_role(s, spec.user_id, Role.EXPERT)
            missing = sorted(set(existing) - file_keys)
        return RosterImport(tuple(created), tuple(updated), tuple(unchanged), tuple(missing))

    async def add(self, actor_id: int, spec: ExpertSpec) -> ExpertInfo:
        """An admin adds one expert. ExpertConflict ``key_taken`` / ``user_taken``."""
        async with self._sessions() as s, s.begin():
            await _require_admin(s, actor_id)
            if await s.scalar(select(Expert.id).where(Expert.key == spec.key)) is not None:
                raise ExpertConflict("key_taken", f"expert key {spec.key!r} is already used")
            taken = await s.scalar(select(Expert.key).where(Expert.user_id == spec.user_id))
            if taken is not None:
                raise ExpertConflict(
                    "user_taken", f"Telegram user {spec.user_id} is already expert {taken!r}"
                )
            row = Expert(key=spec.key, name_zh=spec.name_zh, name_en=spec.name_en)
            _apply(row, spec)
            s.add(row)
            await s.flush()
            await raise_role(s, spec.user_id, Role.EXPERT)
            return expert_info(row)

    async def set_active(self, actor_id: int, ref: int | str, active: bool) -> ExpertInfo:
        """An admin (de)activates an expert by key, id or Telegram id. NotFound if unknown.

        Deactivation only stops new assignments: open tickets stay with the expert until staff
        reassign them (``open_ticket_counts`` tells how many).
        """
        async with self._sessions() as s, s.begin():
            await _require_admin(s, actor_id)
            row = await find_expert(s, ref)
            if row is None:
                raise NotFound(f"no expert {ref!r}")
            row.active = active
            return expert_info(row)

    async def deactivate(self, actor_id: int, ref: int | str) -> ExpertInfo:
        return await self.set_active(actor_id, ref, False)

    async def activate(self, actor_id: int, ref: int | str) -> ExpertInfo:
        return await self.set_active(actor_id, ref, True)

    async def list(self, active_only: bool = False) -> list[ExpertInfo]:
        """The roster ordered by key."""
        async with self._sessions() as s:
            query = select(Expert).order_by(Expert.key)
            if active_only:
                query = query.where(Expert.active.is_(True))
            return [expert_info(row) for row in (await s.scalars(query)).all()]

    async def get(self, ref: int | str) -> ExpertInfo:
        """By key, expert id or Telegram id; NotFound if unknown."""
        async with self._sessions() as s:
            row = await find_expert(s, ref)
            if row is None:
                raise NotFound(f"no expert {ref!r}")
            return expert_info(row)

    async def get_by_user_id(self, user_id: int) -> ExpertInfo | None:
        async with self._sessions() as s:
            row = await s.scalar(select(Expert).where(Expert.user_id == user_id))
            return expert_info(row) if row is not None else None

    async def open_ticket_counts(self) -> dict[int, int]:
        """Open tickets (new/assigned/in progress/waiting) per expert id; 0 for idle experts."""
        async with self._sessions() as s:
            counts = await open_counts(s)
            ids = (await s.scalars(select(Expert.id))).all()
        return {expert_id: counts.get(expert_id, 0) for expert_id in ids}
