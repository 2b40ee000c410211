"""The one error handler: log with the update id, tell the user politely, never the details."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError

from bot.context import Context
from handlers.common import send_html

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if not isinstance(update, Update):
        log.error("error outside an update: %r", error, exc_info=error)
        return
    user = update.effective_user
    if isinstance(error, Forbidden) and user is not None:
        log.info("update %s: user %s blocked the bot", update.update_id, user.id)
        await context.services.members.mark_blocked(user.id)
        return
    log.error("update %s failed: %r", update.update_id, error, exc_info=error)
    chat = update.effective_chat
    if chat is None or user is None or isinstance(error, NetworkError):
        return
    try:
        lang = await context.services.members.lang_of(user.id, user.language_code)
        if update.callback_query is not None:
            await update.callback_query.answer()
        await send_html(context, chat.id, context.services.catalog.t(lang, "error"))
    except Exception:  # the apology itself failed; the log above has the cause
        log.warning("update %s: could not send the error notice", update.update_id)
