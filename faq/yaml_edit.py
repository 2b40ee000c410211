"""Add member phrasings to a knowledge base file without rewriting it.

Staff edit faq/data/*.yaml by hand: their comments, blank lines, block answers and key
order must survive an export. So the file is not loaded and dumped again; its text is
edited in place. PyYAML's composer gives each node's position, and each new phrasing goes on
a line of its own after the last phrasing of its entry and language, with the same
indentation and dash as the line above (in a flow list ``[a, b]``, before the bracket).
Each new item is quoted only when YAML needs it (yaml.safe_dump decides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from faq.extra import phrasing_key
from faq.models import Lang

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class FileEdit:
    text: str  # the new file text
    added: list[tuple[str, Lang, str]] = field(default_factory=list)  # (faq_id, lang, text)
    present: list[tuple[str, Lang, str]] = field(default_factory=list)  # already in the file
    problems: list[str] = field(default_factory=list)  # could not be added, and why


def _value(node: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
            return v
    return None


def _block_item(text: str) -> str:
    dumped: str = yaml.safe_dump([text], allow_unicode=True, width=10**9, default_flow_style=False)
    return dumped.removeprefix("- ").rstrip("\n")


def _flow_item(text: str) -> str:
    dumped: str = yaml.safe_dump([text], allow_unicode=True, width=10**9, default_flow_style=True)
    return dumped.strip().removeprefix("[").removesuffix("]")


def _insertion(text: str, node: yaml.SequenceNode, items: Sequence[str]) -> tuple[int, str] | str:
    """(index, text to insert) after the last item of `node`, or a problem."""
    if not node.value:
        return "an empty list"
    if node.flow_style:
        close = node.end_mark.index - 1
        if text[close] != "]":
            return "a flow list the exporter does not understand"
        return close, "".join(", " + _flow_item(i) for i in items)
    first, last = node.value[0], node.value[-1]
    line_start = text.rfind("\n", 0, first.start_mark.index) + 1
    prefix = text[line_start : first.start_mark.index]
    if prefix.strip() != "-":
        return "a list whose items are not one per line"
    end = last.end_mark.index
    if end > 0 and text[end - 1] == "\n":
        position = end
    else:
        newline = text.find("\n", end)
        position = len(text) if newline < 0 else newline + 1
    lines = "".join(f"{prefix}{_block_item(i)}\n" for i in items)
    if position == len(text) and not text.endswith("\n"):
        lines = "\n" + lines
    return position, lines


def add_questions(text: str, additions: Mapping[str, Mapping[Lang, Sequence[str]]]) -> FileEdit:
    """`text` (one knowledge base file) with `additions` {faq_id: {lang: [phrasing]}} added.

    A phrasing the entry already has (same phrasing_key) is reported as present, not added
    twice; an entry or list the file does not have, as a problem. Raises yaml.YAMLError if
    `text` is not YAML.
    """
    result = FileEdit(text)
    root = yaml.compose(text, Loader=_SafeLoader)
    entries = _value(root, "entries") if root is not None else None
    edits: list[tuple[int, str]] = []
    found: set[str] = set()
    for entry in entries.value if isinstance(entries, yaml.SequenceNode) else []:
        id_node = _value(entry, "id")
        faq_id = str(id_node.value) if isinstance(id_node, yaml.ScalarNode) else ""
        if faq_id not in additions:
            continue
        found.add(faq_id)
        questions = _value(entry, "questions")
        for lang, wanted in additions[faq_id].items():
            node = _value(questions, lang) if questions is not None else None
            if not isinstance(node, yaml.SequenceNode):
                result.problems += [f"{faq_id}: questions.{lang} is not a list" for _ in wanted]
                continue
            have = {
                phrasing_key(str(n.value)) for n in node.value if isinstance(n, yaml.ScalarNode)
            }
            new: list[str] = []
            for phrasing in wanted:
                key = phrasing_key(phrasing)
                if key in have:
                    result.present.append((faq_id, lang, phrasing))
                    continue
                have.add(key)
                new.append(phrasing)
            if not new:
                continue
            spot = _insertion(text, node, new)
            if isinstance(spot, str):
                result.problems.append(f"{faq_id}: questions.{lang} is {spot}")
                continue
            edits.append(spot)
            result.added += [(faq_id, lang, p) for p in new]
    for faq_id in sorted(set(additions) - found):
        result.problems.append(f"{faq_id}: no such entry in this file")
    for position, insert in sorted(edits, reverse=True):
        text = text[:position] + insert + text[position:]
    result.text = text
    return result
