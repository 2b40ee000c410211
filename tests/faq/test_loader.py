"""Loader validation: every problem names the file and the entry."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from faq.loader import (
    DEFAULT_DIRECTORY,
    MAX_ANSWER_CHARS,
    KnowledgeBaseError,
    check_knowledge_base,
    load_knowledge_base,
)
from faq.models import CATEGORIES

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


def entry_yaml(
    entry_id: str = "tm-one",
    *,
    answer_en: str = "An answer.",
    related: str = "[]",
    extra: str = "",
) -> str:
    return (
        textwrap.dedent(
            f"""\
          - id: {entry_id}
            title:
              zh: 标题
              en: Title
            questions:
              zh: [问题一]
              en: [question one]
            answer:
              zh: 答案。
              en: {answer_en}
            related: {related}
        """
        )
        + extra
    )


def write(directory: Path, name: str, category: str, *entries: str) -> None:
    body = "".join(entries)
    (directory / name).write_text(f"category: {category}\nentries:\n{body}", encoding="utf-8")


def only_problem(directory: Path) -> str:
    problems = check_knowledge_base(directory)
    assert len(problems) == 1, problems
    return problems[0]


def test_fixture_knowledge_base_loads() -> None:
    kb = load_knowledge_base(FIXTURE_KB)
    assert len(kb) == 11
    entry = kb.get("tm-register")
    assert entry is not None
    assert entry.category == "trademark"
    assert entry.source == "trademark.yaml"
    assert entry.questions["zh"][0] == "怎么注册商标？"
    assert entry.related == ("tm-term-renewal",)
    assert not entry.answer["en"].endswith("\n")  # block scalars are stripped
    assert [e.id for e in kb.in_category("patent")] == ["pt-types-terms", "pt-annual-fees"]
    assert kb.get("nope") is None
    assert "cr-software" in kb


def test_shipped_knowledge_base_is_valid() -> None:
    assert check_knowledge_base() == []
    kb = load_knowledge_base()
    assert len(kb) >= 40
    assert {e.category for e in kb} == set(CATEGORIES)
    assert all(e.source == f"{e.category}.yaml" for e in kb)
    assert DEFAULT_DIRECTORY.name == "data"


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, "patent.yaml", "patent", entry_yaml("pt-one"))
    write(tmp_path, "trademark.yaml", "trademark", entry_yaml("pt-one"))
    assert (
        only_problem(tmp_path)
        == "trademark.yaml: entry pt-one: duplicate id (first defined in patent.yaml)"
    )


def test_missing_language(tmp_path: Path) -> None:
    broken = entry_yaml().replace("    en: Title\n", "")
    write(tmp_path, "trademark.yaml", "trademark", broken)
    assert only_problem(tmp_path) == "trademark.yaml: entry tm-one: title.en is missing"


def test_empty_text(tmp_path: Path) -> None:
    write(tmp_path, "trademark.yaml", "trademark", entry_yaml(answer_en='"   "'))
    assert only_problem(tmp_path) == "trademark.yaml: entry tm-one: answer.en is empty"


def test_empty_question_list_and_blank_question(tmp_path: Path) -> None:
    broken = (
        entry_yaml()
        .replace("zh: [问题一]", "zh: []")
        .replace("en: [question one]", 'en: ["", ok]')
    )
    write(tmp_path, "trademark.yaml", "trademark", broken)
    assert check_knowledge_base(tmp_path) == [
        "trademark.yaml: entry tm-one: questions.zh must be a non-empty list",
        "trademark.yaml: entry tm-one: questions.en #1 is empty",
    ]


def test_answer_over_telegram_limit(tmp_path: Path) -> None:
    write(
        tmp_path,
        "patent.yaml",
        "patent",
        entry_yaml("pt-long", answer_en="x" * (MAX_ANSWER_CHARS + 1)),
    )
    assert only_problem(tmp_path) == (
        f"patent.yaml: entry pt-long: answer.en has {MAX_ANSWER_CHARS + 1} characters, "
        f"more than {MAX_ANSWER_CHARS}"
    )


def test_answer_at_telegram_limit_is_fine(tmp_path: Path) -> None:
    write(
        tmp_path, "patent.yaml", "patent", entry_yaml("pt-long", answer_en="x" * MAX_ANSWER_CHARS)
    )
    assert check_knowledge_base(tmp_path) == []


def test_unknown_related_id(tmp_path: Path) -> None:
    write(tmp_path, "patent.yaml", "patent", entry_yaml("pt-pct", related="[pt-ghost]"))
    assert (
        only_problem(tmp_path) == "patent.yaml: entry pt-pct: related id 'pt-ghost' does not exist"
    )


def test_related_across_files_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "patent.yaml", "patent", entry_yaml("pt-pct", related="[tm-one]"))
    write(tmp_path, "trademark.yaml", "trademark", entry_yaml("tm-one", related="[pt-pct]"))
    assert check_knowledge_base(tmp_path) == []
    assert load_knowledge_base(tmp_path).get("pt-pct") is not None


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "copyright.yaml").write_text(
        "category: copyright\nentries:\n  - id: [unclosed\n", encoding="utf-8"
    )
    problem = only_problem(tmp_path)
    assert problem.startswith("copyright.yaml: malformed YAML at line ")


def test_wrong_file_category(tmp_path: Path) -> None:
    write(tmp_path, "trademark.yaml", "trademarks", entry_yaml())
    assert only_problem(tmp_path) == (
        "trademark.yaml: category 'trademarks' is not one of "
        "trademark, patent, copyright, infringement, general"
    )
    with pytest.raises(KnowledgeBaseError):
        load_knowledge_base(tmp_path)


def test_entry_category_must_match_file(tmp_path: Path) -> None:
    write(tmp_path, "trademark.yaml", "trademark", entry_yaml(extra="  category: patent\n"))
    assert only_problem(tmp_path) == (
        "trademark.yaml: entry tm-one: category 'patent' does not match the file's 'trademark'"
    )


def test_unknown_placeholder_and_stray_brace(tmp_path: Path) -> None:
    write(
        tmp_path, "general.yaml", "general", entry_yaml("gen-a", answer_en='"Call {office_phon}"')
    )
    write(tmp_path, "patent.yaml", "patent", entry_yaml("pt-a", answer_en='"a { b"'))
    problems = check_knowledge_base(tmp_path)
    assert problems[0].startswith(
        "general.yaml: entry gen-a: answer.en: unknown placeholder {office_phon}"
    )
    assert problems[1].startswith("patent.yaml: entry pt-a: answer.en: ")
    assert len(problems) == 2


def test_known_placeholders_and_escaped_braces_are_fine(tmp_path: Path) -> None:
    answer = '"Call {office_phone} ({office_hours}); literal {{braces}}"'
    write(tmp_path, "general.yaml", "general", entry_yaml("gen-a", answer_en=answer))
    assert check_knowledge_base(tmp_path) == []


def test_duplicate_yaml_key_is_reported(tmp_path: Path) -> None:
    broken = entry_yaml().replace("    en: [question one]\n", "    en: [q1]\n    en: [q2]\n")
    write(tmp_path, "trademark.yaml", "trademark", broken)
    assert "duplicate key 'en'" in only_problem(tmp_path)


def test_unknown_key_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "trademark.yaml", "trademark", entry_yaml(extra="  quesitons: {}\n"))
    assert only_problem(tmp_path) == "trademark.yaml: entry tm-one: unknown key 'quesitons'"


def test_missing_id_names_the_position(tmp_path: Path) -> None:
    write(
        tmp_path,
        "trademark.yaml",
        "trademark",
        entry_yaml(),
        entry_yaml().replace("id: tm-one", "id:"),
    )
    assert only_problem(tmp_path) == "trademark.yaml: entry #2: id is missing"


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "patent.yaml", "patent", entry_yaml("pt-a", answer_en='""', related="[nope]"))
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(tmp_path)
    assert raised.value.problems == (
        "patent.yaml: entry pt-a: answer.en is empty",
        "patent.yaml: entry pt-a: related id 'nope' does not exist",
    )
    assert str(raised.value).splitlines()[0] == "patent.yaml: entry pt-a: answer.en is empty"


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    assert check_knowledge_base(tmp_path) == [f"{tmp_path}: no .yaml files"]
    assert check_knowledge_base(tmp_path / "missing") == [
        f"{tmp_path / 'missing'}: not a directory"
    ]


def test_one_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    (target / "general.yaml").write_text("category: general\nentries: []\n", encoding="utf-8")
    broken = (
        (target / "patent.yaml")
        .read_text(encoding="utf-8")
        .replace("related: []", "related: [gen-contact]")
    )
    (target / "patent.yaml").write_text(broken, encoding="utf-8")
    assert check_knowledge_base(target) == [
        "general.yaml: 'entries' must be a non-empty list",
        "patent.yaml: entry pt-annual-fees: related id 'gen-contact' does not exist",
    ]
