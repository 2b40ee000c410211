"""Member ↔ expert relay, and where a private message goes.

Where a private message goes is one decision, :func:`bot.services.routing.route` (its module
docstring lists the rules, ``tests/services/test_routing.py`` holds them as a table): the
handler below gathers the facts, asks, and does what it says. In short, while a member has
an open ticket in conversation with an expert, what they type goes to that expert — and
always after the expert wrote, whatever the member did before; ❓ New question (or /start)
sends the next message to the FAQ assistant; with several open tickets they choose.
Every relayed message gets a receipt that names the ticket and its expert.

A private message from a **team member** (expert, staff, admin) that *replies* to a relayed
message, a notice or the dossier of a ticket goes to that ticket's member (``/reply NUMBER
text`` does the same); in the staff group, replying to a relayed member message does.

Every message is stored first (``RelayService.record_*``), then handed to the outbox
(:func:`send_relayed`): the copy goes out, is marked delivered, and only then the sender gets
the receipt; a Telegram failure is retried while the bot runs, and a message delivered just
before a crash still gets its receipt after the restart. At start-up :func:`redeliver` hands
the outbox any stored message it does not hold yet. Files travel by Telegram file id (no
download, no upload, no size limit); albums are collected for a moment and sent as one album
with ``sendMediaGroup``. Nothing uses ``forward_from``, and a team member's Telegram account
is never shown to a member.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from dataclasses import dataclass
from typing import Any

from telegram import (
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.context import Context, IpdeskApp
from bot.services.callback_codes import Cb
from bot.services.dialog import DialogState, is_profile_step
from bot.services.errors import StaleAction
from bot.services.members import Profile
from bot.services.outbox import PREFIX as OUTBOX_PREFIX
from bot.services.relay import Direction, RelayedMessage
from bot.services.reminders import ON_FAILURE, ClaimedReminder, failure_notice
from bot.services.roles import is_team
from bot.services.routing import (
    MEMBER_MODES,
    Destination,
    OpenTicket,
    RepliedTicket,
    Route,
    Situation,
    route,
)
from bot.services.tickets import TicketKey, TicketView
from bot.text import html, split_plain
from faq.models import Lang
from handlers import board, cards, followups, keyboards, member, profile, staff
from handlers.cards import STAFF_LANG
from handlers.common import (
    Press,
    command_args,
    profile_of,
    send_chunks,
    send_html,
    send_plain_long,
)
from handlers.delivery import OwnSender

log = logging.getLogger(__name__)

ALBUM_DELAY = 1.0
"""Seconds to wait for the rest of an album (Telegram sends each part as its own update)."""
ALBUM_MAX = 10
CAPTION_MAX = 1024
BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bots may download files up to 20 MB (and upload up to 50 MB); relaying by file id has
no limit, so bigger files are passed on, with a word to the sender (see tk_file_large)."""


# --- what a message carries ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Content:
    text: str | None
    file_id: str | None = None
    file_kind: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    media_group_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "file_id": self.file_id,
            "file_kind": self.file_kind,
            "file_name": self.file_name,
            "file_size": self.file_size,
            "media_group_id": self.media_group_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        return cls(
            data.get("text"),
            data.get("file_id"),
            data.get("file_kind"),
            data.get("file_name"),
            data.get("file_size"),
            data.get("media_group_id"),
        )


def content_of(message: Message) -> Content | None:
    """Text, a photo (largest size) or a document, with its caption; None for anything the
    relay does not carry (voice, video, stickers, locations …)."""
    group = message.media_group_id
    if message.photo:
        largest = message.photo[-1]
        return Content(message.caption, largest.file_id, "photo", None, largest.file_size, group)
    if message.document is not None:
        doc = message.document
        return Content(
            message.caption, doc.file_id, "document", doc.file_name, doc.file_size, group
        )
    if message.text is not None:
        return Content(message.text)
    return None


def too_big_to_download(size: int | None) -> bool:
    return size is not None and size > BOT_DOWNLOAD_LIMIT


