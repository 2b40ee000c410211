"""A member's own tickets: /mytickets, /ticket NUMBER, and the buttons under them and under
receipts — ✍️ write to (choose where messages go), ✖️ close, ↩️ reopen, ❓ new question.

The team's /ticket goes to :func:`handlers.staff.team_ticket`.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import Context
from bot.services.callback_codes import Cb
from bot.services.dialog import DialogState
from bot.services.errors import StaleAction
from bot.services.members import Profile
from bot.services.roles import is_team
from bot.services.tickets import TicketView
from handlers import board, cards, keyboards, staff
from handlers.common import Press, command_args, profile_of, send_chunks, send_html

log = logging.getLogger(__name__)


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


async def _cb_choose(press: Press, context: Context) -> None:
    """tk:ID — messages now go to this ticket (and any held ones are sent there)."""
    conversation = context.services.conversation
    chosen = await conversation.choose(press.profile, press.data.int_arg())
    await press.query.answer()
    if not chosen.records:
        catalog, lang = context.services.catalog, press.profile.lang
        text = catalog.t(lang, "tk_add_prompt", number=chosen.view.number)
        await send_html(context, press.chat_id, text)
        return
    await conversation.pass_on_held(chosen, press.chat_id, press.profile.lang)
    if any(r.status_change or r.priority_raised for r in chosen.records):
        await board.ticket_changed(context, chosen.view.id)


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
