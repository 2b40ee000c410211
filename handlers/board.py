"""The staff group's board: one card per ticket, posted when the ticket is assigned (or found
to have nobody who fits) and edited in place whenever the ticket changes."""

from __future__ import annotations

import logging

from telegram.error import TelegramError

from bot.context import Context
from bot.services.tickets import AssignOutcome, TicketKey, TicketView, load_ticket, ticket_view
from handlers import cards, keyboards
from handlers.cards import STAFF_LANG
from handlers.common import edit_html, send_html

log = logging.getLogger(__name__)


async def ticket_event(context: Context, ticket_id: int) -> None:
    """Bring the ticket's reminders in line with its new state (idempotent).

    A failure here must not undo what the member or expert just did; the schedule is
    rebuilt from the tickets at every start, so it is logged and left for then.
    """
    try:
        await context.services.followups.on_ticket_event(ticket_id)
    except Exception:
        log.exception("follow-ups of ticket %s not updated", ticket_id)


async def system_view(context: Context, ticket: TicketKey) -> TicketView:
    """The full view of a ticket for the bot's own bookkeeping (cards, routing).

    Never shown to a user as such: everything user-facing goes through the services'
    authorised queries. (Service gap: ``TicketService`` has no actor-less view.)
    """
    async with context.services.sessions() as s:
        return await ticket_view(s, await load_ticket(s, ticket))


# --- cards -----------------------------------------------------------------------------------


async def publish(
    context: Context, view: TicketView, *, reason: AssignOutcome | None = None
) -> None:
    """Post the ticket's card in the staff group, or edit it in place."""
    await ticket_event(context, view.id)
    services = context.services
    chat_id = services.settings.staff_chat_id
    if chat_id is None:
        return
    catalog = services.catalog
    text = cards.card_text(catalog, STAFF_LANG, services.settings.zone, view, reason=reason)
    markup = keyboards.card(catalog, STAFF_LANG, view.id, view.is_open)
    try:
        if (
            view.card_chat_id is not None
            and view.card_message_id is not None
            and await edit_html(context, view.card_chat_id, view.card_message_id, text, markup)
        ):
            return
        sent = await send_html(context, chat_id, text, markup)
    except TelegramError as exc:
        log.warning("%s: card not posted in the staff group: %s", view.number, exc)
        return
    await services.tickets.set_card(view.id, chat_id, sent.message_id)


async def ticket_changed(context: Context, ticket_id: int) -> TicketView:
    """Call after anything changed a ticket: its card (if posted) is edited to match."""
    view = await system_view(context, ticket_id)
    if view.card_message_id is not None:
        await publish(context, view)
    else:
        await ticket_event(context, ticket_id)
    return view
