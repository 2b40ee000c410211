"""Outreach on Telegram: /subscriptions, composing announcements (/announce), their progress
and reports (/announcements, /announcement N), and the paced sending lane's Telegram side.

Composing, for admins and editors in a private chat (states are the draft's ``compose_step``,
kept in the database, so a restart loses nothing)::

    /announce ─kind─▶ text_zh ─▶ text_en ─▶ media ─▶ topic|priority (news|alert) ─▶ audience
                                                        │ audience_filter (typed) ◀─┤
                                   event (typed; kind event) ◀───────────────────────┘
                                                        ▼
                           review: previews per language, recipient count
                           ├─ Send now ──▶ planned, sending (progress message, Stop button)
                           ├─ Schedule ─▶ schedule (typed time) ─▶ planned, scheduled
                           └─ Cancel
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import Context, IpdeskApp
from bot.i18n import Catalog
from bot.services.audience import INTEREST_TOPICS, TOPICS, Audience, AudienceError, parse_filter
from bot.services.broadcast import (
    render,
)
from bot.services.callback_codes import Cb
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.events import EventError, parse_event
from bot.services.outreach import (
    BODY_LIMIT,
    AnnouncementReport,
    ComposeError,
    Draft,
    may_announce,
)
from bot.services.safehtml import sanitise, visible_length
from bot.services.timefmt import format_datetime
from db.models import Event
from faq.models import Lang
from handlers import events
from handlers.broadcast import (
    CB_STOP,
    PREVIEW,
    in_doubt_note,
    progress_text,
    refresh_progress,
    send_rendered,
    stop_markup,
)
from handlers.callbacks import Callback, decode, encode
from handlers.common import edit_html, profile_of, send_html

log = logging.getLogger(__name__)

CB_SUB = Cb.SUBSCRIPTION
CB_KIND = Cb.DRAFT_KIND
CB_SKIP = Cb.DRAFT_SKIP
CB_TOPIC = Cb.DRAFT_TOPIC
CB_PRIORITY = Cb.DRAFT_PRIORITY
CB_AUDIENCE = Cb.DRAFT_AUDIENCE
CB_CONFIRM = Cb.DRAFT_CONFIRM
KINDS = (CB_SUB, CB_KIND, CB_SKIP, CB_TOPIC, CB_PRIORITY, CB_AUDIENCE, CB_CONFIRM, CB_STOP)
PATTERN = rf"^({'|'.join(KINDS)}):"


def _now() -> datetime:
    return datetime.now(UTC)


def _button(catalog: Catalog, lang: Lang, key: str, kind: str, arg: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(catalog.t(lang, key), callback_data=encode(kind, arg))


# -- /subscriptions ---------------------------------------------------------------------------


def subscriptions_markup(
    catalog: Catalog, lang: Lang, chosen: dict[str, bool]
) -> InlineKeyboardMarkup:
    rows = []
    for index, topic in enumerate(TOPICS):
        label = catalog.t(
            lang,
            "sub_on" if chosen[topic] else "sub_off",
            topic=catalog.t(lang, f"subtopic_{topic}"),
        )
        rows.append([InlineKeyboardButton(label, callback_data=encode(CB_SUB, str(index)))])
    return InlineKeyboardMarkup(rows)


async def subscriptions_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    chosen = await services.outreach.subscriptions(profile.id)
    await send_html(
        context,
        chat.id,
        services.catalog.t(profile.lang, "sub_intro"),
        subscriptions_markup(services.catalog, profile.lang, chosen),
    )


# -- composing --------------------------------------------------------------------------------


async def announce_command(update: Update, context: Context) -> None:
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    profile = await profile_of(update, context)
    catalog, lang = context.services.catalog, profile.lang
    if not may_announce(profile.role):
        await send_html(context, chat.id, catalog.t(lang, "ann_not_allowed"))
        return
    if chat.type != "private":
        await send_html(context, chat.id, catalog.t(lang, "ann_private_only"))
        return
    markup = InlineKeyboardMarkup(
        [[_button(catalog, lang, f"ann_kind_{k}", CB_KIND, k)] for k in ("news", "event", "alert")]
    )
    await send_html(context, chat.id, catalog.t(lang, "ann_choose_kind"), markup)


def authors_filter(authors: set[int], name: str) -> filters.MessageFilter:
    """Messages of the users in ``authors``, one of OutreachService's in-memory sets
    (composing: the draft waits for typed input; drafting: any draft), rebuilt from the
    drafts at start-up."""

    class _Authors(filters.MessageFilter):
        def filter(self, message: Message) -> bool:
            user = message.from_user
            return user is not None and user.id in authors

    return _Authors(name=name)


async def on_compose_message(update: Update, context: Context) -> None:
    """The author's typed input for the draft's current step."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    catalog, lang = services.catalog, profile.lang
    draft = await services.outreach.draft_of(profile.id)
    if draft is None or draft.step is None:
        services.outreach.composing.discard(profile.id)
        return
    try:
        await _take(context, chat.id, lang, draft, message)
    except (ComposeError, AudienceError, EventError) as exc:
        await send_html(context, chat.id, catalog.t(lang, exc.text_key, **exc.params))
    except NotAllowed:
        await services.outreach.discard(profile.id)
        await send_html(context, chat.id, catalog.t(lang, "ann_not_allowed"))


