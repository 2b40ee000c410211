"""FAQ gaps: the member questions the knowledge base could not serve, grouped for review.

A question is a **gap** (:func:`is_gap`) when the engine

* fell back (no confident answer, in or out of the association's remit, with or without a
  category), or answered only tentatively (action ``tentative``), or
* flagged it as possibly needing an expert (``questions.flagged``), or
* answered and the member then asked for an expert on that answer (feedback ``expert``).

Escalations (unless flagged), small talk and questions with no words are not gaps.

Similar gaps are grouped (:func:`cluster_gaps`, leader clustering over normalised text with
rapidfuzz). The weekly report (bot/services/stats.py) lists the biggest groups; admins review
them in Telegram (handlers/gaps.py): add the wording as a phrasing of an entry
(bot/services/phrasings.py), mark it as needing a new entry, or dismiss it. A review is stored
per question (``faq_gap_reviews``), so a reviewed question leaves the open list while a new
wording of it starts a new group.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import NotAllowed, StaleAction
from bot.services.roles import is_admin, load_actor
from db.models import FaqGapReview, FaqView, GapStatus, Question
from db.session import SessionFactory
from faq.engine import TriageEngine
from faq.models import Lang
from faq.normalize import normalize

GAP_SIMILARITY = 72.0  # rapidfuzz score (0-100) above which two questions are "the same"
GAP_LIMIT = 10
GAP_ACTIONS = frozenset({"fallback", "tentative"})
NO_CATEGORY = "none"


def is_gap(action: str, flagged: bool, feedback: Collection[str] = ()) -> bool:
    """The one definition of a question the FAQ did not serve (see the module docstring).

    An escalation is the expert's, not the FAQ's, unless the engine flagged it: a fallback
    the scorer found risky enough to offer a hand-over is still a question without an entry.
    """
    return action in GAP_ACTIONS or flagged or (action == "answer" and "expert" in feedback)


@dataclass(frozen=True, slots=True)
class GapQuestion:
    text: str
    category: str
    lang: str
    id: int = 0  # questions.id (0 when the caller does not need it)
    status: str | None = None  # review status, None while open


@dataclass(frozen=True, slots=True)
class FaqGap:
    count: int
    example: str  # the most frequent original wording in the group
    category: str
    lang: str
    variants: tuple[str, ...] = ()  # up to three other wordings
    question_ids: tuple[int, ...] = ()
    key: int = 0  # id of the newest question worded like `example`: names the group
    example_lang: str = ""  # language of `example` itself
    needs_entry: bool = False  # staff marked (some of) it as needing a new entry


def _similarity(a: str, b: str, **_: Any) -> float:
    """Characters for Chinese (no word breaks), sorted words for Latin text."""
    return max(
        fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")),
        fuzz.token_sort_ratio(a, b),
    )


class _Leaders:
    """The groups' leading wordings, searched with rapidfuzz's own scorers (C speed): the
    best leader by `_similarity` is the better of the best by each of its two parts."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._packed: list[str] = []

    def add(self, norm: str) -> None:
        self.texts.append(norm)
        self._packed.append(norm.replace(" ", ""))

    def best(self, norm: str, cutoff: float) -> int | None:
        """Index of the leader most similar to `norm` (the first on a tie), if ≥ cutoff."""
        found = [
            process.extractOne(
                norm.replace(" ", ""),
                self._packed,
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=cutoff,
            ),
            process.extractOne(
                norm, self.texts, scorer=fuzz.token_sort_ratio, processor=None, score_cutoff=cutoff
            ),
        ]
        hits = [(-score, index) for hit in found if hit is not None for _, score, index in [hit]]
        return min(hits)[1] if hits else None


def cluster_gaps(
    items: Sequence[GapQuestion], cutoff: float = GAP_SIMILARITY, limit: int | None = GAP_LIMIT
) -> list[FaqGap]:
    """Group similar questions (leader clustering over normalised text), biggest first.

    Exact duplicates after normalisation are merged first, then each distinct wording (most
    frequent first) joins the first group whose leader scores at least `cutoff`, or leads a
    new group. Questions that normalise to nothing (emoji, punctuation) are left out.
    Deterministic for a given input.
    """
    by_norm: dict[str, list[GapQuestion]] = defaultdict(list)
    for item in items:
        norm = normalize(item.text)
        if norm:
            by_norm[norm].append(item)
    ordered = sorted(by_norm, key=lambda n: (-len(by_norm[n]), n))
    leaders = _Leaders()
    members: dict[str, list[str]] = {}
    for norm in ordered:
        found = leaders.best(norm, cutoff)
        if found is None:
            leaders.add(norm)
            members[norm] = [norm]
        else:
            members[leaders.texts[found]].append(norm)
    gaps = []
    for leader in leaders.texts:
        originals = [q for norm in members[leader] for q in by_norm[norm]]
        wordings = Counter(q.text.strip() for q in originals)
        ranked = [w for w, _ in sorted(wordings.items(), key=lambda kv: (-kv[1], kv[0]))]
        worded = [q for q in originals if q.text.strip() == ranked[0]]
        newest = max(worded, key=lambda q: q.id)
        categories = Counter(q.category for q in originals)
        langs = Counter(q.lang for q in originals)
        gaps.append(
            FaqGap(
                count=len(originals),
                example=ranked[0],
                category=categories.most_common(1)[0][0],
                lang=langs.most_common(1)[0][0],
                variants=tuple(ranked[1:4]),
                question_ids=tuple(sorted(q.id for q in originals)),
                key=newest.id,
                example_lang=newest.lang,
                needs_entry=any(q.status == GapStatus.NEW_ENTRY for q in originals),
            )
        )
    gaps.sort(key=lambda g: (-g.count, g.example, g.key))
    return gaps if limit is None else gaps[:limit]


