"""The team's side: staff-group cards, Claim / Reassign / Resolve, the 摸底 dossier, and the
staff commands (/queue, /mine, /ticket for the team, /resolve, /reassign, /note).

Every action goes through a service that checks the actor in the database; the buttons
carry ids only. A card is posted when a ticket is assigned (or found to have nobody who
fits) and edited in place whenever the ticket changes (:func:`ticket_changed`).

The conclusion of a ticket can be given three ways: ``/resolve NUMBER conclusion``; ✅ Resolve
(on the card, the dossier, or ``/resolve NUMBER`` alone), whose prompt offers the usual
conclusions as buttons; or, after that prompt, the presser's next message in that chat (a
reply to the prompt, or a message replying to nothing else). The pending prompt is kept in the
database (a restart continues)::

    ```mermaid
    stateDiagram-v2
        [*] --> resolve: ✅ Resolve (rs:ID) or /resolve NUMBER
        resolve --> [*]: a usual conclusion (rsa:ID.N) → resolved
        resolve --> [*]: next message in that chat → resolved with it
        resolve --> [*]: /cancel or Cancel (rsx:ID)
    ```
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import Forbidden, TelegramError

from bot.context import Context
from bot.services.callback_codes import Cb
from bot.services.dialog import DialogState
from bot.services.errors import NotAllowed, NotFound, StaleAction
from bot.services.members import Profile
from bot.services.outbox import message_payload
from bot.services.roles import is_staff, is_team
from bot.services.tickets import (
    USUAL_CONCLUSIONS,
    ClaimOutcome,
    TicketKey,
    TicketView,
)
from faq.models import Lang
from handlers import cards, keyboards
from handlers.board import publish, system_view, ticket_changed
from handlers.cards import STAFF_LANG
from handlers.common import (
    Press,
    command_args,
    profile_of,
    send_chunks,
    send_html,
)
from handlers.menus import set_staff_menu

log = logging.getLogger(__name__)

TicketCallback = Callable[[Press, Context], Awaitable[None]]
"""A ticket button: raises a DomainError (answered by the error handler) when refused."""


def plain(context: Context, lang: Lang, key: str, /, **values: object) -> str:
    """A catalog string as plain text (callback answers are not HTML), ≤ 200 characters."""
    text = context.services.catalog.raw(lang, key).format(**values)
    return text if len(text) <= 200 else text[:199] + "…"


def is_staff_chat(context: Context, chat_id: int) -> bool:
    return chat_id == context.services.settings.staff_chat_id


async def chat_lang(context: Context, chat_id: int, user_id: int) -> Lang:
    """The staff group reads the staff language; a private chat its user's language."""
    if is_staff_chat(context, chat_id):
        return STAFF_LANG
    return await context.services.members.lang_of(user_id)


async def tell_member_who_answers(context: Context, view: TicketView) -> None:
    """After a claim (button or first reply): the member learns who answers, by name and
    title (never an account), through the outbox."""
    services = context.services
    catalog = services.catalog
    payload = message_payload(
        text_key="tk_claimed_member",
        params={
            "number": view.number,
            "expert": cards.responder_label(catalog, view.lang, view),
        },
        lang=view.lang,
    )
    await services.outbox.send(view.member.user_id, "notice", payload, ticket_id=view.id)


async def notify_expert(
    context: Context, view: TicketView, head_key: str = "tk_expert_notice_head"
) -> bool:
    """Tell the ticket's expert privately (assignment, reassignment); a reply to this notice
    reaches the member. False when the expert cannot be reached (said in the staff group)."""
    services = context.services
    expert = view.expert
    if expert is None or expert.user_id is None:
        return False
    catalog = services.catalog
    lang = await services.members.lang_of(expert.user_id)
    text = "\n\n".join(
        [
            catalog.t(lang, head_key),
            cards.card_text(catalog, lang, services.settings.zone, view, personal=True),
            catalog.t(lang, "tk_expert_notice_foot", number=view.number),
        ]
    )
    try:
        sent = await send_html(
            context, expert.user_id, text, keyboards.expert_notice(catalog, lang, view.id)
        )
    except (Forbidden, TelegramError) as exc:
        log.info("%s: expert %s not reachable: %s", view.number, expert.key, exc)
        await say_in_staff_group(
            context,
            catalog.t(STAFF_LANG, "tk_unreachable_expert", expert=expert.name(STAFF_LANG)),
            reply_to=view.card_message_id,
        )
        return False
    await services.relay.record_bot_message(view.id, expert.user_id, sent.message_id)
    return True


