"""Small talk: greetings, thanks, "ok", "are you a bot", a bare "how much?".

The phrases are data (faq/rules/smalltalk.yaml). A message is small talk when, folded
and stripped of punctuation, emoji and sentence particles, it is one of the phrases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from faq.normalize import fold, normalize
from faq.signals import SAFE_LOADER

SMALLTALK_FILE = Path(__file__).parent / "rules" / "smalltalk.yaml"
_PARTICLES = re.compile(r"[啊呀吧呢哈嘛哦噢喔啦咯]+$")
MAX_CHARS = 40


@dataclass(frozen=True)
class SmallTalk:
    phrases: Mapping[str, str]  # normalised phrase → kind

    def kind(self, folded: str) -> str | None:
        if len(folded) > MAX_CHARS:
            return None
        key = _key(folded)
        return self.phrases.get(key) if key else None


def _key(text: str) -> str:
    words = normalize(text)
    return _PARTICLES.sub("", words).strip()


@cache
def load_smalltalk(path: Path = SMALLTALK_FILE) -> SmallTalk:
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - safe
    phrases: dict[str, str] = {}
    for kind, items in raw.items():
        for item in items:
            key = _key(fold(str(item)))
            if key:
                phrases[key] = kind
    return SmallTalk(phrases)
