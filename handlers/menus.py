"""Command menus: the members' in private chats, the team's in the staff group, and the short
public one as the default. Set at start-up and again when the bot joins the staff group."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError

from bot.context import IpdeskApp
from bot.i18n import Catalog
from faq.models import LANGS

log = logging.getLogger(__name__)

COMMANDS = ("start", "help", "language")
"""The menu everywhere (default scope)."""
PRIVATE_COMMANDS = (
    "start",
    "help",
    "language",
    "mytickets",
    "profile",
    "subscriptions",
    "events",
    "privacy",
    "mydata",
    "forget",
)
"""The menu in private chats: members also see their tickets."""
STAFF_COMMANDS = (
    "queue",
    "mine",
    "ticket",
    "reply",
    "note",
    "resolve",
    "reassign",
    "followup",
    "stats",
    "experts",
)
"""The menu in the staff group."""


async def set_command_menu(
    bot: Bot, catalog: Catalog, names: tuple[str, ...], scope: BotCommandScope
) -> None:
    """One menu in both languages, plus the default for other languages."""
    for lang in LANGS:
        commands = [BotCommand(c, catalog.command(lang, c)) for c in names]
        await bot.set_my_commands(commands, scope=scope, language_code=lang)
    default = [BotCommand(c, catalog.command("en", c)) for c in names]
    await bot.set_my_commands(default, scope=scope)


async def set_staff_menu(bot: Bot, catalog: Catalog, chat_id: int) -> bool:
    """The team's menu in the staff group; False while the bot is not in the group (it is
    set again when the bot is added: handlers.staff.on_bot_status)."""
    try:
        await set_command_menu(bot, catalog, STAFF_COMMANDS, BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("staff group %s: command menu not set: %s", chat_id, exc)
        return False
    return True


async def set_menus(app: IpdeskApp) -> None:
    """Command menus: members' in private chats, the team's in the staff group, and the
    short public one as the default (set last, so it is the one a client falls back to)."""
    services = app.bot_data.services
    catalog = services.catalog
    await set_command_menu(app.bot, catalog, PRIVATE_COMMANDS, BotCommandScopeAllPrivateChats())
    if services.settings.staff_chat_id is not None:
        await set_staff_menu(app.bot, catalog, services.settings.staff_chat_id)
    await set_command_menu(app.bot, catalog, COMMANDS, BotCommandScopeDefault())
