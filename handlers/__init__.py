"""Telegram handlers, registered in one place in an explicit order.

Guards run first, each in its own negative group (a group runs only its first matching
handler): blocked users get one notice, then silence (-4), foreign groups are left (-3),
strangers in the staff group get nothing (-2), floods in private chats are slowed down (-1).
Group 0 then serves the update: buttons, commands, and finally every other message (private:
handlers.relay routes it to the profile dialogue, a ticket or the FAQ assistant; staff group:
replies to relayed messages).
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import Context, IpdeskApp
from bot.services.errors import StaleAction
from handlers import (
    admin,
    errors,
    followups,
    gaps,
    guards,
    member,
    my_profile,
    my_tickets,
    outreach,
    privacy,
    profile,
    relay,
    staff,
)
from handlers.callbacks import decode
from handlers.common import Press, profile_of

PRIVATE = filters.ChatType.PRIVATE

TICKET_CALLBACKS: dict[str, staff.TicketCallback] = {
    **profile.CALLBACKS,
    **my_profile.CALLBACKS,
    **privacy.CALLBACKS,
    **my_tickets.CALLBACKS,
    **staff.CALLBACKS,
}
"""Ticket buttons by callback code (every code: bot.services.callback_codes.Cb)."""


async def on_ticket_callback(update: Update, context: Context) -> None:
    """Dispatch a ticket button; refusals are DomainErrors answered by the error handler."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    if query is None or user is None:
        return
    who = await profile_of(update, context)
    data = decode(query.data)
    handler = TICKET_CALLBACKS.get(data.kind) if data is not None else None
    if data is None or handler is None:
        raise StaleAction("unknown button")
    await handler(Press(query, user, chat.id if chat else user.id, who, data), context)


def register(app: IpdeskApp) -> None:
    settings = app.bot_data.services.settings
    # An empty Chat filter matches nothing: without STAFF_CHAT_ID there is no staff group.
    staff_chat = filters.Chat(chat_id=settings.staff_chat_id or ())
    team_chats = PRIVATE | staff_chat

    app.add_handler(TypeHandler(Update, privacy.stop_blocked), group=-4)
    app.add_handler(TypeHandler(Update, guards.ignore_foreign_groups), group=-3)
    app.add_handler(TypeHandler(Update, guards.team_only_in_staff_group), group=-2)
    app.add_handler(TypeHandler(Update, guards.limit_flood), group=-1)

    outreach.register(app)

    kinds = "|".join(sorted(map(re.escape, TICKET_CALLBACKS)))
    app.add_handler(CallbackQueryHandler(on_ticket_callback, pattern=rf"^(?:{kinds})(?::|$)"))
    app.add_handler(CallbackQueryHandler(followups.on_callback, pattern=followups.PATTERN))
    app.add_handler(CallbackQueryHandler(gaps.on_callback, pattern=gaps.PATTERN))
    app.add_handler(CallbackQueryHandler(member.on_callback))
    app.add_handler(ChatMemberHandler(staff.on_bot_status, ChatMemberHandler.MY_CHAT_MEMBER))

    app.add_handler(CommandHandler("start", member.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", member.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("help", staff.team_help, filters=staff_chat))
    app.add_handler(CommandHandler("language", member.language_command, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", relay.cancel_command, filters=team_chats))
    app.add_handler(CommandHandler("mytickets", my_tickets.my_tickets_command, filters=PRIVATE))
    app.add_handler(CommandHandler("profile", my_profile.profile_command, filters=PRIVATE))
    app.add_handler(CommandHandler("privacy", privacy.privacy_command, filters=PRIVATE))
    app.add_handler(CommandHandler("mydata", privacy.mydata_command, filters=PRIVATE))
    app.add_handler(CommandHandler("forget", privacy.forget_command, filters=PRIVATE))
    app.add_handler(CommandHandler("whoami", privacy.whoami_command, filters=team_chats))
    app.add_handler(CommandHandler("skip", followups.skip_command, filters=PRIVATE))
    app.add_handler(CommandHandler("gaps", gaps.gaps_command, filters=PRIVATE))
    app.add_handler(CommandHandler("phrasings", gaps.phrasings_command, filters=PRIVATE))
    app.add_handler(CommandHandler("ticket", my_tickets.ticket_command, filters=team_chats))
    app.add_handler(CommandHandler("reply", relay.reply_command, filters=team_chats))
    for name, callback in (
        ("queue", staff.queue_command),
        ("mine", staff.mine_command),
        ("resolve", staff.resolve_command),
        ("reassign", staff.reassign_command),
        ("note", staff.note_command),
        ("experts", admin.experts_command),
        ("expert_add", admin.expert_add_command),
        ("expert_on", admin.expert_on_command),
        ("expert_off", admin.expert_off_command),
        ("role", admin.role_command),
        ("block", privacy.block_command),
        ("unblock", privacy.unblock_command),
        ("followup", followups.followup_command),
        ("stats", followups.stats_command),
    ):
        app.add_handler(CommandHandler(name, callback, filters=team_chats))

    app.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, relay.on_private_edit)
    )
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & filters.COMMAND, member.unknown_command
        )
    )
    app.add_handler(MessageHandler(PRIVATE & filters.UpdateType.MESSAGE, relay.on_private_message))
    app.add_handler(
        MessageHandler(
            staff_chat & filters.UpdateType.MESSAGE & ~filters.COMMAND,
            relay.on_staff_group_message,
        )
    )
    app.add_error_handler(errors.on_error)
