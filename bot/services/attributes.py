"""The fixed choices the profile dialogue offers for a member company's audience attributes.

Values are stored exactly as the member list import (``ipdesk members import``) stores them,
so an audience filter reaches members whichever way the attribute came in:

* industry and city: the Chinese name (the association's member list is kept in Chinese);
* export markets: short codes in the ``;us;eu;`` form (:func:`bot.services.audience.
  markets_field`).

A member may also type an industry or city that is not in the list. The button labels live
in the catalogs (``attr_industry_<code>``, ``attr_market_<code>``, ``attr_city_<code>``);
:data:`ALIASES` lets staff write a filter with a code or the English name too.
"""

from __future__ import annotations

INDUSTRIES: dict[str, str] = {  # button code → stored value
    "machinery": "机械装备",
    "electrical": "电子电器",
    "textiles": "纺织服装",
    "auto": "汽车零部件",
    "chemicals": "化工新材料",
    "home": "家居日用",
    "moulds": "模具",
    "plastics": "塑料制品",
}
MARKETS: tuple[str, ...] = ("us", "eu", "uk", "jp", "kr", "asean", "me", "latam", "africa", "ru")
"""Export market codes, stored as they are."""
CITIES: dict[str, str] = {  # button code → stored value
    "ningbo": "宁波",
    "cixi": "慈溪",
    "yuyao": "余姚",
    "ninghai": "宁海",
    "xiangshan": "象山",
}

INDUSTRY_MAX = 100
CITY_MAX = 50

ALIASES: dict[str, dict[str, str]] = {
    "industries": {
        "machinery": "机械装备",
        "electrical": "电子电器",
        "electronics": "电子电器",
        "textiles": "纺织服装",
        "apparel": "纺织服装",
        "auto": "汽车零部件",
        "auto parts": "汽车零部件",
        "chemicals": "化工新材料",
        "home": "家居日用",
        "household goods": "家居日用",
        "moulds": "模具",
        "molds": "模具",
        "plastics": "塑料制品",
    },
    "markets": {
        "美国": "us",
        "usa": "us",
        "欧盟": "eu",
        "欧洲": "eu",
        "英国": "uk",
        "日本": "jp",
        "japan": "jp",
        "韩国": "kr",
        "korea": "kr",
        "东盟": "asean",
        "中东": "me",
        "middle east": "me",
        "拉美": "latam",
        "latin america": "latam",
        "非洲": "africa",
        "俄罗斯": "ru",
        "russia": "ru",
    },
    "cities": {
        "ningbo": "宁波",
        "宁波市": "宁波",
        "cixi": "慈溪",
        "yuyao": "余姚",
        "ninghai": "宁海",
        "xiangshan": "象山",
    },
}
"""Filter words (already in :func:`~bot.services.audience.key_of` form) → stored values."""


def canonical(field: str, value: str) -> str:
    """The stored form of a filter value (``value`` in key form): an alias, else itself."""
    return ALIASES.get(field, {}).get(value, value)
