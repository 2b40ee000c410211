"""Which language a member wrote in, so the answer comes back in the same one."""

from __future__ import annotations

import re
import unicodedata

from faq.models import Lang
from faq.normalize import is_hanzi

_LATIN_WORD = re.compile(r"[a-z]+")

# A Chinese word is about 1.5 characters long, so "我们的logo要注册trademark吗" (8 hanzi,
# 2 English words) is Chinese and "How do I register 软著?" (2 hanzi, 4 words) is English.
_HANZI_PER_WORD = 1.5


def detect_language(text: str, *, weak: bool = False) -> Lang | None:
    """'zh' or 'en' by the share of hanzi and Latin words; None without enough evidence.

    One Latin word alone ("ok", "PCT", "clear") is not enough evidence: a Chinese member
    who types it keeps their language. With `weak`, it is (for a first message with no
    other hint).
    """
    text = unicodedata.normalize("NFKC", text[:2000]).lower()
    hanzi = sum(1 for ch in text if is_hanzi(ch))
    words = len(_LATIN_WORD.findall(text))
    if hanzi == 0 and words < (1 if weak else 2):
        return None
    return "zh" if hanzi >= _HANZI_PER_WORD * words else "en"
