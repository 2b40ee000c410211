"""Small helpers shared by the handler modules: who is talking, and sending long HTML text."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode

from bot.context import Context
from bot.services.members import Profile, TelegramIdentity
from bot.text import html, split_text
from faq.models import Lang


def identity(user: User) -> TelegramIdentity:
    return TelegramIdentity(
        id=user.id,
        first_name=user.first_name or "",
        username=user.username,
        language_code=user.language_code,
    )


async def profile_of(update: Update, context: Context, detected: Lang | None = None) -> Profile:
    user = update.effective_user
    if user is None:
        raise ValueError("update without a user")
    return await context.services.members.touch(identity(user), detected)


async def send_html(
    context: Context,
    chat_id: int,
    text_html: str,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> Message:
    return await context.bot.send_message(
        chat_id,
        text_html,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        reply_to_message_id=reply_to,
        allow_sending_without_reply=True,
    )


async def send_plain_long(
    context: Context,
    chat_id: int,
    plain: str,
    *,
    header_html: str = "",
    footer_html: str = "",
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send plain (untrusted or FAQ) text escaped, split at paragraphs under Telegram's limit.

    The header goes on the first chunk, the footer and the keyboard on the last.
    """
    chunks = split_text(plain) or [""]
    last: Message | None = None
    for index, chunk in enumerate(chunks):
        parts = []
        if index == 0 and header_html:
            parts.append(header_html)
        if chunk:
            parts.append(html(chunk))
        is_last = index == len(chunks) - 1
        if is_last and footer_html:
            parts.append(footer_html)
        last = await send_html(context, chat_id, "\n\n".join(parts), markup if is_last else None)
    assert last is not None
    return last