async def say_in_staff_group(
    context: Context, text_html: str, *, reply_to: int | None = None
) -> Message | None:
    chat_id = context.services.settings.staff_chat_id
    if chat_id is None:
        return None
    try:
        return await send_html(context, chat_id, text_html, reply_to=reply_to)
    except TelegramError as exc:
        log.warning("could not post in the staff group: %s", exc)
        return None


async def send_dossier(context: Context, user_id: int, ticket_id: int) -> bool:
    """摸底: send the team member privately what we know of the member behind the ticket.
    A reply to it reaches the member. False if they never opened a chat with the bot."""
    services = context.services
    dossier = await services.dossier.for_ticket(user_id, ticket_id)
    lang = await services.members.lang_of(user_id)
    chunks = cards.dossier_text(
        services.catalog, lang, services.settings.zone, dossier, services.engine.kb
    )
    markup = (
        keyboards.dossier(services.catalog, lang, ticket_id) if dossier.ticket.is_open else None
    )
    try:
        sent = await send_chunks(context, user_id, chunks, markup)
    except (Forbidden, TelegramError) as exc:
        log.info("dossier of ticket %s not delivered to %s: %s", ticket_id, user_id, exc)
        return False
    await services.relay.record_bot_message(ticket_id, user_id, sent.message_id)
    return True


# --- buttons ---------------------------------------------------------------------------------


def _ticket_arg(press: Press) -> int:
    ticket_id = press.data.int_arg()
    if ticket_id is None:
        raise StaleAction("bad ticket id")
    return ticket_id


def _require_team(press: Press) -> None:
    """A member pressing a team button (forged) learns nothing: the stale-button answer."""
    if not is_team(press.profile.role):
        raise StaleAction("not a team member")


async def _cb_claim(press: Press, context: Context) -> None:
    _require_team(press)
    ticket_id = _ticket_arg(press)
    services = context.services
    result = await services.tickets.claim(ticket_id, press.user.id)
    lang = await chat_lang(context, press.chat_id, press.user.id)
    number = result.ticket.number
    if result.outcome is ClaimOutcome.HELD:
        holder = result.holder.display(lang) if result.holder is not None else "—"
        await press.query.answer(
            plain(context, lang, "tk_held", number=number, holder=holder), show_alert=True
        )
        return
    if result.outcome is ClaimOutcome.CLAIMED:
        view = await ticket_changed(context, ticket_id)
        await tell_member_who_answers(context, view)
    sent = await send_dossier(context, press.user.id, ticket_id)
    if result.outcome is ClaimOutcome.ALREADY_YOURS:
        key = "tk_already_yours"
    else:
        key = "tk_claimed" if sent else "tk_claimed_no_dm"
    await press.query.answer(plain(context, lang, key, number=number), show_alert=not sent)


async def _cb_reassign_menu(press: Press, context: Context) -> None:
    _require_team(press)
    if not is_staff(press.profile.role):
        raise NotAllowed("only staff reassign")
    ticket_id = _ticket_arg(press)
    services = context.services
    view = await services.tickets.view_ticket(press.user.id, ticket_id)
    if not view.is_open:
        raise StaleAction(f"{view.number} is {view.status.value}")
    lang = await chat_lang(context, press.chat_id, press.user.id)
    counts = await services.experts.open_ticket_counts()
    experts = [
        (e.id, f"{e.name(lang)} · {counts.get(e.id, 0)}/{e.max_open}")
        for e in await services.experts.list(active_only=True)
        if e.user_id is not None
    ]
    await press.query.edit_message_reply_markup(
        keyboards.reassign_menu(services.catalog, lang, ticket_id, experts)
    )
    await press.query.answer(plain(context, lang, "tk_reassign_pick", number=view.number))


async def _cb_reassign_back(press: Press, context: Context) -> None:
    _require_team(press)
    ticket_id = _ticket_arg(press)
    view = await context.services.tickets.view_ticket(press.user.id, ticket_id)
    lang = await chat_lang(context, press.chat_id, press.user.id)
    await press.query.edit_message_reply_markup(
        keyboards.card(
            context.services.catalog,
            lang,
            view.id,
            view.is_open,
            claimed=view.claimed_by is not None,
        )
    )
    await press.query.answer()


