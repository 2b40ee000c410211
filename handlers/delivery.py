"""Sending what the follow-up rules decided: render catalog text and buttons, map failures."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.i18n import Catalog
from bot.scheduler import SendResult
from bot.services.followups import Button, Delivery, Outgoing
from bot.services.reminders import PARTS_SENT, ClaimedReminder
from bot.text import split_html
from handlers.callbacks import encode

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024


def markup(
    catalog: Catalog, out: Outgoing, rows: tuple[tuple[Button, ...], ...]
) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalog.t(out.lang, b.text_key, **b.params),
                    callback_data=encode(b.kind, b.arg),
                )
                for b in row
            ]
            for row in rows
        ]
    )


async def send_outgoing(bot: Bot, catalog: Catalog, out: Outgoing) -> Message:
    text = out.html if out.html is not None else catalog.t(out.lang, out.text_key, **out.params)
    keyboard = markup(catalog, out, out.buttons)
    if out.photo is not None:
        caption = text if len(text) <= CAPTION_LIMIT else None
        message = await bot.send_photo(
            out.chat_id,
            out.photo,
            caption=caption,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard if caption is not None else None,
        )
        if caption is not None:
            return message
    # Report bodies are built from whole lines, so cutting at a line keeps the HTML intact.
    chunks = split_html(text) or [text]
    sent: Message | None = None
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        sent = await bot.send_message(
            out.chat_id, chunk, parse_mode=ParseMode.HTML, reply_markup=keyboard if last else None
        )
    assert sent is not None
    return sent


OwnSender = Callable[[ClaimedReminder], Awaitable[None]]
"""Sends an outbox row of a kind that renders itself (a card); Telegram errors propagate."""


class TelegramSender:
    """The scheduler's sender: a Delivery becomes Telegram messages, failures a SendResult.

    Outbox kinds that render themselves at send time (the staff-group card) are handed to
    their own sender, registered in ``own``; their errors are mapped the same way."""

    def __init__(
        self, bot: Bot, catalog: Catalog, own: Mapping[str, OwnSender] | None = None
    ) -> None:
        self._bot = bot
        self._catalog = catalog
        self._own = dict(own or {})

    async def __call__(self, delivery: Delivery) -> SendResult:
        # A retry resumes after the parts that already went out (e.g. the report's chart).
        done = int(delivery.reminder.payload.get(PARTS_SENT, 0))
        own = self._own.get(delivery.reminder.kind)
        try:
            if own is not None and not delivery.messages:
                await own(delivery.reminder)
            for index, out in enumerate(delivery.messages):
                if index < done:
                    continue
                await send_outgoing(self._bot, self._catalog, out)
                done = index + 1
        except RetryAfter as exc:
            after = exc.retry_after
            seconds = after.total_seconds() if hasattr(after, "total_seconds") else float(after)
            return SendResult.retry("429 flood control", seconds, parts_sent=done)
        except Forbidden as exc:
            return SendResult.permanent(f"forbidden: {exc.message}", delivery.recipient_user_id)
        except BadRequest as exc:
            log.error("reminder %s rejected: %s", delivery.reminder.key, exc.message)
            return SendResult.permanent(f"bad request: {exc.message}")
        except (TimedOut, NetworkError) as exc:
            return SendResult.retry(f"network: {exc.message}", parts_sent=done)
        return SendResult.sent()
