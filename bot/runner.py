"""`ipdesk run`: migrations, command menu, then long polling or a webhook until a signal."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Update

from bot.settings import Settings
from bot.startup import EXIT_STARTUP, RedactingFormatter, StartupFailure, explain, prepare_database

log = logging.getLogger(__name__)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WEBHOOK_LOGGER = "telegram.ext.Updater"
"""PTB's logger of its webhook server (and of the updater)."""


class _BootstrapFailures(logging.Filter):
    """PTB logs a failed start (token rejected, Telegram unreachable) with a long traceback;
    `run` says the same in one line, so the record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno >= logging.ERROR
            and record.getMessage().startswith("Network Retry Loop (Bootstrap")
        )


class WebhookRefusals(logging.Filter):
    """PTB answers 403 to a push without the right X-Telegram-Bot-Api-Secret-Token but notes
    it at DEBUG only (with the token tried). This makes it one WARNING line, without the body
    or the token, and keeps PTB's other debug records out."""

    MESSAGE = "webhook: refused a request without the right secret token (403, body not read)"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        if record.name == WEBHOOK_LOGGER and "secret token" in str(record.msg):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = self.MESSAGE, ()
            return True
        return False


def log_webhook_refusals() -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(WebhookRefusals())
    logging.getLogger(WEBHOOK_LOGGER).setLevel(logging.DEBUG)


def configure_logging(filename: str | None = None, secrets: Iterable[str] = ()) -> None:
    handler: logging.Handler
    if filename:
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(filename, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets))
    handler.addFilter(_BootstrapFailures())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # httpx logs request URLs at INFO, and those URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def fail(message: str) -> int:
    print(f"ipdesk: {message}", file=sys.stderr)
    return EXIT_STARTUP


def run(settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        return fail(
            "TELEGRAM_BOT_TOKEN is not set: put it in .env (see .env.example), "
            "or try the bot without a token with `ipdesk shell`."
        )
    configure_logging(secrets=settings.secrets())
    log.info("database: %s", settings.database_label)
    unset = settings.unset_office_details()
    if unset:
        log.warning(
            "%s not set: answers tell members to ask the secretariat (see `ipdesk doctor`)",
            ", ".join(unset),
        )
    try:
        asyncio.run(prepare_database(settings))
    except StartupFailure as exc:
        return fail(str(exc))
    try:
        _serve(settings)
    except Exception as exc:
        line = explain(exc, settings)
        if line is None:
            log.exception("ipdesk stopped after an unexpected error")
            return 1
        return fail(line)
    return 0


def use_event_loop(name: str) -> str:
    """Make ``name``'s loop the current one (python-telegram-bot runs on the current loop);
    the standard loop where uvloop is not installed (Windows). Returns the loop used."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed: using the standard asyncio event loop")
        else:
            asyncio.set_event_loop(uvloop.new_event_loop())
            return "uvloop"
    asyncio.set_event_loop(asyncio.new_event_loop())
    return "asyncio"


def _serve(settings: Settings) -> None:
    from bot.app import build_application

    app = build_application(settings)
    use_event_loop(settings.event_loop)
    if settings.webhook_url:
        assert settings.webhook_secret is not None  # Settings refuses webhook mode without it
        log_webhook_refusals()
        # Behind a reverse proxy: listen locally on the public URL's path. Requests without
        # the secret header get 403 before their body is read as an update.
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
