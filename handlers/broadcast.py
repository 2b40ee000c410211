"""The announcement lane's Telegram side: sending one announcement to one member (paced),
editing the author's live progress message, and starting the lane's worker with the bot."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.context import IpdeskApp
from bot.followup_config import build_retry
from bot.i18n import Catalog
from bot.scheduler import ReminderPump, SendResult
from bot.services.broadcast import (
    CAPTION_LIMIT,
    BroadcastDelivery,
    BroadcastPreparer,
    BroadcastWorker,
    LaneStore,
    Pacer,
    Rendered,
    SharedPacer,
    lane_pacer,
    utcnow,
)
from bot.services.callback_codes import Cb
from bot.services.followups import Delivery
from bot.services.outreach import IN_DOUBT, OutreachService, Progress
from bot.services.reminders import PARTS_SENT, ClaimedReminder
from bot.services.safehtml import visible_length
from faq.models import Lang
from handlers.callbacks import encode

log = logging.getLogger(__name__)

PREVIEW = Cb.PREVIEW
CB_STOP = Cb.STOP_ANNOUNCEMENT
PROGRESS_EVERY = 2.0  # seconds between edits of one progress message
BATCH = 10  # rows each pump claims at a time: half a second of sending at the default cap
SENDERS = 3  # pumps sending at once, paced together


def progress_text(catalog: Catalog, lang: Lang, p: Progress) -> str:
    text = catalog.t(
        lang,
        "ann_progress",
        id=p.announcement_id,
        status=catalog.t(lang, f"ann_status_{p.status}"),
        sent=p.sent,
        failed=p.failed,
        blocked=p.blocked,
        opted_out=p.opted_out,
        cancelled=p.cancelled,
        waiting=p.waiting,
        total=p.recipients,
    )
    return text + in_doubt_note(catalog, lang, p)


def in_doubt_note(catalog: Catalog, lang: Lang, p: Progress) -> str:
    """A line about the messages whose delivery is unknown (none: nothing)."""
    return "\n" + catalog.t(lang, "ann_in_doubt", count=p.in_doubt) if p.in_doubt else ""


def stop_markup(catalog: Catalog, lang: Lang, announcement_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalog.t(lang, "ann_btn_stop"),
                    callback_data=encode(CB_STOP, str(announcement_id)),
                )
            ]
        ]
    )


def _markup(rendered: Rendered, inert: bool) -> InlineKeyboardMarkup | None:
    """The member's buttons; ``inert`` (previews) gives them a code no handler acts on."""
    if not rendered.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.label, callback_data=encode(PREVIEW) if inert else encode(b.kind, b.arg)
                )
            ]
            for b in rendered.buttons
        ]
    )


