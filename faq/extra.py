"""Phrasings added to the knowledge base outside faq/data/ (by staff, from the bot).

Pure: the bot reads them from its database and builds a new TriageEngine from
``with_extra_phrasings(kb, extra)``; the YAML files stay the reviewed source of truth until
``ipdesk faq export`` writes the additions into them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from faq.models import LANGS, KnowledgeBase, Lang
from faq.normalize import normalize


@dataclass(frozen=True, slots=True)
class ExtraPhrasing:
    faq_id: str
    lang: Lang
    text: str


def phrasing_key(text: str) -> str:
    """Two wordings with the same key are the same phrasing (case, width, 繁/简, spacing)."""
    return normalize(text)


def with_extra_phrasings(kb: KnowledgeBase, extra: Iterable[ExtraPhrasing]) -> KnowledgeBase:
    """`kb` with each extra phrasing appended to its entry's questions in its language.

    Phrasings of entries `kb` does not have are left out (an entry may have been removed
    from the files since); one an entry already has (same `phrasing_key`) is not repeated.
    The result is a new KnowledgeBase; `kb` is unchanged.
    """
    added: dict[str, dict[Lang, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item in extra:
        text = " ".join(item.text.split())
        if text and item.faq_id in kb and item.lang in LANGS:
            added[item.faq_id][item.lang].append(text)
    if not added:
        return kb
    entries = []
    for entry in kb:
        more = added.get(entry.id)
        if not more:
            entries.append(entry)
            continue
        questions = dict(entry.questions)
        for lang, texts in more.items():
            current = list(questions.get(lang, ()))
            seen = {phrasing_key(q) for q in current}
            for text in texts:
                key = phrasing_key(text)
                if key and key not in seen:
                    seen.add(key)
                    current.append(text)
            questions[lang] = tuple(current)
        entries.append(replace(entry, questions=questions))
    return KnowledgeBase(entries)
