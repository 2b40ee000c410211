"""FAQ gaps and staff-added phrasings in Telegram (admins, private chat with the bot).

* ``/gaps [new] [Nd]`` — the groups of questions the FAQ could not serve in the last N days
  (default GAP_WINDOW_DAYS), paged; ``new`` lists those marked as needing a new entry.
  A group opens with the engine's suggested entries as buttons (one tap adds the group's
  example wording as a phrasing of that entry), a category → entry picker, "needs a new
  entry" and "dismiss".
* ``/phrasings`` — the stored phrasings, paged, each with a remove button.

Buttons carry only ids (handlers/callbacks.py): the list (``o`` open, ``n`` needs an
entry), the group's key question id, a page, an FAQ id or a category index. Every press is
authorised again from the database by the services (admins only), and a group is looked up
afresh: a press on a group reviewed meanwhile gets the stale-button answer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import Context
from bot.i18n import Catalog
from bot.services.errors import NotAllowed, StaleAction
from bot.services.faq_gaps import LISTS, NEEDS_ENTRY, OPEN, FaqGap, suggested_entries
from bot.services.phrasings import PhrasingRefused, StoredPhrasing
from bot.services.roles import is_admin
from db.models import GapStatus
from faq.models import CATEGORIES, KnowledgeBase, Lang
from handlers.callbacks import Callback, decode, encode
from handlers.common import edit_html, profile_of, send_html

GAP_WINDOW_DAYS = 90
GAPS_PER_PAGE = 5
ENTRIES_PER_PAGE = 8
PHRASINGS_PER_PAGE = 8
EXAMPLE_CHARS = 80
BUTTON_CHARS = 60
PATTERN = r"^(?:gl|gv|ga|gc|gk|gm|phl|phx)(?::|$)"
_WHICH = {"o": OPEN, "n": NEEDS_ENTRY}
_CODE = {v: k for k, v in _WHICH.items()}
_DAYS = re.compile(r"^(\d{1,3})\s*(?:d|天|日)$")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _button(label: str, kind: str, arg: str | int = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(_short(label, BUTTON_CHARS), callback_data=encode(kind, arg))


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _category(catalog: Catalog, lang: Lang, code: str) -> str:
    key = f"stats_cat_{code}"
    return catalog.raw(lang, key) if key in catalog.keys(lang) else code


def _title(kb: KnowledgeBase, catalog: Catalog, lang: Lang, faq_id: str) -> str:
    entry = kb.get(faq_id)
    return entry.title[lang] if entry is not None else catalog.raw(lang, "ph_unknown_entry")


def _since(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _admin_lang(update: Update, context: Context) -> tuple[int, Lang]:
    """The admin's id and language; NotAllowed (polite refusal) for anybody else."""
    profile = await profile_of(update, context)
    if not is_admin(await context.services.roles.role_of(profile.id)):
        raise NotAllowed("FAQ gaps are for admins")
    return profile.id, profile.lang


# -- rendering ------------------------------------------------------------------------------


def _variants(gap: FaqGap) -> str:
    return " · ".join(_short(v, 40) for v in gap.variants)


