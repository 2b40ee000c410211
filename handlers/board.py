"""The staff group's board: one card per ticket, posted when the ticket is assigned (or found
to have nobody who fits) and edited in place whenever the ticket changes — through the
outbox, so a card edit never holds up the member or expert whose action caused it."""

from __future__ import annotations

import logging

from bot.context import Context, IpdeskApp
from bot.services.reminders import ClaimedReminder
from bot.services.tickets import AssignOutcome, TicketKey, TicketView, load_ticket, ticket_view
from handlers import cards, keyboards
from handlers.cards import STAFF_LANG
from handlers.common import edit_html, send_html
from handlers.delivery import OwnSender

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
    """Post the ticket's card in the staff group, or bring it up to date: through the
    outbox, coalesced and paced (bot.services.outbox); :func:`send_card` renders it."""
    await ticket_event(context, view.id)
    services = context.services
    chat_id = services.settings.staff_chat_id
    if chat_id is None:
        return
    await services.outbox.card(chat_id, view.id, reason.value if reason else None)


def card_sender(app: IpdeskApp) -> OwnSender:
    """The outbox's sender of card rows: the card as the ticket is now (the latest state
    wins), edited in place, or posted when it was never posted or is gone."""

    async def send_card(row: ClaimedReminder) -> None:
        context = Context(app)
        services = context.services
        if row.ticket_id is None or row.recipient_id is None:
            return
        view = await system_view(context, row.ticket_id)
        reason_value = row.payload.get("reason")
        reason = (
            AssignOutcome(reason_value)
            if reason_value in {o.value for o in AssignOutcome}
            else None
        )
        catalog = services.catalog
        text = cards.card_text(catalog, STAFF_LANG, services.settings.zone, view, reason=reason)
        claimed = view.claimed_by is not None
        markup = keyboards.card(catalog, STAFF_LANG, view.id, view.is_open, claimed=claimed)
        if (
            view.card_chat_id is not None
            and view.card_message_id is not None
            and await edit_html(context, view.card_chat_id, view.card_message_id, text, markup)
        ):
            return
        sent = await send_html(context, row.recipient_id, text, markup)
        await services.tickets.set_card(view.id, row.recipient_id, sent.message_id)

    return send_card


async def ticket_changed(context: Context, ticket_id: int) -> TicketView:
    """Call after anything changed a ticket: its card (if posted) is edited to match."""
    view = await system_view(context, ticket_id)
    if view.card_message_id is not None:
        await publish(context, view)
    else:
        await ticket_event(context, ticket_id)
    return view
