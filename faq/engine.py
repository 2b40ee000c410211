"""Triage of one member message: answer from the FAQ, escalate to an expert, or fall back.

The order of the checks encodes the product rule that a confident wrong answer is worse
than an escalation:
1. a sign of a live case (faq/risk.py) → escalate, keeping the best entry as context;
   rules such as "a sum of money" fire only in an IP message, a summons always; the
   kind of matter the rules saw decides the category (`_escalation_category`): a
   dispute is infringement whatever the right, the member's own right its category;
2. no IP evidence (faq/lexicon.py, see REMIT_EVIDENCE) → fallback "out_of_remit",
   whatever the match score: "python 注册表" shares 注册 with the trademark entries;
3. a clear best entry (score ≥ answer, ahead of the next by `margin` — or, closer,
   the only entry whose phrasings cover the whole question — and a question that says
   more than its topic) → answer;
4. otherwise → fallback with up to three "did you mean" suggestions.

Measured on tests/data/eval_tuning.jsonl and tests/data/eval_dev.jsonl (written
separately from the tuning wording, to check that the risk rules generalise) with
`python -m faq.evaluate`; the choices behind the scoring are in faq/index.py and
faq/analysis.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from faq.analysis import analyse_normalised
from faq.index import Hit, PhrasingIndex, ScoringParams
from faq.language import detect_language
from faq.models import PLACEHOLDERS, Action, Category, KnowledgeBase, Lang
from faq.normalize import fold, normalize
from faq.risk import Matter, assess

__all__ = [
    "Candidate",
    "Decision",
    "Thresholds",
    "TriageEngine",
    "detect_language",
]

logger = logging.getLogger(__name__)

MAX_SCAN_CHARS = 2000  # risk rules read this much of a message
MAX_MATCH_CHARS = 300  # matching reads this much: a 10,000-character paste stays fast
# A message is in remit with lexicon evidence of REMIT_EVIDENCE, or of WEAK_EVIDENCE when
# the best entry's phrasings cover most of it and its best phrasing is mostly in it
# (both ≥ CLOSE_MATCH): "免费吗" and "office hours" are questions for us, "register
# wechat account without a chinese phone number" is not, though it has "register" and
# "phone".
REMIT_EVIDENCE = 1.0
WEAK_EVIDENCE = 0.5
CLOSE_MATCH = 0.6
FULL_COVER = 0.95  # the best entry's phrasings contain (nearly) all of the question …
PARTIAL_COVER = 0.8  # … and the runner-up's leave a real part of it out
DEFAULT_LANG: Lang = "zh"  # for text with neither hanzi nor letters and no hint
RIGHTS: tuple[Category, ...] = ("trademark", "patent", "copyright")
# Shown where an answer uses a contact detail the bot's configuration does not set.
MISSING_PLACEHOLDER: Mapping[Lang, str] = {
    "zh": "（请向协会办公室询问）",
    "en": "(please ask the association office)",
}


@dataclass(frozen=True)
class Thresholds:
    # Tuned on tests/data/eval_tuning.jsonl (see the report in faq/evaluate.py): answer
    # accuracy is flat for answer 25–35 and margin 3–4; the false-answer rate stays at 1%.
    answer: float = 30.0  # best entry's score (0–100) needed to answer
    suggest: float = 20.0  # score an entry needs to be suggested or kept as context
    margin: float = 3.0  # points the best entry must lead the next one by


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    score: float


@dataclass(frozen=True)
class Decision:
    text: str
    lang: Lang
    category: Category | None
    action: Action
    faq_id: str | None
    score: float  # 0–100
    answer: str | None = None
    suggestions: tuple[Candidate, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "lang": self.lang,
            "category": self.category,
            "action": self.action,
            "faq_id": self.faq_id,
            "score": round(self.score),
            "answer": self.answer,
        }


class _Placeholders(dict[str, str]):
    def __init__(self, values: Mapping[str, str], missing: str) -> None:
        super().__init__(values)
        self.missing = missing
        self.used_missing: set[str] = set()

    def __missing__(self, key: str) -> str:
        self.used_missing.add(key)
        return self.missing


class TriageEngine:
    """Pure and reusable: build once per knowledge base, call `triage` per message."""

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        placeholders: Mapping[Lang, Mapping[str, str]] | None = None,
        *,
        scoring: ScoringParams | None = None,
    ) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.index = PhrasingIndex(kb, scoring)
        self._placeholders = {
            lang: {k: v for k, v in values.items() if k in PLACEHOLDERS and v}
            for lang, values in (placeholders or {}).items()
        }
        self._warned: set[str] = set()

    def triage(self, text: str, lang_hint: Lang | None = None) -> Decision:
        scan = text[:MAX_SCAN_CHARS] if isinstance(text, str) else ""
        lang = detect_language(scan) or lang_hint or DEFAULT_LANG
        folded = fold(scan)
        analysis = analyse_normalised(
            normalize(folded)[:MAX_MATCH_CHARS], self.index.correct, sound_alike=True
        )
        hits = self.index.search(analysis, lang, limit=5)
        best = hits[0] if hits else None
        in_remit = analysis.remit >= REMIT_EVIDENCE or (
            analysis.remit >= WEAK_EVIDENCE
            and best is not None
            and min(best.coverage, best.phrasing_coverage) >= CLOSE_MATCH
        )
        best_score = 100.0 * best.score if best else 0.0
        limits = self.thresholds

        def decision(action: Action, category: Category | None, **kw: Any) -> Decision:
            return Decision(
                text=text, lang=lang, category=category, action=action, score=best_score, **kw
            )

        if not analysis.tokens:
            return decision("fallback", None, faq_id=None, reasons=("empty",))
        risk = assess(folded, in_remit=in_remit)
        if risk.reasons:
            context = self._entry_id(best) if best and best_score >= limits.suggest else None
            category = self._escalation_category(risk.matters, analysis.category_votes, hits)
            return decision("escalate", category, faq_id=context, reasons=risk.reasons)
        if not in_remit:
            return decision("fallback", None, faq_id=None, reasons=("out_of_remit",))
        runner_up = 100.0 * hits[1].score if len(hits) > 1 else 0.0
        # A close runner-up is no doubt when only the best entry covers the whole question.
        covers_alone = (
            best is not None
            and best.coverage >= FULL_COVER
            and (len(hits) < 2 or hits[1].coverage <= PARTIAL_COVER)
        )
        confident = best_score >= limits.answer and (
            best_score - runner_up >= limits.margin or (covers_alone and best_score > runner_up)
        )
        if best is not None and confident and not analysis.topic_only:
            entry = self.kb.entries[best.entry]
            return decision(
                "answer",
                entry.category,
                faq_id=entry.id,
                answer=self.render_answer(entry.id, lang),
            )
        suggestions = tuple(
            Candidate(self._entry_id(h), round(100.0 * h.score, 1))
            for h in hits[:3]
            if 100.0 * h.score >= limits.suggest
        )
        if analysis.topic_only:
            reason = "too_vague"
        else:
            reason = "ambiguous" if best_score >= limits.answer else "low_score"
        return decision(
            "fallback",
            self._category(analysis.category_votes, hits),
            faq_id=None,
            suggestions=suggestions,
            reasons=(reason,),
        )

    def render_answer(self, faq_id: str, lang: Lang) -> str:
        """The answer of `faq_id` in `lang` with {office_phone} etc. filled in.

        A placeholder the configuration does not set renders as MISSING_PLACEHOLDER
        ("please ask the association office") and is logged once, so members never see
        raw braces. Raises KeyError for an unknown id.
        """
        entry = self.kb.get(faq_id)
        if entry is None:
            raise KeyError(faq_id)
        values = _Placeholders(self._placeholders.get(lang, {}), MISSING_PLACEHOLDER[lang])
        rendered = entry.answer[lang].format_map(values)
        for name in values.used_missing - self._warned:
            self._warned.add(name)
            logger.warning("FAQ placeholder {%s} is not configured (%s)", name, lang)
        return rendered

    def _entry_id(self, hit: Hit) -> str:
        return self.kb.entries[hit.entry].id

    def _escalation_category(
        self, matters: frozenset[Matter], votes: Mapping[Category, float], hits: list[Hit]
    ) -> Category | None:
        """The category of a live case, from the kind of matter its risk rules saw.

        Being accused, sued, stopped or copied is an infringement matter whatever the
        right; a matter about the member's own right (ownership, validity, a contract,
        clearance) takes that right's category; an expert visit or due diligence is an
        association service. A demand for money is a dispute unless the matter is about
        the right itself ("they want us to pay to buy back our squatted brand").
        """
        if "dispute" in matters:
            return "infringement"
        if "right" in matters:
            right = self._right_category(votes, hits)
            if right is not None:
                return right
        if "service" in matters:
            return "general"
        if "weak_dispute" in matters:
            return "infringement"
        # "专家", "help" and the like in a case are not a question about the association
        total = self._category_totals(votes, hits)
        ip = {c: v for c, v in total.items() if c != "general" and v > 0.0}
        if ip:
            return max(ip.items(), key=lambda item: item[1])[0]
        return self._category(votes, hits)

    def _right_category(self, votes: Mapping[Category, float], hits: list[Hit]) -> Category | None:
        total = self._category_totals(votes, hits)
        rights = {c: total[c] for c in RIGHTS if total.get(c, 0.0) > 0.0}
        return max(rights.items(), key=lambda item: item[1])[0] if rights else None

    def _category(self, votes: Mapping[Category, float], hits: list[Hit]) -> Category | None:
        """Lexicon votes plus the categories of the best-matching entries."""
        total = self._category_totals(votes, hits)
        if not total:
            return None
        return max(total.items(), key=lambda item: item[1])[0]

    def _category_totals(
        self, votes: Mapping[Category, float], hits: list[Hit]
    ) -> dict[Category, float]:
        total: dict[Category, float] = dict(votes)
        for rank, hit in enumerate(hits[:3]):
            category = self.kb.entries[hit.entry].category
            total[category] = total.get(category, 0.0) + hit.score * (2.0 if rank == 0 else 1.0)
        return total
