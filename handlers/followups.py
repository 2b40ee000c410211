"""Follow-up conversation: check-in ratings, reopen buttons, return visits, /stats."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ParseMode

from bot.context import Context
from bot.services.charts import weekly_chart
from bot.services.dialog import DialogState
from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.followups import (
    CB_NOT_SOLVED,
    CB_RATE,
    CB_REOPEN,
    FollowupInputError,
    Outgoing,
)
from bot.services.members import Profile
from bot.services.roles import is_staff, is_team
from bot.services.stats import PeriodError, parse_period
from bot.services.tickets import parse_number
from handlers.board import ticket_changed
from handlers.callbacks import Callback, decode
from handlers.common import profile_of, send_html
from handlers.delivery import send_outgoing

log = logging.getLogger(__name__)

PATTERN = rf"^({CB_RATE}|{CB_NOT_SOLVED}|{CB_REOPEN}):"


def _now() -> datetime:
    return datetime.now(UTC)


async def _notify(context: Context, outgoing: tuple[Outgoing, ...]) -> None:
    for out in outgoing:
        try:
            await send_outgoing(context.bot, context.services.catalog, out)
        except Exception:  # a notice to a third party must not undo the member's answer
            log.warning("follow-up notice to %s failed", out.chat_id, exc_info=True)


async def on_callback(update: Update, context: Context) -> None:
    """Buttons on check-in and auto-close notices; only the ticket's own member may use them."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    profile = await profile_of(update, context)
    data = decode(query.data)
    catalog = context.services.catalog
    try:
        text = await _dispatch(update, context, profile, data) if data else None
    except FollowupInputError as exc:
        await query.answer(catalog.t(profile.lang, exc.text_key, **exc.params), show_alert=True)
        return
    except (NotFound, NotAllowed, StaleAction):
        text = None
    if text is None:
        await query.answer(catalog.t(profile.lang, "stale_button"), show_alert=True)
        return
    await query.answer()
    await send_html(context, profile.id, text)


async def _dispatch(
    update: Update, context: Context, profile: Profile, data: Callback
) -> str | None:
    followups, catalog, lang = context.services.followups, context.services.catalog, profile.lang
    if data.kind == CB_RATE:
        ticket_part, _, stars = data.arg.partition(".")
        if not (ticket_part.isdigit() and stars.isdigit()):
            return None
        result = await followups.record_checkin(
            int(ticket_part), profile.id, int(stars), solved=True
        )
        await context.services.members.set_dialog(
            profile.id, DialogState.CHECKIN_COMMENT, {"ticket_id": result.ticket_id}
        )
        await _notify(context, result.notify)
        return catalog.t(lang, "fu_checkin_thanks", rating=result.rating or int(stars))
    ticket_id = data.int_arg()
    if ticket_id is None:
        return None
    if data.kind == CB_NOT_SOLVED:
        result = await followups.record_checkin(ticket_id, profile.id, None, solved=False)
        await _reopened(context, result.ticket_id, result.notify)
        return catalog.t(lang, "fu_member_reopened", number=result.number)
    if data.kind == CB_REOPEN:
        reopened = await followups.member_reopen(ticket_id, profile.id)
        await _reopened(context, reopened.ticket_id, reopened.notify)
        return catalog.t(lang, "fu_member_reopened", number=reopened.number)
    return None


async def _reopened(context: Context, ticket_id: int, notify: tuple[Outgoing, ...]) -> None:
    """Tell the expert, and put the card in the staff group back to open."""
    await _notify(context, notify)
    await ticket_changed(context, ticket_id)


