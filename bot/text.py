"""Text helpers for Telegram: HTML escaping and the one splitter for long messages.

Everything the bot sends is Telegram HTML, so there is one splitter, :func:`split_html`,
and plain text is escaped before it is split. It never cuts inside a tag or an entity
(``&amp;``), closes the tags still open at a cut and opens them again in the next part, and
prefers, in order, a paragraph break, a line break, the end of a sentence, a space; only a
line with none of these is cut between characters. Lengths are counted in UTF-16 units, as
Telegram counts them.
"""

from __future__ import annotations

import re
from html import escape

TELEGRAM_LIMIT = 4096
CHUNK_LIMIT = TELEGRAM_LIMIT - 96
"""The margin under 4,096 leaves room for a header or footer added to a part."""

_ATOM = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)[^>]*>")
_SENTENCE_END = frozenset("!?;.:")
"""Followed by a space, the end of a sentence."""
_CJK_SENTENCE_END = frozenset("。！？；：")
_CJK_SOFT = frozenset("，、")

# Where a cut may go, best first.
_PARAGRAPH, _LINE, _SENTENCE, _SPACE = 4, 3, 2, 1


def html(text: str) -> str:
    return escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_plain(text: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """Plain (untrusted) text escaped, then split: parts of HTML ready to send."""
    return split_html(html(text.strip()), limit)


def split_html(text: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """Split Telegram HTML into parts of at most ``limit`` UTF-16 units; [] for blank text.

    The whitespace of a paragraph, line or word break where a part ends is dropped; a part
    cut in the middle of a word continues exactly where it stopped.
    """
    text = text.strip()
    if not text:
        return []
    if utf16_len(text) <= limit:
        return [text]
    atoms = _ATOM.findall(text)
    parts: list[str] = []
    carried: tuple[tuple[str, str], ...] = ()  # tags open at the start of this part
    start = 0
    while start < len(atoms):
        cut, skip, open_at_cut = _next_cut(atoms, start, carried, limit)
        body = "".join(atoms[start:cut])
        opening = "".join(tag for _, tag in carried)
        closing = "".join(f"</{name}>" for name, _ in reversed(open_at_cut))
        if body.strip():
            parts.append(f"{opening}{body.rstrip(' ') if skip else body}{closing}")
        carried = open_at_cut
        start = cut + skip
        while start < len(atoms) and atoms[start] in ("\n", " ") and skip:
            start += 1  # a run of blank lines or spaces at a cut is dropped as a whole
    return parts


def _next_cut(
    atoms: list[str], start: int, carried: tuple[tuple[str, str], ...], limit: int
) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Where the part starting at ``start`` ends: (cut index, separator atoms to drop, tags
    open at the cut). The latest break of the best kind that fits wins."""
    size = sum(utf16_len(tag) for _, tag in carried)
    stack = carried
    best: dict[int, tuple[int, int, tuple[tuple[str, str], ...]]] = {}
    index = start
    while index < len(atoms):
        atom = atoms[index]
        after = _after(stack, atom)
        closing = sum(len(name) + 3 for name, _ in after)
        if size + utf16_len(atom) + closing > limit:
            break
        if index > start and atom in ("\n", " "):
            previous = atoms[index - 1]
            if atom == "\n":
                double = index + 1 < len(atoms) and atoms[index + 1] == "\n"
                best[_PARAGRAPH if double else _LINE] = (index, 2 if double else 1, stack)
            elif previous in _SENTENCE_END:
                best[_SENTENCE] = (index, 1, stack)
            else:
                best[_SPACE] = (index, 1, stack)
        size += utf16_len(atom)
        stack = after
        index += 1
        if atom in _CJK_SENTENCE_END:
            best[_SENTENCE] = (index, 0, stack)
        elif atom in _CJK_SOFT:
            best[_SPACE] = (index, 0, stack)
    else:
        return len(atoms), 0, stack
    if best:
        return best[max(best)]
    if index == start:  # not even one atom fits beside the open tags: send it anyway
        return start + 1, 0, _after(stack, atoms[start])
    return index, 0, stack


def _after(stack: tuple[tuple[str, str], ...], atom: str) -> tuple[tuple[str, str], ...]:
    """The open tags after ``atom``."""
    match = _TAG.fullmatch(atom) if atom.startswith("<") else None
    if match is None:
        return stack
    closing, name = match[1], match[2].lower()
    if not closing:
        return (*stack, (name, atom))
    for position in range(len(stack) - 1, -1, -1):
        if stack[position][0] == name:
            return stack[:position] + stack[position + 1 :]
    return stack
