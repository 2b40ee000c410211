"""The evaluation harness counts what it says it counts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from faq.engine import Decision, TriageEngine
from faq.evaluate import evaluate, format_report, load_eval_items, main
from faq.loader import load_knowledge_base

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
ITEMS = [
    # right answer, pattern matches
    {
        "text": "商标怎么注册",
        "lang": "zh",
        "category": "trademark",
        "action": "answer",
        "faq_id": "tm-register",
        "answer_patterns": ["国家知识产权局", "3个月"],
    },
    # right entry but a pattern misses: a failure, and a false answer
    {
        "text": "how do I register a trademark",
        "lang": "en",
        "category": "trademark",
        "action": "answer",
        "faq_id": "tm-register",
        "answer_patterns": ["(?i)five years"],
    },
    # escalation caught
    {
        "text": "我们收到了律师函 要求7天内停止销售",
        "lang": "zh",
        "category": "infringement",
        "action": "escalate",
        "faq_id": "inf-accused",
        "answer_patterns": [],
    },
    # fallback expected, engine answers: a false answer
    {
        "text": "专利年费忘了交",
        "lang": "zh",
        "category": None,
        "action": "fallback",
        "answer_patterns": [],
    },
    # fallback caught, faq_id missing from the line
    {
        "text": "今天天气怎么样",
        "lang": "zh",
        "category": None,
        "action": "fallback",
        "answer_patterns": [],
    },
]


@pytest.fixture
def items_path(tmp_path: Path) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text(
        "\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS) + "\n\n", encoding="utf-8"
    )
    return path


def test_load_eval_items(items_path: Path) -> None:
    items = load_eval_items(items_path)
    assert len(items) == 5
    assert items[3].faq_id is None
    assert items[3].category is None
    assert items[0].answer_patterns[1].pattern == "3个月"
    assert items[4].line == 5


def test_load_rejects_bad_labels(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"text": "x", "lang": "fr", "action": "answer"}) + "\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        load_eval_items(path)


def test_evaluate_counts(items_path: Path) -> None:
    engine = TriageEngine(load_knowledge_base(FIXTURE_KB))
    report = evaluate(engine, load_eval_items(items_path))
    overall = report.overall
    assert (overall.items, overall.answer_expected, overall.answer_correct) == (5, 2, 1)
    assert overall.false_answers == 2  # the pattern miss and the unwanted answer
    assert overall.false_answer_rate == pytest.approx(2 / 5)
    assert (overall.escalate_expected, overall.escalated) == (1, 1)
    assert (overall.other_expected, overall.other_correct) == (2, 1)
    assert (overall.category_expected, overall.category_correct) == (3, 3)
    assert report.by_lang["en"].items == 1
    assert report.by_lang["zh"].items == 4
    assert math.isnan(report.by_lang["en"].escalation_recall)
    assert sorted(f.item.line for f in report.failures) == [2, 4]

    table = format_report(report, failures=True)
    assert "answer accuracy" in table
    assert "50.0% (1/2)" in table
    assert "answer misses a pattern" in table


def test_main_prints_the_table(items_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(items_path), "--kb", str(FIXTURE_KB)]) == 0
    assert "false answers" in capsys.readouterr().out


def test_each_file_can_be_judged_by_its_own_engine(items_path: Path) -> None:
    """faq.calibrate --failures: an engine per held-out writer, picked by the item's file."""
    kb = load_knowledge_base(FIXTURE_KB)
    used: list[str] = []

    class Recording(TriageEngine):
        def triage(self, *args: Any, **kwargs: Any) -> Decision:
            used.append(args[0])
            return super().triage(*args, **kwargs)

    items = load_eval_items(items_path)
    report = evaluate({items_path.stem: Recording(kb)}, items)
    assert report.overall.items == 5
    assert used == [item.text for item in items]
    with pytest.raises(KeyError):
        evaluate({"another-writer": Recording(kb)}, items)
