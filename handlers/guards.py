"""Guards that run before every other handler (negative groups) and may stop an update."""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import Context
from bot.services.roles import is_team
from handlers.common import send_html

log = logging.getLogger(__name__)

GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP, Chat.CHANNEL)


def _is_foreign_group(update: Update, context: Context) -> bool:
    chat = update.effective_chat
    return (
        chat is not None
        and chat.type in GROUP_TYPES
        and chat.id != context.services.settings.staff_chat_id
    )


async def ignore_foreign_groups(update: Update, context: Context) -> None:
    """Only private chats and the configured staff group are served; others are left."""
    if not _is_foreign_group(update, context):
        return
    chat = update.effective_chat
    assert chat is not None
    member = update.my_chat_member
    joined = member is not None and member.new_chat_member.status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    )
    message = update.message
    about_membership = message is not None and bool(
        message.new_chat_members or message.left_chat_member
    )
    # The service message that follows my_chat_member needs no second leaveChat.
    if joined or (update.effective_message is not None and not about_membership):
        log.info("leaving unconfigured chat %s", chat.id)
        try:
            await context.bot.leave_chat(chat.id)
        except TelegramError as exc:
            # Adding the bot brings two updates (my_chat_member, then the service message);
            # by the second we are already gone. The update is ignored either way.
            log.info("chat %s not left: %s", chat.id, exc)
    raise ApplicationHandlerStop


async def team_only_in_staff_group(update: Update, context: Context) -> None:
    """In the staff group only staff, experts and admins are served; anyone else gets
    nothing (a button press a short refusal, so their client stops waiting)."""
    chat = update.effective_chat
    staff_chat = context.services.settings.staff_chat_id
    if chat is None or staff_chat is None or chat.id != staff_chat:
        return
    user = update.effective_user
    if user is not None and not user.is_bot:
        if is_team(await context.services.roles.role_of(user.id)):
            return
        query = update.callback_query
        if query is not None:
            lang = await context.services.members.lang_of(user.id, user.language_code)
            await query.answer(context.services.catalog.raw(lang, "tk_not_team"), show_alert=True)
    raise ApplicationHandlerStop


async def limit_flood(update: Update, context: Context) -> None:
    """One member sending too fast gets a single polite notice; the rest is dropped."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != Chat.PRIVATE:
        return
    message = update.message
    if message is not None and message.media_group_id is not None:
        return  # an album arrives as one update per photo: it is one message, never a flood
    allowed, warn = context.services.flood.check(user.id)
    if allowed:
        return
    if warn:
        lang = await context.services.members.lang_of(user.id, user.language_code)
        await send_html(context, chat.id, context.services.catalog.t(lang, "flood"))
    if update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop
