"""Time `ipdesk ask --json` end to end: start-up alone, and 1,000 questions through stdin.

Run: .venv/bin/python bench/bench_ask.py   (prints figures; target: 1,000 questions < 2 s)
"""

from __future__ import annotations

import json
import os
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


def _time(stdin: str, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(
            IPDESK, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT, env=env
        )
        times.append(time.perf_counter() - start)
        lines = result.stdout.splitlines()
        assert len(lines) == stdin.count("\n"), "one JSON line per question"
    return times


def main() -> None:
    _time("商标\n", 1)  # warm the bytecode cache
    one = _time("商标注册后能用多少年\n", 5)
    thousand = _time(_questions(1000), 5)
    # members' own wording: the blind writers' questions, stories included (avg ~40 chars)
    long = _time(_questions(1000, tuple(STORIES)), 5) if STORIES else []
    print(
        f"ipdesk ask --json, 1 question   : median {statistics.median(one):.3f} s "
        f"(min {min(one):.3f}, max {max(one):.3f}) over {len(one)} runs"
    )
    print(
        f"ipdesk ask --json, 1000 questions: median {statistics.median(thousand):.3f} s "
        f"(min {min(thousand):.3f}, max {max(thousand):.3f}) over {len(thousand)} runs"
    )
    if long:
        print(
            f"ipdesk ask --json, 1000 member-style questions (blind dev set): median "
            f"{statistics.median(long):.3f} s (min {min(long):.3f}, max {max(long):.3f})"
        )


if __name__ == "__main__":
    main()
