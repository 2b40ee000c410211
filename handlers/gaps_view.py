"""What /gaps and /phrasings show: texts from the catalog and keyboards of ids.

Every gap button names its group by a :class:`GapRef` — the list (``o`` open, ``n`` needs
an entry), the group's key question id and the window in days — followed by the button's
own part (a page, an FAQ id, a category index, a mark). Nothing here talks to Telegram or
the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Catalog
from bot.services.faq_gaps import NEEDS_ENTRY, OPEN, FaqGap
from bot.services.phrasings import StoredPhrasing
from faq.models import CATEGORIES, Category, KnowledgeBase, Lang
from handlers.callbacks import encode

GAPS_PER_PAGE = 5
ENTRIES_PER_PAGE = 8
PHRASINGS_PER_PAGE = 8
EXAMPLE_CHARS = 80
VARIANT_CHARS = 40
BUTTON_CHARS = 60
MAX_ARG = 48  # handlers/callbacks.py

_CODES = {OPEN: "o", NEEDS_ENTRY: "n"}
_LISTS = {code: which for which, code in _CODES.items()}

View = tuple[str, InlineKeyboardMarkup | None]


@dataclass(frozen=True, slots=True)
class GapRef:
    which: str  # OPEN or NEEDS_ENTRY
    key: int  # the group's key question id (0 for a whole list)
    days: int  # the window

    def arg(self, *more: object) -> str:
        parts = [_CODES[self.which], str(self.key), str(self.days), *map(str, more)]
        return ".".join(parts)

    @classmethod
    def parse(cls, arg: str) -> tuple[GapRef, list[str]] | None:
        """(ref, the button's own parts) or None for data we could not have produced."""
        parts = arg.split(".")
        if len(parts) < 3 or parts[0] not in _LISTS:
            return None
        key, days = parts[1], parts[2]
        if not (key.isdigit() and days.isdigit() and len(key) < 12 and 1 <= int(days) <= 366):
            return None
        return cls(_LISTS[parts[0]], int(key), int(days)), parts[3:]


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button(label: str, kind: str, arg: str | int = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(short(label, BUTTON_CHARS), callback_data=encode(kind, arg))


def pages_of(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def category_name(catalog: Catalog, lang: Lang, code: str) -> str:
    key = f"stats_cat_{code}"
    return catalog.raw(lang, key) if key in catalog.keys(lang) else code


def entry_title(kb: KnowledgeBase, catalog: Catalog, lang: Lang, faq_id: str) -> str:
    entry = kb.get(faq_id)
    return entry.title[lang] if entry is not None else catalog.raw(lang, "ph_unknown_entry")


def _variants(gap: FaqGap) -> str:
    return " · ".join(short(v, VARIANT_CHARS) for v in gap.variants)


def _nav(
    catalog: Catalog, lang: Lang, kind: str, page: int, pages: int, arg: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    row = []
    if page > 1:
        row.append(button(catalog.raw(lang, "gp_btn_page_prev"), kind, arg(page - 1)))
    if page < pages:
        row.append(button(catalog.raw(lang, "gp_btn_page_next"), kind, arg(page + 1)))
    return row


def _markup(rows: Sequence[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])


def list_view(
    catalog: Catalog, lang: Lang, groups: Sequence[FaqGap], ref: GapRef, page: int
) -> View:
    """One page of a gap list; `ref.key` is unused (0)."""
    if not groups:
        return catalog.t(lang, f"gp_list_empty_{ref.which}", days=ref.days), None
    pages = pages_of(len(groups), GAPS_PER_PAGE)
    page = min(max(page, 1), pages)
    first = (page - 1) * GAPS_PER_PAGE
    lines = [
        catalog.t(
            lang,
            "gp_list_title",
            days=ref.days,
            which=catalog.raw(lang, f"gp_which_{ref.which}"),
            total=len(groups),
            page=page,
            pages=pages,
        ),
        "",
    ]
    numbers = []
    for rank, gap in enumerate(groups[first : first + GAPS_PER_PAGE], start=first + 1):
        lines.append(
            catalog.t(
                lang,
                "gp_list_line",
                rank=rank,
                count=gap.count,
                category=category_name(catalog, lang, gap.category),
                example=short(gap.example, EXAMPLE_CHARS),
            )
        )
        if gap.variants:
            lines.append(catalog.t(lang, "gp_list_variants", variants=_variants(gap)))
        if gap.needs_entry and ref.which == OPEN:
            lines.append(catalog.t(lang, "gp_list_needs_entry"))
        group = GapRef(ref.which, gap.key, ref.days)
        numbers.append(button(str(rank), "gv", group.arg(page)))
    lines += ["", catalog.t(lang, "gp_list_hint")]
    nav = _nav(catalog, lang, "gl", page, pages, lambda p: ref.arg(p))
    return "\n".join(lines), _markup([numbers, nav])


def detail_view(
    catalog: Catalog,
    lang: Lang,
    kb: KnowledgeBase,
    gap: FaqGap,
    suggestions: Sequence[str],
    ref: GapRef,
    page: int,
) -> View:
    """A group and what can be done with it; `page` is the list page to go back to."""
    example_lang: Lang = "en" if gap.example_lang == "en" else "zh"
    parts = [
        catalog.t(
            lang,
            "gp_detail",
            count=gap.count,
            category=category_name(catalog, lang, gap.category),
            lang=catalog.raw(lang, f"gp_lang_{example_lang}"),
            example=gap.example,
        )
    ]
    if gap.variants:
        parts.append(catalog.t(lang, "gp_detail_variants", variants=_variants(gap)))
    parts.append(catalog.t(lang, "gp_detail_suggest" if suggestions else "gp_detail_no_suggest"))
    rows: list[list[InlineKeyboardButton]] = []
    for faq_id in suggestions:
        entry = kb.get(faq_id)
        if entry is not None and len(ref.arg(faq_id)) <= MAX_ARG:
            rows.append([button("➕ " + entry.title[lang], "ga", ref.arg(faq_id))])
    rows.append([button(catalog.raw(lang, "gp_btn_pick_category"), "gc", ref.arg())])
    marks = [button(catalog.raw(lang, "gp_btn_dismiss"), "gm", ref.arg("d"))]
    if not gap.needs_entry:
        marks.insert(0, button(catalog.raw(lang, "gp_btn_new_entry"), "gm", ref.arg("n")))
    rows.append(marks)
    back = GapRef(ref.which, 0, ref.days)
    rows.append([button(catalog.raw(lang, "gp_btn_back"), "gl", back.arg(page))])
    return "\n\n".join(parts), _markup(rows)


def categories_view(catalog: Catalog, lang: Lang, gap: FaqGap, ref: GapRef) -> View:
    rows = [
        [button(category_name(catalog, lang, c), "gk", ref.arg(i, 1))]
        for i, c in enumerate(CATEGORIES)
    ]
    rows.append([button(catalog.raw(lang, "gp_btn_back"), "gv", ref.arg(1))])
    text = catalog.t(lang, "gp_pick_category", example=short(gap.example, EXAMPLE_CHARS))
    return text, _markup(rows)


def entries_view(
    catalog: Catalog, lang: Lang, kb: KnowledgeBase, ref: GapRef, category_index: int, page: int
) -> View:
    category: Category = CATEGORIES[category_index]
    entries = kb.in_category(category)
    pages = pages_of(len(entries), ENTRIES_PER_PAGE)
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * ENTRIES_PER_PAGE : page * ENTRIES_PER_PAGE]
    rows = [
        [button(e.title[lang], "ga", ref.arg(e.id))]
        for e in shown
        if len(ref.arg(e.id)) <= MAX_ARG
    ]
    rows.append(_nav(catalog, lang, "gk", page, pages, lambda p: ref.arg(category_index, p)))
    rows.append([button(catalog.raw(lang, "gp_btn_back"), "gc", ref.arg())])
    text = catalog.t(
        lang,
        "gp_pick_entry",
        category=category_name(catalog, lang, category),
        page=page,
        pages=pages,
    )
    return text, _markup(rows)


def added_view(
    catalog: Catalog,
    lang: Lang,
    kb: KnowledgeBase,
    phrasing: StoredPhrasing,
    count: int,
    ref: GapRef,
) -> View:
    text = catalog.t(
        lang,
        "gp_added",
        text=phrasing.text,
        title=entry_title(kb, catalog, lang, phrasing.faq_id),
        lang=catalog.raw(lang, f"gp_lang_{phrasing.lang}"),
        count=count,
    )
    back = GapRef(ref.which, 0, ref.days)
    row = [
        button(catalog.raw(lang, "gp_btn_undo"), "phx", f"{phrasing.id}.1"),
        button(catalog.raw(lang, "gp_btn_back"), "gl", back.arg(1)),
    ]
    return text, _markup([row])


def marked_view(catalog: Catalog, lang: Lang, key: str, count: int, ref: GapRef) -> View:
    back = GapRef(ref.which, 0, ref.days)
    row = [button(catalog.raw(lang, "gp_btn_back"), "gl", back.arg(1))]
    return catalog.t(lang, key, count=count), _markup([row])


def phrasings_view(
    catalog: Catalog,
    lang: Lang,
    kb: KnowledgeBase,
    items: Sequence[StoredPhrasing],
    total: int,
    page: int,
    zone: tzinfo,
) -> View:
    if total == 0:
        return catalog.t(lang, "ph_empty"), None
    pages = pages_of(total, PHRASINGS_PER_PAGE)
    lines = [catalog.t(lang, "ph_title", total=total, page=page, pages=pages), ""]
    removes = []
    for rank, item in enumerate(items, start=(page - 1) * PHRASINGS_PER_PAGE + 1):
        lines.append(
            catalog.t(
                lang,
                "ph_line",
                rank=rank,
                title=entry_title(kb, catalog, lang, item.faq_id),
                lang=catalog.raw(lang, f"gp_lang_{item.lang}"),
                text=item.text,
                when=item.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                by=item.added_by,
            )
        )
        removes.append(button(f"🗑 {rank}", "phx", f"{item.id}.{page}"))
    lines += ["", catalog.t(lang, "ph_hint")]
    rows = [removes[i : i + 4] for i in range(0, len(removes), 4)]
    rows.append(_nav(catalog, lang, "phl", page, pages, str))
    return "\n".join(lines), _markup(rows)
