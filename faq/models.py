"""Plain data types of the knowledge base, shared by the loader, the engine and the bot."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]
Category = Literal["trademark", "patent", "copyright", "infringement", "general"]
# "tentative": the best entry shown as "I think you mean …"; "smalltalk": greetings etc.
Action = Literal["answer", "tentative", "escalate", "fallback", "smalltalk"]

LANGS: tuple[Lang, ...] = ("zh", "en")
CATEGORIES: tuple[Category, ...] = ("trademark", "patent", "copyright", "infringement", "general")
ACTIONS: tuple[Action, ...] = ("answer", "tentative", "escalate", "fallback", "smalltalk")

# Names an answer may use as `{name}`; their values come from the bot's configuration.
PLACEHOLDERS: tuple[str, ...] = (
    "office_address",
    "office_phone",
    "office_email",
    "office_hours",
    "expert_response_time",
)


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    category: Category
    title: Mapping[Lang, str]
    questions: Mapping[Lang, tuple[str, ...]]
    answer: Mapping[Lang, str]  # raw text, placeholders not yet filled in
    related: tuple[str, ...]
    source: str  # file name the entry was read from, for error messages and `faq check`


class KnowledgeBase:
    """The validated entries, in file order, with lookup by id and by category."""

    __slots__ = ("_by_category", "_by_id", "entries")

    def __init__(self, entries: Iterable[FaqEntry]) -> None:
        self.entries: tuple[FaqEntry, ...] = tuple(entries)
        self._by_id: dict[str, FaqEntry] = {}
        for entry in self.entries:
            if entry.id in self._by_id:
                raise ValueError(f"duplicate FAQ id {entry.id!r}")
            self._by_id[entry.id] = entry
        self._by_category: dict[Category, tuple[FaqEntry, ...]] = {
            cat: tuple(e for e in self.entries if e.category == cat) for cat in CATEGORIES
        }

    def get(self, faq_id: str) -> FaqEntry | None:
        return self._by_id.get(faq_id)

    def in_category(self, category: Category) -> tuple[FaqEntry, ...]:
        return self._by_category.get(category, ())

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[FaqEntry]:
        return iter(self.entries)

    def __contains__(self, faq_id: object) -> bool:
        return faq_id in self._by_id

    def __repr__(self) -> str:
        return f"KnowledgeBase({len(self.entries)} entries)"