async def _cb_reassign_to(press: Press, context: Context) -> None:
    _require_team(press)
    if not is_staff(press.profile.role):
        raise NotAllowed("only staff reassign")
    ticket_part, _, expert_part = press.data.arg.partition(".")
    if not ticket_part.isdigit() or not expert_part.isdigit():
        raise StaleAction("bad reassign data")
    await reassign(context, press.user.id, int(ticket_part), int(expert_part))
    view = await system_view(context, int(ticket_part))
    lang = await chat_lang(context, press.chat_id, press.user.id)
    name = view.expert.name(lang) if view.expert else "—"
    await press.query.answer(
        plain(context, lang, "tk_reassigned", number=view.number, expert=name)
    )


async def reassign(context: Context, actor_id: int, ticket: TicketKey, expert: int | str) -> None:
    """Give the ticket to another expert; tell the new expert, the previous one and the
    member, and update the card."""
    services = context.services
    before = await system_view(context, ticket)
    change = await services.tickets.reassign(ticket, actor_id, expert)
    view = change.ticket
    await publish(context, view)
    await notify_expert(context, view, "tk_expert_notice_reassigned")
    old = before.expert
    if (
        old is not None
        and old.user_id is not None
        and (view.expert is None or old.id != view.expert.id)
    ):
        lang = await services.members.lang_of(old.user_id)
        try:
            await send_html(
                context,
                old.user_id,
                services.catalog.t(lang, "tk_reassigned_away", number=view.number),
            )
        except TelegramError as exc:
            log.info("%s: previous expert not told: %s", view.number, exc)
    if view.expert is not None:
        catalog = services.catalog
        text = catalog.t(
            view.lang,
            "tk_reassigned_member",
            number=view.number,
            expert=cards.expert_label(catalog, view.lang, view.expert),
        )
        try:
            sent = await send_html(context, view.member.user_id, text)
            await services.relay.record_bot_message(view.id, view.member.user_id, sent.message_id)
        except TelegramError as exc:
            log.info("%s: member not told of the reassignment: %s", view.number, exc)


async def _cb_ticket_view(press: Press, context: Context) -> None:
    """ "Open ticket" on a reminder: the ticket's full history (and, in private, the dossier)."""
    _require_team(press)
    services = context.services
    history = await services.tickets.history(press.user.id, _ticket_arg(press))
    lang = await chat_lang(context, press.chat_id, press.user.id)
    chunks = cards.history_text(services.catalog, lang, services.settings.zone, history)
    await press.query.answer()
    sent = await send_chunks(context, press.chat_id, chunks)
    if not is_staff_chat(context, press.chat_id):
        await services.relay.record_bot_message(history.ticket.id, press.chat_id, sent.message_id)
        await send_dossier(context, press.user.id, history.ticket.id)


async def _cb_resolve(press: Press, context: Context) -> None:
    _require_team(press)
    await press.query.answer()
    await ask_conclusion(
        context, press.user.id, press.user.first_name or "", press.chat_id, _ticket_arg(press)
    )


async def ask_conclusion(
    context: Context, user_id: int, first_name: str, chat_id: int, ticket: TicketKey
) -> None:
    """The Resolve prompt: the usual conclusions as buttons; the user's next message in this
    chat is taken as the conclusion too (until /cancel)."""
    services = context.services
    view = await services.tickets.view_ticket(user_id, ticket)
    if not view.is_open:
        raise StaleAction(f"{view.number} is {view.status.value}")
    private = not is_staff_chat(context, chat_id)
    lang = await chat_lang(context, chat_id, user_id)
    key = "tk_resolve_prompt_private" if private else "tk_resolve_prompt"
    catalog = services.catalog
    text = catalog.t(lang, key, number=view.number, name=first_name)
    sent = await send_html(context, chat_id, text, keyboards.conclusions(catalog, lang, view.id))
    await services.members.set_dialog(
        user_id,
        DialogState.RESOLVE,
        {"ticket": view.id, "chat": chat_id, "prompt": sent.message_id},
    )


async def _cb_resolve_as(press: Press, context: Context) -> None:
    """rsa:TICKET.N — resolve with usual conclusion N, written in the member's language."""
    _require_team(press)
    ticket_part, _, index_part = press.data.arg.partition(".")
    if not ticket_part.isdigit() or not index_part.isdigit():
        raise StaleAction("bad conclusion data")
    index = int(index_part)
    if index >= len(USUAL_CONCLUSIONS):
        raise StaleAction("unknown conclusion")
    ticket_id = int(ticket_part)
    services = context.services
    view = await services.tickets.view_ticket(press.user.id, ticket_id)
    summary = services.catalog.raw(view.lang, f"tk_conclusion_{USUAL_CONCLUSIONS[index]}")
    await resolve(context, press.user.id, ticket_id, summary, chat_id=press.chat_id)
    await press.query.answer()
    await _prompt_done(press, context, ticket_id)


