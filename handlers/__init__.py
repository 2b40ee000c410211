"""Telegram handlers, registered in one place in an explicit order."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import IpdeskApp
from handlers import errors, guards, member

PRIVATE = filters.ChatType.PRIVATE


def register(app: IpdeskApp) -> None:
    # Guards first: unknown groups are left, floods are slowed down.
    app.add_handler(TypeHandler(Update, guards.ignore_foreign_groups), group=-2)
    app.add_handler(TypeHandler(Update, guards.limit_flood), group=-1)

    app.add_handler(CommandHandler("start", member.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", member.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("language", member.language_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(member.on_callback))
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.EDITED_MESSAGE & filters.TEXT, member.on_edited_text
        )
    )
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & filters.COMMAND, member.unknown_command
        )
    )
    app.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT, member.on_text)
    )
    app.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT, member.on_unsupported)
    )
    app.add_error_handler(errors.on_error)
