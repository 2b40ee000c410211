"""Measure the engine on labelled member questions (JSON lines).

    python -m faq.evaluate tests/data/eval_tuning.jsonl [--failures]

Each line: {"text", "lang", "category", "action", "faq_id" (optional), "answer_patterns"}.
An expected answer counts as correct only if the engine answers, with the labelled
entry when there is one, and every pattern matches the rendered answer.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faq.engine import Decision, TriageEngine
from faq.loader import load_knowledge_base
from faq.models import ACTIONS, CATEGORIES, LANGS, Action, Category, Lang


@dataclass(frozen=True)
class EvalItem:
    text: str
    lang: Lang
    category: Category | None
    action: Action
    faq_id: str | None
    answer_patterns: tuple[re.Pattern[str], ...]
    line: int = 0


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
    false_answers: int = 0
    escalate_expected: int = 0
    escalated: int = 0
    fallback_expected: int = 0
    fell_back: int = 0
    category_expected: int = 0
    category_correct: int = 0
    over_escalated: int = 0  # expected answer or fallback, got escalate

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
    def fallback_accuracy(self) -> float:
        return _ratio(self.fell_back, self.fallback_expected)

    @property
    def category_accuracy(self) -> float:
        return _ratio(self.category_correct, self.category_expected)


@dataclass
class EvalReport:
    overall: Metrics = field(default_factory=Metrics)
    by_lang: dict[Lang, Metrics] = field(
        default_factory=lambda: {lang: Metrics() for lang in LANGS}
    )
    failures: list[Failure] = field(default_factory=list)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def load_eval_items(path: Path | str) -> list[EvalItem]:
    items: list[EvalItem] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                items.append(_parse_item(json.loads(line), f"{path}:{number}", number))
    return items


def _parse_item(raw: Any, where: str, line: int) -> EvalItem:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a JSON object")
    lang, category, action = raw.get("lang"), raw.get("category"), raw.get("action")
    if lang not in LANGS or action not in ACTIONS:
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
    )


def evaluate(engine: TriageEngine, items: Iterable[EvalItem]) -> EvalReport:
    report = EvalReport()
    for item in items:
        decision = engine.triage(item.text)
        problems = _judge(item, decision, (report.overall, report.by_lang[item.lang]))
        report.failures.extend(Failure(item, decision, p) for p in problems)
    return report


def _judge(item: EvalItem, decision: Decision, tallies: Sequence[Metrics]) -> list[str]:
    problems: list[str] = []
    answered = decision.action == "answer"
    answer_ok = answered and _answer_matches(item, decision)
    if item.action == "answer" and not answer_ok:
        problems.append(
            f"expected answer {item.faq_id}, got {decision.action} {decision.faq_id}"
            if not answered or decision.faq_id != item.faq_id
            else "answer misses a pattern"
        )
    elif item.action != "answer" and decision.action != item.action:
        problems.append(f"expected {item.action}, got {decision.action} {decision.faq_id}")
    category_ok = decision.category == item.category
    if item.category is not None and not category_ok:
        problems.append(f"category {item.category} expected, got {decision.category}")
    for m in tallies:
        m.items += 1
        m.false_answers += answered and not (item.action == "answer" and answer_ok)
        m.over_escalated += item.action != "escalate" and decision.action == "escalate"
        if item.action == "answer":
            m.answer_expected += 1
            m.answer_correct += answer_ok
        elif item.action == "escalate":
            m.escalate_expected += 1
            m.escalated += decision.action == "escalate"
        else:
            m.fallback_expected += 1
            m.fell_back += decision.action == "fallback"
        if item.category is not None:
            m.category_expected += 1
            m.category_correct += category_ok
    return problems


def _answer_matches(item: EvalItem, decision: Decision) -> bool:
    if item.faq_id is not None and decision.faq_id != item.faq_id:
        return False
    text = decision.answer or ""
    return all(p.search(text) for p in item.answer_patterns)


def format_report(report: EvalReport, *, failures: bool = False) -> str:
    columns: list[tuple[str, Metrics]] = [(lang, report.by_lang[lang]) for lang in LANGS]
    columns.append(("all", report.overall))
    rows: list[tuple[str, Any]] = [
        (
            "answer accuracy",
            lambda m: _pct(m.answer_accuracy, m.answer_correct, m.answer_expected),
        ),
        ("false-answer rate", lambda m: _pct(m.false_answer_rate, m.false_answers, m.items)),
        (
            "escalation recall",
            lambda m: _pct(m.escalation_recall, m.escalated, m.escalate_expected),
        ),
        (
            "fallback accuracy",
            lambda m: _pct(m.fallback_accuracy, m.fell_back, m.fallback_expected),
        ),
        (
            "category accuracy",
            lambda m: _pct(m.category_accuracy, m.category_correct, m.category_expected),
        ),
        (
            "over-escalation",
            lambda m: _pct(_ratio(m.over_escalated, m.items), m.over_escalated, m.items),
        ),
        ("items", lambda m: str(m.items)),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'':{width}}  " + "  ".join(f"{name:>17}" for name, _ in columns)]
    for name, cell in rows:
        lines.append(f"{name:{width}}  " + "  ".join(f"{cell(m):>17}" for _, m in columns))
    if failures:
        lines.append("")
        lines.extend(
            f"{f.item.line:>4} [{f.decision.action} {f.decision.faq_id} {f.decision.score:.0f}"
            f" {','.join(f.decision.reasons)}] {f.problem}: {f.item.text[:80]}"
            for f in report.failures
        )
    return "\n".join(lines)


def _pct(value: float, part: int, whole: int) -> str:
    if whole == 0:
        return "-"
    return f"{100.0 * value:5.1f}% ({part}/{whole})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", type=Path)
    parser.add_argument("--kb", type=Path, default=None, help="knowledge base directory")
    parser.add_argument("--failures", action="store_true", help="list every failure")
    args = parser.parse_args(argv)
    logging.getLogger("faq.engine").setLevel(logging.ERROR)  # contact details don't matter here
    engine = TriageEngine(load_knowledge_base(args.kb))
    report = evaluate(engine, load_eval_items(args.path))
    sys.stdout.write(format_report(report, failures=args.failures) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
