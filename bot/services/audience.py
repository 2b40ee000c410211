"""Who an announcement reaches: topics members choose, and filters on what ipdesk knows.

* **Topics** (``/subscriptions``): a member's explicit choice is a ``subscriptions`` row;
  without one the topic's default applies — on for ``events`` and ``alerts``, off for the
  interest topics, which members switch on themselves.
* **Audience**: languages, and the member company's industry, export markets and city from
  the member list (``ipdesk members import``). Empty means "no restriction". Only users with
  the member role who have not blocked the bot (nor been stopped by an admin) are selected.

The selection is one SQL statement (:func:`recipients_query`), so planning 20,000 recipient
rows is one ``INSERT … SELECT`` and never loads the members into Python.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, not_, or_, select

from bot.services.attributes import canonical
from bot.services.errors import DomainError
from db.models import Block, Company, Role, Subscription, User
from faq.models import LANGS

TOPICS = ("trademark", "patent", "copyright", "enforcement", "foreign_trade", "events", "alerts")
DEFAULT_ON = frozenset({"events", "alerts"})
INTEREST_TOPICS = TOPICS[:5]
"""Topics a news announcement may carry (events and alerts go with their kinds)."""


class AudienceError(DomainError):
    """A typed audience filter that cannot be read; ``text_key`` names the catalog text."""

    def __init__(self, text_key: str, **params: object) -> None:
        super().__init__(text_key)
        self.text_key = text_key
        self.params = params


def key_of(value: str) -> str:
    """Matching form of an attribute: NFKC, trimmed, lower-case, inner spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).strip().lower().split())


_SPLIT = re.compile(r"[,，;；/、|]+")


def split_values(raw: str) -> list[str]:
    return [key_of(v) for v in _SPLIT.split(raw) if key_of(v)]


def markets_field(raw: str) -> str | None:
    """Export markets as stored: ';us;eu;' (None when empty), for a LIKE '%;us;%' match.
    Names of the fixed list ('美国', 'USA') are stored as its codes."""
    values = list(dict.fromkeys(canonical("markets", v) for v in split_values(raw)))
    if not values:
        return None
    return ";" + ";".join(values) + ";"


@dataclass(frozen=True, slots=True)
class Audience:
    langs: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "langs": list(self.langs),
            "industries": list(self.industries),
            "markets": list(self.markets),
            "cities": list(self.cities),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience:
        data = data or {}
        return cls(
            tuple(data.get("langs", ())),
            tuple(data.get("industries", ())),
            tuple(data.get("markets", ())),
            tuple(data.get("cities", ())),
        )

    @property
    def everyone(self) -> bool:
        return not (self.langs or self.industries or self.markets or self.cities)

    def with_langs(self, langs: tuple[str, ...]) -> Audience:
        return Audience(langs, self.industries, self.markets, self.cities)


_FIELDS = {
    "industry": "industries",
    "行业": "industries",
    "market": "markets",
    "markets": "markets",
    "市场": "markets",
    "出口市场": "markets",
    "city": "cities",
    "城市": "cities",
    "lang": "langs",
    "language": "langs",
    "语言": "langs",
}


_FIELD = re.compile(r"\s*([^:：=]+)[:：=](.*)", re.S)


def parse_filter(text: str) -> Audience:
    """'industry: 机械, 电子; market: US, EU; city: 宁波' (one field per line or ';').

    Values of the profile dialogue's fixed lists may also be given by code or English name
    ('market: USA', 'city: Cixi'): they are read as the stored value
    (:data:`bot.services.attributes.ALIASES`)."""
    found: dict[str, list[str]] = {}
    parts = [p for p in re.split(r"[\n;；]+", text) if p.strip()]
    if not parts:
        raise AudienceError("ann_filter_empty")
    for part in parts:
        match = _FIELD.match(part)
        if match is None:
            raise AudienceError("ann_filter_bad", part=part.strip()[:60])
        name, values = match.groups()
        field_name = _FIELDS.get(key_of(name))
        if field_name is None:
            raise AudienceError("ann_filter_bad", part=part.strip()[:60])
        items = split_values(values)
        if not items:
            raise AudienceError("ann_filter_bad", part=part.strip()[:60])
        if field_name == "langs":
            bad = [v for v in items if v not in LANGS]
            if bad:
                raise AudienceError("ann_filter_bad", part=part.strip()[:60])
        found.setdefault(field_name, []).extend(canonical(field_name, v) for v in items)
    return Audience(**{k: tuple(dict.fromkeys(v)) for k, v in found.items()})


def lang_expr() -> Any:
    """SQL for members.preferred_lang: their choice, their last message's, Telegram's, zh."""
    telegram = case(
        (func.lower(User.telegram_lang).like("zh%"), "zh"),
        (func.lower(User.telegram_lang).like("en%"), "en"),
        else_=None,
    )
    return func.coalesce(User.lang, User.detected_lang, telegram, "zh")


def subscribed(topic: str) -> Any:
    """SQL condition: the user receives ``topic`` (explicit choice, else the default)."""
    if topic in DEFAULT_ON:
        return not_(
            exists().where(
                Subscription.user_id == User.id,
                Subscription.topic == topic,
                Subscription.enabled.is_(False),
            )
        )
    return exists().where(
        Subscription.user_id == User.id,
        Subscription.topic == topic,
        Subscription.enabled.is_(True),
    )


def audience_conditions(audience: Audience, topic: str) -> list[Any]:
    conditions: list[Any] = [
        User.role == Role.MEMBER,
        User.blocked_bot_at.is_(None),
        not_(exists().where(Block.user_id == User.id)),  # stopped by an admin
        subscribed(topic),
    ]
    if audience.langs:
        conditions.append(lang_expr().in_(list(audience.langs)))
    if audience.industries:
        conditions.append(func.lower(Company.industry).in_(list(audience.industries)))
    if audience.cities:
        conditions.append(func.lower(Company.city).in_(list(audience.cities)))
    if audience.markets:
        conditions.append(
            or_(*(Company.export_markets.like(f"%;{m};%") for m in audience.markets))
        )
    return conditions


def recipients_query(audience: Audience, topic: str) -> Select[Any]:
    """(user id, language) of every member the announcement reaches."""
    return (
        select(User.id, lang_expr().label("lang"))
        .select_from(User)
        .outerjoin(Company, and_(Company.id == User.company_id))
        .where(*audience_conditions(audience, topic))
    )