async def _cb_resolve_cancel(press: Press, context: Context) -> None:
    """rsx:TICKET — drop the Resolve prompt (the ticket stays as it is)."""
    _require_team(press)
    ticket_id = _ticket_arg(press)
    lang = await chat_lang(context, press.chat_id, press.user.id)
    await press.query.answer(plain(context, lang, "tk_cancelled"))
    await _prompt_done(press, context, ticket_id)


async def _prompt_done(press: Press, context: Context, ticket_id: int) -> None:
    """The prompt has served: its buttons go, and the presser's pending Resolve of this
    ticket (if any) is cleared."""
    who = press.profile
    if who.dialog_state == DialogState.RESOLVE and who.dialog_data.get("ticket") == ticket_id:
        await context.services.members.set_dialog(who.id, None)
    try:
        await press.query.edit_message_reply_markup(None)
    except TelegramError as exc:  # the prompt is gone or already without buttons
        log.info("resolve prompt not edited: %s", exc)


CALLBACKS: dict[str, TicketCallback] = {
    Cb.CLAIM: _cb_claim,
    Cb.REASSIGN_MENU: _cb_reassign_menu,
    Cb.REASSIGN_BACK: _cb_reassign_back,
    Cb.REASSIGN_TO: _cb_reassign_to,
    Cb.RESOLVE: _cb_resolve,
    Cb.RESOLVE_AS: _cb_resolve_as,
    Cb.RESOLVE_CANCEL: _cb_resolve_cancel,
    Cb.TICKET_VIEW: _cb_ticket_view,
}


# --- resolving -------------------------------------------------------------------------------


async def resolve(
    context: Context,
    actor_id: int,
    ticket: TicketKey,
    summary: str,
    *,
    chat_id: int,
    reply_to: int | None = None,
) -> TicketView:
    """Resolve with the summary; update the card, tell the member and the actor."""
    services = context.services
    catalog = services.catalog
    change = await services.tickets.resolve(ticket, actor_id, summary)
    view = await ticket_changed(context, change.ticket.id)
    try:
        await send_html(
            context,
            view.member.user_id,
            catalog.t(
                view.lang, "tk_resolved_member", number=view.number, summary=summary.strip()
            ),
            keyboards.reopen(catalog, view.lang, view.id),
        )
    except TelegramError as exc:
        log.info("%s: member not told of the resolution: %s", view.number, exc)
    lang = await chat_lang(context, chat_id, actor_id)
    await send_html(
        context,
        chat_id,
        catalog.t(lang, "tk_resolved_team", number=view.number),
        reply_to=reply_to,
    )
    return view


def is_resolve_reply(profile: Profile, chat_id: int, message: Message) -> bool:
    """Is this message the conclusion the user's pending Resolve prompt asked for? Their next
    message in the prompt's chat is — a reply to the prompt, or one that replies to nothing
    else (a reply to another message, say a member's, is routed as usual)."""
    data = profile.dialog_data
    if profile.dialog_state != DialogState.RESOLVE or data.get("chat") != chat_id:
        return False
    replied = message.reply_to_message
    return replied is None or replied.message_id == data.get("prompt")


