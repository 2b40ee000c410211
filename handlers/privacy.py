"""Members' personal data in Telegram: /privacy, /mydata, /forget, /whoami; /block and
/unblock for admins, and the guard that keeps blocked users out.

The rules live in :mod:`bot.services.privacy`; these handlers parse, authorise and render.
"""

from __future__ import annotations

import json
import logging

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import Context
from bot.services.callback_codes import Cb
from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.privacy import NOTICE_VERSION
from bot.services.tickets import TicketView, parse_number
from bot.services.timefmt import format_datetime
from db.models import Role
from faq.models import Lang
from handlers import board, keyboards, staff
from handlers.common import Press, arrival_of, command_args, profile_of, send_html

log = logging.getLogger(__name__)

FORGET_REASON = "member asked to be forgotten"


def privacy_notice(context: Context, lang: Lang) -> str:
    """The personal-data notice (what, why, who sees it, how long, rights), current version."""
    catalog, settings = context.services.catalog, context.services.settings
    months = settings.retention_months
    retention = (
        catalog.t(lang, "pv_retention_months", months=months)
        if months
        else catalog.t(lang, "pv_retention_forever")
    )
    return catalog.t(lang, "pv_notice", version=NOTICE_VERSION, retention=retention)


# --- guard -----------------------------------------------------------------------------------


async def stop_blocked(update: Update, context: Context) -> None:
    """First of all guards: a blocked user's update is counted and dropped; the first one
    since the block gets the polite notice. Nothing of it is stored."""
    user, chat = update.effective_user, update.effective_chat
    arrival = await arrival_of(update, context)
    if user is None or arrival is None or not arrival.blocked:
        return  # the common case reads and writes nothing more
    check = await context.services.privacy.check_blocked(user.id)
    if not check.blocked:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if check.notify and chat is not None and chat.type == chat.PRIVATE:
        services = context.services
        lang = await services.members.lang_of(user.id, user.language_code)
        text = services.catalog.t(lang, "pv_blocked_notice", phone=services.settings.office_phone)
        try:
            await send_html(context, chat.id, text)
        except TelegramError as exc:
            log.info("blocked user not told: %s", exc)
    raise ApplicationHandlerStop


# --- member commands -------------------------------------------------------------------------


async def privacy_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    lang = profile.lang
    agreed = await services.privacy.consent_time(profile.id)
    status = (
        services.catalog.t(
            lang,
            "pv_privacy_agreed",
            version=NOTICE_VERSION,
            at=format_datetime(agreed, services.settings.zone, lang),
        )
        if agreed is not None
        else services.catalog.t(lang, "pv_privacy_not_agreed")
    )
    await send_html(context, message.chat_id, f"{privacy_notice(context, lang)}\n\n{status}")


async def mydata_command(update: Update, context: Context) -> None:
    """Everything stored about the member, as a JSON file in the chat."""
    message = update.effective_message
    if message is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    data = await services.privacy.export(profile.id)
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    name = services.catalog.raw(profile.lang, "pv_mydata_filename").format(user_id=profile.id)
    await context.bot.send_document(
        message.chat_id,
        InputFile(body, filename=name),
        caption=services.catalog.raw(profile.lang, "pv_mydata_caption"),
    )


async def forget_command(update: Update, context: Context) -> None:
    """Ask for confirmation; nothing changes until the member presses "Yes, delete"."""
    message = update.effective_message
    if message is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    catalog, lang = services.catalog, profile.lang
    if profile.role is not Role.MEMBER:
        raise NotAllowed("team members are not forgotten by themselves")
    open_tickets = await services.tickets.open_tickets_of(profile.id)
    numbers = ", ".join(t.number for t in open_tickets) or catalog.raw(lang, "pv_forget_none_open")
    await send_html(
        context,
        message.chat_id,
        catalog.t(lang, "pv_forget_confirm", open=numbers),
        keyboards.forget_confirm(catalog, lang),
    )