def _message_html(message: Message) -> str | None:
    """The message's text (or caption) as HTML: Telegram's formatting, or tags typed."""
    if message.text is not None:
        source = message.text_html if message.entities else message.text
    elif message.caption is not None:
        source = message.caption_html if message.caption_entities else message.caption
    else:
        return None
    return sanitise(source).strip()


async def _take(
    context: Context, chat_id: int, lang: Lang, draft: Draft, message: Message
) -> None:
    outreach, catalog = context.services.outreach, context.services.catalog
    author = draft.author_id
    step = draft.step
    if step in ("text_zh", "text_en"):
        body = _message_html(message)
        if not body:
            raise ComposeError("ann_text_empty")
        length = visible_length(body)
        if length > BODY_LIMIT:
            raise ComposeError("ann_text_too_long", length=length, limit=BODY_LIMIT)
        media = _media_of(message)
        values: dict[str, object] = {step: body}
        if media is not None:
            values["media_kind"], values["media_file_id"] = media
        nxt = "text_en" if step == "text_zh" else "media"
        draft = await outreach.update_draft(author, step=nxt, **values)
        await _ask(context, chat_id, lang, draft)
        return
    if step == "media":
        media = _media_of(message)
        if media is None:
            raise ComposeError("ann_media_wrong")
        draft = await outreach.update_draft(
            author, media_kind=media[0], media_file_id=media[1], step=_after_media(draft)
        )
        await _ask(context, chat_id, lang, draft)
        return
    text = (message.text or "").strip()
    if step == "audience_filter":
        audience = parse_filter(text)
        draft = await outreach.update_draft(author, audience=audience, step=_after_audience(draft))
        await _ask(context, chat_id, lang, draft)
        return
    if step == "event":
        spec = parse_event(text, context.services.settings.zone, _now())
        draft = await outreach.attach_event(
            author, spec.title, spec.starts_at, spec.place, spec.link, spec.capacity, "review"
        )
        await _ask(context, chat_id, lang, draft)
        return
    if step == "schedule":
        at = _parse_when(text, context)
        if at is None or at <= _now():
            raise ComposeError("ann_schedule_bad")
        await _confirm(context, chat_id, lang, author, at)
        return
    await send_html(context, chat_id, catalog.t(lang, "ann_use_buttons"))


def _media_of(message: Message) -> tuple[str, str] | None:
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document is not None:
        return "document", message.document.file_id
    return None


def _after_media(draft: Draft) -> str:
    return {"news": "topic", "alert": "priority"}.get(draft.kind, "audience")


def _after_audience(draft: Draft) -> str:
    return "event" if draft.kind == "event" and draft.event_id is None else "review"


def _parse_when(text: str, context: Context) -> datetime | None:
    from bot.services.events import _WHEN

    match = _WHEN.match(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=context.services.settings.zone)
    except ValueError:
        return None
    return local.astimezone(UTC)


async def _ask(context: Context, chat_id: int, lang: Lang, draft: Draft) -> None:
    """Prompt for the draft's current step (with its buttons)."""
    catalog = context.services.catalog
    step = draft.step
    markup: InlineKeyboardMarkup | None = None
    if step == "text_zh":
        key = "ann_ask_text_zh"
        markup = InlineKeyboardMarkup([[_button(catalog, lang, "ann_btn_no_zh", CB_SKIP, "zh")]])
    elif step == "text_en":
        key = "ann_ask_text_en"
        markup = InlineKeyboardMarkup([[_button(catalog, lang, "ann_btn_no_en", CB_SKIP, "en")]])
    elif step == "media":
        key = "ann_ask_media"
        markup = InlineKeyboardMarkup(
            [[_button(catalog, lang, "ann_btn_no_media", CB_SKIP, "media")]]
        )
    elif step == "topic":
        key = "ann_ask_topic"
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        catalog.t(lang, f"subtopic_{t}"), callback_data=encode(CB_TOPIC, str(i))
                    )
                ]
                for i, t in enumerate(INTEREST_TOPICS)
            ]
        )
    elif step == "priority":
        key = "ann_ask_priority"
        markup = InlineKeyboardMarkup(
            [
                [
                    _button(catalog, lang, "ann_btn_priority_normal", CB_PRIORITY, "normal"),
                    _button(catalog, lang, "ann_btn_priority_high", CB_PRIORITY, "high"),
                ]
            ]
        )
    elif step == "audience":
        key = "ann_ask_audience"
        markup = InlineKeyboardMarkup(
            [
                [_button(catalog, lang, "ann_btn_audience_all", CB_AUDIENCE, "all")],
                [
                    _button(catalog, lang, "ann_btn_audience_zh", CB_AUDIENCE, "zh"),
                    _button(catalog, lang, "ann_btn_audience_en", CB_AUDIENCE, "en"),
                ],
                [_button(catalog, lang, "ann_btn_audience_filter", CB_AUDIENCE, "filter")],
            ]
        )
    elif step == "audience_filter":
        key = "ann_ask_filter"
    elif step == "event":
        key = "ann_ask_event"
    elif step == "schedule":
        key = "ann_ask_schedule"
    else:
        await _review(context, chat_id, lang, draft)
        return
    await send_html(context, chat_id, catalog.t(lang, key), markup)


async def _review(context: Context, chat_id: int, lang: Lang, draft: Draft) -> None:
    """A preview per language present among the recipients (or written), then the summary."""
    services = context.services
    catalog, outreach = services.catalog, services.outreach
    counts = await outreach.count(draft)
    event = await _event(context, draft.event_id)
    shown = [lg for lg in ("zh", "en") if counts.get(lg)] or list(draft.languages)
    for member_lang in shown:
        preview_lang: Lang = "en" if member_lang == "en" else "zh"
        head = catalog.t(
            lang, "ann_preview_head", lang=catalog.t(lang, f"ann_lang_{preview_lang}")
        )
        await send_html(context, chat_id, head)
        rendered = render(catalog, draft, event, preview_lang, services.settings.zone)
        await send_rendered(context.bot, chat_id, rendered, inert=True)
    topic = draft.effective_topic or ""
    summary = catalog.t(
        lang,
        "ann_review",
        kind=catalog.t(lang, f"ann_kind_{draft.kind}"),
        topic=catalog.t(lang, f"subtopic_{topic}") if topic else "—",
        audience=_audience_text(catalog, lang, draft.audience),
        total=sum(counts.values()),
        zh=counts.get("zh", 0),
        en=counts.get("en", 0),
    )
    markup = InlineKeyboardMarkup(
        [
            [
                _button(catalog, lang, "ann_btn_send_now", CB_CONFIRM, "now"),
                _button(catalog, lang, "ann_btn_schedule", CB_CONFIRM, "later"),
            ],
            [_button(catalog, lang, "ann_btn_discard", CB_CONFIRM, "cancel")],
        ]
    )
    await send_html(context, chat_id, summary, markup)


def _audience_text(catalog: Catalog, lang: Lang, audience: Audience) -> str:
    if audience.everyone:
        return catalog.t(lang, "ann_audience_all")
    parts = []
    for name, values in (
        ("lang", audience.langs),
        ("industry", audience.industries),
        ("market", audience.markets),
        ("city", audience.cities),
    ):
        if values:
            parts.append(f"{name}: {', '.join(values)}")
    return "; ".join(parts)


async def _event(context: Context, event_id: int | None) -> Event | None:
    if event_id is None:
        return None
    async with context.services.sessions() as s:
        return await s.get(Event, event_id)


async def _confirm(
    context: Context, chat_id: int, lang: Lang, author: int, at: datetime | None
) -> None:
    services = context.services
    catalog = services.catalog
    draft = await services.outreach.confirm(author, _now(), at, None, None)
    if draft.recipients == 0:
        await send_html(context, chat_id, catalog.t(lang, "ann_nobody"))
        return
    if draft.status == "scheduled" and draft.scheduled_at is not None:
        when = format_datetime(draft.scheduled_at, services.settings.zone, lang)
        await send_html(
            context,
            chat_id,
            catalog.t(lang, "ann_scheduled", id=draft.id, when=when, total=draft.recipients),
        )
    progress = await services.outreach.progress(draft.id)
    sent = await send_html(
        context,
        chat_id,
        progress_text(catalog, lang, progress),
        stop_markup(catalog, lang, draft.id),
    )
    await services.outreach.set_progress_message(draft.id, chat_id, sent.message_id)
    services.outreach.wake_sender()


