"""What happens when the inbox gives up an update (bot/services/inbox.py, "Poison updates").

A member who wrote it in their private chat gets one notice, through the outbox and in the
transaction that marks it failed: their message could not be processed, they may send it
again or contact the association. Nothing of what they wrote is kept or logged.
"""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import DEFAULT_LANG, normalise_lang
from bot.services.inbox import FailedUpdate
from bot.services.members import preferred_lang
from bot.services.outbox import enqueue, message_payload
from db.models import User
from faq.models import Lang

NOTICE = "inbox_failed"
"""The catalog key of the notice."""
KIND = "notice"


def _telegram_lang(payload: str) -> str | None:
    """The sender's Telegram language_code in a stored update, if there is one."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for value in data.values():
        sender = value.get("from") if isinstance(value, dict) else None
        if isinstance(sender, dict):
            code = sender.get("language_code")
            return code if isinstance(code, str) else None
    return None


async def _lang(session: AsyncSession, failed: FailedUpdate, chat_id: int) -> Lang:
    user = await session.get(User, chat_id)  # a private chat's id is its member's user id
    if user is not None:
        return preferred_lang(user)
    return normalise_lang(_telegram_lang(failed.payload)) or DEFAULT_LANG


async def tell_member(session: AsyncSession, failed: FailedUpdate) -> None:
    """Queue the notice for a given-up update from a private chat (groups: nothing)."""
    chat_id = failed.chat_id
    if chat_id is None or chat_id <= 0:
        return
    lang = await _lang(session, failed, chat_id)
    await enqueue(
        session,
        chat_id,
        KIND,
        message_payload(text_key=NOTICE, lang=lang),
        key=f"inbox.failed:{failed.update_id}",
    )
