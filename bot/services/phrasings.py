"""Phrasings staff add to FAQ entries from Telegram, kept in the database until exported.

Every change bumps ``faq_state.phrasings_version`` in the same transaction; each bot process
compares that number with the one its engine was built from before it triages a question
(bot/knowledge.py, ``LiveKnowledge.refresh``) and rebuilds from faq/data/ plus the stored
phrasings when it moved, so an addition or removal takes effect at once in every process.
``ipdesk faq export`` (bot/faq_export.py) writes them into the YAML files for review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError, NotFound, StaleAction
from bot.services.faq_gaps import FaqGap, find_group, record_reviews, require_admin
from db.models import FaqGapReview, FaqPhrasing, FaqState, GapStatus
from db.session import SessionFactory
from faq.extra import ExtraPhrasing, phrasing_key
from faq.models import LANGS, KnowledgeBase, Lang

MAX_PHRASING_CHARS = 300  # the engine matches on the first 300 characters anyway
STATE_ID = 1


class PhrasingRefused(DomainError):
    """A phrasing that cannot be added; ``reason`` is a stable code for the catalog.

    ``empty``, ``too_long``, ``unknown_entry``, ``exists`` (already a phrasing of this
    entry), ``taken`` (a phrasing of another entry, ``faq_id``), ``in_file`` (the entry's
    YAML already has it).
    """

    def __init__(self, reason: str, faq_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.faq_id = faq_id


@dataclass(frozen=True, slots=True)
class StoredPhrasing:
    id: int
    faq_id: str
    lang: Lang
    text: str
    added_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    phrasings: tuple[ExtraPhrasing, ...]


@dataclass(frozen=True, slots=True)
class AddedFromGap:
    phrasing: StoredPhrasing
    gap: FaqGap


def _lang(value: str) -> Lang:
    return "en" if value == "en" else "zh"


def _stored(row: FaqPhrasing) -> StoredPhrasing:
    return StoredPhrasing(
        row.id, row.faq_id, _lang(row.lang), row.text, row.added_by, row.created_at
    )


def clean_phrasing(text: str) -> str:
    """One line, single spaces: how a phrasing is stored and written to the YAML files."""
    return " ".join(text.split())


async def _bump(s: AsyncSession) -> None:
    """Tell every process that the phrasings changed. Never commits."""
    done = await s.execute(
        update(FaqState)
        .where(FaqState.id == STATE_ID)
        .values(
            phrasings_version=FaqState.phrasings_version + 1,
            updated_at=datetime.now(UTC),
        )
    )
    if getattr(done, "rowcount", 1) == 0:  # the row the migration made was deleted by hand
        s.add(FaqState(id=STATE_ID, phrasings_version=1))
        await s.flush()


async def _add(
    s: AsyncSession,
    actor_id: int,
    kb: KnowledgeBase,
    faq_id: str,
    lang: Lang,
    text: str,
    question_id: int | None,
) -> FaqPhrasing:
    text = clean_phrasing(text)
    key = phrasing_key(text)
    if not key:
        raise PhrasingRefused("empty")
    if len(text) > MAX_PHRASING_CHARS:
        raise PhrasingRefused("too_long")
    entry = kb.get(faq_id)
    if entry is None or lang not in LANGS:
        raise PhrasingRefused("unknown_entry", faq_id)
    owner = await s.scalar(select(FaqPhrasing.faq_id).where(FaqPhrasing.text_key == key))
    if owner is not None:
        raise PhrasingRefused("exists" if owner == faq_id else "taken", owner)
    if any(phrasing_key(q) == key for q in entry.questions.get(lang, ())):
        raise PhrasingRefused("in_file", faq_id)
    row = FaqPhrasing(
        faq_id=faq_id,
        lang=lang,
        text=text,
        text_key=key,
        question_id=question_id,
        added_by=actor_id,
    )
    s.add(row)
    await s.flush()
    await _bump(s)
    return row


class PhrasingService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def version(self) -> int:
        """The current version: one primary-key read, cheap enough before every triage."""
        async with self._sessions() as s:
            value = await s.scalar(
                select(FaqState.phrasings_version).where(FaqState.id == STATE_ID)
            )
            return int(value or 0)

    async def snapshot(self) -> Snapshot:
        """The version and every stored phrasing, read together (one transaction)."""
        async with self._sessions() as s, s.begin():
            value = await s.scalar(
                select(FaqState.phrasings_version).where(FaqState.id == STATE_ID)
            )
            rows = await s.execute(
                select(FaqPhrasing.faq_id, FaqPhrasing.lang, FaqPhrasing.text).order_by(
                    FaqPhrasing.id
                )
            )
            items = tuple(ExtraPhrasing(f, _lang(lang), t) for f, lang, t in rows.all())
            return Snapshot(int(value or 0), items)

    async def add(
        self,
        actor_id: int,
        kb: KnowledgeBase,
        faq_id: str,
        lang: Lang,
        text: str,
        question_id: int | None = None,
    ) -> StoredPhrasing:
        """An admin adds `text` as a phrasing of entry `faq_id` (PhrasingRefused, NotAllowed)."""
        try:
            async with self._sessions() as s, s.begin():
                await require_admin(s, actor_id)
                row = await _add(s, actor_id, kb, faq_id, lang, text, question_id)
                return _stored(row)
        except IntegrityError:  # another admin added the same wording at the same moment
            raise PhrasingRefused("exists", faq_id) from None

    async def add_from_gap(
        self,
        actor_id: int,
        kb: KnowledgeBase,
        key: int,
        since: datetime,
        which: str,
        faq_id: str,
    ) -> AddedFromGap:
        """Add the example wording of gap group `key` to `faq_id`; the group is reviewed."""
        try:
            async with self._sessions() as s, s.begin():
                await require_admin(s, actor_id)
                gap = await find_group(s, key, since, which)
                lang = _lang(gap.example_lang)
                row = await _add(s, actor_id, kb, faq_id, lang, gap.example, key)
                await record_reviews(
                    s,
                    gap.question_ids,
                    actor_id,
                    GapStatus.PHRASING,
                    faq_id=faq_id,
                    phrasing_id=row.id,
                )
                return AddedFromGap(_stored(row), gap)
        except IntegrityError:  # another admin reviewed this group at the same moment
            raise StaleAction("the group was reviewed meanwhile") from None

    async def page(
        self, actor_id: int, offset: int, limit: int
    ) -> tuple[list[StoredPhrasing], int]:
        """Stored phrasings, newest first, and how many there are (admins only)."""
        async with self._sessions() as s:
            await require_admin(s, actor_id)
            total = int(await s.scalar(select(func.count()).select_from(FaqPhrasing)) or 0)
            rows = await s.execute(
                select(FaqPhrasing)
                .order_by(FaqPhrasing.created_at.desc(), FaqPhrasing.id.desc())
                .offset(max(offset, 0))
                .limit(limit)
            )
            return [_stored(r) for r in rows.scalars()], total

    async def remove(self, actor_id: int, phrasing_id: int) -> StoredPhrasing:
        """An admin removes a phrasing: it stops matching at once, and the questions it was
        added from go back to the open gap list. NotFound if it is gone already."""
        async with self._sessions() as s, s.begin():
            await require_admin(s, actor_id)
            row = await s.get(FaqPhrasing, phrasing_id, with_for_update=True)
            if row is None:
                raise NotFound(f"phrasing {phrasing_id}")
            stored = _stored(row)
            await s.execute(delete(FaqGapReview).where(FaqGapReview.phrasing_id == phrasing_id))
            await s.delete(row)
            await s.flush()
            await _bump(s)
            return stored

    async def all(self) -> list[StoredPhrasing]:
        """Every stored phrasing, oldest first (for ``ipdesk faq export``)."""
        async with self._sessions() as s:
            rows = await s.execute(select(FaqPhrasing).order_by(FaqPhrasing.id))
            return [_stored(r) for r in rows.scalars()]

    async def forget_exported(self, ids: Sequence[int]) -> int:
        """Delete phrasings now in the YAML files; their gaps stay reviewed. Returns how many."""
        if not ids:
            return 0
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(FaqGapReview)
                .where(FaqGapReview.phrasing_id.in_(ids))
                .values(phrasing_id=None)
            )
            done = await s.execute(delete(FaqPhrasing).where(FaqPhrasing.id.in_(ids)))
            count = int(getattr(done, "rowcount", 0) or 0)
            if count:
                await _bump(s)
            return count
