"""Read and validate the YAML knowledge base (schema in faq/README.md).

Every problem names the file and the entry, because the files are edited by hand by
association staff who then run `ipdesk faq check`.
"""

from __future__ import annotations

import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from faq.models import CATEGORIES, LANGS, PLACEHOLDERS, Category, FaqEntry, KnowledgeBase, Lang

DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "data"
MAX_ANSWER_CHARS = 4096  # Telegram's limit for one message
_FILE_KEYS = frozenset({"category", "entries"})
_ENTRY_KEYS = frozenset({"id", "category", "title", "questions", "answer", "related"})


class KnowledgeBaseError(ValueError):
    """The knowledge base has problems; `problems` lists them all, one line each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


def load_knowledge_base(directory: Path | str | None = None) -> KnowledgeBase:
    """Load every `*.yaml` file of `directory` (default: faq/data) or raise KnowledgeBaseError."""
    entries, problems = _read_directory(Path(directory) if directory else DEFAULT_DIRECTORY)
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(entries)


def check_knowledge_base(directory: Path | str | None = None) -> list[str]:
    """All problems of the knowledge base in `directory`; an empty list means it loads."""
    return _read_directory(Path(directory) if directory else DEFAULT_DIRECTORY)[1]


# libyaml's parser when PyYAML was built with it: it loads the knowledge base ~5x faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictYamlLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that rejects duplicate keys, which PyYAML would silently overwrite."""


def _construct_unique_mapping(loader: _StrictYamlLoader, node: yaml.MappingNode) -> Any:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            continue  # an unhashable key fails in construct_mapping below
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


@dataclass
class _Collected:
    entries: list[FaqEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    first_source: dict[str, str] = field(default_factory=dict)  # id -> file that defined it
    related: list[tuple[str, str, tuple[str, ...]]] = field(
        default_factory=list
    )  # also of broken entries


def _read_directory(directory: Path) -> tuple[list[FaqEntry], list[str]]:
    out = _Collected()
    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        return [], [f"{directory}: no .yaml files"]
    for path in files:
        _read_file(path, out)
    known = set(out.first_source)
    for source, entry_id, related in out.related:
        for rel in related:
            if rel == entry_id:
                out.problems.append(f"{source}: entry {entry_id}: related lists itself")
            elif rel not in known:
                out.problems.append(
                    f"{source}: entry {entry_id}: related id {rel!r} does not exist"
                )
    return out.entries, out.problems


def _read_file(path: Path, out: _Collected) -> None:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        out.problems.append(f"{name}: not UTF-8 text")
        return
    try:
        data = yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        out.problems.append(f"{name}: malformed YAML{_yaml_position(exc)}: {_yaml_reason(exc)}")
        return
    if not isinstance(data, dict):
        out.problems.append(f"{name}: expected a mapping with 'category' and 'entries'")
        return
    for key in sorted(set(map(str, data)) - _FILE_KEYS):
        out.problems.append(f"{name}: unknown key {key!r}")
    category = data.get("category")
    if category not in CATEGORIES:
        out.problems.append(f"{name}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        out.problems.append(f"{name}: 'entries' must be a non-empty list")
        return
    for number, raw in enumerate(raw_entries, start=1):
        _read_entry(name, number, raw, category if category in CATEGORIES else None, out)


def _yaml_position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return ""
    return f" at line {mark.line + 1}, column {mark.column + 1}"


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem) if problem else str(exc).splitlines()[0]


def _read_entry(
    name: str, number: int, raw: object, category: Category | None, out: _Collected
) -> None:
    if not isinstance(raw, dict):
        out.problems.append(f"{name}: entry #{number}: expected a mapping")
        return
    raw_id = raw.get("id")
    valid_id = isinstance(raw_id, str) and raw_id.strip() != "" and raw_id.split() == [raw_id]
    where = f"{name}: entry {raw_id}" if valid_id else f"{name}: entry #{number}"
    problems: list[str] = []
    if not valid_id:
        problems.append("id is missing" if raw_id is None else f"id {raw_id!r} is not a word")
    for key in sorted(set(map(str, raw)) - _ENTRY_KEYS):
        problems.append(f"unknown key {key!r}")
    if "category" in raw and raw["category"] != category:
        problems.append(f"category {raw['category']!r} does not match the file's {category!r}")

    title = _texts_by_lang("title", raw.get("title"), problems)
    questions = _questions_by_lang(raw.get("questions"), problems)
    answer = _texts_by_lang("answer", raw.get("answer"), problems)
    for lang, text in answer.items():
        if len(text) > MAX_ANSWER_CHARS:
            problems.append(
                f"answer.{lang} has {len(text)} characters, more than {MAX_ANSWER_CHARS}"
            )
        problems.extend(_placeholder_problems(f"answer.{lang}", text))
    related = _related(raw.get("related"), problems)

    if valid_id:
        entry_id = cast(str, raw_id)
        first = out.first_source.get(entry_id)
        if first is not None:
            problems.append(f"duplicate id (first defined in {first})")
        else:
            out.first_source[entry_id] = name
        out.related.append((name, entry_id, related))
    out.problems.extend(f"{where}: {p}" for p in problems)
    if problems or category is None:
        return
    out.entries.append(
        FaqEntry(
            id=cast(str, raw_id),
            category=category,
            title=title,
            questions=questions,
            answer=answer,
            related=related,
            source=name,
        )
    )


def _lang_mapping(label: str, value: object, problems: list[str]) -> dict[Lang, object]:
    if not isinstance(value, dict):
        problems.append(f"{label} is missing" if value is None else f"{label} must map zh/en")
        return {}
    for key in sorted(set(map(str, value)) - set(LANGS)):
        problems.append(f"{label}.{key}: unknown language (use zh and en)")
    found: dict[Lang, object] = {}
    for lang in LANGS:
        if lang not in value or value[lang] is None:
            problems.append(f"{label}.{lang} is missing")
        else:
            found[lang] = value[lang]
    return found


def _texts_by_lang(label: str, value: object, problems: list[str]) -> dict[Lang, str]:
    texts: dict[Lang, str] = {}
    for lang, item in _lang_mapping(label, value, problems).items():
        if not isinstance(item, str):
            problems.append(f"{label}.{lang} must be text, not {type(item).__name__}")
        elif not item.strip():
            problems.append(f"{label}.{lang} is empty")
        else:
            texts[lang] = item.strip()
    return texts


def _questions_by_lang(value: object, problems: list[str]) -> dict[Lang, tuple[str, ...]]:
    found: dict[Lang, tuple[str, ...]] = {}
    for lang, item in _lang_mapping("questions", value, problems).items():
        items = [item] if isinstance(item, str) else item
        if not isinstance(items, list) or not items:
            problems.append(f"questions.{lang} must be a non-empty list")
            continue
        texts: list[str] = []
        for index, question in enumerate(items, start=1):
            if not isinstance(question, str):
                problems.append(f"questions.{lang} #{index} must be text")
            elif not question.strip():
                problems.append(f"questions.{lang} #{index} is empty")
            else:
                texts.append(question.strip())
        found[lang] = tuple(texts)
    return found


def _placeholder_problems(label: str, text: str) -> list[str]:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"{label}: {exc} (write a literal brace as {{{{ or }}}})"]
    problems: list[str] = []
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if field_name not in PLACEHOLDERS or spec or conversion:
            problems.append(
                f"{label}: unknown placeholder {{{field_name}}} (known: {', '.join(PLACEHOLDERS)})"
            )
    return problems


def _related(value: object, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append("related must be a list of entry ids")
        return ()
    return tuple(value)