async def take_checkin_comment(update: Update, context: Context, profile: Profile) -> bool:
    """The member's next message after a rating is the optional comment; True if consumed."""
    message = update.effective_message
    if (
        profile.dialog_state != DialogState.CHECKIN_COMMENT
        or message is None
        or message.text is None
    ):
        return False
    ticket_id = profile.dialog_data.get("ticket_id")
    members, catalog = context.services.members, context.services.catalog
    await members.set_dialog(profile.id, None)
    if message.text.strip() in ("/skip", "/cancel"):
        return True
    if not isinstance(ticket_id, int):
        return False
    try:
        await context.services.followups.add_checkin_comment(ticket_id, profile.id, message.text)
    except FollowupInputError as exc:
        await send_html(context, profile.id, catalog.t(profile.lang, exc.text_key, **exc.params))
        return True
    except (NotFound, StaleAction):
        return False
    await send_html(context, profile.id, catalog.t(profile.lang, "fu_comment_saved"))
    return True


async def skip_command(update: Update, context: Context) -> None:
    """/skip after a rating: no comment, thank you."""
    who = await profile_of(update, context)
    if who.dialog_state == DialogState.CHECKIN_COMMENT:
        await context.services.members.set_dialog(who.id, None)
        await send_html(context, who.id, context.services.catalog.t(who.lang, "fu_comment_saved"))
        return
    await send_html(context, who.id, context.services.catalog.t(who.lang, "unknown_command"))


async def followup_command(update: Update, context: Context) -> None:
    """/followup NUMBER WHEN [note…] [+member] — an expert or staff member schedules 回访."""
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    profile = await profile_of(update, context)
    catalog, lang = context.services.catalog, profile.lang
    role = await context.services.roles.role_of(profile.id)
    args = list(context.args or [])
    if not is_team(role):
        await send_html(context, chat.id, catalog.t(lang, "unknown_command"))
        return
    include_member = "+member" in args or "+会员" in args
    args = [a for a in args if a not in ("+member", "+会员")]
    number = parse_number(args[0]) if args else None
    if number is None or len(args) < 2:
        await send_html(context, chat.id, catalog.t(lang, "fu_rv_usage"))
        return
    when = args[1]
    rest = args[2:]
    if rest and ":" in rest[0] and rest[0].replace(":", "").isdigit():
        when, rest = f"{when} {rest[0]}", rest[1:]
    try:
        ticket = await context.services.tickets.view_ticket(profile.id, number)
        visit = await context.services.followups.schedule_return_visit(
            ticket.id, profile.id, when, " ".join(rest), include_member
        )
    except FollowupInputError as exc:
        await send_html(context, chat.id, catalog.t(lang, exc.text_key, **exc.params))
        return
    except (NotFound, NotAllowed):
        await send_html(context, chat.id, catalog.t(lang, "stale_button"))
        return
    local = visit.due_at.astimezone(context.services.settings.zone)
    member = catalog.raw(lang, "fu_rv_member_included") if include_member else ""
    await send_html(
        context,
        chat.id,
        catalog.t(
            lang,
            "fu_rv_scheduled",
            number=visit.number,
            when=local.strftime("%Y-%m-%d %H:%M"),
            member=member,
        ),
    )


async def stats_command(update: Update, context: Context) -> None:
    """/stats [period] for staff; /stats chart sends the weekly chart."""
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    profile = await profile_of(update, context)
    services = context.services
    catalog, lang = services.catalog, profile.lang
    if not is_staff(await services.roles.role_of(profile.id)):
        await send_html(context, chat.id, catalog.t(lang, "unknown_command"))
        return
    arg = " ".join(context.args or []).strip()
    now = _now()
    if arg.lower() in ("chart", "图表"):
        weeks = services.settings.report_chart_weeks
        points = await services.stats.weekly_series(now, weeks)
        await context.bot.send_photo(
            chat.id,
            weekly_chart(points),
            caption=catalog.t(lang, "stats_chart_caption", weeks=weeks),
            parse_mode=ParseMode.HTML,
        )
        return
    try:
        period = parse_period(arg, now, services.followups.calendar)
    except PeriodError:
        await send_html(context, chat.id, catalog.t(lang, "stats_usage"))
        return
    stats = await services.stats.compute(period)
    await send_html(context, chat.id, services.stats.render(stats, lang))