# --- sending ---------------------------------------------------------------------------------


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


# --- through the outbox ----------------------------------------------------------------------

RELAY = "relay"
"""Outbox kind (``out.relay``): stored ticket messages to pass on, then the sender's receipt."""
RELAY_FAILED = "relay_failed"
"""Outbox kind (``out.relay_failed``): scheduled when a relay row is marked failed (after its
last retry, or refused for good): the sender is told, unless the copy did go out after all."""


async def send_relayed(
    context: Context,
    parts: list[RelayedMessage],
    *,
    ack_chat: int,
    ack_lang: Lang,
    several_open: bool,
    to_member: bool,
) -> None:
    """Hand stored message(s) to the outbox: the copy and then the sender's receipt go out
    from there — at once, retried while the bot runs if Telegram fails, once across a crash
    or two processes (the row's key is the first message's id)."""
    if not parts:
        return
    first = parts[0]
    staff_chat = context.services.settings.staff_chat_id
    chat = first.recipient_id if first.recipient_id is not None else staff_chat
    ids = [p.id for p in parts]
    payload = {
        "messages": ids,
        "ack_chat": ack_chat,
        "ack_lang": ack_lang,
        "several": several_open,
        "to_member": to_member,
        ON_FAILURE: failure_notice(
            OUTBOX_PREFIX + RELAY_FAILED,
            ack_chat,
            {"messages": ids, "lang": ack_lang, "to_member": to_member},
        ),
    }
    await context.services.outbox.send(
        chat if chat is not None else ack_chat,
        RELAY,
        payload,
        key=f"relay:{first.id}",
        ticket_id=first.ticket_id,
    )


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
            await _ack(
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


async def redeliver(app: IpdeskApp) -> int:
    """At start-up: give the outbox every message stored but not delivered before the last
    stop that it does not hold yet (all of them, page by page; rows it holds keep their
    retries and failures). Returns the number of messages handed over."""
    context = Context(app)
    services = app.bot_data.services
    count, after = 0, 0
    while True:
        pending = await services.relay.undelivered(limit=500, after_id=after)
        if not pending:
            return count
        after = pending[-1].id
        for _, group in itertools.groupby(
            pending, key=lambda r: (r.ticket_id, r.media_group_id or f"#{r.id}")
        ):
            parts = list(group)
            first = parts[0]
            lang = await services.members.lang_of(first.sender_id)
            await send_relayed(
                context,
                parts,
                ack_chat=first.source_chat_id or first.sender_id,
                ack_lang=lang,
                several_open=False,
                to_member=first.direction is Direction.EXPERT,
            )
            count += len(parts)


# --- albums ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlbumJob:
    ticket_id: int
    media_group_id: str
    sender_chat: int
    sender_lang: Lang
    several_open: bool
    to_member: bool  # a team reply (ack the team member) rather than a member message


def _schedule_album(context: Context, job: AlbumJob) -> None:
    """(Re)start the short wait for the rest of an album; the last part to arrive wins."""
    queue = context.job_queue
    assert queue is not None
    name = f"album:{job.ticket_id}:{job.media_group_id}"
    for old in queue.get_jobs_by_name(name):
        old.schedule_removal()
    # PTB types CallbackContext.job_queue with its own type variable, not our Context.
    queue.run_once(_flush_album, ALBUM_DELAY, data=job, name=name)  # type: ignore[arg-type]


async def _flush_album(context: Context) -> None:
    assert context.job is not None
    job = context.job.data
    assert isinstance(job, AlbumJob)
    relay = context.services.relay
    parts = [p for p in await relay.album(job.ticket_id, job.media_group_id) if not p.delivered]
    if not parts:
        return
    await send_relayed(
        context, parts, ack_chat=job.sender_chat, ack_lang=job.sender_lang,
        several_open=job.several_open, to_member=job.to_member,
    )  # fmt: skip
    if any(p.status_change or p.priority_raised or p.first_response for p in parts):
        await board.ticket_changed(context, job.ticket_id)
    else:
        await board.ticket_event(context, job.ticket_id)


# --- acknowledgements ------------------------------------------------------------------------


async def _ack(
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
        elif not staff.is_staff_chat(context, chat_id):
            await send_html(context, chat_id, catalog.t(lang, "tk_sent_member", number=number))
        return
    if target is None:
        text = catalog.t(lang, "tk_sent_stored", number=number)
    elif staff.is_staff_chat(context, target.chat_id) or target.view is None:
        text = catalog.t(lang, "tk_sent_secretariat", number=number)
    else:
        who = cards.responder_label(catalog, lang, target.view)
        text = catalog.t(lang, "tk_sent_expert", number=number, expert=who)
    await send_html(context, chat_id, text, keyboards.relay_ack(catalog, lang, several_open))


async def _size_notice(context: Context, chat_id: int, lang: Lang, content: Content) -> None:
    if too_big_to_download(content.file_size):
        assert content.file_size is not None
        size = f"{content.file_size / 1024 / 1024:.0f}"
        await send_html(
            context, chat_id, context.services.catalog.t(lang, "tk_file_large", size=size)
        )


# --- member → team ---------------------------------------------------------------------------


async def relay_member(
    context: Context,
    profile: Profile,
    chat_id: int,
    message_id: int,
    content: Content,
    ticket_id: int,
    several_open: bool,
) -> None:
    """Store a member's message on their ticket, then pass it on (albums after a moment)."""
    rec = await context.services.relay.record_member_message(
        profile.id,
        ticket_id,
        text=content.text,
        file_id=content.file_id,
        file_kind=content.file_kind,
        file_name=content.file_name,
        media_group_id=content.media_group_id,
        source_chat_id=chat_id,
        source_message_id=message_id,
    )
    if rec.duplicate and rec.delivered:
        return
    await _size_notice(context, chat_id, profile.lang, content)
    if content.media_group_id:
        _schedule_album(
            context,
            AlbumJob(
                ticket_id, content.media_group_id, chat_id, profile.lang, several_open, False
            ),
        )
        return
    await send_relayed(
        context, [rec], ack_chat=chat_id, ack_lang=profile.lang, several_open=several_open,
        to_member=False,
    )  # fmt: skip
    if rec.status_change or rec.priority_raised:
        await board.ticket_changed(context, ticket_id)
    else:
        await board.ticket_event(context, ticket_id)


async def _faq(update: Update, context: Context, profile: Profile) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await member.on_text(update, context, profile)
    else:
        await member.on_unsupported(update, context)


async def _hold_for_choice(
    context: Context, profile: Profile, message: Message, open_tickets: list[TicketView]
) -> None:
    """Several open tickets and no choice yet: keep the message (in the database) and ask."""
    services = context.services
    catalog, lang = services.catalog, profile.lang
    content = content_of(message)
    if content is None:
        await send_html(context, message.chat_id, catalog.t(lang, "tk_relay_unsupported"))
        return
    pending = (
        list(profile.dialog_data.get("pending", []))
        if (profile.dialog_state == DialogState.CHOOSE)
        else []
    )
    asked = bool(pending)  # the chooser is already on screen: hold this one quietly too
    pending.append({**content.to_json(), "chat": message.chat_id, "message": message.message_id})
    await services.members.set_dialog(profile.id, DialogState.CHOOSE, {"pending": pending})
    if asked:
        return
    choices = [(v.id, f"{v.number} · {cards.one_line(v.question, 30)}") for v in open_tickets]
    await send_html(
        context,
        message.chat_id,
        catalog.t(lang, "tk_choose_ticket"),
        keyboards.ticket_chooser(catalog, lang, choices),
    )


# --- team → member ---------------------------------------------------------------------------


async def team_reply(
    context: Context,
    chat_id: int,
    message_id: int,
    content: Content | None,
    actor_id: int,
    ticket: TicketKey,
) -> None:
    """Store a team member's reply on the ticket and pass it to the member."""
    services = context.services
    lang = await staff.chat_lang(context, chat_id, actor_id)
    if content is None:
        await send_html(context, chat_id, services.catalog.t(lang, "tk_relay_unsupported_team"))
        return
    rec = await services.relay.record_expert_message(
        actor_id,
        ticket,
        text=content.text,
        file_id=content.file_id,
        file_kind=content.file_kind,
        file_name=content.file_name,
        media_group_id=content.media_group_id,
        source_chat_id=chat_id,
        source_message_id=message_id,
    )
    if rec.duplicate and rec.delivered:
        return
    if rec.claimed:
        await staff.tell_member_who_answers(
            context, await board.system_view(context, rec.ticket_id)
        )
    await _size_notice(context, chat_id, lang, content)
    if content.media_group_id:
        _schedule_album(
            context, AlbumJob(rec.ticket_id, content.media_group_id, chat_id, lang, False, True)
        )
        return
    await send_relayed(
        context, [rec], ack_chat=chat_id, ack_lang=lang, several_open=False, to_member=True
    )
    if rec.status_change or rec.first_response:
        await board.ticket_changed(context, rec.ticket_id)
    else:
        await board.ticket_event(context, rec.ticket_id)


# --- entry points (registered in handlers/__init__.py) ----------------------------------------


async def on_private_message(update: Update, context: Context) -> None:
    """Every non-command private message: where it goes is :func:`route`'s one decision."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or update.effective_user is None:
        return
    who = await profile_of(update, context)
    await _routed(update, context, who, message, chat.id)


async def _routed(
    update: Update, context: Context, who: Profile, message: Message, chat_id: int
) -> None:
    situation, open_tickets = await _situation(context, who, message, chat_id)
    decision = route(situation)
    log.debug("private message: %s (%s)", decision.to.value, decision.why)
    match decision.to:
        case Destination.PROFILE:
            await profile.on_message(update, context, who)
        case Destination.RESOLVE_SUMMARY:
            await staff.take_resolve_reply(update, context)
        case Destination.CHECKIN_COMMENT:
            if not await followups.take_checkin_comment(update, context, who):
                # Not a comment after all (its state is cleared now): route it afresh.
                fresh = dataclasses.replace(who, dialog_state=None, dialog_data={})
                await _routed(update, context, fresh, message, chat_id)
        case Destination.TEAM_REPLY:
            assert decision.ticket_id is not None
            user_id = who.id
            await team_reply(
                context, chat_id, message.message_id, content_of(message), user_id,
                decision.ticket_id,
            )  # fmt: skip
        case Destination.TICKET:
            assert decision.ticket_id is not None
            await _to_ticket(context, who, message, decision, len(open_tickets) > 1)
        case Destination.CHOOSE:
            await _hold_for_choice(context, who, message, open_tickets)
        case Destination.FAQ:
            if decision.forget:
                await context.services.members.set_dialog(who.id, None)
            await _faq(update, context, who)
        case Destination.NOT_A_TICKET:
            catalog = context.services.catalog
            await send_html(
                context, chat_id, catalog.t(who.lang, "tk_reply_unknown"),
                reply_to=message.message_id,
            )  # fmt: skip
        case Destination.TEAM_HINT:
            catalog = context.services.catalog
            await send_html(
                context,
                chat_id,
                catalog.t(who.lang, "tk_team_hint"),
                keyboards.relay_ack(catalog, who.lang, several_open=False),
            )


async def _situation(
    context: Context, who: Profile, message: Message, chat_id: int
) -> tuple[Situation, list[TicketView]]:
    """The facts :func:`route` decides on (and the open tickets, for the chooser)."""
    relay = context.services.relay
    replied: RepliedTicket | None = None
    if message.reply_to_message is not None:
        view = await relay.ticket_for_reply(chat_id, message.reply_to_message.message_id)
        if view is not None:
            replied = RepliedTicket(view.id, view.member.user_id, view.is_open)
    team = is_team(who.role)
    as_member = (
        not team
        or who.dialog_state in MEMBER_MODES
        or (replied is not None and replied.member_id == who.id)
    )
    open_tickets: list[TicketView] = []
    if as_member and not is_profile_step(who.dialog_state):
        open_tickets = await relay.tickets_for_member_message(who.id)
    chosen = who.dialog_data.get("ticket")
    situation = Situation(
        sender_id=who.id,
        team=team,
        state=who.dialog_state,
        state_ticket=chosen if isinstance(chosen, int) else None,
        state_since=who.dialog_since,
        is_reply=message.reply_to_message is not None,
        replied=replied,
        open_tickets=tuple(OpenTicket(v.id, v.last_expert_message_at) for v in open_tickets),
        resolve_summary=staff.is_resolve_reply(who, chat_id, message),
        has_text=message.text is not None,
    )
    return situation, open_tickets


async def _to_ticket(
    context: Context, who: Profile, message: Message, decision: Route, several_open: bool
) -> None:
    assert decision.ticket_id is not None
    services = context.services
    content = content_of(message)
    if content is None:
        await send_html(
            context, message.chat_id, services.catalog.t(who.lang, "tk_relay_unsupported")
        )
        return
    await relay_member(
        context, who, message.chat_id, message.message_id, content, decision.ticket_id,
        several_open,
    )  # fmt: skip
    chosen = who.dialog_state is DialogState.TICKET and (
        who.dialog_data.get("ticket") == decision.ticket_id
    )
    if decision.remember and not chosen:
        await services.members.set_dialog(
            who.id, DialogState.TICKET, {"ticket": decision.ticket_id}
        )


async def on_staff_group_message(update: Update, context: Context) -> None:
    """A non-command message in the staff group (from a team member: the guard saw to that):
    the summary a Resolve prompt asked for, or a reply to a relayed member message."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    if await staff.take_resolve_reply(update, context):
        return
    replied = message.reply_to_message
    if replied is None:
        return  # the team talking among themselves
    view = await context.services.relay.ticket_for_reply(chat.id, replied.message_id)
    if view is None:
        return
    if view.card_message_id == replied.message_id:
        await send_html(
            context,
            chat.id,
            context.services.catalog.t(STAFF_LANG, "tk_group_reply_to_card", number=view.number),
            reply_to=message.message_id,
        )
        return
    await team_reply(context, chat.id, message.message_id, content_of(message), user.id, view.id)


async def on_private_edit(update: Update, context: Context) -> None:
    """Edits are not relayed (the copy was sent already): say so. Other edits of text are
    questions asked again (handlers.member)."""
    message, chat = update.edited_message, update.effective_chat
    if message is None or chat is None or update.effective_user is None:
        return
    if await context.services.relay.ticket_for_reply(chat.id, message.message_id) is not None:
        who = await profile_of(update, context)
        await send_html(
            context,
            chat.id,
            context.services.catalog.t(who.lang, "tk_edit_not_relayed"),
            reply_to=message.message_id,
        )
        return
    if message.text is not None:
        await member.on_edited_text(update, context)


async def reply_command(update: Update, context: Context) -> None:
    """/reply NUMBER text — answer the member of a ticket without replying to a message."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    await profile_of(update, context)
    number, text = command_args(message)
    if not number or not text:
        lang = await staff.chat_lang(context, chat.id, user.id)
        await send_html(context, chat.id, context.services.catalog.t(lang, "tk_usage_reply"))
        return
    await team_reply(context, chat.id, message.message_id, Content(text), user.id, number)


async def cancel_command(update: Update, context: Context) -> None:
    """/cancel: leave the profile dialogue, a pending Resolve, or the ticket chooser."""
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    who = await profile_of(update, context)
    services = context.services
    if profile.is_step(who.dialog_state) and not staff.is_staff_chat(context, chat.id):
        await profile.cancel(context, chat.id, who)
        return
    lang = await staff.chat_lang(context, chat.id, who.id)
    key = "tk_nothing_to_cancel"
    if who.dialog_state == DialogState.RESOLVE and who.dialog_data.get("chat") == chat.id:
        key = "tk_cancelled"
    elif who.dialog_state == DialogState.CHOOSE and not staff.is_staff_chat(context, chat.id):
        key = "tk_cancelled_pending"
    if key != "tk_nothing_to_cancel":
        await services.members.set_dialog(who.id, None)
    await send_html(context, chat.id, services.catalog.t(lang, key))


# --- the member's own tickets ----------------------------------------------------------------


async def my_tickets_command(update: Update, context: Context) -> None:
    """/mytickets: the member's tickets; ✍️ write to / ✖️ close each open one."""
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    who = await profile_of(update, context)
    await _show_my_tickets(context, chat.id, who)


async def _show_my_tickets(context: Context, chat_id: int, who: Profile) -> None:
    services = context.services
    catalog, lang = services.catalog, who.lang
    views = await services.tickets.member_tickets(who.id)
    chunks = cards.my_tickets_text(catalog, lang, services.settings.zone, views)
    open_ = [(v.id, v.number) for v in views if v.is_open]
    await send_chunks(context, chat_id, chunks, keyboards.my_tickets(catalog, lang, open_))


async def ticket_command(update: Update, context: Context) -> None:
    """/ticket NUMBER: the team see the full history; a member only their own ticket
    (anything else is "not found", whether it exists or not)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or update.effective_user is None:
        return
    who = await profile_of(update, context)
    number, _ = command_args(message)
    if is_team(who.role):
        if not number:
            lang = await staff.chat_lang(context, chat.id, who.id)
            await send_html(context, chat.id, context.services.catalog.t(lang, "tk_usage_ticket"))
            return
        await staff.team_ticket(update, context, number)
        return
    services = context.services
    catalog, lang = services.catalog, who.lang
    if not number:
        await send_html(context, chat.id, catalog.t(lang, "tk_usage_ticket"))
        return
    history = await services.tickets.history(who.id, number)
    view = history.ticket
    chunks = cards.member_ticket_text(
        catalog, lang, services.settings.zone, view, history.messages
    )
    markup = (
        keyboards.member_ticket(catalog, lang, view.id)
        if view.is_open
        else keyboards.reopen(catalog, lang, view.id)
    )
    sent = await send_chunks(context, chat.id, chunks, markup, reply_to=message.message_id)
    await services.relay.record_bot_message(view.id, chat.id, sent.message_id)


def _own_open(open_tickets: list[TicketView], ticket_id: int | None) -> TicketView:
    found = next((v for v in open_tickets if v.id == ticket_id), None)
    if found is None:
        raise StaleAction("not one of the member's open tickets")
    return found


async def _cb_choose(press: Press, context: Context) -> None:
    """tk:ID — messages now go to this ticket (and any held ones are sent there)."""
    services = context.services
    open_tickets = await services.relay.tickets_for_member_message(press.profile.id)
    view = _own_open(open_tickets, press.data.int_arg())
    await press.query.answer()
    who = press.profile
    pending = (
        list(who.dialog_data.get("pending", [])) if who.dialog_state == DialogState.CHOOSE else []
    )
    records: list[RelayedMessage] = []
    for item in pending:
        content = Content.from_json(item)
        records.append(
            await services.relay.record_member_message(
                who.id,
                view.id,
                text=content.text,
                file_id=content.file_id,
                file_kind=content.file_kind,
                file_name=content.file_name,
                media_group_id=content.media_group_id,
                source_chat_id=item.get("chat"),
                source_message_id=item.get("message"),
            )
        )
    await services.members.set_dialog(who.id, DialogState.TICKET, {"ticket": view.id})
    catalog, lang = services.catalog, who.lang
    if not records:
        await send_html(
            context, press.chat_id, catalog.t(lang, "tk_add_prompt", number=view.number)
        )
        return
    several = len(open_tickets) > 1
    for _, group in itertools.groupby(
        (r for r in records if not r.delivered), key=lambda r: r.media_group_id or f"#{r.id}"
    ):
        parts = list(group)
        await send_relayed(
            context, parts, ack_chat=press.chat_id, ack_lang=lang, several_open=several,
            to_member=False,
        )  # fmt: skip
    if any(r.status_change or r.priority_raised for r in records):
        await board.ticket_changed(context, view.id)


async def _cb_close(press: Press, context: Context) -> None:
    """tc:ID — the member closes their own ticket."""
    ticket_id = press.data.int_arg()
    if ticket_id is None:
        raise StaleAction("bad ticket id")
    services = context.services
    change = await services.tickets.close(ticket_id, press.profile.id, "closed by the member")
    await press.query.answer()
    who = press.profile
    if who.dialog_state == DialogState.TICKET and who.dialog_data.get("ticket") == ticket_id:
        await services.members.set_dialog(who.id, None)
    catalog, lang = services.catalog, who.lang
    await send_html(
        context,
        press.chat_id,
        catalog.t(lang, "tk_closed_by_member", number=change.ticket.number),
        keyboards.reopen(catalog, lang, ticket_id),
    )
    view = await board.ticket_changed(context, ticket_id)
    await _tell_responder(context, view, "tk_member_closed_team")


async def _cb_reopen(press: Press, context: Context) -> None:
    """tr:ID — the member reopens their resolved or closed ticket."""
    ticket_id = press.data.int_arg()
    if ticket_id is None:
        raise StaleAction("bad ticket id")
    services = context.services
    view = await services.tickets.view_ticket(press.profile.id, ticket_id)
    await services.tickets.reopen(ticket_id, press.profile.id, "reopened by the member")
    await press.query.answer()
    await services.members.set_dialog(press.profile.id, DialogState.TICKET, {"ticket": ticket_id})
    catalog, lang = services.catalog, press.profile.lang
    sent = await send_html(
        context,
        press.chat_id,
        catalog.t(lang, "tk_reopened", number=view.number),
        keyboards.member_ticket(catalog, lang, ticket_id),
    )
    await services.relay.record_bot_message(ticket_id, press.chat_id, sent.message_id)
    full = await board.ticket_changed(context, ticket_id)
    await _tell_responder(context, full, "tk_member_reopened_team")


async def _tell_responder(context: Context, view: TicketView, key: str) -> None:
    services = context.services
    chat_id = view.responder_id or services.settings.staff_chat_id
    if chat_id is None:
        return
    lang = await staff.chat_lang(context, chat_id, chat_id)
    try:
        sent = await send_html(context, chat_id, services.catalog.t(lang, key, number=view.number))
    except TelegramError as exc:
        log.info("%s: responder not told: %s", view.number, exc)
        return
    if not staff.is_staff_chat(context, chat_id):
        await services.relay.record_bot_message(view.id, chat_id, sent.message_id)


async def _cb_new_question(press: Press, context: Context) -> None:
    """nq — leave the ticket: what the member types next goes to the FAQ assistant."""
    if press.data.arg:
        raise StaleAction("nq takes no argument")
    await press.query.answer()
    services = context.services
    await services.members.set_dialog(press.profile.id, DialogState.FAQ)
    await send_html(
        context,
        press.chat_id,
        services.catalog.t(press.profile.lang, "tk_new_question_mode"),
        keyboards.topics(services.catalog, press.profile.lang),
    )


async def _cb_my_tickets(press: Press, context: Context) -> None:
    if press.data.arg:
        raise StaleAction("mt takes no argument")
    await press.query.answer()
    await _show_my_tickets(context, press.chat_id, press.profile)


CALLBACKS: dict[str, staff.TicketCallback] = {
    Cb.WRITE_TO: _cb_choose,
    Cb.CLOSE: _cb_close,
    Cb.REOPEN_TICKET: _cb_reopen,
    Cb.NEW_QUESTION: _cb_new_question,
    Cb.MY_TICKETS: _cb_my_tickets,
}
