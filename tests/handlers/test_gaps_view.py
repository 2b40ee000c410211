"""/gaps and /phrasings rendering: ids in buttons, paging, forged references refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import load_catalog
from bot.services.faq_gaps import NEEDS_ENTRY, OPEN, FaqGap
from bot.services.phrasings import StoredPhrasing
from faq.loader import load_knowledge_base
from faq.models import CATEGORIES
from handlers import gaps_view as view
from handlers.callbacks import decode
from handlers.gaps import parse_gaps_args
from handlers.gaps_view import GapRef

CATALOG = load_catalog()
KB = load_knowledge_base()


def _gap(n: int, **kw: object) -> FaqGap:
    values: dict[str, object] = {
        "count": 12 - n,
        "example": f"问题{n} <b>不是标签</b>",
        "category": "trademark",
        "lang": "zh",
        "variants": ("另一种问法",),
        "question_ids": (n,),
        "key": 1000 + n,
        "example_lang": "zh",
    }
    values.update(kw)
    return FaqGap(**values)  # type: ignore[arg-type]


def _data(markup: object) -> list[str]:
    rows = getattr(markup, "inline_keyboard", ())
    return [b.callback_data for row in rows for b in row]


def test_references_round_trip_and_forgeries_are_refused() -> None:
    ref = GapRef(NEEDS_ENTRY, 4242, 30)
    assert GapRef.parse(ref.arg("tm-register")) == (ref, ["tm-register"])
    for forged in ("x.1.30", "o.1", "o.-1.30", "o.1.0", "o.1.999", "o.abc.30", "o.1.30d"):
        assert GapRef.parse(forged) is None, forged


def test_a_list_page_escapes_member_text_and_pages_with_ids_only() -> None:
    groups = [_gap(n) for n in range(7)]
    text, markup = view.list_view(CATALOG, "zh", groups, GapRef(OPEN, 0, 90), 1)
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in text
    assert "第 1/2 页" in text
    data = _data(markup)
    assert data[:5] == [f"gv:o.{1000 + n}.90.1" for n in range(5)]
    assert data[5:] == ["gl:o.0.90.2"]
    text, markup = view.list_view(CATALOG, "en", groups, GapRef(OPEN, 0, 90), 9)
    assert "page 2/2" in text  # past the end: the last page
    assert _data(markup) == ["gv:o.1005.90.2", "gv:o.1006.90.2", "gl:o.0.90.1"]
    empty, none = view.list_view(CATALOG, "zh", [], GapRef(NEEDS_ENTRY, 0, 90), 1)
    assert empty == CATALOG.t("zh", "gp_list_empty_new", days=90)
    assert none is None


def test_a_group_offers_suggestions_picker_marks_and_back() -> None:
    ref = GapRef(OPEN, 1001, 90)
    text, markup = view.detail_view(
        CATALOG, "en", KB, _gap(1), ["tm-register", "no-such-id"], ref, 2
    )
    assert "A member asked" in text
    assert _data(markup) == [
        "ga:o.1001.90.tm-register",
        "gc:o.1001.90",
        "gm:o.1001.90.n",
        "gm:o.1001.90.d",
        "gl:o.0.90.2",
    ]
    _, marked = view.detail_view(CATALOG, "zh", KB, _gap(1, needs_entry=True), [], ref, 1)
    assert "gm:o.1001.90.n" not in _data(marked)


def test_every_entry_of_every_category_can_be_picked() -> None:
    ref = GapRef(OPEN, 10**10, 366)  # the longest reference a button carries
    for index, category in enumerate(CATEGORIES):
        entries = KB.in_category(category)
        picked: list[str] = []
        for page in range(1, view.pages_of(len(entries), view.ENTRIES_PER_PAGE) + 1):
            _, markup = view.entries_view(CATALOG, "zh", KB, ref, index, page)
            picked += [d for d in _data(markup) if d.startswith("ga:")]
        assert sorted(picked) == sorted(f"ga:{ref.arg(e.id)}" for e in entries)
        assert all(decode(d) is not None for d in picked)


def test_phrasings_page_shows_local_time_and_remove_buttons() -> None:
    item = StoredPhrasing(
        7, "tm-register", "zh", "牌子咋整", 900001, datetime(2026, 12, 5, 2, 30, tzinfo=UTC)
    )
    text, markup = view.phrasings_view(CATALOG, "zh", KB, [item], 9, 1, ZoneInfo("Asia/Shanghai"))
    assert "2026-12-05 10:30" in text
    assert _data(markup) == ["phx:7.1", "phl:2"]


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        ([], (OPEN, 90)),
        (["new"], (NEEDS_ENTRY, 90)),
        (["30d", "新"], (NEEDS_ENTRY, 30)),
        (["7天"], (OPEN, 7)),
        (["0d"], None),
        (["400d"], None),
        (["everything"], None),
    ],
)
def test_gaps_arguments(args: list[str], parsed: tuple[str, int] | None) -> None:
    assert parse_gaps_args(args) == parsed
