"""Time `ipdesk ask --json` end to end: start-up alone, and 1,000 questions through stdin.

Run: .venv/bin/python bench/bench_ask.py   (prints figures; target: 1,000 questions < 2 s)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "eval_tuning.jsonl"
IPDESK = [sys.executable, "-m", "bot.cli", "ask", "--json"]


STORIES = sorted((ROOT / "tests" / "data" / "blind" / "dev").glob("*.jsonl"))


def _questions(n: int, files: tuple[Path, ...] = (EVAL,)) -> str:
    texts = [
        json.loads(line)["text"]
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts = [t.replace("\n", " ") for t in texts]
    return "\n".join(texts[i % len(texts)] for i in range(n)) + "\n"


def _time(stdin: str, runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system) of each run of `ipdesk ask --json`.

    On a machine shared with other work the wall time includes waiting for a core; the
    CPU time is what the command itself costs."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(
            IPDESK, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT, env=env
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        lines = result.stdout.splitlines()
        assert len(lines) == stdin.count("\n"), "one JSON line per question"
    return walls, cpus


def _line(label: str, figures: tuple[list[float], list[float]]) -> str:
    walls, cpus = figures
    return (
        f"{label}: median {statistics.median(walls):.3f} s wall "
        f"(min {min(walls):.3f}, max {max(walls):.3f}), "
        f"{statistics.median(cpus):.3f} s CPU, over {len(walls)} runs"
    )


def main() -> None:
    _time("商标\n", 1)  # warm the bytecode cache
    one = _time("商标注册后能用多少年\n", 5)
    thousand = _time(_questions(1000), 5)
    # members' own wording: the blind writers' questions, stories included (avg ~40 chars)
    long = _time(_questions(1000, tuple(STORIES)), 5) if STORIES else None
    print(_line("ipdesk ask --json, 1 question   ", one))
    print(_line("ipdesk ask --json, 1000 questions", thousand))
    if long:
        print(_line("ipdesk ask --json, 1000 member-style questions (blind dev set)", long))


if __name__ == "__main__":
    main()
