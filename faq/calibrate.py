"""Choose the engine's bands by cross-validation by writer on the blind calibration pool.

    python -m faq.calibrate tests/data/blind/dev/*.jsonl [--failures]

``--failures``: instead of the grid, the held-out figures at the engine's own bands and
every miss — where to look for the next kind of miss to turn into data.

Each file (one writer) is judged by an engine whose scorer was trained without that
file, so the figures are what a new writer's questions would get. The frozen blind set
(tests/data/blind/frozen) is never passed here.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from faq.engine import Thresholds, TriageEngine
from faq.evaluate import EvalItem, Metrics, evaluate, format_report, judge, load_eval_items
from faq.loader import load_knowledge_base
from faq.scorer import Scorer, load_config, load_examples, train


def holdout_scorers(paths: Sequence[Path]) -> dict[str, Scorer]:
    """One scorer per evaluated file, trained on everything else in the configuration."""
    config = load_config()
    examples = load_examples(config["training"])
    return {
        path.stem: train(
            [e for e in examples if e.group != path.stem],
            float(config["escalation_c"]),
            float(config["category_c"]),
        )
        for path in paths
    }


def score(
    engines: dict[str, TriageEngine], items: Sequence[EvalItem], thresholds: Thresholds
) -> tuple[Metrics, dict[str, Metrics]]:
    overall, by_lang = Metrics(), {"zh": Metrics(), "en": Metrics()}
    for item in items:
        engine = engines[item.source]
        engine.thresholds = thresholds
        judge(item, engine.triage(item.text), [overall, by_lang[item.lang]])
    return overall, by_lang


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument(
        "--failures", action="store_true", help="held-out figures and misses at the engine's bands"
    )
    args = parser.parse_args(argv)
    logging.getLogger("faq.engine").setLevel(logging.ERROR)
    kb = load_knowledge_base()
    scorers = holdout_scorers(args.paths)
    engines = {name: TriageEngine(kb, scorer=s) for name, s in scorers.items()}
    items = load_eval_items(*args.paths)
    if args.failures:
        sys.stdout.write(format_report(evaluate(engines, items), failures=True) + "\n")
        return 0
    base = Thresholds()
    grid = itertools.product((30.0,), (20.0,), (0.7,), (0.6, 0.7, 0.8, 0.9))
    out = sys.stdout
    out.write("answer tent learned esc | acc false recall flagged answerable-escalated")
    out.write(" | zh acc/false/recall  en acc/false/recall\n")
    for answer, tentative, learned, escalate in grid:
        t = replace(
            base, answer=answer, tentative=tentative, learned_rank=learned, escalate=escalate
        )
        m, lang = score(engines, items, t)
        out.write(
            f"{answer:5.0f} {tentative:4.0f} {learned:4.1f} {escalate:4.2f} | "
            f"{m.answer_accuracy:.3f} {m.false_answer_rate:.3f} {m.escalation_recall:.3f} "
            f"{m.flagged_recall:.3f} {m.answerable_escalated_rate:.3f} | "
            + "  ".join(
                f"{x.answer_accuracy:.3f}/{x.false_answer_rate:.3f}/{x.escalation_recall:.3f}"
                for x in lang.values()
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
