"""Choosing the expert for a new ticket (pure)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

# --- assignment (pure) -----------------------------------------------------------------------


class AssignOutcome(enum.StrEnum):
    ASSIGNED = "assigned"
    UNCHANGED = "unchanged"  # already assigned, claimed or past "new": nothing done
    NO_EXPERT = "no_expert"  # no active, reachable expert for the category
    NO_LANGUAGE = "no_language"  # experts for the category, but none speaks the language
    ALL_FULL = "all_full"  # the fitting experts are all at their max_open


@dataclass(frozen=True, slots=True)
class Candidate:
    expert_id: int
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    active: bool
    reachable: bool  # has a Telegram user id
    open_count: int
    max_open: int
    last_assigned_at: datetime | None


_NEVER = datetime.min.replace(tzinfo=UTC)


def choose_expert(
    candidates: Iterable[Candidate], category: str, lang: str
) -> tuple[Candidate | None, AssignOutcome]:
    """Pick the expert for a new ticket. Pure.

    Active and reachable experts whose categories include ``category`` (else NO_EXPERT), who
    speak ``lang`` (else NO_LANGUAGE), below their ``max_open`` (else ALL_FULL); among them
    the fewest open tickets, ties to the one assigned least recently (never assigned first),
    then the lowest id — a round robin among equals.
    """
    pool = [c for c in candidates if c.active and c.reachable and category in c.categories]
    if not pool:
        return None, AssignOutcome.NO_EXPERT
    pool = [c for c in pool if lang in c.languages]
    if not pool:
        return None, AssignOutcome.NO_LANGUAGE
    pool = [c for c in pool if c.open_count < c.max_open]
    if not pool:
        return None, AssignOutcome.ALL_FULL
    best = min(pool, key=lambda c: (c.open_count, c.last_assigned_at or _NEVER, c.expert_id))
    return best, AssignOutcome.ASSIGNED
