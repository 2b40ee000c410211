"""Triage of one member message: answer, answer tentatively, escalate, or fall back.

The ranking (faq/index.py) finds the best entries; the judgement around it is:
1. a hard signal (faq/signals.py: court papers, a running deadline, a sum claimed,
   detained goods, a platform action, a named opponent, a letter, a request for an
   expert) → escalate, keeping the best entry as context; the signals' matter decides
   the category and the ticket's urgency;
2. small talk (faq/rules/smalltalk.yaml: greetings, thanks, "how much") → a friendly
   reply of its kind;
3. no IP evidence and no dispute language → fallback "out_of_remit" (with "Ask an
   expert"); dispute words (sued, 起诉, 律师函, 侵权 …) are always in remit;
4. a clear best entry → answer; a plausible one → "tentative" (shown as "I think you're
   asking about …" with the alternatives); otherwise fallback with suggestions;
5. the learned scorer (faq/scorer.py) reads every message: at or above `flag` an answer
   is shown with "Ask an expert" made prominent (`flagged`), and a fallback becomes an
   offer to hand over (escalate); at or above `escalate` the message is escalated.

The bands are chosen by cross-validation by writer on the blind calibration pool
(tests/data/blind/dev) and checked on the frozen blind set (tests/data/blind/frozen),
which is never tuned on: `ipdesk eval tests/data/blind/frozen/*.jsonl`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from faq.analysis import analyse_normalised
from faq.index import Hit, PhrasingIndex, ScoringParams
from faq.language import detect_language
from faq.models import PLACEHOLDERS, Action, Category, KnowledgeBase, Lang
from faq.normalize import fold, normalize
from faq.scorer import Scorer, features, load_scorer
from faq.signals import Signal, SignalSet, load_signals
from faq.smalltalk import SmallTalk, load_smalltalk

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
# Lexicon evidence (faq/lexicon.py) that puts a message in remit without the learned model.
REMIT_EVIDENCE = 1.0
FULL_COVER = 0.95  # the best entry's phrasings contain (nearly) all of the question …
PARTIAL_COVER = 0.8  # … and the runner-up's leave a real part of it out
DEFAULT_LANG: Lang = "zh"  # for text with neither hanzi nor letters and no hint
PRIOR_WEIGHT = 0.5  # how much the lexicon and best entries weigh against the scorer
# Shown where an answer uses a contact detail the bot's configuration does not set.
MISSING_PLACEHOLDER: Mapping[Lang, str] = {
    "zh": "（请向协会办公室询问）",
    "en": "(please ask the association office)",
}


@dataclass(frozen=True)
class Thresholds:
    answer: float = 30.0  # best entry's score (0–100) needed to answer confidently
    suggest: float = 20.0  # score an entry needs to be suggested or kept as context
    margin: float = 3.0  # points the best entry must lead the next one by
    tentative: float = 20.0  # best score for a tentative answer ("I think you mean …")
    flag: float = 0.4  # scorer risk at which the expert offer is made prominent
    escalate: float = 0.8  # scorer risk at which the message goes to an expert
    remit: float = 0.5  # learned probability that a message is about IP at all
    learned_rank: float = 0.7  # weight of the learned entry model in the ranking (0–1)


# Dispute language puts a message in remit whatever the lexicon says: being sued or
# copied is the association's core work, never "not our business".
DISPUTE = re.compile(
    r"被告|起诉|告了|告我|应诉|传票|律师函|警告函|侵权|侵犯|抄袭|抄我|仿冒|山寨|盗版|盗用|假冒|索赔"
    r"|商业秘密|竞业|泄密|带走|维权|纠纷"
    r"|(?<![a-z])(sue[ds]?|suing|lawsuit|summons|infring\w*|counterfeit\w*|copycat\w*|cop(?:y|ied|ies)"
    r"|pirat\w*|trade secrets?|cease and desist|c&d|dispute\w*|knock-?offs?|fakes?)(?![a-z])"
)


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
    risk: float = 0.0  # the learned scorer's probability of a live case
    flagged: bool = False  # show "Ask an expert" prominently beside the answer
    signals: tuple[str, ...] = ()  # hard signal classes that fired
    urgent: bool = False  # a fired signal makes the matter urgent (court, customs, platform)
    smalltalk: str | None = None  # the kind of small talk, for action "smalltalk"

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "lang": self.lang,
            "category": self.category,
            "action": self.action,
            "faq_id": self.faq_id,
            "score": round(self.score),
            "risk": round(self.risk, 3),
            "flagged": self.flagged,
            "signals": list(self.signals),
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
        scorer: Scorer | None = None,
        signals: SignalSet | None = None,
        smalltalk: SmallTalk | None = None,
    ) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.index = PhrasingIndex(kb, scoring)
        self.scorer = scorer or load_scorer()
        self.signals = signals or load_signals()
        self.smalltalk = smalltalk or load_smalltalk()
        self._placeholders = {
            lang: {k: v for k, v in values.items() if k in PLACEHOLDERS and v}
            for lang, values in (placeholders or {}).items()
        }
        self._warned: set[str] = set()
        # Normalised titles and phrasings → their entry, from the index (see `vague` below).
        self._listed = {p.text: p.entry for p in self.index.phrasings}

    def triage(self, text: str, lang_hint: Lang | None = None) -> Decision:
        scan = text[:MAX_SCAN_CHARS] if isinstance(text, str) else ""
        lang = (
            detect_language(scan) or lang_hint or detect_language(scan, weak=True) or DEFAULT_LANG
        )
        folded = fold(scan)
        analysis = analyse_normalised(
            normalize(folded)[:MAX_MATCH_CHARS], self.index.correct, sound_alike=True
        )
        chat = self.smalltalk.kind(folded)
        if not analysis.tokens:
            if chat is not None:  # "ok", "👍": small talk the matcher has no words for
                return Decision(
                    text,
                    lang,
                    None,
                    "smalltalk",
                    None,
                    0.0,
                    reasons=("smalltalk",),
                    smalltalk=chat,
                )
            return Decision(text, lang, None, "fallback", None, 0.0, reasons=("empty",))
        feats = features(scan)
        hits = self._rerank(self.index.search(analysis, lang, limit=5), feats)
        best = hits[0] if hits else None
        best_score = 100.0 * best.score if best else 0.0
        limits = self.thresholds
        risk = self.scorer.risk_of(feats)
        fired = self.signals.fired(folded)
        dispute = DISPUTE.search(folded) is not None
        # Dispute words or a strong IP word decide alone; otherwise the learned remit
        # model does ("标交上去了要等多久" is ours, "how to renew my passport" is not).
        in_remit = (
            dispute
            or analysis.remit >= REMIT_EVIDENCE
            or self.scorer.remit_of(feats) >= limits.remit
        )

        def decision(action: Action, category: Category | None, **kw: Any) -> Decision:
            return Decision(
                text=text,
                lang=lang,
                category=category,
                action=action,
                score=best_score,
                risk=risk,
                signals=tuple(s.name for s in fired),
                urgent=any(s.urgent for s in fired),
                **kw,
            )

        context = self._entry_id(best) if best and best_score >= limits.suggest else None
        if fired:
            category = self._escalation_category(fired, feats, analysis.category_votes, hits)
            reasons = tuple(f"signal:{s.name}" for s in fired)
            return decision("escalate", category, faq_id=context, reasons=reasons)
        if chat is not None and not (in_remit and chat != "price"):
            return decision("smalltalk", None, faq_id=None, smalltalk=chat, reasons=("smalltalk",))
        if not in_remit:
            return decision("fallback", None, faq_id=None, reasons=("out_of_remit",))
        if risk >= limits.escalate:
            category = self._escalation_category((), feats, analysis.category_votes, hits)
            return decision("escalate", category, faq_id=context, reasons=("scorer",))
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
        suggestions = tuple(
            Candidate(self._entry_id(h), round(100.0 * h.score, 1))
            for h in hits[:3]
            if 100.0 * h.score >= limits.suggest
        )
        flagged = risk >= limits.flag
        # A wording the best entry lists as its question is never too vague, even when its
        # only content word is a topic ("what does the association do").
        vague = analysis.topic_only and (
            best is None or self._listed.get(analysis.text) != best.entry
        )
        if best is not None and not vague and best_score >= limits.tentative:
            entry = self.kb.entries[best.entry]
            return decision(
                "answer" if confident else "tentative",
                entry.category,
                faq_id=entry.id,
                answer=self.render_answer(entry.id, lang),
                suggestions=()
                if confident
                else tuple(c for c in suggestions if c.faq_id != entry.id),
                flagged=flagged,
                reasons=("flagged",) if flagged else (),
            )
        category = self._category(feats, analysis.category_votes, hits)
        if flagged:
            return decision(
                "escalate", category, faq_id=context, reasons=("scorer_fallback",), flagged=True
            )
        reason = "too_vague" if vague else "low_score"
        return decision(
            "fallback", category, faq_id=None, suggestions=suggestions, reasons=(reason,)
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

    def _rerank(self, hits: list[Hit], feats: set[str]) -> list[Hit]:
        """Blend the index's score with the learned entry model's probability.

        The index knows every phrasing (staff additions included); the model knows how
        members word things beyond the phrasings. Only the index's candidates are
        reordered, so an entry the index never found is never answered. A question that
        is one of an entry's phrasings, and an entry the model has not learnt yet (added
        since the last `ipdesk faq train`), keep the index's score.
        """
        weight = self.thresholds.learned_rank
        probs = self.scorer.entries_of(feats) if weight > 0.0 and hits else {}
        if not probs:
            return hits
        blended: list[Hit] = []
        for hit in hits:
            p = probs.get(self.kb.entries[hit.entry].id)
            mixed = hit.score if p is None else (1.0 - weight) * hit.score + weight * p
            if min(hit.coverage, hit.phrasing_coverage) >= FULL_COVER:
                mixed = max(mixed, hit.score)
            blended.append(replace(hit, score=mixed))
        blended.sort(key=lambda h: -h.score)
        return blended

    def _entry_id(self, hit: Hit) -> str:
        return self.kb.entries[hit.entry].id

    def _escalation_category(
        self,
        fired: tuple[Signal, ...],
        feats: set[str],
        votes: Mapping[Category, float],
        hits: list[Hit],
    ) -> Category | None:
        """The category of a live case: a dispute is infringement whatever the right."""
        matters = {s.matter for s in fired}
        if "dispute" in matters:
            return "infringement"
        return self._category(feats, votes, hits)

    def _category(
        self, feats: set[str], votes: Mapping[Category, float], hits: list[Hit]
    ) -> Category | None:
        """The scorer's category, with the lexicon and the best entries as a prior."""
        total: dict[Category, float] = dict(self.scorer.category_of(feats))
        prior = self._category_totals(votes, hits)
        weight = sum(prior.values())
        for category, value in prior.items():
            total[category] = total.get(category, 0.0) + PRIOR_WEIGHT * value / weight
        return max(total.items(), key=lambda item: item[1])[0] if total else None

    def _category_totals(
        self, votes: Mapping[Category, float], hits: list[Hit]
    ) -> dict[Category, float]:
        total: dict[Category, float] = dict(votes)
        for rank, hit in enumerate(hits[:3]):
            category = self.kb.entries[hit.entry].category
            total[category] = total.get(category, 0.0) + hit.score * (2.0 if rank == 0 else 1.0)
        return total
