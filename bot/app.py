"""The application factory: settings in, a ready python-telegram-bot Application out."""

from __future__ import annotations

import logging

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.context import BotData, Context, IpdeskApp, Services
from bot.i18n import load_catalog
from bot.knowledge import build_engine
from bot.services.flood import FloodGuard
from bot.services.members import MemberService
from bot.services.questions import QuestionLog
from bot.services.tickets import TicketService
from bot.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_session_factory
from faq.models import LANGS

log = logging.getLogger(__name__)

COMMANDS = ("start", "help", "language")


def build_services(settings: Settings) -> Services:
    db = make_engine(settings.database_url)
    sessions = make_session_factory(db)
    return Services(
        settings=settings,
        engine=build_engine(settings),
        db=db,
        sessions=sessions,
        catalog=load_catalog(),
        members=MemberService(sessions),
        questions=QuestionLog(sessions),
        tickets=TicketService(sessions, settings.zone),
        flood=FloodGuard(settings.flood_max_messages, settings.flood_window_seconds),
    )


async def _post_init(app: IpdeskApp) -> None:
    services = app.bot_data.services
    await upgrade(services.db)
    catalog = services.catalog
    for lang in LANGS:
        commands = [BotCommand(c, catalog.raw(lang, f"cmd_{c}")) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=lang)
    default = [BotCommand(c, catalog.raw("en", f"cmd_{c}")) for c in COMMANDS]
    await app.bot.set_my_commands(default)
    log.info("ipdesk ready: %d FAQ entries", len(services.engine.kb))


async def _post_shutdown(app: IpdeskApp) -> None:
    await app.bot_data.services.db.dispose()


def build_application(
    settings: Settings,
    *,
    token: str | None = None,
    request: BaseRequest | None = None,
    services: Services | None = None,
) -> IpdeskApp:
    """Build the bot; `token` overrides settings (the shell uses a local one)."""
    secret = token or (
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    )
    if not secret:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    context_types = ContextTypes(context=Context, bot_data=BotData)
    builder = (
        Application.builder()
        .token(secret)
        .context_types(context_types)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .defaults(Defaults(tzinfo=settings.zone))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
        file_url = settings.file_base_url
        if file_url:
            builder = builder.base_file_url(file_url)
    if request is not None:
        builder = builder.request(request)
    app: IpdeskApp = builder.build()  # type: ignore[assignment]
    app.bot_data.attach(services or build_services(settings))

    from handlers import register

    register(app)
    return app
