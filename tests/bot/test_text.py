from __future__ import annotations

import re
from html import unescape

import pytest

from bot.text import CHUNK_LIMIT, TELEGRAM_LIMIT, html, split_html, split_plain, utf16_len


def test_short_text_is_one_chunk() -> None:
    assert split_plain("商标续展\n\n10 年") == ["商标续展\n\n10 年"]


def test_empty_text_gives_nothing() -> None:
    assert split_plain("   \n ") == []
    assert split_html("") == []


def test_splits_at_paragraph_boundaries_under_limit() -> None:
    paragraphs = [f"第{i}段。" + "字" * 900 for i in range(12)]
    chunks = split_plain("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all(utf16_len(c) <= CHUNK_LIMIT for c in chunks)
    # no paragraph was cut in two
    rejoined = [p for c in chunks for p in c.split("\n\n")]
    assert rejoined == paragraphs


def test_lines_are_kept_whole_when_paragraphs_are_too_long() -> None:
    lines = [f"<b>{i}</b> " + "字" * 300 for i in range(40)]
    chunks = split_html("\n".join(lines), limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines


@pytest.mark.parametrize("size", [5000, 12000, 40000])
def test_one_huge_line_is_cut_hard_and_nothing_lost(size: int) -> None:
    text = "x" * size
    chunks = split_plain(text)
    assert all(0 < len(c) < TELEGRAM_LIMIT for c in chunks)
    assert "".join(chunks) == text


def test_a_long_sentence_breaks_at_a_word_not_inside_one() -> None:
    words = " ".join(f"word{i}" for i in range(2000))
    chunks = split_plain(words, limit=500)
    assert all(len(c) <= 500 for c in chunks)
    assert " ".join(chunks) == words


def test_chinese_without_spaces_breaks_after_punctuation() -> None:
    text = "".join(f"第{i}句话说明商标续展的期限，以及费用。" for i in range(300))
    chunks = split_plain(text, limit=400)
    assert all(c.endswith(("。", "，")) for c in chunks[:-1])
    assert "".join(chunks) == text


@pytest.mark.parametrize("limit", [7, 8, 9, 10, 11, 13, 50])
def test_an_entity_is_never_split(limit: int) -> None:
    text = "A&B <c> " * 200 + "x" * 300
    chunks = split_plain(text, limit=limit)
    for chunk in chunks:
        assert utf16_len(chunk) <= limit
        # every & starts a whole entity
        assert all(re.match(r"&(amp|lt|gt);", chunk[m.start() :]) for m in re.finditer("&", chunk))
    rejoined = "".join(unescape(c) for c in chunks).replace(" ", "")
    assert rejoined == text.replace(" ", "")


def test_open_tags_are_closed_and_reopened_across_a_cut() -> None:
    quote = "<blockquote expandable>" + html("引用 & 说明 " * 400) + "</blockquote>"
    chunks = split_html("<b>标题</b>\n" + quote, limit=1000)
    assert len(chunks) > 2
    for chunk in chunks[1:]:
        assert chunk.startswith("<blockquote expandable>")
        assert chunk.endswith("</blockquote>")
        assert chunk.count("<blockquote") == chunk.count("</blockquote>")
    assert all(len(c) <= 1000 for c in chunks)


def test_length_is_counted_as_telegram_does() -> None:
    emoji = "😀" * 3000  # two UTF-16 units each
    chunks = split_plain(emoji)
    assert len(chunks) == 2
    assert all(utf16_len(c) <= CHUNK_LIMIT for c in chunks)
    assert "".join(chunks) == emoji
