"""Events and alerts on Telegram: sign-up and cancel buttons, /events, feedback, the staff's
/event N (summary, CSV, check-in, changing date/place/link/seats, cancelling the event), and
the alert's "talk to an expert about this" button."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.context import Context
from bot.i18n import Catalog
from bot.services.broadcast import CB_EXPERT, CB_SIGNUP
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.events import (
    CB_CANCEL,
    CB_CANCEL_EVENT,
    CB_CHECKIN,
    CB_FEEDBACK,
    CHANGES,
    REGISTERED,
    EventError,
    EventSummary,
    parse_change,
)
from bot.services.members import Profile
from bot.services.roles import is_staff
from bot.services.timefmt import format_datetime
from db.models import Role
from faq.models import Lang
from handlers.callbacks import Callback, decode, encode
from handlers.common import profile_of, send_html

log = logging.getLogger(__name__)

PATTERN = rf"^({CB_SIGNUP}|{CB_CANCEL}|{CB_FEEDBACK}|{CB_CHECKIN}|{CB_EXPERT}|{CB_CANCEL_EVENT}):"
CHECKIN_BUTTONS = 30


def _now() -> datetime:
    return datetime.now(UTC)


def _cancel_markup(catalog: Catalog, lang: Lang, event_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalog.t(lang, "ev_btn_cancel"), callback_data=encode(CB_CANCEL, event_id)
                )
            ]
        ]
    )


def _may_see_lists(profile: Profile) -> bool:
    return is_staff(profile.role) or profile.role is Role.EDITOR


async def on_callback(update: Update, context: Context) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    profile = await profile_of(update, context)
    catalog, lang = context.services.catalog, profile.lang
    data = decode(query.data)
    try:
        if data is None:
            raise NotFound("bad button")
        await _dispatch(update, context, profile, chat.id, data)
    except EventError as exc:
        await query.answer(catalog.t(lang, exc.text_key, **exc.params), show_alert=True)
    except NotAllowed:
        await query.answer(catalog.t(lang, "ev_staff_only"), show_alert=True)
    except DomainError:
        await query.answer(catalog.t(lang, "stale_button"), show_alert=True)


async def _dispatch(
    update: Update, context: Context, profile: Profile, chat_id: int, data: Callback
) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    catalog, lang, events = services.catalog, profile.lang, services.events
    zone = services.settings.zone
    if data.kind == CB_SIGNUP:
        event_part, _, ann_part = data.arg.partition(".")
        if not event_part.isdigit() or (ann_part and not ann_part.isdigit()):
            raise NotFound("bad button")
        result = await events.signup(
            int(event_part), profile.id, int(ann_part) if ann_part else None, _now()
        )
        when = format_datetime(result.starts_at, zone, lang)
        if result.already:
            text = catalog.t(
                lang,
                "ev_already",
                title=result.title,
                status=catalog.t(lang, f"ev_status_{result.status}"),
            )
        elif result.status == REGISTERED:
            text = catalog.t(lang, "ev_signed_up", title=result.title, when=when)
        else:
            text = catalog.t(lang, "ev_waiting", title=result.title, position=result.position)
        await query.answer()
        await send_html(context, chat_id, text, _cancel_markup(catalog, lang, result.event_id))
        return
    if data.kind == CB_CANCEL:
        event_id = data.int_arg()
        if event_id is None:
            raise NotFound("bad button")
        cancelled = await events.cancel(event_id, profile.id, _now())
        await query.answer()
        await send_html(context, chat_id, catalog.t(lang, "ev_cancelled", title=cancelled.title))
        return
    if data.kind == CB_FEEDBACK:
        event_part, _, stars = data.arg.partition(".")
        if not (event_part.isdigit() and stars.isdigit()):
            raise NotFound("bad button")
        rating = await events.feedback(int(event_part), profile.id, int(stars), _now())
        await query.answer()
        await send_html(context, chat_id, catalog.t(lang, "ev_feedback_thanks", stars=rating))
        return
    if data.kind == CB_CHECKIN:
        reg_part, _, event_part = data.arg.partition(".")
        if not (reg_part.isdigit() and event_part.isdigit()):
            raise NotFound("bad button")
        row = await events.check_in(profile.id, int(event_part), int(reg_part), _now())
        await query.answer(
            catalog.t(lang, "ev_checked_in", reg=row.id, company=row.company or "—")
        )
        return
    if data.kind == CB_EXPERT:
        await _talk_to_expert(update, context, profile, chat_id, data)
        return
    if data.kind == CB_CANCEL_EVENT:
        event_id = data.int_arg()
        if event_id is None:
            raise NotFound("bad button")
        done = await events.cancel_event(profile.id, event_id, _now())
        await query.answer()
        await query.edit_message_reply_markup(None)
        key = "ev_event_cancel_already" if done.already else "ev_event_cancel_done"
        await send_html(context, chat_id, catalog.t(lang, key, id=event_id, told=done.told))
        return
    raise NotFound("unknown button")


async def _talk_to_expert(
    update: Update, context: Context, profile: Profile, chat_id: int, data: Callback
) -> None:
    """Open (or find) a ticket about the alert, link it, then the usual escalation."""
    query = update.callback_query
    assert query is not None
    announcement_id = data.int_arg()
    if announcement_id is None:
        raise NotFound("bad button")
    services = context.services
    kind, summary = await services.outreach.alert_summary(announcement_id)
    if kind != "alert":
        raise NotFound("not an alert")
    question = services.catalog.t(
        profile.lang, "al_ticket_question", id=announcement_id, summary=summary
    )
    ticket = await services.tickets.open(
        profile.id,
        lang=profile.lang,
        category="infringement",
        question=unescape(question),
        faq_id=f"alert-{announcement_id}",
        question_id=None,
    )
    await services.outreach.link_alert_ticket(announcement_id, ticket.id)
    from handlers.profile import escalate

    await escalate(context, query, chat_id, profile, ticket)


async def events_command(update: Update, context: Context) -> None:
    """Members: their sign-ups (with cancel buttons). Staff and editors: upcoming events."""
    chat = update.effective_chat
    if chat is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    catalog, lang, zone = services.catalog, profile.lang, services.settings.zone
    if _may_see_lists(profile):
        upcoming = await services.events.upcoming(_now())
        if not upcoming:
            await send_html(context, chat.id, catalog.t(lang, "ev_list_empty"))
            return
        lines = [catalog.t(lang, "ev_list_head")]
        lines += [
            catalog.t(
                lang,
                "ev_list_row",
                id=e.event_id,
                title=e.title,
                when=format_datetime(e.starts_at, zone, lang),
                registered=e.registered,
                waiting=e.waiting,
            )
            for e in upcoming
        ]
        await send_html(context, chat.id, "\n".join(lines))
        return
    mine = await services.events.mine(profile.id, _now())
    if not mine:
        await send_html(context, chat.id, catalog.t(lang, "ev_mine_empty"))
        return
    lines = [catalog.t(lang, "ev_mine_head")]
    buttons = []
    for e in mine:
        lines.append(
            catalog.t(
                lang,
                "ev_mine_row",
                title=e.title,
                when=format_datetime(e.starts_at, zone, lang),
                status=catalog.t(lang, f"ev_status_{e.status}"),
            )
        )
        label = f"{catalog.t(lang, 'ev_btn_cancel')}: {e.title[:30]}"
        buttons.append([InlineKeyboardButton(label, callback_data=encode(CB_CANCEL, e.event_id))])
    await send_html(context, chat.id, "\n".join(lines), InlineKeyboardMarkup(buttons))


async def _change(
    context: Context, chat_id: int, profile: Profile, event_id: int, field: str, value: str
) -> None:
    """/event N date|place|link|capacity VALUE: apply, then say what follows from it."""
    services = context.services
    catalog, lang = services.catalog, profile.lang
    change = parse_change(field, value, services.settings.zone, _now())
    result = await services.events.change(profile.id, event_id, change, _now())
    if change.field == "capacity":
        done = catalog.t(lang, "ev_changed_capacity", id=event_id, promoted=len(result.promoted))
    else:
        done = catalog.t(lang, "ev_changed", id=event_id, told=result.told)
    summary = _summary_text(catalog, lang, result.summary, services.settings.zone)
    await send_html(context, chat_id, f"{done}\n\n{summary}")


async def _confirm_cancel(context: Context, chat_id: int, profile: Profile, event_id: int) -> None:
    """/event N cancel: ask first (a button), since members are told at once."""
    services = context.services
    catalog, lang = services.catalog, profile.lang
    summary = await services.events.summary(profile.id, event_id)
    text = catalog.t(
        lang,
        "ev_cancel_confirm",
        id=event_id,
        title=summary.title,
        people=summary.registered + summary.waiting,
    )
    button = InlineKeyboardButton(
        catalog.t(lang, "ev_btn_cancel_event"), callback_data=encode(CB_CANCEL_EVENT, event_id)
    )
    await send_html(context, chat_id, text, InlineKeyboardMarkup([[button]]))


def _summary_text(catalog: Catalog, lang: Lang, s: EventSummary, zone: ZoneInfo) -> str:
    mark = catalog.t(lang, "ev_summary_cancelled") + "\n" if s.cancelled else ""
    return mark + catalog.t(
        lang,
        "ev_summary",
        id=s.event_id,
        title=s.title,
        when=format_datetime(s.starts_at, zone, lang),
        capacity=s.capacity if s.capacity is not None else catalog.t(lang, "ev_unlimited"),
        registered=s.registered,
        waiting=s.waiting,
        checked_in=s.checked_in,
        feedback_count=s.feedback_count,
        feedback_avg=f"{s.feedback_avg:.1f}" if s.feedback_avg is not None else "—",
    )


async def event_command(update: Update, context: Context) -> None:
    """/event N · /event N csv · /event N checkin R (staff and editors)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    catalog, lang, events = services.catalog, profile.lang, services.events
    if not _may_see_lists(profile):
        await send_html(context, chat.id, catalog.t(lang, "ev_staff_only"))
        return
    parts = (message.text or "").split()[1:]
    if not parts or not parts[0].lstrip("#").isdigit() or len(parts[0]) > 9:
        await send_html(context, chat.id, catalog.t(lang, "ev_usage"))
        return
    event_id = int(parts[0].lstrip("#"))
    action = parts[1].lower() if len(parts) > 1 else ""
    try:
        if action == "csv" and len(parts) == 2:
            summary = await events.summary(profile.id, event_id)
            data = await events.export_csv(profile.id, event_id)
            await context.bot.send_document(
                chat.id,
                InputFile(("\ufeff" + data).encode("utf-8"), filename=f"event-{event_id}.csv"),
                caption=catalog.t(lang, "ev_csv_caption", id=event_id, title=summary.title),
            )
            return
        if action == "checkin" and len(parts) == 3 and parts[2].lstrip("Rr").isdigit():
            row = await events.check_in(profile.id, event_id, int(parts[2].lstrip("Rr")), _now())
            await send_html(
                context,
                chat.id,
                catalog.t(lang, "ev_checked_in", reg=row.id, company=row.company or "—"),
            )
            return
        if action in CHANGES and len(parts) > 2:
            value = (message.text or "").split(maxsplit=3)[3]
            await _change(context, chat.id, profile, event_id, action, value)
            return
        if action == "cancel" and len(parts) == 2:
            await _confirm_cancel(context, chat.id, profile, event_id)
            return
        if action:
            await send_html(context, chat.id, catalog.t(lang, "ev_usage"))
            return
        summary = await events.summary(profile.id, event_id)
        rows = await events.registrations(profile.id, event_id)
    except NotFound:
        await send_html(context, chat.id, catalog.t(lang, "ev_usage"))
        return
    except EventError as exc:
        await send_html(context, chat.id, catalog.t(lang, exc.text_key, **exc.params))
        return
    lines = [_summary_text(catalog, lang, summary, services.settings.zone)]
    buttons: list[list[InlineKeyboardButton]] = []
    for r in rows:
        if r.status != REGISTERED:
            continue
        mark = catalog.t(lang, "ev_checked_mark") if r.checked_in_at else ""
        line = catalog.t(
            lang,
            "ev_row",
            reg=r.id,
            company=r.company or "—",
            contact=r.contact_name or "",
            mark=mark,
        )
        lines.append(line)
        if r.checked_in_at is None and len(buttons) < CHECKIN_BUTTONS:
            buttons.append(
                [
                    InlineKeyboardButton(
                        f"✓ R{r.id} {(r.company or '')[:30]}",
                        callback_data=encode(CB_CHECKIN, f"{r.id}.{event_id}"),
                    )
                ]
            )
    text = "\n".join(lines[:60])
    await send_html(context, chat.id, text, InlineKeyboardMarkup(buttons) if buttons else None)