async def send_rendered(
    bot: Bot,
    chat_id: int,
    rendered: Rendered,
    *,
    inert: bool = False,
    skip: int = 0,
    pace: Callable[[], Awaitable[None]] | None = None,
    on_part: Callable[[], None] | None = None,
) -> int:
    """Send an announcement: the media (with the text as its caption when it fits), then the
    text. ``skip``: parts an earlier attempt already sent. Returns the parts in all."""
    markup = _markup(rendered, inert)
    parts = 0
    caption_fits = visible_length(rendered.text) <= CAPTION_LIMIT
    if rendered.media_kind is not None and rendered.media_file_id is not None:
        if skip <= parts:
            if pace is not None:
                await pace()
            caption = rendered.text if caption_fits else None
            if rendered.media_kind == "photo":
                await bot.send_photo(
                    chat_id,
                    rendered.media_file_id,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if caption is not None else None,
                )
            else:
                await bot.send_document(
                    chat_id,
                    rendered.media_file_id,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if caption is not None else None,
                )
            if on_part is not None:
                on_part()
        parts += 1
        if caption_fits:
            return parts
    if skip <= parts:
        if pace is not None:
            await pace()
        await bot.send_message(
            chat_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    return parts + 1


class _NotHeld(Exception):
    """The row was taken over by another worker (lease ran out): do not send it."""


NOT_SENT_CAUSES = (
    aiohttp.ClientConnectorError,  # bot.http.AiohttpRequest: no connection was made
    aiohttp.ConnectionTimeoutError,  # … or none was made in time
    httpx.ConnectError,  # HTTPXRequest (with TELEGRAM_PROXY): the same cases
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
"""Errors raised before a request left this machine: retrying keeps at most once. Anything
else (a read timeout, a dropped connection, a 5xx) may come after Telegram accepted it."""


def surely_not_sent(exc: NetworkError) -> bool:
    """True when the request never reached Telegram (no connection was made); any other
    network error or timeout may have come after Telegram accepted the message."""
    return isinstance(exc.__cause__, NOT_SENT_CAUSES)


Attempt = Callable[[ClaimedReminder, datetime], Awaitable[bool]]


class AnnouncementSender:
    """The lane's sender: paced by ``pacer``; before each request the row's attempt is
    committed (``attempt``), and an answer that leaves delivery unknown is never retried
    (at most once: see bot.services.broadcast)."""

    def __init__(self, bot: Bot, pacer: Pacer | SharedPacer, attempt: Attempt) -> None:
        self._bot = bot
        self._pacer = pacer
        self._attempt = attempt

    async def __call__(self, delivery: Delivery) -> SendResult:
        if not isinstance(delivery, BroadcastDelivery) or delivery.rendered is None:
            return SendResult.permanent("not an announcement delivery")
        done = int(delivery.reminder.payload.get(PARTS_SENT, 0))
        progress = [done]  # the media part, once it went out: a retry sends only the text

        def part_sent() -> None:
            progress[0] += 1

        async def before_request() -> None:
            await self._pacer.acquire()
            if not await self._attempt(delivery.reminder, utcnow()):
                raise _NotHeld

        try:
            await send_rendered(
                self._bot,
                delivery.chat_id,
                delivery.rendered,
                skip=done,
                pace=before_request,
                on_part=part_sent,
            )
        except _NotHeld:
            return SendResult.retry("lease lost before the send", parts_sent=progress[0])
        except RetryAfter as exc:  # Telegram refused it: nothing was delivered
            after = exc.retry_after
            seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
            return SendResult.retry("429 flood control", seconds, parts_sent=progress[0])
        except Forbidden as exc:
            return SendResult.permanent(f"blocked: {exc.message}", delivery.chat_id)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return SendResult.permanent(f"blocked: {exc.message}", delivery.chat_id)
            return SendResult.permanent(f"bad request: {exc.message}")
        except (TimedOut, NetworkError) as exc:
            if surely_not_sent(exc):
                return SendResult.retry(f"network: {exc.message}", parts_sent=progress[0])
            return SendResult.permanent(f"{IN_DOUBT}: {exc.message}")
        return SendResult.sent()


async def refresh_progress(
    bot: Bot, catalog: Catalog, outreach: OutreachService, announcement_id: int, progress: Progress
) -> None:
    """Edit the author's progress message (in the author's language)."""
    draft = await outreach.get(announcement_id)
    if draft.progress_chat_id is None or draft.progress_message_id is None:
        return
    lang = await outreach.lang_of(draft.author_id)
    done = progress.status in ("sent", "cancelled")
    try:
        await bot.edit_message_text(
            progress_text(catalog, lang, progress),
            chat_id=draft.progress_chat_id,
            message_id=draft.progress_message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=None if done else stop_markup(catalog, lang, announcement_id),
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("progress of announcement %s not edited: %s", announcement_id, exc.message)
    except TelegramError as exc:
        log.warning("progress of announcement %s not edited: %s", announcement_id, exc)


class ProgressReporter:
    """After each batch: finish announcements with nothing left, edit progress messages at
    most every PROGRESS_EVERY seconds each (always on the last change)."""

    def __init__(self, bot: Bot, catalog: Catalog, outreach: OutreachService) -> None:
        self._bot = bot
        self._catalog = catalog
        self._outreach = outreach
        self._last: dict[int, float] = {}

    async def __call__(self, announcement_ids: set[int]) -> set[int]:
        await self._outreach.start_due(utcnow())
        finished = set()
        for announcement_id in sorted(announcement_ids):
            progress = await self._outreach.finish_if_done(announcement_id, utcnow())
            final = progress.status in ("sent", "cancelled") and progress.waiting == 0
            now = time.monotonic()
            if final:
                finished.add(announcement_id)
                self._last.pop(announcement_id, None)
            elif now - self._last.get(announcement_id, 0.0) < PROGRESS_EVERY:
                continue
            else:
                self._last[announcement_id] = now
            await refresh_progress(
                self._bot, self._catalog, self._outreach, announcement_id, progress
            )
        return finished


async def start_lane(app: IpdeskApp) -> BroadcastWorker:
    """Build the announcement lane over the outbox and start its worker (post_init).

    SENDERS pumps share one store, one preparer and one pacer, each in its own loop: while
    one waits for Telegram's answer (a round trip from China takes a good part of a pacing
    slot) or records a send, the next sends, so the lane holds BROADCAST_MAX_RATE instead
    of one message per round trip.
    """
    services = app.bot_data.services
    settings = services.settings
    preparer = BroadcastPreparer(services.sessions, services.catalog, settings.zone)
    store = LaneStore(services.sessions, preparer, build_retry(settings))
    pacer = lane_pacer(services.sessions, settings.database_url, settings.broadcast_max_rate)
    sender = AnnouncementSender(app.bot, pacer, store.mark_attempt)
    pumps = [
        ReminderPump(
            store,
            preparer,
            sender,
            batch_size=BATCH,
            lease=timedelta(seconds=settings.reminder_lease_seconds),
            # Each send recorded at once (a row whose send began and was not recorded is
            # in doubt after a crash: never resent).
            flush_interval=0,
        )
        for _ in range(SENDERS)
    ]

    worker = BroadcastWorker(
        [pump.run_once for pump in pumps],
        preparer,
        ProgressReporter(app.bot, services.catalog, services.outreach),
        idle_seconds=min(5.0, settings.reminder_poll_seconds),
    )
    services.outreach.attach_lane(worker.wake, worker.stop)
    await services.outreach.load_composing()
    worker.start()
    return worker
