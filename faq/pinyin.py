"""Toneless pinyin of single hanzi, for the homophone channel (商摽→商标, 专例→专利).

pypinyin's own import takes about 135 ms because it loads its phrase dictionary; the
per-character table it ships loads in about 15 ms, so we read that table directly and
fall back to the public module if the file ever moves. One reading per character is
enough: both the knowledge base and the question go through the same mapping.
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path


@cache
def _table() -> dict[str, str]:
    spec = importlib.util.find_spec("pypinyin")  # locates without importing the package
    origin = spec.origin if spec else None
    path = Path(origin).parent / "pinyin_dict.json" if origin else None
    raw: dict[str, str]
    if path is not None and path.is_file():
        raw = json.loads(path.read_text(encoding="utf-8"))
    else:  # pragma: no cover - depends on pypinyin's layout
        from pypinyin.pinyin_dict import pinyin_dict

        raw = {str(code): value for code, value in pinyin_dict.items()}
    return raw


@cache
def syllable(ch: str) -> str:
    """'biao' for 标 and 摽; the character itself when it has no reading."""
    readings = _table().get(str(ord(ch)))
    if not readings:
        return ch
    first = readings.split(",", 1)[0]
    bare = unicodedata.normalize("NFKD", first)
    return "".join(c for c in bare if not unicodedata.combining(c))
