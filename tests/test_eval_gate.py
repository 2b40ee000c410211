"""Regression gate: the held-out questions, scored by `ipdesk eval` as a person would run it.

The figures are only checked against floors; the held-out file is never used for tuning.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
MIN_ANSWER_ACCURACY = 0.85
MAX_FALSE_ANSWERS = 0.08


def _eval(name: str) -> dict[str, dict[str, float]]:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "eval", "--json", str(DATA / name)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures: dict[str, dict[str, float]] = json.loads(result.stdout)
    return figures


def test_heldout_set_stays_above_the_floor() -> None:
    overall = _eval("eval_heldout.jsonl")["all"]
    assert overall["items"] >= 200
    assert overall["answer_accuracy"] >= MIN_ANSWER_ACCURACY, overall
    assert overall["false_answer_rate"] <= MAX_FALSE_ANSWERS, overall