async def take_resolve_reply(update: Update, context: Context) -> bool:
    """If this message is the summary a pending Resolve prompt asked for, resolve the ticket
    and return True; otherwise False (the message is routed as usual)."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return False
    profile = await profile_of(update, context)
    if not is_resolve_reply(profile, chat.id, message):
        return False
    data = profile.dialog_data
    lang = await chat_lang(context, chat.id, user.id)
    if not message.text:
        await send_html(
            context,
            chat.id,
            context.services.catalog.t(lang, "tk_resolve_text_only"),
            reply_to=message.message_id,
        )
        return True
    ticket = data.get("ticket")
    if not isinstance(ticket, int):
        await context.services.members.set_dialog(user.id, None)
        return False
    try:
        await resolve(
            context, user.id, ticket, message.text, chat_id=chat.id, reply_to=message.message_id
        )
    except (NotFound, NotAllowed, StaleAction):
        await context.services.members.set_dialog(user.id, None)
        raise
    await context.services.members.set_dialog(user.id, None)
    return True


# --- commands --------------------------------------------------------------------------------


async def _command_context(update: Update, context: Context) -> tuple[Message, int, int, Lang]:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        raise NotFound("no message")
    await profile_of(update, context)
    return message, chat.id, user.id, await chat_lang(context, chat.id, user.id)


async def _usage(context: Context, chat_id: int, lang: Lang, key: str, reply_to: int) -> None:
    await send_html(context, chat_id, context.services.catalog.t(lang, key), reply_to=reply_to)


async def queue_command(update: Update, context: Context) -> None:
    """/queue: open tickets, urgent first, then oldest (staff: all; experts: theirs and the
    unassigned ones)."""
    message, chat_id, user_id, lang = await _command_context(update, context)
    services = context.services
    views = await services.tickets.queue(user_id)
    chunks = cards.queue_text(
        services.catalog, lang, services.settings.zone, views, "tk_queue_title"
    )
    await send_chunks(context, chat_id, chunks, reply_to=message.message_id)


async def mine_command(update: Update, context: Context) -> None:
    """/mine: open tickets assigned to or claimed by me."""
    message, chat_id, user_id, lang = await _command_context(update, context)
    services = context.services
    views = await services.tickets.mine(user_id)
    chunks = cards.queue_text(
        services.catalog, lang, services.settings.zone, views, "tk_mine_title"
    )
    await send_chunks(context, chat_id, chunks, reply_to=message.message_id)


async def team_ticket(update: Update, context: Context, number: str) -> None:
    """/ticket NUMBER for the team: the card, events and every message, notes included; an
    expert opening it in private also gets the dossier."""
    message, chat_id, user_id, lang = await _command_context(update, context)
    services = context.services
    history = await services.tickets.history(user_id, number)
    chunks = cards.history_text(services.catalog, lang, services.settings.zone, history)
    sent = await send_chunks(context, chat_id, chunks, reply_to=message.message_id)
    if not is_staff_chat(context, chat_id):
        await services.relay.record_bot_message(history.ticket.id, chat_id, sent.message_id)
        await send_dossier(context, user_id, history.ticket.id)


async def resolve_command(update: Update, context: Context) -> None:
    """/resolve NUMBER summary"""
    message, chat_id, user_id, lang = await _command_context(update, context)
    number, summary = command_args(message)
    if not number:
        await _usage(context, chat_id, lang, "tk_usage_resolve", message.message_id)
        return
    if not summary.strip():
        user = update.effective_user
        name = user.first_name if user is not None else ""
        await ask_conclusion(context, user_id, name, chat_id, number)
        return
    await resolve(context, user_id, number, summary, chat_id=chat_id, reply_to=message.message_id)


async def reassign_command(update: Update, context: Context) -> None:
    """/reassign NUMBER expert-key (staff)"""
    message, chat_id, user_id, lang = await _command_context(update, context)
    number, expert = command_args(message)
    if not number or not expert or len(expert.split()) != 1:
        await _usage(context, chat_id, lang, "tk_usage_reassign", message.message_id)
        return
    if not is_staff(await context.services.roles.role_of(user_id)):
        raise NotAllowed("only staff reassign")
    await reassign(context, user_id, number, expert)
    view = await system_view(context, number)
    name = view.expert.name(lang) if view.expert else "—"
    await send_html(
        context,
        chat_id,
        context.services.catalog.t(lang, "tk_reassigned", number=view.number, expert=name),
        reply_to=message.message_id,
    )


async def note_command(update: Update, context: Context) -> None:
    """/note NUMBER text — a private note on the ticket; never reaches the member."""
    message, chat_id, user_id, lang = await _command_context(update, context)
    number, text = command_args(message)
    if not number or not text:
        await _usage(context, chat_id, lang, "tk_usage_note", message.message_id)
        return
    note = await context.services.relay.add_note(user_id, number, text)
    await send_html(
        context,
        chat_id,
        context.services.catalog.t(lang, "tk_note_added", number=note.ticket_number),
        reply_to=message.message_id,
    )


async def on_bot_status(update: Update, context: Context) -> None:
    """The bot was added to (or promoted in) the staff group: set the team's command menu,
    which could not be set at start-up while the bot was not in the group."""
    change, chat = update.my_chat_member, update.effective_chat
    if change is None or chat is None or not is_staff_chat(context, chat.id):
        return
    if change.new_chat_member.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
        await set_staff_menu(context.bot, context.services.catalog, chat.id)


async def team_help(update: Update, context: Context) -> None:
    """/help in the staff group: the team's commands."""
    message, chat_id, _user_id, lang = await _command_context(update, context)
    await send_html(
        context,
        chat_id,
        context.services.catalog.t(lang, "tk_team_help"),
        reply_to=message.message_id,
    )
