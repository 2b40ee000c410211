"""Small helpers shared by the handler modules: who is talking, and sending long HTML text."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import Context
from bot.services.arrival import Arrival
from bot.services.members import Profile, TelegramIdentity
from bot.text import split_plain
from faq.models import Lang
from handlers.callbacks import Callback


@dataclass(frozen=True, slots=True)
class Press:
    """A button press, narrowed: the query, who pressed it, where, and the decoded data."""

    query: CallbackQuery
    user: User
    chat_id: int
    profile: Profile
    data: Callback


def identity(user: User) -> TelegramIdentity:
    return TelegramIdentity(
        id=user.id,
        first_name=user.first_name or "",
        username=user.username,
        language_code=user.language_code,
    )


async def arrival_of(update: Update, context: Context) -> Arrival | None:
    """What the database knows about the update's sender (one read, kept for the update)."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    if context.arrival is None or context.arrival.user_id != user.id:
        context.arrival = await context.services.arrivals.arrive(identity(user))
    return context.arrival


async def profile_of(update: Update, context: Context, detected: Lang | None = None) -> Profile:
    """The sender's profile, recording that they are talking to us.

    The first call in an update uses what :func:`arrival_of` read when nothing needs writing;
    later calls (a handler that changed the profile meanwhile) read it afresh.
    """
    user = update.effective_user
    if user is None:
        raise ValueError("update without a user")
    arrival = context.arrival
    if detected is None and arrival is not None and arrival.profile is not None:
        context.arrival = dataclasses.replace(arrival, profile=None)
        if arrival.profile.id == user.id:
            return arrival.profile
    return await context.services.members.touch(identity(user), detected)


def open_tickets_possible(context: Context, user_id: int) -> bool:
    """False when the sender's arrival showed no open ticket (the lookup can be skipped)."""
    arrival = context.arrival
    return arrival is None or arrival.user_id != user_id or arrival.open_tickets


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
    chunks = split_plain(plain) or [""]
    last: Message | None = None
    for index, chunk in enumerate(chunks):
        parts = []
        if index == 0 and header_html:
            parts.append(header_html)
        if chunk:
            parts.append(chunk)
        is_last = index == len(chunks) - 1
        if is_last and footer_html:
            parts.append(footer_html)
        last = await send_html(context, chat_id, "\n\n".join(parts), markup if is_last else None)
    assert last is not None
    return last


async def send_chunks(
    context: Context,
    chat_id: int,
    chunks: list[str],
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> Message:
    """Send pre-split HTML chunks (see handlers.cards.chunk_lines); keyboard on the last."""
    last: Message | None = None
    for index, chunk in enumerate(chunks):
        is_last = index == len(chunks) - 1
        last = await send_html(
            context,
            chat_id,
            chunk,
            markup if is_last else None,
            reply_to=reply_to if index == 0 else None,
        )
    assert last is not None
    return last


async def edit_html(
    context: Context,
    chat_id: int,
    message_id: int,
    text_html: str,
    markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit a message in place; True when it is (already) as asked, False if it is gone."""
    try:
        await context.bot.edit_message_text(
            text_html,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return True
        if "not found" in exc.message.lower() or "can't be edited" in exc.message.lower():
            return False
        raise
    return True


def command_args(message: Message) -> tuple[str, str]:
    """``/note IP-2026-0042 some text`` → ("IP-2026-0042", "some text"), keeping the text's
    line breaks; missing parts are ""."""
    parts = (message.text or "").split(maxsplit=1)
    if len(parts) < 2:
        return "", ""
    rest = parts[1].split(maxsplit=1)
    if not rest:
        return "", ""
    return rest[0], rest[1].strip() if len(rest) > 1 else ""
