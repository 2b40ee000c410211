"""FAQ gaps and staff-added phrasings in Telegram (admins, private chat with the bot).

* ``/gaps [new] [Nd]`` — the groups of questions the FAQ could not serve in the last N days
  (default GAP_WINDOW_DAYS), paged; ``new`` lists those marked as needing a new entry.
  A group opens with the engine's suggested entries as buttons (one tap adds the group's
  example wording as a phrasing of that entry), a category → entry picker, "needs a new
  entry" and "dismiss".
* ``/phrasings`` — the stored phrasings, paged, each with a remove button.

Buttons carry only ids (handlers/gaps_view.py, GapRef). Every press is authorised again
from the database here and in the services (admins only), and a group is looked up afresh:
a press on a group reviewed meanwhile, or data we could not have produced, gets the
stale-button answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telegram import Update

from bot.context import Context
from bot.services.errors import NotAllowed, StaleAction
from bot.services.faq_gaps import NEEDS_ENTRY, OPEN, suggested_entries
from bot.services.phrasings import PhrasingRefused
from bot.services.roles import is_admin
from db.models import GapStatus
from faq.models import CATEGORIES, Lang
from handlers import gaps_view as view
from handlers.callbacks import Callback, decode
from handlers.common import edit_html, profile_of, send_html
from handlers.gaps_view import GapRef

GAP_WINDOW_DAYS = 90
_DAYS = re.compile(r"^(\d{1,3})\s*(?:d|天|日)$")


def _since(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _admin(update: Update, context: Context) -> tuple[int, Lang]:
    """The admin's id and language; NotAllowed (polite refusal) for anybody else."""
    profile = await profile_of(update, context)
    if not is_admin(await context.services.roles.role_of(profile.id)):
        raise NotAllowed("FAQ gaps are for admins")
    return profile.id, profile.lang


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
    admin_id, lang = await _admin(update, context)
    services = context.services
    parsed = parse_gaps_args(list(context.args or []))
    if parsed is None:
        usage = services.catalog.t(lang, "gp_usage", days=GAP_WINDOW_DAYS)
        await send_html(context, chat.id, usage)
        return
    ref = GapRef(parsed[0], 0, parsed[1])
    groups = await services.gaps.groups(admin_id, _since(ref.days), ref.which)
    text, markup = view.list_view(services.catalog, lang, groups, ref, 1)
    await send_html(context, chat.id, text, markup)


async def phrasings_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    admin_id, lang = await _admin(update, context)
    await _show_phrasings(GapPress(context, admin_id, lang, chat.id, None), 1)


# -- buttons --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GapPress:
    """An admin's press (or command), narrowed: where to answer and in which language."""

    context: Context
    admin_id: int
    lang: Lang
    chat_id: int
    message_id: int | None  # the message to edit in place (None: send a new one)

    async def show(self, shown: view.View) -> None:
        text, markup = shown
        if self.message_id is None or not await edit_html(
            self.context, self.chat_id, self.message_id, text, markup
        ):
            await send_html(self.context, self.chat_id, text, markup)

    async def say(self, text: str) -> None:
        await send_html(self.context, self.chat_id, text)