async def on_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    catalog, lang = services.catalog, profile.lang
    data = decode(query.data)
    try:
        if data is None:
            raise NotFound("bad button")
        if data.kind == CB_SUB:
            await _toggle(update, context, data, lang)
            return
        # Answered after the work: a refusal is then the answer (an alert), not a second one.
        await _compose_button(context, chat.id, lang, profile.id, data)
        await query.answer()
    except (ComposeError, AudienceError, EventError) as exc:
        await query.answer(catalog.t(lang, exc.text_key, **exc.params), show_alert=True)
    except NotAllowed:
        await query.answer(catalog.t(lang, "ann_not_allowed"), show_alert=True)
    except DomainError:
        await query.answer(catalog.t(lang, "stale_button"), show_alert=True)


async def _toggle(update: Update, context: Context, data: Callback, lang: Lang) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    index = data.int_arg()
    if index is None or index >= len(TOPICS):
        raise NotFound("no such topic")
    chosen = await context.services.outreach.toggle(user.id, TOPICS[index])
    catalog = context.services.catalog
    await query.answer(catalog.t(lang, "sub_saved"))
    if query.message is not None:
        await edit_html(
            context,
            query.message.chat.id,
            query.message.message_id,
            catalog.t(lang, "sub_intro"),
            subscriptions_markup(catalog, lang, chosen),
        )


async def _compose_button(
    context: Context, chat_id: int, lang: Lang, author: int, data: Callback
) -> None:
    outreach, catalog = context.services.outreach, context.services.catalog
    if data.kind == CB_STOP:
        announcement_id = data.int_arg()
        if announcement_id is None:
            raise NotFound("bad id")
        progress = await outreach.cancel(author, announcement_id)
        await send_html(context, chat_id, catalog.t(lang, "ann_stopped", id=announcement_id))
        await refresh_progress(context.bot, catalog, outreach, announcement_id, progress)
        return
    if data.kind == CB_KIND:
        await _ask(context, chat_id, lang, await outreach.start(author, data.arg))
        return
    current = await outreach.draft_of(author)
    if current is None:
        raise ComposeError("ann_no_draft")
    draft = current
    if (
        data.kind == CB_SKIP
        and data.arg in ("zh", "en", "media")
        and draft.step
        in (
            "text_zh",
            "text_en",
            "media",
        )
    ):
        if data.arg == "zh" and draft.step == "text_zh":
            draft = await outreach.update_draft(author, text_zh=None, step="text_en")
        elif data.arg == "en" and draft.step == "text_en":
            if not draft.text_zh:
                raise ComposeError("ann_no_text")
            draft = await outreach.update_draft(author, text_en=None, step="media")
        elif data.arg == "media" and draft.step == "media":
            draft = await outreach.update_draft(
                author, media_kind=None, media_file_id=None, step=_after_media(draft)
            )
        else:
            raise ComposeError("ann_use_buttons")
    elif data.kind == CB_TOPIC and draft.step == "topic":
        index = data.int_arg()
        if index is None or index >= len(INTEREST_TOPICS):
            raise ComposeError("ann_bad_topic")
        draft = await outreach.update_draft(author, topic=INTEREST_TOPICS[index], step="audience")
    elif data.kind == CB_PRIORITY and draft.step == "priority" and data.arg in ("normal", "high"):
        draft = await outreach.update_draft(author, priority=data.arg, step="audience")
    elif data.kind == CB_AUDIENCE and draft.step == "audience":
        if data.arg == "filter":
            draft = await outreach.update_draft(author, step="audience_filter")
        elif data.arg in ("all", "zh", "en"):
            audience = Audience() if data.arg == "all" else Audience(langs=(data.arg,))
            draft = await outreach.update_draft(
                author, audience=audience, step=_after_audience(draft)
            )
        else:
            raise ComposeError("ann_use_buttons")
    elif data.kind == CB_CONFIRM and draft.step == "review":
        if data.arg == "now":
            await _confirm(context, chat_id, lang, author, None)
            return
        if data.arg == "later":
            draft = await outreach.update_draft(author, step="schedule")
        elif data.arg == "cancel":
            await outreach.discard(author)
            await send_html(context, chat_id, catalog.t(lang, "ann_discarded"))
            return
        else:
            raise ComposeError("ann_use_buttons")
    else:
        raise ComposeError("ann_use_buttons")
    await _ask(context, chat_id, lang, draft)


