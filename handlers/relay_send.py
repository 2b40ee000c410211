"""Sending stored ticket messages: the outbox's senders of relay rows.

A relay row (``out.relay``, written by :meth:`ConversationService.pass_on`) holds the ids of
stored messages of one ticket — one message, or the parts of one album. Its sender passes on
what is not delivered yet (to the ticket's responder, falling back to the staff group when an
expert cannot be reached; files by Telegram file id, albums as one ``sendMediaGroup``), marks
each delivered, and then sends the sender's receipt naming the ticket and its expert — so a
message delivered just before a crash still gets its receipt after the restart. A Telegram
failure propagates: the outbox retries it, and when it gives up the ``out.relay_failed`` row
(:func:`relay_failed_sender`) tells the sender, unless the copy did go out after all.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

from telegram import InputMediaDocument, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.context import Context, IpdeskApp
from bot.services.conversation import Content
from bot.services.relay import Direction, RelayedMessage
from bot.services.reminders import ClaimedReminder
from bot.services.tickets import TicketView
from bot.text import html, split_plain
from faq.models import Lang
from handlers import board, cards, keyboards
from handlers.cards import STAFF_LANG
from handlers.common import send_html, send_plain_long
from handlers.delivery import OwnSender
from handlers.staff import is_staff_chat

log = logging.getLogger(__name__)

ALBUM_MAX = 10
CAPTION_MAX = 1024


@dataclass(frozen=True, slots=True)
class Target:
    chat_id: int
    lang: Lang
    header: str
    view: TicketView | None = None  # the ticket, for a member's receipt naming its expert


async def _targets(context: Context, rec: RelayedMessage) -> list[Target]:
    """Where a stored message goes, in order of preference, with its header."""
    services = context.services
    catalog = services.catalog
    staff_chat = services.settings.staff_chat_id
    if rec.direction is Direction.EXPERT:
        lang = rec.recipient_lang or "zh"
        header = cards.team_header(catalog, lang, rec.ticket_number, rec.sender_expert)
        return [Target(rec.recipient_id, lang, header)] if rec.recipient_id is not None else []
    view = await board.system_view(context, rec.ticket_id)
    found: list[Target] = []
    if rec.recipient_id is not None:
        lang = await services.members.lang_of(rec.recipient_id)
        found.append(
            Target(rec.recipient_id, lang, cards.member_header(catalog, lang, view), view)
        )
    if staff_chat is not None:
        header = cards.member_header(catalog, STAFF_LANG, view, personal=False)
        if found:  # the group only gets it when the responder cannot be reached
            header += "\n" + catalog.t(STAFF_LANG, "tk_responder_unreachable")
        found.append(Target(staff_chat, STAFF_LANG, header, view))
    return found


def _caption(header: str, text: str | None) -> tuple[str, str | None]:
    """The caption (header + text) and any text that does not fit in Telegram's caption."""
    caption = "\n".join(p for p in (header, html(text) if text else "") if p)
    if cards.plain_length(caption) <= CAPTION_MAX:
        return caption, None
    return header, text


async def _send_one(
    context: Context, target: Target, rec: RelayedMessage
) -> tuple[int, list[int]]:
    """Send one message; (the id replies should point at, ids of any overflow messages)."""
    bot = context.bot
    if rec.file_id and rec.file_kind in ("photo", "document"):
        text, rest = _caption(target.header, rec.text)
        caption = text or None
        if rec.file_kind == "photo":
            sent = await bot.send_photo(
                target.chat_id, rec.file_id, caption=caption, parse_mode=ParseMode.HTML
            )
        else:
            sent = await bot.send_document(
                target.chat_id, rec.file_id, caption=caption, parse_mode=ParseMode.HTML
            )
        extra = []
        if rest:
            extra.append((await send_plain_long(context, target.chat_id, rest)).message_id)
        return sent.message_id, extra
    return (await _send_text(context, target.chat_id, target.header, rec.text or "")), []


async def _send_text(context: Context, chat_id: int, header: str, text: str) -> int:
    """Header on its own line above the (escaped) text; split only if Telegram needs it.
    Returns the id of the last message sent."""
    chunks = split_plain(text) or [""]
    last = 0
    for index, chunk in enumerate(chunks):
        body = chunk
        if index == 0 and header:
            body = f"{header}\n{body}" if body else header
        last = (await send_html(context, chat_id, body)).message_id
    return last


async def _send_album(
    context: Context, target: Target, parts: list[RelayedMessage]
) -> tuple[list[int], list[int]]:
    """Send album parts as albums (photos and documents cannot be mixed; ≤ 10 per album),
    the header on the first caption; returns each part's message id, in order, and the ids
    of any overflow text messages."""
    ids: list[int] = []
    extra: list[int] = []
    header = target.header
    runs = [list(g) for _, g in itertools.groupby(parts, key=lambda p: p.file_kind)]
    batches = [run[i : i + ALBUM_MAX] for run in runs for i in range(0, len(run), ALBUM_MAX)]
    for batch in batches:
        if len(batch) == 1:
            mid, more = await _send_one(
                context, Target(target.chat_id, target.lang, header), batch[0]
            )
            ids.append(mid)
            extra.extend(more)
            header = ""
            continue
        media: list[InputMediaPhoto | InputMediaDocument] = []
        overflow: list[str] = []
        for part in batch:
            text, rest = _caption(header, part.text)
            header = ""
            if rest:
                overflow.append(rest)
            assert part.file_id is not None
            kind = InputMediaPhoto if part.file_kind == "photo" else InputMediaDocument
            media.append(kind(part.file_id, caption=text or None, parse_mode=ParseMode.HTML))
        sent = await context.bot.send_media_group(target.chat_id, media)
        ids.extend(m.message_id for m in sent)
        for text in overflow:
            extra.append((await send_plain_long(context, target.chat_id, text)).message_id)
    return ids, extra


