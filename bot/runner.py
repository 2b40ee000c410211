"""`ipdesk run`: migrations, command menu, then long polling or a webhook until a signal."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Update

from bot.settings import Settings

log = logging.getLogger(__name__)


def configure_logging(filename: str | None = None) -> None:
    if filename:
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO,
        filename=filename,
    )
    # httpx logs request URLs at INFO, and those URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run(settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        print(
            "ipdesk: TELEGRAM_BOT_TOKEN is not set: put it in .env (see .env.example), "
            "or try the bot without a token with `ipdesk shell`.",
            file=sys.stderr,
        )
        return 2
    configure_logging()
    from bot.app import build_application

    app = build_application(settings)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        # Behind a reverse proxy: listen locally on the public URL's path.
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0
