"""Per-language message catalogs (bot/locales/*.yaml); every user-facing string lives there."""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from html import escape
from pathlib import Path

import yaml

from faq.models import LANGS, Lang

LOCALES = Path(__file__).with_name("locales")
DEFAULT_LANG: Lang = "zh"


class Catalog:
    def __init__(self, messages: Mapping[Lang, Mapping[str, str]]) -> None:
        self._messages = messages

    def t(self, lang: Lang, key: str, /, **values: object) -> str:
        """Render `key`; values are HTML-escaped because replies use HTML parse mode."""
        template = self._messages[lang][key]
        if not values:
            return template
        safe = {k: escape(str(v), quote=False) for k, v in values.items()}
        return template.format(**safe)

    def raw(self, lang: Lang, key: str) -> str:
        return self._messages[lang][key]

    def keys(self, lang: Lang) -> set[str]:
        return set(self._messages[lang])

    def command(self, lang: Lang, name: str) -> str:
        """The menu description of /name: each catalog file describes its own commands,
        as cmd_ (member), tk_cmd_ (tickets) or fu_cmd_ (follow-ups)."""
        for prefix in ("cmd_", "tk_cmd_", "fu_cmd_"):
            if prefix + name in self._messages[lang]:
                return self._messages[lang][prefix + name]
        raise KeyError(f"no catalog text for the /{name} command")


def placeholders_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@cache
def load_catalog(directory: Path = LOCALES) -> Catalog:
    """Merge every `<lang>/*.yaml` file; a key defined twice is a mistake worth stopping for."""
    messages: dict[Lang, dict[str, str]] = {}
    for lang in LANGS:
        merged: dict[str, str] = {}
        for path in sorted((directory / lang).glob("*.yaml")):
            with path.open(encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
            for key, value in data.items():
                if key in merged:
                    raise ValueError(f"{path}: key {key!r} is already defined in another file")
                merged[str(key)] = str(value).rstrip("\n")
        messages[lang] = merged
    return Catalog(messages)


def normalise_lang(code: str | None) -> Lang | None:
    """Map a Telegram language_code (zh-hans, zh-TW, en-GB …) to a catalog language."""
    if not code:
        return None
    code = code.lower()
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return None