async def on_callback(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or query.message is None:
        return
    admin_id, lang = await _admin(update, context)
    data = decode(query.data)
    handler = _BUTTONS.get(data.kind) if data is not None else None
    if data is None or handler is None:
        raise StaleAction("unknown gap button")
    press = GapPress(context, admin_id, lang, chat.id, query.message.message_id)
    toast = await handler(press, data)
    await query.answer(toast)


def _ints(parts: list[str], count: int) -> list[int]:
    """Exactly `count` small non-negative integers, or StaleAction (forged data)."""
    if len(parts) != count or not all(p.isdigit() and len(p) < 12 for p in parts):
        raise StaleAction("bad button data")
    return [int(p) for p in parts]


def _group_ref(data: Callback) -> tuple[GapRef, list[str]]:
    parsed = GapRef.parse(data.arg)
    if parsed is None:
        raise StaleAction("bad gap reference")
    return parsed


async def _list_page(press: GapPress, data: Callback) -> str | None:
    ref, rest = _group_ref(data)
    [page] = _ints(rest, 1)
    services = press.context.services
    groups = await services.gaps.groups(press.admin_id, _since(ref.days), ref.which)
    await press.show(view.list_view(services.catalog, press.lang, groups, ref, page))
    return None


async def _open_group(press: GapPress, data: Callback) -> str | None:
    ref, rest = _group_ref(data)
    [page] = _ints(rest, 1)
    services = press.context.services
    gap = await services.gaps.group(press.admin_id, ref.key, _since(ref.days), ref.which)
    await services.knowledge.refresh()
    suggestions = suggested_entries(services.engine, gap)
    ref = GapRef(ref.which, gap.key, ref.days)
    kb = services.engine.kb
    await press.show(
        view.detail_view(services.catalog, press.lang, kb, gap, suggestions, ref, page)
    )
    return None


async def _pick_category(press: GapPress, data: Callback) -> str | None:
    ref, rest = _group_ref(data)
    _ints(rest, 0)
    services = press.context.services
    gap = await services.gaps.group(press.admin_id, ref.key, _since(ref.days), ref.which)
    await press.show(view.categories_view(services.catalog, press.lang, gap, ref))
    return None


async def _pick_entry(press: GapPress, data: Callback) -> str | None:
    ref, rest = _group_ref(data)
    category_index, page = _ints(rest, 2)
    if category_index >= len(CATEGORIES):
        raise StaleAction("bad category")
    services = press.context.services
    await services.gaps.group(press.admin_id, ref.key, _since(ref.days), ref.which)  # still open?
    kb = services.engine.kb
    shown = view.entries_view(services.catalog, press.lang, kb, ref, category_index, page)
    await press.show(shown)
    return None


async def _add(press: GapPress, data: Callback) -> str | None:
    ref, rest = _group_ref(data)
    faq_id = ".".join(rest)
    services = press.context.services
    catalog, lang, kb = services.catalog, press.lang, services.engine.kb
    try:
        added = await services.phrasings.add_from_gap(
            press.admin_id, kb, ref.key, _since(ref.days), ref.which, faq_id
        )
    except PhrasingRefused as refused:
        title = view.entry_title(kb, catalog, lang, refused.faq_id or faq_id)
        await press.say(catalog.t(lang, f"gp_refused_{refused.reason}", title=title))
        return None
    await services.knowledge.refresh()  # this process now; the others before their next triage
    kb = services.engine.kb
    await press.show(view.added_view(catalog, lang, kb, added.phrasing, added.gap.count, ref))
    return catalog.raw(lang, "gp_toast_added")


async def _mark(press: GapPress, data: Callback) -> str | None:
    ref, rest = _group_ref(data)
    statuses = {"n": GapStatus.NEW_ENTRY, "d": GapStatus.DISMISSED}
    if len(rest) != 1 or rest[0] not in statuses:
        raise StaleAction("bad mark")
    status = statuses[rest[0]]
    services = press.context.services
    gap = await services.gaps.mark(press.admin_id, ref.key, _since(ref.days), ref.which, status)
    key = "gp_marked_new" if status is GapStatus.NEW_ENTRY else "gp_dismissed"
    await press.show(view.marked_view(services.catalog, press.lang, key, gap.count, ref))
    return services.catalog.raw(press.lang, "gp_toast_marked")


async def _phrasings_page(press: GapPress, data: Callback) -> str | None:
    [page] = _ints(data.arg.split("."), 1)
    await _show_phrasings(press, max(page, 1))
    return None


async def _remove(press: GapPress, data: Callback) -> str | None:
    phrasing_id, page = _ints(data.arg.split("."), 2)
    services = press.context.services
    catalog, lang = services.catalog, press.lang
    removed = await services.phrasings.remove(press.admin_id, phrasing_id)
    await services.knowledge.refresh()
    title = view.entry_title(services.engine.kb, catalog, lang, removed.faq_id)
    await press.say(catalog.t(lang, "ph_removed", text=removed.text, title=title))
    await _show_phrasings(press, max(page, 1))
    return catalog.raw(lang, "gp_toast_removed")


async def _show_phrasings(press: GapPress, page: int) -> None:
    services = press.context.services
    per_page = view.PHRASINGS_PER_PAGE
    items, total = await services.phrasings.page(press.admin_id, (page - 1) * per_page, per_page)
    last = view.pages_of(total, per_page)
    if page > last:  # the last page emptied: show the new last one
        page = last
        items, total = await services.phrasings.page(
            press.admin_id, (page - 1) * per_page, per_page
        )
    kb, zone = services.engine.kb, services.settings.zone
    await press.show(
        view.phrasings_view(services.catalog, press.lang, kb, items, total, page, zone)
    )


ButtonHandler = Callable[[GapPress, Callback], Awaitable[str | None]]
_BUTTONS: dict[str, ButtonHandler] = {
    "gl": _list_page,  # LIST.0.DAYS.PAGE
    "gv": _open_group,  # LIST.KEY.DAYS.PAGE (the list page to go back to)
    "gc": _pick_category,  # LIST.KEY.DAYS
    "gk": _pick_entry,  # LIST.KEY.DAYS.CATEGORY.PAGE
    "ga": _add,  # LIST.KEY.DAYS.FAQ_ID
    "gm": _mark,  # LIST.KEY.DAYS.n|d
    "phl": _phrasings_page,  # PAGE
    "phx": _remove,  # PHRASING_ID.PAGE
}
"""Gap and phrasing buttons by callback kind."""
PATTERN = rf"^(?:{'|'.join(_BUTTONS)})(?::|$)"
