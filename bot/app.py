"""The application factory: settings in, a ready python-telegram-bot Application out."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.context import BotData, Context, IpdeskApp, Services
from bot.followup_config import build_calendar, build_policy, build_retry, poll_interval
from bot.http import AiohttpRequest
from bot.i18n import load_catalog
from bot.knowledge import live_knowledge
from bot.scheduler import ReminderPump, install
from bot.services.arrival import ArrivalService
from bot.services.companies import CompanyService
from bot.services.conversation import RELAY, RELAY_FAILED, ConversationService
from bot.services.dossier import DossierService
from bot.services.events import EventService, KindRouter
from bot.services.experts import ExpertService
from bot.services.faq_gaps import GapService
from bot.services.flood import FloodGuard
from bot.services.followups import FollowupService
from bot.services.inbox import Inbox, mark_done_with_effects
from bot.services.inbox_failures import tell_member
from bot.services.members import MemberService
from bot.services.outbox import CARD, Outbox, OutboxPreparer
from bot.services.outbox import PREFIX as OUTBOX_PREFIX
from bot.services.outreach import OUTBOX_KIND, OutreachService
from bot.services.phrasings import PhrasingService
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionLog
from bot.services.relay import RelayService
from bot.services.reminders import ReminderStore
from bot.services.roles import RoleService
from bot.services.stats import StatsService
from bot.services.tickets import TicketService
from bot.settings import Settings
from bot.updates import (
    ConfirmAfterStoring,
    DurableUpdateQueue,
    PerChatUpdateProcessor,
)
from db.migrate import upgrade
from db.session import is_sqlite, make_engine, make_session_factory
from handlers import housekeeping, register
from handlers.board import card_sender, ticket_changed
from handlers.broadcast import start_lane
from handlers.delivery import TelegramSender
from handlers.menus import set_menus
from handlers.relay_send import relay_failed_sender, relay_sender

log = logging.getLogger(__name__)

POOL_SPARE = 8
"""Pooled database connections beyond CONCURRENT_UPDATES (outbox, reminders, broadcasts)."""


def pool_options(settings: Settings) -> dict[str, int]:
    """Enough pooled connections for every update slot plus the background jobs.

    SQLAlchemy's default (5, and 10 more opened and closed again on demand) made a busy bot
    open a new connection for most messages: a PostgreSQL backend each time, or on SQLite a
    thread and the PRAGMAs. An in-memory SQLite database has a single connection."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return {}
    return {"pool_size": settings.concurrent_updates + POOL_SPARE, "max_overflow": POOL_SPARE}


def build_services(settings: Settings) -> Services:
    db = make_engine(settings.database_url, **pool_options(settings))
    sessions = make_session_factory(db)
    mark_done_with_effects(sessions)  # the update being handled is done with its first write
    catalog = load_catalog()
    calendar = build_calendar(settings)
    stats = StatsService(sessions, calendar, catalog=catalog)
    phrasings = PhrasingService(sessions)
    urgent_within = timedelta(days=settings.deadline_urgent_days)
    members = MemberService(sessions)
    relay = RelayService(sessions, settings.zone, urgent_within=urgent_within)
    outbox = Outbox(sessions)
    return Services(
        settings=settings,
        knowledge=live_knowledge(settings, phrasings),
        db=db,
        sessions=sessions,
        catalog=catalog,
        members=members,
        arrivals=ArrivalService(sessions),
        questions=QuestionLog(sessions),
        tickets=TicketService(sessions, settings.zone, urgent_within=urgent_within),
        flood=FloodGuard(settings.flood_max_messages, settings.flood_window_seconds),
        roles=RoleService(sessions),
        experts=ExpertService(sessions),
        companies=CompanyService(sessions),
        relay=relay,
        dossier=DossierService(sessions),
        followups=FollowupService(sessions, calendar, build_policy(settings), stats=stats),
        stats=stats,
        phrasings=phrasings,
        gaps=GapService(sessions),
        outreach=OutreachService(sessions),
        events=EventService(sessions, calendar),
        privacy=PrivacyService(sessions),
        outbox=outbox,
        conversation=ConversationService(relay, members, outbox, settings.staff_chat_id),
        inbox=Inbox(sessions, max_attempts=settings.inbox_max_attempts, on_failed=tell_member),
    )


async def _post_init(app: IpdeskApp) -> None:
    services = app.bot_data.services
    await upgrade(services.db)
    await services.knowledge.refresh()  # staff-added phrasings (bot/services/phrasings.py)
    promoted = await services.roles.ensure_admins(services.settings.admin_user_ids)
    if promoted:
        log.info("admins from ADMIN_USER_IDS: %s", ", ".join(map(str, promoted)))
    await set_menus(app)
    await _resume_inbox(app)

    resent = await services.conversation.redeliver()
    if resent:
        log.info("%d relayed message(s) stored before the last stop handed to the outbox", resent)
    await _start_followups(app)
    await start_lane(app)
    if app.job_queue is not None:
        housekeeping.install(app.job_queue, services.settings)
    log.info("ipdesk ready: %d FAQ entries", len(services.engine.kb))


