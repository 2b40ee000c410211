"""Member ↔ expert relay: where a private message goes, and passing it on.

Where a private message goes is one decision, :func:`bot.services.routing.route` (its module
docstring lists the rules, ``tests/services/test_routing.py`` holds them as a table), made by
:meth:`ConversationService.decide` from the facts read off the update; the handler below does
what it says. In short, while a member has an open ticket in conversation with an expert,
what they type goes to that expert — and always after the expert wrote, whatever the member
did before; ❓ New question (or /start) sends the next message to the FAQ assistant; with
several open tickets they choose. Every relayed message gets a receipt that names the ticket
and its expert.

A private message from a **team member** (expert, staff, admin) that *replies* to a relayed
message, a notice or the dossier of a ticket goes to that ticket's member (``/reply NUMBER
text`` does the same); in the staff group, replying to a relayed member message does.

Every message is stored first, then handed to the outbox (``ConversationService.pass_on``);
sending is :mod:`handlers.relay_send`, album buffering :mod:`handlers.albums`, the member's
ticket buttons :mod:`handlers.my_tickets`. Files travel by Telegram file id; nothing uses
``forward_from``, and a team member's Telegram account is never shown to a member.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import Message, Update

from bot.context import Context
from bot.services.conversation import Content, Decision, Incoming
from bot.services.members import Profile
from bot.services.routing import Destination
from bot.services.tickets import TicketKey
from handlers import albums, board, cards, followups, keyboards, member, profile, staff
from handlers.common import command_args, open_tickets_possible, profile_of, send_html
from handlers.relay_send import size_notice

log = logging.getLogger(__name__)


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


# --- where a private message goes --------------------------------------------------------------


async def on_private_message(update: Update, context: Context) -> None:
    """Every non-command private message: where it goes is one decision (see above)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or update.effective_user is None:
        return
    who = await profile_of(update, context)
    await _routed(update, context, who, message, chat.id)


async def _routed(
    update: Update, context: Context, who: Profile, message: Message, chat_id: int
) -> None:
    replied = message.reply_to_message
    incoming = Incoming(
        chat_id=chat_id,
        message_id=message.message_id,
        replied_id=replied.message_id if replied is not None else None,
        has_text=message.text is not None,
        resolve_summary=staff.is_resolve_reply(who, chat_id, message),
        may_have_open_tickets=open_tickets_possible(context, who.id),
    )
    decision = await context.services.conversation.decide(who, incoming)
    log.debug("private message: %s (%s)", decision.route.to.value, decision.route.why)
    match decision.route.to:
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
            assert decision.route.ticket_id is not None
            await team_reply(context, chat_id, message.message_id, content_of(message), who.id,
                             decision.route.ticket_id)  # fmt: skip
        case Destination.TICKET:
            await _to_ticket(context, who, message, decision)
        case Destination.CHOOSE:
            await _hold_for_choice(context, who, message, decision)
        case Destination.FAQ:
            await context.services.conversation.follow(who, decision.route)
            await _faq(update, context, who)
        case Destination.NOT_A_TICKET:
            text = context.services.catalog.t(who.lang, "tk_reply_unknown")
            await send_html(context, chat_id, text, reply_to=message.message_id)
        case Destination.TEAM_HINT:
            catalog = context.services.catalog
            hint = keyboards.relay_ack(catalog, who.lang, several_open=False)
            await send_html(context, chat_id, catalog.t(who.lang, "tk_team_hint"), hint)


async def _faq(update: Update, context: Context, who: Profile) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await member.on_text(update, context, who)
    else:
        await member.on_unsupported(update, context)


async def _to_ticket(context: Context, who: Profile, message: Message, decision: Decision) -> None:
    ticket_id = decision.route.ticket_id
    assert ticket_id is not None
    content = content_of(message)
    if content is None:
        text = context.services.catalog.t(who.lang, "tk_relay_unsupported")
        await send_html(context, message.chat_id, text)
        return
    await relay_member(
        context, who, message.chat_id, message.message_id, content, ticket_id,
        decision.several_open,
    )  # fmt: skip
    await context.services.conversation.follow(who, decision.route)


async def _hold_for_choice(
    context: Context, who: Profile, message: Message, decision: Decision
) -> None:
    """Several open tickets and no choice yet: keep the message (in the database) and ask."""
    services = context.services
    catalog, lang = services.catalog, who.lang
    content = content_of(message)
    if content is None:
        await send_html(context, message.chat_id, catalog.t(lang, "tk_relay_unsupported"))
        return
    ask = await services.conversation.hold(who, message.chat_id, message.message_id, content)
    if not ask:
        return  # the chooser is already on screen: this one waits quietly too
    choices = [
        (v.id, f"{v.number} · {cards.one_line(v.question, 30)}") for v in decision.open_tickets
    ]
    chooser = keyboards.ticket_chooser(catalog, lang, choices)
    await send_html(context, message.chat_id, catalog.t(lang, "tk_choose_ticket"), chooser)


# --- member → team, team → member ------------------------------------------------------------


async def relay_member(
    context: Context,
    who: Profile,
    chat_id: int,
    message_id: int,
    content: Content,
    ticket_id: int,
    several_open: bool,
) -> None:
    """Store a member's message on their ticket, then pass it on (albums after a moment)."""
    conversation = context.services.conversation
    rec = await conversation.record_member(who, chat_id, message_id, content, ticket_id)
    if rec.duplicate and rec.delivered:
        return
    await size_notice(context, chat_id, who.lang, content)
    if content.media_group_id:
        job = albums.AlbumJob(
            ticket_id, content.media_group_id, chat_id, who.lang, several_open, False
        )
        albums.schedule(context, job)
        return
    await conversation.pass_on(
        [rec], ack_chat=chat_id, ack_lang=who.lang, several_open=several_open, to_member=False
    )
    if rec.status_change or rec.priority_raised:
        await board.ticket_changed(context, ticket_id)
    else:
        await board.ticket_event(context, ticket_id)


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
    conversation = services.conversation
    rec = await conversation.record_team(actor_id, chat_id, message_id, content, ticket)
    if rec.duplicate and rec.delivered:
        return
    if rec.claimed:
        view = await board.system_view(context, rec.ticket_id)
        await staff.tell_member_who_answers(context, view)
    await size_notice(context, chat_id, lang, content)
    if content.media_group_id:
        job = albums.AlbumJob(rec.ticket_id, content.media_group_id, chat_id, lang, False, True)
        albums.schedule(context, job)
        return
    await conversation.pass_on(
        [rec], ack_chat=chat_id, ack_lang=lang, several_open=False, to_member=True
    )
    if rec.status_change or rec.first_response:
        await board.ticket_changed(context, rec.ticket_id)
    else:
        await board.ticket_event(context, rec.ticket_id)


# --- other entry points (registered in handlers/__init__.py) ---------------------------------


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
            context.services.catalog.t(
                cards.STAFF_LANG, "tk_group_reply_to_card", number=view.number
            ),
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
    in_group = staff.is_staff_chat(context, chat.id)
    if profile.is_step(who.dialog_state) and not in_group:
        await profile.cancel(context, chat.id, who)
        return
    lang = await staff.chat_lang(context, chat.id, who.id)
    left = await services.conversation.cancel(who, chat.id, in_staff_group=in_group)
    key = {"resolve": "tk_cancelled", "chooser": "tk_cancelled_pending"}.get(left or "")
    await send_html(context, chat.id, services.catalog.t(lang, key or "tk_nothing_to_cancel"))
