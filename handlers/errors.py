"""The one error handler, and the one place domain refusals become polite catalog text.

Handlers call services and let a :class:`~bot.services.errors.DomainError` propagate; the
error handler renders it with :func:`explain` (or, for a button, the stale-button answer when
the button cannot apply), logs it at INFO and never shows internals.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.context import Context
from bot.i18n import Catalog
from bot.services.companies import ProfileError
from bot.services.errors import DomainError, NotAllowed, NotFound, StaleAction
from bot.services.experts import ExpertConflict, RosterError
from bot.services.relay import RelayRefused
from bot.services.roles import RoleError
from bot.services.tickets import TicketRefused
from faq.models import Lang
from handlers.common import send_html

log = logging.getLogger(__name__)

CALLBACK_TEXT_MAX = 200


def explain(catalog: Catalog, lang: Lang, error: DomainError) -> str:
    """Catalog text (HTML) for a refused request; the reason codes pick the key."""
    keys = catalog.keys(lang)
    key: str | None = None
    if isinstance(error, TicketRefused):
        key = f"tk_refused_{error.reason}"
    elif isinstance(error, ProfileError):
        key = f"tk_profile_{error.field}_{error.reason}"
    elif isinstance(error, RelayRefused):
        key = f"tk_relay_{error.reason}"
    elif isinstance(error, RoleError):
        key = f"tk_role_{error.reason}"
    elif isinstance(error, ExpertConflict):
        key = f"tk_expert_{error.reason}"
    elif isinstance(error, RosterError):
        problems = "\n".join(error.problems[:10])
        return catalog.t(lang, "tk_roster_invalid", problems=problems)
    elif isinstance(error, NotFound):
        key = "tk_err_not_found"
    elif isinstance(error, NotAllowed):
        key = "tk_err_not_allowed"
    elif isinstance(error, StaleAction):
        key = "tk_err_stale"
    if key is None or key not in keys:
        key = "tk_err_refused"
    return catalog.t(lang, key)


def _plain(text_html: str) -> str:
    """Callback answers are plain text: drop tags, keep it under Telegram's 200 characters."""
    plain = re.sub(r"<[^>]+>", "", text_html)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return plain if len(plain) <= CALLBACK_TEXT_MAX else plain[: CALLBACK_TEXT_MAX - 1] + "…"


async def refuse(update: Update, context: Context, error: DomainError) -> None:
    """Tell the user why their request was refused, in their language.

    A button that no longer applies, or that points at something they cannot see, gets the
    stale-button answer (nothing is revealed); other refusals their catalog text.
    """
    user = update.effective_user
    chat = update.effective_chat
    if user is None:
        return
    catalog = context.services.catalog
    lang = await context.services.members.lang_of(user.id, user.language_code)
    query = update.callback_query
    if query is not None:
        if isinstance(error, NotFound | StaleAction):
            text = catalog.t(lang, "stale_button")
        else:
            text = _plain(explain(catalog, lang, error))
        try:
            await query.answer(text, show_alert=True)
            return
        except BadRequest:  # already answered: say it in the chat instead
            pass
    if chat is None:
        return
    message = update.effective_message
    await send_html(
        context,
        chat.id,
        explain(catalog, lang, error),
        reply_to=message.message_id if message is not None and query is None else None,
    )


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if isinstance(error, DomainError) and isinstance(update, Update):
        log.info("update %s refused: %s: %s", update.update_id, type(error).__name__, error)
        try:
            await refuse(update, context, error)
        except TelegramError as exc:
            log.warning("update %s: could not send the refusal: %s", update.update_id, exc)
        return
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
