"""Start-up safety: secrets kept out of every log line, and failures told in one line.

Whatever goes wrong before the bot serves (database unreachable or refusing the
credentials, Telegram unreachable, the token rejected) becomes one line on stderr that
names the cause and the variable to fix, and exit status 2. Log lines and tracebacks pass a
formatter that replaces every configured secret (token, webhook secret, proxy, database
password) by `***`.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.settings import Settings

EXIT_STARTUP = 2
MASK = "***"
# A bot token has this shape wherever it turns up (URLs of failed requests, messages).
_TOKEN_SHAPE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}")


class StartupFailure(Exception):
    """The bot cannot start; the message is the one line to print."""


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return _TOKEN_SHAPE.sub(MASK, text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then masks the secrets in the whole record, traceback included."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe_database_failure(exc: BaseException, settings: Settings) -> str:
    """One line for a database that cannot be used; names DATABASE_URL."""
    where = settings.database_label
    names = {type(e).__name__ for e in _chain(exc)}
    if names & {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
        return f"the database refused the user name or password in DATABASE_URL ({where})"
    if "InvalidCatalogNameError" in names:
        database = make_url(settings.database_url).database
        return (
            f"database {database!r} does not exist on the server (DATABASE_URL: {where}); "
            "create it first (createdb)"
        )
    if any(isinstance(e, socket.gaierror) for e in _chain(exc)):
        return f"the database host in DATABASE_URL is unknown ({where})"
    if any(isinstance(e, OSError | TimeoutError) for e in _chain(exc)):
        cause = _first_line(next(e for e in _chain(exc) if isinstance(e, OSError | TimeoutError)))
        return f"the database is unreachable (DATABASE_URL: {where}): {cause}"
    root = _chain(exc)[-1]
    if isinstance(root, DBAPIError) and root.orig is not None:
        root = root.orig
    return f"the database cannot be used (DATABASE_URL: {where}): {_first_line(root)}"


def describe_telegram_failure(exc: BaseException, settings: Settings) -> str | None:
    """One line for Telegram refusing or being out of reach; None if it is not that."""
    for error in _chain(exc):
        if isinstance(error, InvalidToken):
            return (
                "Telegram rejected TELEGRAM_BOT_TOKEN: copy it again from @BotFather "
                "(/mybots → your bot → API Token)"
            )
    for error in _chain(exc):
        if isinstance(error, NetworkError):
            where = settings.telegram_api_base_url or "api.telegram.org"
            via = " through TELEGRAM_PROXY" if settings.telegram_proxy else ""
            hint = (
                "check TELEGRAM_PROXY"
                if settings.telegram_proxy
                else "Telegram is not reachable from mainland China networks: set TELEGRAM_PROXY "
                "or run the bot on a server outside"
            )
            return f"Telegram is unreachable ({where}{via}): {_first_line(error)}; {hint}"
    for error in _chain(exc):
        if isinstance(error, TelegramError):
            return f"Telegram refused to start the bot: {_first_line(error)}"
    return None


def explain(exc: BaseException, settings: Settings) -> str | None:
    """The one line for a start-up failure we understand, secrets masked; else None."""
    if isinstance(exc, StartupFailure):
        line = str(exc)
    else:
        telegram = describe_telegram_failure(exc, settings)
        if telegram is not None:
            line = telegram
        elif any(isinstance(e, SQLAlchemyError) for e in _chain(exc)):
            line = describe_database_failure(exc, settings)
        else:
            return None
    return redact(line, settings.secrets())


async def prepare_database(settings: Settings) -> None:
    """Connect and migrate before anything else; StartupFailure names DATABASE_URL."""
    from db.migrate import upgrade
    from db.session import make_engine

    path = settings.sqlite_path()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupFailure(
                f"cannot create the data folder {path.parent} (IPDESK_HOME or DATABASE_URL): "
                f"{exc.strerror}"
            ) from None
    engine = make_engine(settings.database_url, connect_args=_connect_timeout(settings))
    try:
        await upgrade(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise StartupFailure(describe_database_failure(exc, settings)) from None
    finally:
        await engine.dispose()


def _connect_timeout(settings: Settings) -> dict[str, object]:
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return {"timeout": 10}
    return {}


def data_directory_problem(directory: Path) -> str | None:
    """None if `directory` can be created and written, else what is wrong."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".ipdesk-write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return f"{directory}: {exc.strerror or exc}"
    return None
