"""Text normalisation shared by indexing and querying.

Traditional→Simplified uses OpenCC's character-level `t2s` table. Measured against zhconv
(bench/bench_match.py prints the figures): OpenCC imports and builds in about a third of
the time and converts about twice as fast, with the same output on member phrasings.
OpenCC's phrase-level `tw2sp` was rejected: it rewrites Simplified 程序 to 进程, which
would corrupt 申请程序 ("application procedure"). Taiwanese vocabulary such as 软体 or
智慧财产权 is handled by synonyms in faq/lexicon.py instead.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Protocol

# Control and invisible format characters (zero-width spaces, bidi marks, BOM) that
# phones and copy-paste leave in messages.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
_SPACES = re.compile(r"\s+")
# Everything that is not a letter or digit separates words; ® and © are kept because
# members ask what they mean.
_NON_WORD = re.compile(r"(?:[^\w®©]|_)+")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _t2s() -> _Converter:
    import opencc  # deferred: only texts that contain hanzi pay for it

    converter: _Converter = opencc.OpenCC("t2s")
    return converter


_HANZI = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def has_hanzi(text: str) -> bool:
    return _HANZI.search(text) is not None


def is_hanzi(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x2FA1F  # extensions B-F and compatibility supplement
    )


# Taiwan/Hong Kong words that a character-level conversion leaves different from the
# mainland words the knowledge base uses; applied only to text written in Traditional.
_REGIONAL_WORDS = (
    ("智慧财产权", "知识产权"),
    ("智慧财产", "知识产权"),
    ("软体", "软件"),
    ("网路", "网络"),
    ("程式", "程序"),
    ("影片", "视频"),
)


def to_simplified(text: str) -> str:
    if not has_hanzi(text):
        return text
    simplified = _t2s().convert(text)
    if simplified != text:
        for regional, mainland in _REGIONAL_WORDS:
            simplified = simplified.replace(regional, mainland)
    return simplified


def fold(text: str) -> str:
    """NFKC (full-width → half-width), Traditional → Simplified, lower case, one space.

    Punctuation is kept: the risk rules look for money, dates and company suffixes.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = to_simplified(text).lower()
    return _SPACES.sub(" ", text).strip()


def normalize(text: str) -> str:
    """`fold`, then punctuation, symbols and emoji become spaces, for matching."""
    return _NON_WORD.sub(" ", fold(text)).strip()