def list_view(
    catalog: Catalog, lang: Lang, groups: list[FaqGap], which: str, page: int, days: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not groups:
        return catalog.t(lang, f"gp_list_empty_{which}", days=days), None
    pages = _pages(len(groups), GAPS_PER_PAGE)
    page = min(max(page, 1), pages)
    shown = groups[(page - 1) * GAPS_PER_PAGE : page * GAPS_PER_PAGE]
    code = _CODE[which]
    lines = [
        catalog.t(
            lang,
            "gp_list_title",
            days=days,
            which=catalog.raw(lang, f"gp_which_{which}"),
            total=len(groups),
            page=page,
            pages=pages,
        ),
        "",
    ]
    numbers = []
    for rank, gap in enumerate(shown, start=(page - 1) * GAPS_PER_PAGE + 1):
        lines.append(
            catalog.t(
                lang,
                "gp_list_line",
                rank=rank,
                count=gap.count,
                category=_category(catalog, lang, gap.category),
                example=_short(gap.example, EXAMPLE_CHARS),
            )
        )
        if gap.variants:
            lines.append(catalog.t(lang, "gp_list_variants", variants=_variants(gap)))
        if gap.needs_entry and which == OPEN:
            lines.append(catalog.t(lang, "gp_list_needs_entry"))
        numbers.append(_button(str(rank), "gv", f"{code}.{gap.key}.{days}.{page}"))
    lines += ["", catalog.t(lang, "gp_list_hint")]
    rows = [numbers]
    nav = []
    if page > 1:
        nav.append(
            _button(catalog.raw(lang, "gp_btn_page_prev"), "gl", f"{code}.{page - 1}.{days}")
        )
    if page < pages:
        nav.append(
            _button(catalog.raw(lang, "gp_btn_page_next"), "gl", f"{code}.{page + 1}.{days}")
        )
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def detail_view(
    catalog: Catalog,
    lang: Lang,
    kb: KnowledgeBase,
    gap: FaqGap,
    suggestions: list[str],
    ref: str,
    back: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """A group with its actions; `ref` = "w.key.days" names it in the buttons."""
    example_lang: Lang = "en" if gap.example_lang == "en" else "zh"
    parts = [
        catalog.t(
            lang,
            "gp_detail",
            count=gap.count,
            category=_category(catalog, lang, gap.category),
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
        arg = f"{ref}.{faq_id}"
        if entry is not None and len(arg) <= 48:
            rows.append([_button("➕ " + entry.title[lang], "ga", arg)])
    rows.append([_button(catalog.raw(lang, "gp_btn_pick_category"), "gc", ref)])
    marks = [_button(catalog.raw(lang, "gp_btn_dismiss"), "gm", f"{ref}.d")]
    if not gap.needs_entry:
        marks.insert(0, _button(catalog.raw(lang, "gp_btn_new_entry"), "gm", f"{ref}.n"))
    rows.append(marks)
    rows.append([_button(catalog.raw(lang, "gp_btn_back"), "gl", back)])
    return "\n\n".join(parts), InlineKeyboardMarkup(rows)


def phrasings_view(
    catalog: Catalog,
    lang: Lang,
    kb: KnowledgeBase,
    items: list[StoredPhrasing],
    total: int,
    page: int,
    zone: tzinfo,
) -> tuple[str, InlineKeyboardMarkup | None]:
    if total == 0:
        return catalog.t(lang, "ph_empty"), None
    pages = _pages(total, PHRASINGS_PER_PAGE)
    lines = [catalog.t(lang, "ph_title", total=total, page=page, pages=pages), ""]
    removes = []
    for rank, item in enumerate(items, start=(page - 1) * PHRASINGS_PER_PAGE + 1):
        local = item.created_at.astimezone(zone)
        lines.append(
            catalog.t(
                lang,
                "ph_line",
                rank=rank,
                title=_title(kb, catalog, lang, item.faq_id),
                lang=catalog.raw(lang, f"gp_lang_{item.lang}"),
                text=item.text,
                when=local.strftime("%Y-%m-%d %H:%M"),
                by=item.added_by,
            )
        )
        removes.append(_button(f"🗑 {rank}", "phx", f"{item.id}.{page}"))
    lines += ["", catalog.t(lang, "ph_hint")]
    rows = [removes[i : i + 4] for i in range(0, len(removes), 4)]
    nav = []
    if page > 1:
        nav.append(_button(catalog.raw(lang, "gp_btn_page_prev"), "phl", page - 1))
    if page < pages:
        nav.append(_button(catalog.raw(lang, "gp_btn_page_next"), "phl", page + 1))
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


# -- commands -------------------------------------------------------------------------------


def parse_gaps_args(args: list[str]) -> tuple[str, int] | None:
    """``[new] [Nd]`` in any order → (list, days); None when not understood."""
    which, days = OPEN, GAP_WINDOW_DAYS
    for arg in args:
        word = arg.strip().lower()
        if word in ("new", "新条目", "新"):
            which = NEEDS_ENTRY
        elif (m := _DAYS.match(word)) and 1 <= int(m.group(1)) <= 366:
            days = int(m.group(1))
        else:
            return None
    return which, days


async def gaps_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    admin_id, lang = await _admin_lang(update, context)
    services = context.services
    parsed = parse_gaps_args(list(context.args or []))
    if parsed is None:
        await send_html(
            context, chat.id, services.catalog.t(lang, "gp_usage", days=GAP_WINDOW_DAYS)
        )
        return
    which, days = parsed
    groups = await services.gaps.groups(admin_id, _since(days), which)
    text, markup = list_view(services.catalog, lang, groups, which, 1, days)
    await send_html(context, chat.id, text, markup)


async def phrasings_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    admin_id, lang = await _admin_lang(update, context)
    await _send_phrasings(context, admin_id, lang, chat.id, None, 1)


async def _send_phrasings(
    context: Context, admin_id: int, lang: Lang, chat_id: int, message_id: int | None, page: int
) -> None:
    services = context.services
    items, total = await services.phrasings.page(
        admin_id, (page - 1) * PHRASINGS_PER_PAGE, PHRASINGS_PER_PAGE
    )
    pages = _pages(total, PHRASINGS_PER_PAGE)
    if page > pages:  # the last page emptied: show the new last one
        page = pages
        items, total = await services.phrasings.page(
            admin_id, (page - 1) * PHRASINGS_PER_PAGE, PHRASINGS_PER_PAGE
        )
    text, markup = phrasings_view(
        services.catalog, lang, services.engine.kb, items, total, page, services.settings.zone
    )
    if message_id is None or not await edit_html(context, chat_id, message_id, text, markup):
        await send_html(context, chat_id, text, markup)


# -- buttons --------------------------------------------------------------------------------


def _ints(parts: list[str], count: int) -> list[int] | None:
    if len(parts) < count or not all(p.isdigit() and len(p) < 12 for p in parts[:count]):
        return None
    return [int(p) for p in parts[:count]]


async def on_callback(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or query.message is None:
        return
    admin_id, lang = await _admin_lang(update, context)
    data = decode(query.data)
    if data is None:
        raise StaleAction("unknown button")
    toast = await _dispatch(context, admin_id, lang, chat.id, query.message.message_id, data)
    await query.answer(toast)


async def _dispatch(
    context: Context, admin_id: int, lang: Lang, chat_id: int, message_id: int, data: Callback
) -> str | None:
    """Carry out one press; returns the toast text (None for none)."""
    services = context.services
    catalog = services.catalog
    kind = data.kind
    if kind == "phl":
        page = data.int_arg()
        if page is None or page < 1:
            raise StaleAction("bad page")
        await _send_phrasings(context, admin_id, lang, chat_id, message_id, page)
        return None
    if kind == "phx":
        numbers = _ints(data.arg.split("."), 2)
        if numbers is None:
            raise StaleAction("bad phrasing")
        removed = await services.phrasings.remove(admin_id, numbers[0])
        await services.knowledge.refresh()
        title = _title(services.engine.kb, catalog, lang, removed.faq_id)
        await send_html(
            context, chat_id, catalog.t(lang, "ph_removed", text=removed.text, title=title)
        )
        await _send_phrasings(context, admin_id, lang, chat_id, message_id, max(numbers[1], 1))
        return catalog.raw(lang, "gp_toast_removed")

    parts = data.arg.split(".")
    which = _WHICH.get(parts[0]) if parts else None
    if which is None or which not in LISTS:
        raise StaleAction("bad list")
    code = parts[0]
    if kind == "gl":
        numbers = _ints(parts[1:], 2)
        if numbers is None:
            raise StaleAction("bad page")
        page, days = numbers
        groups = await services.gaps.groups(admin_id, _since(days), which)
        text, markup = list_view(catalog, lang, groups, which, page, days)
        await edit_html(context, chat_id, message_id, text, markup)
        return None
    numbers = _ints(parts[1:], 2)  # the group: list.key.days, then the button's own part
    if numbers is None:
        raise StaleAction("bad gap")
    key, days = numbers
    ref = f"{code}.{key}.{days}"
    rest = parts[3:]
    if kind == "gv":
        pages = _ints(rest, 1)
        if pages is None:
            raise StaleAction("bad page")
        await _show_group(context, admin_id, lang, chat_id, message_id, which, key, days, pages[0])
        return None
    if kind == "ga":
        faq_id = ".".join(rest)
        return await _add(context, admin_id, lang, chat_id, message_id, which, key, days, faq_id)
    if kind == "gc":
        gap = await services.gaps.group(admin_id, key, _since(days), which)
        rows = [
            [_button(_category(catalog, lang, c), "gk", f"{ref}.{i}.1")]
            for i, c in enumerate(CATEGORIES)
        ]
        rows.append([_button(catalog.raw(lang, "gp_btn_back"), "gv", f"{ref}.1")])
        text = catalog.t(lang, "gp_pick_category", example=_short(gap.example, EXAMPLE_CHARS))
        await edit_html(context, chat_id, message_id, text, InlineKeyboardMarkup(rows))
        return None
    if kind == "gk":
        picked = _ints(rest, 2)
        if picked is None or picked[0] >= len(CATEGORIES):
            raise StaleAction("bad category")
        await services.gaps.group(admin_id, key, _since(days), which)  # still open?
        await _show_entries(context, lang, chat_id, message_id, ref, picked[0], picked[1])
        return None
    if kind == "gm" and rest in (["n"], ["d"]):
        status = GapStatus.NEW_ENTRY if rest == ["n"] else GapStatus.DISMISSED
        gap = await services.gaps.mark(admin_id, key, _since(days), which, status)
        done = "gp_marked_new" if status is GapStatus.NEW_ENTRY else "gp_dismissed"
        back = InlineKeyboardMarkup(
            [[_button(catalog.raw(lang, "gp_btn_back"), "gl", f"{code}.1.{days}")]]
        )
        await edit_html(context, chat_id, message_id, catalog.t(lang, done, count=gap.count), back)
        return catalog.raw(lang, "gp_toast_marked")
    raise StaleAction("unknown gap button")


async def _show_group(
    context: Context,
    admin_id: int,
    lang: Lang,
    chat_id: int,
    message_id: int,
    which: str,
    key: int,
    days: int,
    page: int,
) -> None:
    services = context.services
    gap = await services.gaps.group(admin_id, key, _since(days), which)
    await services.knowledge.refresh()
    suggestions = suggested_entries(services.engine, gap)
    code = _CODE[which]
    text, markup = detail_view(
        services.catalog,
        lang,
        services.engine.kb,
        gap,
        suggestions,
        f"{code}.{gap.key}.{days}",
        f"{code}.{page}.{days}",
    )
    await edit_html(context, chat_id, message_id, text, markup)


async def _show_entries(
    context: Context,
    lang: Lang,
    chat_id: int,
    message_id: int,
    ref: str,
    category_index: int,
    page: int,
) -> None:
    catalog = context.services.catalog
    category = CATEGORIES[category_index]
    entries = context.services.engine.kb.in_category(category)
    pages = _pages(len(entries), ENTRIES_PER_PAGE)
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * ENTRIES_PER_PAGE : page * ENTRIES_PER_PAGE]
    rows = [
        [_button(e.title[lang], "ga", f"{ref}.{e.id}")]
        for e in shown
        if len(f"{ref}.{e.id}") <= 48
    ]
    nav = []
    if page > 1:
        nav.append(
            _button(
                catalog.raw(lang, "gp_btn_page_prev"), "gk", f"{ref}.{category_index}.{page - 1}"
            )
        )
    if page < pages:
        nav.append(
            _button(
                catalog.raw(lang, "gp_btn_page_next"), "gk", f"{ref}.{category_index}.{page + 1}"
            )
        )
    if nav:
        rows.append(nav)
    rows.append([_button(catalog.raw(lang, "gp_btn_back"), "gc", ref)])
    text = catalog.t(
        lang, "gp_pick_entry", category=_category(catalog, lang, category), page=page, pages=pages
    )
    await edit_html(context, chat_id, message_id, text, InlineKeyboardMarkup(rows))


async def _add(
    context: Context,
    admin_id: int,
    lang: Lang,
    chat_id: int,
    message_id: int,
    which: str,
    key: int,
    days: int,
    faq_id: str,
) -> str | None:
    services = context.services
    catalog = services.catalog
    kb = services.engine.kb
    try:
        added = await services.phrasings.add_from_gap(
            admin_id, kb, key, _since(days), which, faq_id
        )
    except PhrasingRefused as refused:
        title = _title(kb, catalog, lang, refused.faq_id or faq_id)
        await send_html(
            context, chat_id, catalog.t(lang, f"gp_refused_{refused.reason}", title=title)
        )
        return None
    await services.knowledge.refresh()  # this process at once; the others before their next triage
    phrasing = added.phrasing
    text = catalog.t(
        lang,
        "gp_added",
        text=phrasing.text,
        title=_title(services.engine.kb, catalog, lang, phrasing.faq_id),
        lang=catalog.raw(lang, f"gp_lang_{phrasing.lang}"),
        count=added.gap.count,
    )
    code = _CODE[which]
    markup = InlineKeyboardMarkup(
        [
            [
                _button(catalog.raw(lang, "gp_btn_undo"), "phx", f"{phrasing.id}.1"),
                _button(catalog.raw(lang, "gp_btn_back"), "gl", f"{code}.1.{days}"),
            ]
        ]
    )
    await edit_html(context, chat_id, message_id, text, markup)
    return catalog.raw(lang, "gp_toast_added")
