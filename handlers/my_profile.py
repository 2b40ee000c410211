"""/profile: a member sees what the bot holds about them and changes or deletes items.

Changing an item runs the profile dialogue's own step for it (handlers.profile.start_edit);
deleting one calls the same services. The member list wins where it has a value: such
attributes carry a lock and no buttons, and the services refuse them whatever a button
claims. Only the member's own data, only in their private chat; nothing of it is logged.
"""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.services.callback_codes import Cb
from bot.services.errors import StaleAction
from handlers import profile, profile_card, staff
from handlers.common import Press, profile_of

DELETABLE = ("phone", "industry", "export_markets", "city")
"""The optional items a member may delete (contact person and company are needed for
requests to an expert)."""


async def profile_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    who = await profile_of(update, context)
    await profile_card.show(context, message.chat_id, who.id, who.lang)


async def _cb_show(press: Press, context: Context) -> None:
    """pv — the button under /help."""
    await press.query.answer()
    await profile_card.show(context, press.chat_id, press.profile.id, press.profile.lang)


async def _cb_edit(press: Press, context: Context) -> None:
    """pe:FIELD — ask for a new value with the dialogue's step for it."""
    await press.query.answer()
    await profile.start_edit(context, press.chat_id, press.profile, press.data.arg)


async def _cb_delete(press: Press, context: Context) -> None:
    """pd:FIELD — delete an optional item (refused when the member list set it)."""
    field = press.data.arg
    if field not in DELETABLE:
        raise StaleAction("not a deletable profile item")
    services = context.services
    who = press.profile
    if field == "phone":
        await services.companies.clear_phone(who.id)
    else:  # a refusal (the member list set it) is answered by the error handler
        await services.companies.clear_attribute(who.id, field)
    await press.query.answer()
    text = services.catalog.t(who.lang, "pf_deleted")
    await profile_card.show(context, press.chat_id, who.id, who.lang, text)


CALLBACKS: dict[str, staff.TicketCallback] = {
    Cb.PROFILE_EDIT: _cb_edit,
    Cb.PROFILE_DELETE: _cb_delete,
    Cb.PROFILE_SHOW: _cb_show,
}