async def deliver(context: Context, parts: list[RelayedMessage]) -> Target | None:
    """Send stored message(s) of one ticket — a single message, or the parts of one album —
    to the recipient (falling back to the staff group when an expert cannot be reached),
    and mark each delivered. None when every target refused (blocked the bot); a network or
    Telegram failure is raised, so the outbox retries it later."""
    if not parts:
        return None
    relay = context.services.relay
    failure: TelegramError | None = None
    for target in await _targets(context, parts[0]):
        try:
            if len(parts) == 1:
                mid, extra = await _send_one(context, target, parts[0])
                ids = [mid]
            else:
                ids, extra = await _send_album(context, target, parts)
        except Forbidden as exc:
            log.info("%s: %s cannot be reached: %s", parts[0].ticket_number, target.chat_id, exc)
            continue
        except TelegramError as exc:
            log.warning(
                "%s: sending to %s failed: %s", parts[0].ticket_number, target.chat_id, exc
            )
            failure = exc
            continue
        for part, mid in zip(parts, ids, strict=False):
            await relay.mark_delivered(part.id, target.chat_id, mid)
        for mid in extra:
            await relay.record_bot_message(parts[0].ticket_id, target.chat_id, mid)
        return target
    if failure is not None:
        raise failure
    return None


def relay_sender(app: IpdeskApp) -> OwnSender:
    """The outbox's sender of relay rows: pass on what is not delivered yet, then the receipt
    (so a message delivered just before a crash still gets its receipt after the restart)."""

    async def send(row: ClaimedReminder) -> None:
        context = Context(app)
        services = context.services
        payload = row.payload
        parts = await services.relay.messages([int(i) for i in payload.get("messages", [])])
        if not parts:
            return
        waiting = [p for p in parts if not p.delivered]
        if waiting:
            target = await deliver(context, waiting)
        else:
            target = await _delivered_to(context, parts[0])
        lang: Lang = "en" if payload.get("ack_lang") == "en" else "zh"
        try:
            await _receipt(
                context,
                int(payload.get("ack_chat") or parts[0].sender_id),
                lang,
                parts[0],
                target,
                bool(payload.get("several")),
                to_member=bool(payload.get("to_member")),
            )
        except Forbidden as exc:  # the sender blocked the bot since: the copy went out
            log.info("%s: receipt not sent: %s", parts[0].ticket_number, exc)

    return send


def relay_failed_sender(app: IpdeskApp) -> OwnSender:
    """The outbox's sender of ``out.relay_failed`` rows: tell the sender, politely and in their
    language, that a message could not be passed on (nothing if it went out after all)."""

    async def send(row: ClaimedReminder) -> None:
        context = Context(app)
        services = context.services
        payload = row.payload
        parts = await services.relay.messages([int(i) for i in payload.get("messages", [])])
        if row.recipient_id is None or not parts or all(p.delivered for p in parts):
            return
        lang: Lang = "en" if payload.get("lang") == "en" else "zh"
        catalog = services.catalog
        first = parts[0]
        if first.text:
            excerpt = cards.one_line(first.text, 40)
        elif first.file_kind == "photo":
            excerpt = catalog.raw(lang, "tk_file_photo")
        else:
            excerpt = catalog.raw(lang, "tk_file_document").format(name=first.file_name or "—")
        key = "tk_relay_failed_team" if payload.get("to_member") else "tk_relay_failed_member"
        text = catalog.t(lang, key, number=first.ticket_number, excerpt=excerpt)
        await send_html(context, row.recipient_id, text)

    return send


async def _delivered_to(context: Context, rec: RelayedMessage) -> Target | None:
    """Where an already delivered message went (for its receipt)."""
    if rec.delivered_chat_id is None:
        return None
    view = await board.system_view(context, rec.ticket_id)
    return Target(rec.delivered_chat_id, STAFF_LANG, "", view)


# --- receipts ----------------------------------------------------------------------------------


async def _receipt(
    context: Context,
    chat_id: int,
    lang: Lang,
    rec: RelayedMessage,
    target: Target | None,
    several_open: bool,
    *,
    to_member: bool,
) -> None:
    """Tell the sender where their message went (team replies in the staff group are only
    acknowledged when they could not be delivered)."""
    catalog = context.services.catalog
    number = rec.ticket_number
    if to_member:
        if target is None:
            await send_html(
                context, chat_id, catalog.t(lang, "tk_member_unreachable", number=number)
            )
        elif not is_staff_chat(context, chat_id):
            await send_html(context, chat_id, catalog.t(lang, "tk_sent_member", number=number))
        return
    if target is None:
        text = catalog.t(lang, "tk_sent_stored", number=number)
    elif is_staff_chat(context, target.chat_id) or target.view is None:
        text = catalog.t(lang, "tk_sent_secretariat", number=number)
    else:
        who = cards.responder_label(catalog, lang, target.view)
        text = catalog.t(lang, "tk_sent_expert", number=number, expert=who)
    await send_html(context, chat_id, text, keyboards.relay_ack(catalog, lang, several_open))


async def size_notice(context: Context, chat_id: int, lang: Lang, content: Content) -> None:
    if content.too_big_to_download:
        assert content.file_size is not None
        size = f"{content.file_size / 1024 / 1024:.0f}"
        await send_html(
            context, chat_id, context.services.catalog.t(lang, "tk_file_large", size=size)
        )
