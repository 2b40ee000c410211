from __future__ import annotations

import pytest

from bot.text import TELEGRAM_LIMIT, split_text


def test_short_text_is_one_chunk() -> None:
    assert split_text("商标续展\n\n10 年") == ["商标续展\n\n10 年"]


def test_empty_text_gives_nothing() -> None:
    assert split_text("   \n ") == []


def test_splits_at_paragraph_boundaries_under_limit() -> None:
    paragraphs = [f"第{i}段。" + "字" * 900 for i in range(12)]
    chunks = split_text("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all(len(c) < TELEGRAM_LIMIT for c in chunks)
    # no paragraph was cut in two
    rejoined = [p for c in chunks for p in c.split("\n\n")]
    assert rejoined == paragraphs


@pytest.mark.parametrize("size", [5000, 12000, 40000])
def test_one_huge_line_is_cut_hard_and_nothing_lost(size: int) -> None:
    text = "x" * size
    chunks = split_text(text)
    assert all(0 < len(c) < TELEGRAM_LIMIT for c in chunks)
    assert "".join(chunks) == text
