"""The command line as a person runs it: a fresh process, environment only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KEYS = {
    "text", "lang", "category", "action", "faq_id", "score", "risk", "flagged", "signals",
    "answer",
}  # fmt: skip


def ipdesk(
    tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ask_json_one_line_per_argument_in_order(tmp_path: Path) -> None:
    result = ipdesk(
        tmp_path,
        "ask",
        "--json",
        "商标注册后能用多少年",
        "how long does a design patent last",
        "今天天气怎么样",
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in rows] == [KEYS] * 3
    trademark, design, weather = rows
    assert (trademark["lang"], trademark["action"], trademark["faq_id"]) == (
        "zh",
        "answer",
        "tm-term-renewal",
    )
    assert "10年" in trademark["answer"]
    assert (design["lang"], design["category"], design["action"]) == ("en", "patent", "answer")
    assert "15 years" in design["answer"]
    assert (weather["action"], weather["category"], weather["answer"]) == ("fallback", None, None)
    assert all(0 <= r["score"] <= 100 for r in rows)


def test_ask_reads_stdin_one_question_per_line(tmp_path: Path) -> None:
    result = ipdesk(
        tmp_path,
        "ask",
        "--json",
        stdin="软著怎么登记\n\n   \n"
        "we got a lawyer's letter from Acme Co., Ltd. demanding USD 50,000 by Friday\n",
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == [
        "软著怎么登记",
        "we got a lawyer's letter from Acme Co., Ltd. demanding USD 50,000 by Friday",
    ]
    assert rows[0]["faq_id"] == "cr-software"
    assert rows[1]["action"] == "escalate"
    assert rows[1]["answer"] is None


def test_faq_check_passes_on_the_shipped_files_and_names_a_broken_one(tmp_path: Path) -> None:
    assert ipdesk(tmp_path, "faq", "check").returncode == 0
    broken = tmp_path / "kb"
    broken.mkdir()
    (broken / "general.yaml").write_text("category: general\nentries:\n  - id: x\n", "utf-8")
    result = ipdesk(tmp_path, "faq", "check", "--dir", str(broken))
    assert result.returncode == 1
    assert "general.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_without_token_points_to_env_and_shell(tmp_path: Path) -> None:
    result = ipdesk(tmp_path, "run")
    assert result.returncode == 2
    assert ".env" in result.stderr
    assert "ipdesk shell" in result.stderr
    assert result.stderr.count("\n") == 1