async def _cb_forget(press: Press, context: Context) -> None:
    """Yes: close the open tickets (their experts are told), erase, refresh the cards."""
    services = context.services
    catalog, lang = services.catalog, press.profile.lang
    member_id = press.profile.id
    await press.query.answer()
    closed: list[TicketView] = []
    for ticket in await services.tickets.open_tickets_of(member_id):
        try:
            full = await board.system_view(context, ticket.id)
            await services.tickets.close(ticket.id, member_id, FORGET_REASON)
        except (NotFound, StaleAction):
            continue
        closed.append(full)
    await services.members.set_dialog(member_id, None)
    erasure = await services.privacy.forget(member_id)
    for view in closed:
        await board.ticket_changed(context, view.id)
        await _tell_team(context, view)
    log.info("a member was forgotten: %d ticket(s) anonymised", erasure.tickets)
    await press.query.edit_message_reply_markup(None)
    await send_html(
        context,
        press.chat_id,
        catalog.t(lang, "pv_forget_done", tickets=erasure.tickets, questions=erasure.questions),
    )


async def _tell_team(context: Context, view: TicketView) -> None:
    """The expert (and a different holder) of a ticket closed by /forget."""
    recipients = {view.expert.user_id} if view.expert and view.expert.user_id else set()
    if view.claimed_by is not None:
        recipients.add(view.claimed_by.user_id)
    for user_id in recipients:
        lang = await context.services.members.lang_of(user_id)
        text = context.services.catalog.t(lang, "pv_forget_expert_notice", number=view.number)
        try:
            await send_html(context, user_id, text)
        except TelegramError as exc:
            log.info("%s: team member not told of the erasure: %s", view.number, exc)


async def _cb_keep(press: Press, context: Context) -> None:
    await press.query.answer()
    await press.query.edit_message_reply_markup(None)
    lang = press.profile.lang
    await send_html(context, press.chat_id, context.services.catalog.t(lang, "pv_forget_kept"))


async def whoami_command(update: Update, context: Context) -> None:
    """The user's Telegram id and the chat's: what ADMIN_USER_IDS and STAFF_CHAT_ID need."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        lang = (await profile_of(update, context)).lang
    else:
        lang = await staff.chat_lang(context, message.chat_id, user.id)
    text = context.services.catalog.t(lang, "pv_whoami", user_id=user.id, chat_id=message.chat_id)
    await send_html(context, message.chat_id, text, reply_to=message.message_id)


# --- admin commands --------------------------------------------------------------------------


async def _target(context: Context, arg: str) -> int | None:
    """A user id, or the member behind a ticket number."""
    if arg.lstrip("-").isdigit():
        return int(arg)
    number = parse_number(arg)
    if number is None:
        return None
    try:
        return (await board.system_view(context, number)).member.user_id
    except NotFound:
        return None


async def _admin_command(update: Update, context: Context, *, block: bool) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    catalog = services.catalog
    lang = await staff.chat_lang(context, message.chat_id, user.id)
    if await services.roles.role_of(user.id) is not Role.ADMIN:
        raise NotAllowed(catalog.raw(lang, "pv_admins_only"))
    arg, _ = command_args(message)
    target = await _target(context, arg) if arg else None
    if target is None:
        key, done = "pv_usage_block", False
    elif block:
        done = await services.privacy.block(user.id, target)
        key = "pv_block_done" if done else "pv_block_already"
    else:
        done = await services.privacy.unblock(target)
        key = "pv_unblock_done" if done else "pv_unblock_none"
    if done:
        log.info("admin %s %s user %s", user.id, "blocked" if block else "unblocked", target)
    text = catalog.t(lang, key, user_id=target) if target is not None else catalog.t(lang, key)
    await send_html(context, message.chat_id, text, reply_to=message.message_id)


async def block_command(update: Update, context: Context) -> None:
    await _admin_command(update, context, block=True)


async def unblock_command(update: Update, context: Context) -> None:
    await _admin_command(update, context, block=False)


CALLBACKS: dict[str, staff.TicketCallback] = {
    Cb.FORGET_CONFIRM: _cb_forget,
    Cb.FORGET_KEEP: _cb_keep,
}