async def cancel_compose(update: Update, context: Context) -> None:
    """/cancel while composing drops the draft."""
    chat = update.effective_chat
    if chat is None:
        return
    profile = await profile_of(update, context)
    await context.services.outreach.discard(profile.id)
    await send_html(context, chat.id, context.services.catalog.t(profile.lang, "ann_discarded"))


async def announcements_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    profile = await profile_of(update, context)
    catalog, lang = context.services.catalog, profile.lang
    if not may_announce(profile.role):
        await send_html(context, chat.id, catalog.t(lang, "ann_not_allowed"))
        return
    recent = await context.services.outreach.recent()
    if not recent:
        await send_html(context, chat.id, catalog.t(lang, "ann_list_empty"))
        return
    zone = context.services.settings.zone
    lines = [catalog.t(lang, "ann_list_head")]
    for d in recent:
        when = d.scheduled_at or _now()
        lines.append(
            catalog.t(
                lang,
                "ann_list_row",
                id=d.id,
                kind=catalog.t(lang, f"ann_kind_{d.kind}"),
                status=catalog.t(lang, f"ann_status_{d.status}")
                if d.status in ("scheduled", "sending", "sent", "cancelled")
                else d.status,
                total=d.recipients,
                when=format_datetime(when, zone, lang),
            )
        )
    await send_html(context, chat.id, "\n".join(lines))


async def announcement_command(update: Update, context: Context) -> None:
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    profile = await profile_of(update, context)
    catalog, lang = context.services.catalog, profile.lang
    if not may_announce(profile.role):
        await send_html(context, chat.id, catalog.t(lang, "ann_not_allowed"))
        return
    parts = (message.text or "").split()
    if len(parts) != 2 or not parts[1].lstrip("#").isdigit() or len(parts[1]) > 9:
        await send_html(context, chat.id, catalog.t(lang, "ann_usage_report"))
        return
    try:
        report = await context.services.outreach.report(int(parts[1].lstrip("#")))
    except NotFound:
        await send_html(context, chat.id, catalog.t(lang, "ann_usage_report"))
        return
    await send_html(context, chat.id, report_text(catalog, lang, report))


def report_text(catalog: Catalog, lang: Lang, report: AnnouncementReport) -> str:
    p = report.progress
    text = catalog.t(
        lang,
        "ann_report",
        id=p.announcement_id,
        kind=catalog.t(lang, f"ann_kind_{report.kind}"),
        status=catalog.t(lang, f"ann_status_{p.status}")
        if p.status in ("scheduled", "sending", "sent", "cancelled")
        else p.status,
        total=p.recipients,
        sent=p.sent,
        failed=p.failed,
        blocked=p.blocked,
        opted_out=p.opted_out,
        cancelled=p.cancelled,
        signups=report.signups,
        waiting_list=report.waiting_list,
        attended=report.attended,
        feedback_count=report.feedback_count,
        feedback_avg=f"{report.feedback_avg:.1f}" if report.feedback_avg is not None else "—",
        tickets=report.expert_tickets,
    )
    return text + in_doubt_note(catalog, lang, p)


async def on_preview_button(update: Update, context: Context) -> None:
    """Buttons in a preview look like the members' but do nothing."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def register(app: IpdeskApp) -> None:
    """Outreach handlers, registered before the general ones (handlers.register calls this
    first in group 0): the compose filter must see an author's messages before the router."""
    services = app.bot_data.services
    settings = services.settings
    private = filters.ChatType.PRIVATE
    staff_chat = filters.Chat(chat_id=settings.staff_chat_id or ())
    composing = authors_filter(services.outreach.composing, "composing")
    drafting = authors_filter(services.outreach.drafting, "drafting")
    app.add_handler(CallbackQueryHandler(on_callback, pattern=PATTERN))
    app.add_handler(CallbackQueryHandler(on_preview_button, pattern=f"^{PREVIEW}$"))
    app.add_handler(CallbackQueryHandler(events.on_callback, pattern=events.PATTERN))
    app.add_handler(CommandHandler("cancel", cancel_compose, filters=private & drafting))
    app.add_handler(CommandHandler("subscriptions", subscriptions_command, filters=private))
    app.add_handler(CommandHandler("announce", announce_command, filters=private | staff_chat))
    app.add_handler(CommandHandler("announcements", announcements_command, filters=private))
    app.add_handler(CommandHandler("announcement", announcement_command, filters=private))
    app.add_handler(CommandHandler("events", events.events_command, filters=private | staff_chat))
    app.add_handler(CommandHandler("event", events.event_command, filters=private | staff_chat))
    app.add_handler(
        MessageHandler(
            private & filters.UpdateType.MESSAGE & ~filters.COMMAND & composing,
            on_compose_message,
        )
    )
