"""Measure the engine on labelled member questions (JSON lines).

    python -m faq.evaluate tests/data/blind/frozen/*.jsonl [--failures] [--by kind|file]

Each line: {"text", "lang", "category", "action", "faq_id" (optional), "answer_patterns",
"kind" (optional)}. Expected actions: answer, escalate, fallback, smalltalk.

How a decision is judged (the member's view decides):
- an expected answer is correct when the engine shows the labelled entry, confidently
  ("answer") or tentatively ("tentative": shown with alternatives and "Ask an expert"),
  and every pattern matches the rendered answer;
- a *false answer* is any shown answer (answer or tentative) that is not the right one;
- escalation recall counts decisions whose first offer is the hand-over ("escalate");
  `flagged recall` also counts answers shown with the expert offer made prominent;
- *answerable escalated* is the share of answerable questions handed to an expert.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faq.engine import Decision, TriageEngine
from faq.loader import load_knowledge_base
from faq.models import CATEGORIES, LANGS, Category, Lang

Expected = Literal["answer", "escalate", "fallback", "smalltalk"]
EXPECTED: tuple[Expected, ...] = ("answer", "escalate", "fallback", "smalltalk")
SHOWN = ("answer", "tentative")  # decisions that put an FAQ answer in front of the member


@dataclass(frozen=True)
class EvalItem:
    text: str
    lang: Lang
    category: Category | None
    action: Expected
    faq_id: str | None
    answer_patterns: tuple[re.Pattern[str], ...]
    line: int = 0
    kind: str = ""
    source: str = ""


@dataclass(frozen=True)
class Failure:
    item: EvalItem
    decision: Decision
    problem: str


@dataclass
class Metrics:
    items: int = 0
    answer_expected: int = 0
    answer_correct: int = 0
    answer_confident: int = 0  # correct and shown without hedging
    false_answers: int = 0
    escalate_expected: int = 0
    escalated: int = 0
    escalated_or_flagged: int = 0
    answerable_escalated: int = 0
    other_expected: int = 0  # fallback or smalltalk
    other_correct: int = 0
    category_expected: int = 0
    category_correct: int = 0

    @property
    def answer_accuracy(self) -> float:
        return _ratio(self.answer_correct, self.answer_expected)

    @property
    def false_answer_rate(self) -> float:
        return _ratio(self.false_answers, self.items)

    @property
    def escalation_recall(self) -> float:
        return _ratio(self.escalated, self.escalate_expected)

    @property
    def flagged_recall(self) -> float:
        return _ratio(self.escalated_or_flagged, self.escalate_expected)

    @property
    def answerable_escalated_rate(self) -> float:
        return _ratio(self.answerable_escalated, self.answer_expected)

    @property
    def fallback_accuracy(self) -> float:
        return _ratio(self.other_correct, self.other_expected)

    @property
    def category_accuracy(self) -> float:
        return _ratio(self.category_correct, self.category_expected)

    def figures(self) -> dict[str, float]:
        return {
            "items": self.items,
            "answer_accuracy": self.answer_accuracy,
            "false_answer_rate": self.false_answer_rate,
            "escalation_recall": self.escalation_recall,
            "flagged_recall": self.flagged_recall,
            "answerable_escalated": self.answerable_escalated_rate,
            "fallback_accuracy": self.fallback_accuracy,
            "category_accuracy": self.category_accuracy,
        }


@dataclass
class EvalReport:
    overall: Metrics = field(default_factory=Metrics)
    by_lang: dict[Lang, Metrics] = field(
        default_factory=lambda: {lang: Metrics() for lang in LANGS}
    )
    by_group: dict[str, Metrics] = field(default_factory=lambda: defaultdict(Metrics))
    failures: list[Failure] = field(default_factory=list)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def load_eval_items(*paths: Path | str) -> list[EvalItem]:
    items: list[EvalItem] = []
    for path in paths:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    where = f"{path}:{number}"
                    items.append(_parse_item(json.loads(line), where, number, Path(path).stem))
    return items


def _parse_item(raw: Any, where: str, line: int, source: str) -> EvalItem:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a JSON object")
    lang, category, action = raw.get("lang"), raw.get("category"), raw.get("action")
    if lang not in LANGS or action not in EXPECTED:
        raise ValueError(f"{where}: bad lang {lang!r} or action {action!r}")
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"{where}: bad category {category!r}")
    patterns = raw.get("answer_patterns") or []
    return EvalItem(
        text=str(raw.get("text", "")),
        lang=lang,
        category=category,
        action=action,
        faq_id=raw.get("faq_id") or None,
        answer_patterns=tuple(re.compile(p) for p in patterns),
        line=line,
        kind=str(raw.get("kind") or ""),
        source=source,
    )


def evaluate(
    engine: TriageEngine | Mapping[str, TriageEngine],
    items: Iterable[EvalItem],
    *,
    group: Callable[[EvalItem], str] | None = None,
) -> EvalReport:
    """Judge every item; with a mapping, each item by the engine of its file (``source``)."""
    report = EvalReport()
    for item in items:
        judged_by = engine[item.source] if isinstance(engine, Mapping) else engine
        decision = judged_by.triage(item.text)
        tallies = [report.overall, report.by_lang[item.lang]]
        if group is not None:
            tallies.append(report.by_group[group(item)])
        problems = judge(item, decision, tallies)
        report.failures.extend(Failure(item, decision, p) for p in problems)
    return report


def judge(item: EvalItem, decision: Decision, tallies: Sequence[Metrics]) -> list[str]:
    """Score one decision into every tally; return what was wrong with it."""
    problems: list[str] = []
    shown = decision.action in SHOWN
    answer_ok = shown and _answer_matches(item, decision)
    escalated = decision.action == "escalate"
    flagged = escalated or bool(getattr(decision, "flagged", False))
    if item.action == "answer" and not answer_ok:
        problems.append(
            f"expected answer {item.faq_id}, got {decision.action} {decision.faq_id}"
            if not shown or decision.faq_id != item.faq_id
            else "answer misses a pattern"
        )
    elif item.action == "escalate" and not escalated:
        problems.append(f"expected escalate, got {decision.action} {decision.faq_id}")
    elif item.action in ("fallback", "smalltalk") and decision.action not in (
        "fallback",
        "smalltalk",
    ):
        problems.append(f"expected {item.action}, got {decision.action} {decision.faq_id}")
    category_ok = decision.category == item.category
    if item.category is not None and not category_ok:
        problems.append(f"category {item.category} expected, got {decision.category}")
    for m in tallies:
        m.items += 1
        m.false_answers += shown and not (item.action == "answer" and answer_ok)
        if item.action == "answer":
            m.answer_expected += 1
            m.answer_correct += answer_ok
            m.answer_confident += answer_ok and decision.action == "answer"
            m.answerable_escalated += escalated
        elif item.action == "escalate":
            m.escalate_expected += 1
            m.escalated += escalated
            m.escalated_or_flagged += flagged
        else:
            m.other_expected += 1
            m.other_correct += decision.action in ("fallback", "smalltalk")
        if item.category is not None:
            m.category_expected += 1
            m.category_correct += category_ok
    return problems


def _answer_matches(item: EvalItem, decision: Decision) -> bool:
    if item.faq_id is not None and decision.faq_id != item.faq_id:
        return False
    text = decision.answer or ""
    return all(p.search(text) for p in item.answer_patterns)


_ROWS: tuple[tuple[str, Callable[[Metrics], str]], ...] = (
    ("answer accuracy", lambda m: _pct(m.answer_correct, m.answer_expected)),
    ("  of which confident", lambda m: _pct(m.answer_confident, m.answer_expected)),
    ("false answers", lambda m: _pct(m.false_answers, m.items)),
    ("escalation recall", lambda m: _pct(m.escalated, m.escalate_expected)),
    ("  incl. flagged answers", lambda m: _pct(m.escalated_or_flagged, m.escalate_expected)),
    ("answerable escalated", lambda m: _pct(m.answerable_escalated, m.answer_expected)),
    ("fallback/smalltalk ok", lambda m: _pct(m.other_correct, m.other_expected)),
    ("category accuracy", lambda m: _pct(m.category_correct, m.category_expected)),
    ("items", lambda m: str(m.items)),
)


def format_report(report: EvalReport, *, failures: bool = False) -> str:
    columns: list[tuple[str, Metrics]] = [(lang, report.by_lang[lang]) for lang in LANGS]
    columns.append(("all", report.overall))
    columns.extend(sorted(report.by_group.items()))
    width = max(len(name) for name, _ in _ROWS)
    cell = max(17, *(len(name) for name, _ in columns))
    lines = [f"{'':{width}}  " + "  ".join(f"{name:>{cell}}" for name, _ in columns)]
    for name, render in _ROWS:
        lines.append(f"{name:{width}}  " + "  ".join(f"{render(m):>{cell}}" for _, m in columns))
    if failures:
        lines.append("")
        lines.extend(
            f"{f.item.source}:{f.item.line:<4} [{f.decision.action} {f.decision.faq_id}"
            f" {f.decision.score:.0f} {','.join(f.decision.reasons)}] {f.problem}:"
            f" {f.item.text[:90]}"
            for f in report.failures
        )
    return "\n".join(lines)


def _pct(part: int, whole: int) -> str:
    if whole == 0:
        return "-"
    return f"{100.0 * part / whole:5.1f}% ({part}/{whole})"


GROUPS: dict[str, Callable[[EvalItem], str]] = {
    "kind": lambda item: item.kind or "-",
    "file": lambda item: item.source,
    "action": lambda item: item.action,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--kb", type=Path, default=None, help="knowledge base directory")
    parser.add_argument("--failures", action="store_true", help="list every failure")
    parser.add_argument("--by", choices=sorted(GROUPS), default=None, help="extra columns")
    args = parser.parse_args(argv)
    logging.getLogger("faq.engine").setLevel(logging.ERROR)  # contact details don't matter here
    engine = TriageEngine(load_knowledge_base(args.kb))
    group = GROUPS[args.by] if args.by else None
    report = evaluate(engine, load_eval_items(*args.paths), group=group)
    sys.stdout.write(format_report(report, failures=args.failures) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