async def _resume_inbox(app: IpdeskApp) -> None:
    """Queue the updates stored but not handled before the last stop (before polling
    starts, so they come first), and keep this process's claims fresh while it runs."""
    services = app.bot_data.services
    inbox = services.inbox
    lease = timedelta(seconds=services.settings.inbox_lease_seconds)
    # SQLite is one process: everything unfinished is ours. On PostgreSQL another process may
    # be handling its own updates; an update is taken over once its claim has expired.
    resumed = await _take_over(app, None if is_sqlite(services.db) else lease)
    if resumed:
        log.info("inbox: %d update(s) stored before the last stop queued again", resumed)
    pruned = await inbox.prune()
    if pruned:
        log.info("inbox: %d handled update(s) older than a day forgotten", pruned)
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    app.job_queue.run_repeating(
        _inbox_tick, interval=lease / 3, first=lease / 3, name="inbox", data=lease
    )


async def _take_over(app: IpdeskApp, lease: timedelta | None) -> int:
    inbox = app.bot_data.services.inbox
    queue = app.update_queue
    assert isinstance(queue, DurableUpdateQueue)
    taken = 0
    claimed = await inbox.claim_unfinished(lease)
    if claimed.failed:
        app.bot_data.services.outbox.wake()  # the members' notices
    for update_id, payload in claimed.resumed:
        try:
            update = Update.de_json(json.loads(payload), app.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("inbox: stored update %d could not be read; skipped", update_id)
            await inbox.done(update_id)
            continue
        queue.replay(update)
        taken += 1
    return taken


async def _inbox_tick(context: Context) -> None:
    inbox = context.services.inbox
    lease = context.job.data if context.job is not None else None
    assert isinstance(lease, timedelta)
    await inbox.renew()
    taken = await _take_over(context.application, lease)  # type: ignore[arg-type]
    if taken:
        log.info("inbox: %d update(s) of a stopped process taken over", taken)
    await inbox.prune()


async def _start_followups(app: IpdeskApp) -> None:
    """Rebuild the reminder schedule from the database and send whatever fell due while
    the bot was down (once: rows are claimed before sending)."""
    services = app.bot_data.services
    settings = services.settings
    followups = services.followups

    async def refresh_card(ticket_id: int) -> None:
        await ticket_changed(Context(app), ticket_id)

    pump = ReminderPump(
        # Announcements have their own paced lane (handlers.broadcast.start_lane).
        ReminderStore(services.sessions, build_retry(settings), exclude_kinds=(OUTBOX_KIND,)),
        OutboxPreparer(KindRouter(followups, services.events)),
        TelegramSender(
            app.bot,
            services.catalog,
            {
                CARD: card_sender(app),
                OUTBOX_PREFIX + RELAY: relay_sender(app),
                OUTBOX_PREFIX + RELAY_FAILED: relay_failed_sender(app),
            },
        ),
        lease=timedelta(seconds=settings.reminder_lease_seconds),
        on_ticket_changed=refresh_card,
        # Record each send at once: a crash can then repeat at most the message in flight.
        flush_interval=0,
    )
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    jobs = install(app.job_queue, pump, interval=poll_interval(settings))
    followups.set_schedule_hook(jobs.watch)
    services.events.set_schedule_hook(jobs.watch)
    services.outbox.set_wake(jobs.kick, jobs.stop)  # stopped at shutdown, before the pool
    await followups.ensure_weekly_report()
    synced = await followups.sync_open_tickets()
    overdue = await jobs.start()
    log.info(
        "follow-ups: %d open ticket(s) synced, %d overdue reminder(s) handled", synced, overdue
    )


async def _post_shutdown(app: IpdeskApp) -> None:
    await app.bot_data.services.outreach.stop_lane()
    await app.bot_data.services.outbox.close()
    await app.bot_data.services.inbox.close()
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
    services = services or build_services(settings)
    processor = PerChatUpdateProcessor(settings.concurrent_updates, services.inbox)
    # Polling: a fetched batch is stored in one commit before the next getUpdates confirms
    # it; webhook: each update is stored before the server answers 200.
    queue = DurableUpdateQueue(services.inbox, staged=not settings.webhook_url)
    builder = (
        Application.builder()
        .token(secret)
        .context_types(context_types)
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_max_rate, max_retries=3))
        .update_queue(queue)
        .concurrent_updates(processor)
        .defaults(Defaults(tzinfo=settings.zone))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
        file_url = settings.file_base_url
        if file_url:
            builder = builder.base_file_url(file_url)
    get_updates: BaseRequest = HTTPXRequest(connection_pool_size=1)
    if request is not None:
        builder = builder.request(request)
    elif settings.telegram_proxy is not None:
        # PTB's HTTPXRequest takes the proxy (http, https, socks5 through httpx[socks]).
        proxy = settings.telegram_proxy.get_secret_value()
        builder = builder.proxy(proxy)
        get_updates = HTTPXRequest(connection_pool_size=1, proxy=proxy)
    elif settings.telegram_http == "aiohttp":
        # bot/http.py: sending through aiohttp costs a fraction of httpx's CPU per message.
        builder = builder.request(AiohttpRequest(settings.telegram_pool_size))
        get_updates = AiohttpRequest(1)
    builder = builder.get_updates_request(ConfirmAfterStoring(get_updates, queue))
    app: IpdeskApp = builder.build()  # type: ignore[assignment]
    app.bot_data.attach(services)

    register(app)
    return app
