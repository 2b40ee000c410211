"""Phrasings written into a knowledge base file in place: layout and comments survive."""

from __future__ import annotations

import difflib

import pytest
import yaml

from faq.models import Lang
from faq.yaml_edit import add_questions

FILE = """\
category: trademark   # one file per category
entries:
  - id: tm-a
    title:
      zh: 甲
      en: A
    questions:
      zh:
        - 第一句   # a comment staff wrote
        - 第二句

      en: [first one, "second: one"]
    answer:
      zh: |
        答案。

        第二段。
      en: |
        Answer.
    related: []

  # the next entry is new
  - id: tm-b
    title: {zh: 乙, en: B}
    questions:
      zh:
      - 乙的问题
      en:
      - b question
    answer: {zh: 乙, en: B}"""


def _changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added)."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return (
        [line[2:] for line in diff if line.startswith("- ")],
        [line[2:] for line in diff if line.startswith("+ ")],
    )


def test_new_phrasings_go_under_the_last_one_and_nothing_else_changes() -> None:
    edit = add_questions(
        FILE,
        {
            "tm-a": {"zh": ["第三句", "商标: 怎么办 #1"], "en": ["third, with a comma"]},
            "tm-b": {"zh": ["乙的新问法"], "en": ["- starts with a dash"]},
        },
    )
    assert edit.problems == []
    assert edit.present == []
    assert len(edit.added) == 5
    removed, added = _changes(FILE, edit.text)
    assert removed == ['      en: [first one, "second: one"]']  # the flow list grows in place
    assert added == [
        "        - 第三句",
        "        - '商标: 怎么办 #1'",
        """      en: [first one, "second: one", 'third, with a comma']""",
        "      - 乙的新问法",
        "      - '- starts with a dash'",
    ]
    data = yaml.safe_load(edit.text)
    a, b = data["entries"]
    assert a["questions"]["zh"] == ["第一句", "第二句", "第三句", "商标: 怎么办 #1"]
    assert a["questions"]["en"] == ["first one", "second: one", "third, with a comma"]
    assert b["questions"] == {
        "zh": ["乙的问题", "乙的新问法"],
        "en": ["b question", "- starts with a dash"],
    }
    assert a["answer"]["zh"] == "答案。\n\n第二段。\n"
    assert "# a comment staff wrote" in edit.text
    assert "# the next entry is new" in edit.text


def test_phrasings_already_there_are_not_repeated() -> None:
    edit = add_questions(
        FILE, {"tm-a": {"en": ["FIRST ONE", "first one"]}, "tm-b": {"zh": ["乙的問題？"]}}
    )
    assert edit.added == []
    assert edit.present == [
        ("tm-a", "en", "FIRST ONE"),
        ("tm-a", "en", "first one"),
        ("tm-b", "zh", "乙的問題？"),
    ]
    assert edit.text == FILE
    once = add_questions(FILE, {"tm-a": {"zh": ["新问法", "新问法"]}})
    assert once.added == [("tm-a", "zh", "新问法")]
    again = add_questions(once.text, {"tm-a": {"zh": ["新问法"]}})
    assert again.added == []
    assert again.text == once.text


@pytest.mark.parametrize(
    ("additions", "problem"),
    [
        ({"tm-zzz": {"zh": ["x"]}}, "tm-zzz: no such entry in this file"),
        ({"tm-a": {"fr": ["x"]}}, "tm-a: questions.fr is not a list"),
    ],
)
def test_what_cannot_be_placed_is_reported(
    additions: dict[str, dict[Lang, list[str]]], problem: str
) -> None:
    edit = add_questions(FILE, additions)
    assert edit.problems == [problem]
    assert edit.text == FILE


def test_a_file_without_a_final_newline() -> None:
    edit = add_questions(FILE, {"tm-b": {"en": ["new"]}})
    assert edit.text.endswith("      - b question\n      - new\n    answer: {zh: 乙, en: B}")
    last = add_questions(
        "entries:\n- id: x\n  questions:\n    zh:\n    - 一", {"x": {"zh": ["二"]}}
    )
    assert last.text == "entries:\n- id: x\n  questions:\n    zh:\n    - 一\n    - 二\n"
