"""Announcement text as Telegram HTML that Telegram accepts and that cannot smuggle anything.

Staff format an announcement with Telegram's own bold/italic/link buttons (the handler turns
the message's entities into HTML) or type the tags themselves. Either way the text is rebuilt
here: the tags Telegram's HTML parse mode knows are kept (links only to http, https and tg
addresses), every other tag and every stray ``<`` or ``&`` becomes visible text, and tags are
balanced — an unclosed ``<b>`` is closed at the end, a closing tag without its opening one is
dropped. The result is what members get, byte for byte.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

_SIMPLE = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "tg-spoiler",
}
_LINK_SCHEMES = ("http://", "https://", "tg://")


class _Rebuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in _SIMPLE:
            name = _SIMPLE[tag]
            self.out.append(f"<{name}>")
            self.open.append(name)
        elif tag == "span" and values.get("class") == "tg-spoiler":
            self.out.append("<tg-spoiler>")
            self.open.append("tg-spoiler")
        elif tag == "a" and values.get("href", "").strip().lower().startswith(_LINK_SCHEMES):
            href = escape(values["href"].strip(), quote=True)
            self.out.append(f'<a href="{href}">')
            self.open.append("a")
        else:
            self.out.append(escape(self.get_starttag_text() or f"<{tag}>", quote=False))

    def handle_endtag(self, tag: str) -> None:
        name = "tg-spoiler" if tag == "span" else _SIMPLE.get(tag, tag)
        if name not in self.open:
            if tag not in _SIMPLE and tag not in ("a", "span"):
                self.out.append(escape(f"</{tag}>", quote=False))
            return
        # Close everything opened after it, then it (Telegram needs proper nesting).
        while self.open:
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == name:
                break

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))

    def close_all(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def sanitise(text: str) -> str:
    """Telegram-safe HTML from what staff wrote (see the module docstring)."""
    parser = _Rebuilder()
    parser.feed(text)
    return parser.close_all()


def visible_length(html_text: str) -> int:
    """Characters Telegram counts (tags excluded, entities as one character)."""

    counter = _Counter()
    counter.feed(html_text)
    counter.close()
    return counter.n


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.n = 0

    def handle_data(self, data: str) -> None:
        self.n += len(data)