async def gap_questions(
    s: AsyncSession, start: datetime, end: datetime | None = None
) -> list[GapQuestion]:
    """Every gap asked in [start, end), with its review status. Never commits."""
    conditions = [
        Question.created_at >= start,
        or_(Question.action != "escalate", Question.flagged.is_(True)),
    ]
    if end is not None:
        conditions.append(Question.created_at < end)
    rows = (
        await s.execute(
            select(
                Question.id,
                Question.text,
                Question.category,
                Question.lang,
                Question.action,
                Question.flagged,
                FaqGapReview.status,
            )
            .outerjoin(FaqGapReview, FaqGapReview.question_id == Question.id)
            .where(and_(*conditions))
        )
    ).all()
    wanted_expert = set(
        (
            await s.execute(
                select(FaqView.question_id)
                .join(Question, Question.id == FaqView.question_id)
                .where(and_(*conditions), FaqView.feedback == "expert")
            )
        ).scalars()
    )
    return [
        GapQuestion(
            text,
            category or NO_CATEGORY,
            lang,
            qid,
            status.value if status is not None else None,
        )
        for qid, text, category, lang, action, flagged, status in rows
        if is_gap(action, bool(flagged), ("expert",) if qid in wanted_expert else ())
    ]


def suggested_entries(engine: TriageEngine, gap: FaqGap, limit: int = 3) -> list[str]:
    """The entries the engine thinks the group's example is about, best first (ids).

    Asked again with today's engine: a phrasing added since may already answer it.
    """
    lang_hint: Lang = "en" if gap.example_lang == "en" else "zh"
    decision = engine.triage(gap.example, lang_hint=lang_hint)
    ids = [decision.faq_id] if decision.faq_id else []
    ids += [c.faq_id for c in decision.suggestions]
    return list(dict.fromkeys(ids))[:limit]


# Which gaps a list shows: those not yet reviewed, or those marked as needing a new entry.
OPEN = "open"
NEEDS_ENTRY = "new"
LISTS = (OPEN, NEEDS_ENTRY)


def _in_list(question: GapQuestion, which: str) -> bool:
    if which == NEEDS_ENTRY:
        return question.status == GapStatus.NEW_ENTRY
    return question.status is None


async def require_admin(s: AsyncSession, actor_id: int) -> None:
    if not is_admin((await load_actor(s, actor_id)).role):
        raise NotAllowed("FAQ gaps are for admins")


class GapService:
    """The gap lists admins review, and their decisions (phrasings: PhrasingService)."""

    def __init__(self, sessions: SessionFactory, *, similarity: float = GAP_SIMILARITY) -> None:
        self._sessions = sessions
        self._similarity = similarity

    async def groups(self, actor_id: int, since: datetime, which: str = OPEN) -> list[FaqGap]:
        """All groups of the list `which` (OPEN or NEEDS_ENTRY) asked since `since`."""
        async with self._sessions() as s:
            await require_admin(s, actor_id)
            return await self._groups(s, since, which)

    async def _groups(self, s: AsyncSession, since: datetime, which: str) -> list[FaqGap]:
        items = [q for q in await gap_questions(s, since) if _in_list(q, which)]
        return await _cluster_off_loop(items, self._similarity)

    async def group(self, actor_id: int, key: int, since: datetime, which: str) -> FaqGap:
        """The group of list `which` that holds question `key` now; StaleAction if none."""
        async with self._sessions() as s:
            await require_admin(s, actor_id)
            return await find_group(s, key, since, which, self._similarity)

    async def mark(
        self, actor_id: int, key: int, since: datetime, which: str, status: GapStatus
    ) -> FaqGap:
        """Mark every question of the group as needing a new entry, or dismiss it."""
        if status is GapStatus.PHRASING:
            raise ValueError("phrasings are added with PhrasingService.add_from_gap")
        try:
            async with self._sessions() as s, s.begin():
                await require_admin(s, actor_id)
                gap = await find_group(s, key, since, which, self._similarity)
                await record_reviews(s, gap.question_ids, actor_id, status)
                return gap
        except IntegrityError:  # another admin reviewed the group at the same moment
            raise StaleAction("the group was reviewed meanwhile") from None


async def _cluster_off_loop(items: list[GapQuestion], similarity: float) -> list[FaqGap]:
    """All groups, computed in a worker thread: other chats are served meanwhile (1,000 gap
    questions take ~0.15 s, python -m bench.bench_phrasings)."""
    return await asyncio.to_thread(cluster_gaps, items, similarity, None)


async def find_group(
    s: AsyncSession, key: int, since: datetime, which: str, similarity: float = GAP_SIMILARITY
) -> FaqGap:
    """The group of list `which` holding question `key`; StaleAction when it has left it."""
    if which not in LISTS:
        raise StaleAction(f"unknown gap list {which!r}")
    items = [q for q in await gap_questions(s, since) if _in_list(q, which)]
    for gap in await _cluster_off_loop(items, similarity):
        if key in gap.question_ids:
            return gap
    raise StaleAction("this gap has been reviewed or is no longer in the list")


async def record_reviews(
    s: AsyncSession,
    question_ids: Sequence[int],
    actor_id: int,
    status: GapStatus,
    *,
    faq_id: str | None = None,
    phrasing_id: int | None = None,
) -> None:
    """Replace the reviews of `question_ids` with this decision. Never commits."""
    if not question_ids:
        return
    await s.execute(delete(FaqGapReview).where(FaqGapReview.question_id.in_(question_ids)))
    s.add_all(
        FaqGapReview(
            question_id=qid,
            status=status,
            faq_id=faq_id,
            phrasing_id=phrasing_id,
            reviewed_by=actor_id,
        )
        for qid in question_ids
    )
    await s.flush()
