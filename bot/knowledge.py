"""Build the triage engine from settings (thresholds, the office details in answers) and keep
it in step with the phrasings staff add from Telegram."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings
from faq.cache import FAQ_PACKAGE, cache_key, load_or_build
from faq.engine import Decision, Thresholds, TriageEngine
from faq.extra import with_extra_phrasings
from faq.loader import DEFAULT_DIRECTORY, load_knowledge_base
from faq.models import KnowledgeBase, Lang

if TYPE_CHECKING:  # `ipdesk ask` imports this module and must not pay for the database layer
    from bot.services.phrasings import PhrasingService

log = logging.getLogger(__name__)


def placeholders(settings: Settings) -> dict[Lang, dict[str, str]]:
    hours = settings.expert_first_reply_hours
    zh_reply = f"{hours} 个工作小时内" if hours % 8 else f"{hours // 8} 个工作日内"
    en_unit = "working day" if hours == 8 else "working days"
    en_reply = f"within {hours} working hours" if hours % 8 else f"within {hours // 8} {en_unit}"
    return {
        "zh": {
            "office_address": settings.office_address_zh,
            "office_phone": settings.office_phone,
            "office_email": settings.office_email,
            "office_hours": settings.office_hours_zh,
            "expert_response_time": zh_reply,
        },
        "en": {
            "office_address": settings.office_address_en,
            "office_phone": settings.office_phone,
            "office_email": settings.office_email,
            "office_hours": settings.office_hours_en,
            "expert_response_time": en_reply,
        },
    }


def thresholds(settings: Settings) -> Thresholds:
    base = Thresholds()
    if settings.match_answer_threshold is not None:
        base = replace(base, answer=settings.match_answer_threshold)
    if settings.match_suggest_threshold is not None:
        base = replace(base, suggest=settings.match_suggest_threshold)
    if settings.match_margin is not None:
        base = replace(base, margin=settings.match_margin)
    return base


def build_engine(settings: Settings, directory: Path | None = None) -> TriageEngine:
    """The engine for faq/data/ (or `directory`), loaded from the cache in the bot's home
    when nothing it is built from has changed (see faq/cache.py)."""
    limits, values = thresholds(settings), placeholders(settings)
    source = Path(directory).resolve() if directory is not None else DEFAULT_DIRECTORY
    sources = (FAQ_PACKAGE,) if source.is_relative_to(FAQ_PACKAGE) else (FAQ_PACKAGE, source)
    key = cache_key(repr(limits), repr(values), str(source), directories=sources)
    return load_or_build(
        settings.ipdesk_home / "cache",
        key,
        lambda: TriageEngine(load_knowledge_base(source), limits, values),
    )


class LiveKnowledge:
    """This process's triage engine: faq/data/ plus the phrasings staff stored in the database.

    ``refresh`` (called before each triage) reads the phrasings' version — one primary-key
    read — and rebuilds the engine, off the event loop, only when another change was made,
    by this process or any other. Triage in flight keeps the engine it started with.

    ``triage`` remembers the engine's decisions for the last ``cache_size`` (text, language
    hint) pairs: a decision depends on nothing else, and the memory goes with the engine it
    came from (a rebuilt engine starts empty).
    """

    def __init__(
        self,
        base: KnowledgeBase,
        make_engine: Callable[[KnowledgeBase], TriageEngine],
        store: PhrasingService,
        cache_size: int = 0,
    ) -> None:
        self._base = base
        self._make = make_engine
        self._store = store
        self._engine = make_engine(base)
        self._version: int | None = None
        self._lock = asyncio.Lock()
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, Lang | None], Decision] = OrderedDict()

    @property
    def engine(self) -> TriageEngine:
        return self._engine

    def triage(self, text: str, lang_hint: Lang | None = None) -> Decision:
        """The current engine's decision on ``text`` (see the class: remembered)."""
        engine, cache = self._engine, self._cache  # together: a rebuild swaps both
        if self._cache_size <= 0:
            return engine.triage(text, lang_hint=lang_hint)
        key = (text, lang_hint)
        decision = cache.get(key)
        if decision is not None:
            cache.move_to_end(key)
            return decision
        decision = engine.triage(text, lang_hint=lang_hint)
        cache[key] = decision
        if len(cache) > self._cache_size:
            cache.popitem(last=False)
        return decision

    @property
    def base(self) -> KnowledgeBase:
        """The knowledge base of the YAML files alone."""
        return self._base

    @property
    def version(self) -> int | None:
        """The phrasings' version the engine was built from (None before the first refresh)."""
        return self._version

    async def refresh(self, known_version: int | None = None) -> bool:
        """Rebuild if the stored phrasings changed since the last build; True if rebuilt.

        ``known_version``: the version the caller has just read (handlers.common.arrival_of
        reads it with the sender), saving the read here.
        """
        current = known_version if known_version is not None else await self._store.version()
        if current == self._version:
            return False
        async with self._lock:
            snapshot = await self._store.snapshot()
            if snapshot.version == self._version:
                return False  # another task rebuilt it while this one waited
            kb = with_extra_phrasings(self._base, snapshot.phrasings)
            self._version = snapshot.version  # a failed build is not retried per question
            if kb is not self._engine.kb:
                try:
                    engine = await asyncio.to_thread(self._make, kb)
                    self._engine, self._cache = engine, OrderedDict()
                except Exception:  # members keep the engine they had; staff see the log
                    log.exception(
                        "knowledge base v%d not built; still serving the previous one",
                        snapshot.version,
                    )
                    return False
            log.info(
                "knowledge base v%d: %d stored phrasing(s)",
                snapshot.version,
                len(snapshot.phrasings),
            )
            return True


def live_knowledge(settings: Settings, store: PhrasingService) -> LiveKnowledge:
    limits, values = thresholds(settings), placeholders(settings)
    return LiveKnowledge(
        load_knowledge_base(),
        lambda kb: TriageEngine(kb, limits, values),
        store,
        cache_size=settings.triage_cache_size,
    )
