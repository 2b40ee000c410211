"""`ipdesk doctor`: check a configuration end to end and say what to fix.

Token (Telegram accepts it, through TELEGRAM_PROXY if set), the staff group (reachable, the
bot an administrator there), admins named, the database (reachable, migrated, writable),
office contact details filled in, the backup folder writable, webhook settings. Nothing is
changed: the database is not migrated, no message is sent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.settings import Settings
from bot.startup import data_directory_problem, describe_database_failure, redact
from db.migrate import alembic_config
from db.session import make_engine


class Level(enum.StrEnum):
    OK = "✔"
    WARN = "!"
    FAIL = "✘"


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    what: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.level is not Level.FAIL


def report(findings: list[Finding]) -> str:
    lines = [f"{f.level.value} {f.what}: {f.detail}" for f in findings]
    failed = sum(1 for f in findings if f.level is Level.FAIL)
    warned = sum(1 for f in findings if f.level is Level.WARN)
    lines.append(
        "all checks passed" if not failed and not warned else f"{failed} to fix, {warned} to check"
    )
    return "\n".join(lines)


async def check(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    findings += await _telegram(settings)
    findings.append(_admins(settings))
    findings += await _database(settings)
    findings += _office(settings)
    problem = data_directory_problem(settings.backup_directory)
    findings.append(
        Finding(Level.OK, "backups", f"{settings.backup_directory} is writable")
        if problem is None
        else Finding(Level.FAIL, "backups", f"{problem}: set BACKUP_DIR to a writable folder")
    )
    findings.append(_webhook(settings))
    return [Finding(f.level, f.what, redact(f.detail, settings.secrets())) for f in findings]


def _request(settings: Settings) -> HTTPXRequest:
    proxy = settings.telegram_proxy.get_secret_value() if settings.telegram_proxy else None
    return HTTPXRequest(proxy=proxy, connect_timeout=10, read_timeout=10)


async def _telegram(settings: Settings) -> list[Finding]:
    if settings.telegram_bot_token is None:
        return [Finding(Level.FAIL, "token", "TELEGRAM_BOT_TOKEN is not set (from @BotFather)")]
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url or "https://api.telegram.org/bot",
        base_file_url=settings.file_base_url or "https://api.telegram.org/file/bot",
        request=_request(settings),
    )
    try:
        async with bot:
            me = bot.bot
            found = [Finding(Level.OK, "token", f"accepted: the bot is @{me.username}")]
            found.append(await _staff_group(bot, settings, me.id))
            return found
    except InvalidToken:
        return [
            Finding(
                Level.FAIL, "token", "TELEGRAM_BOT_TOKEN was rejected: copy it from @BotFather"
            )
        ]
    except NetworkError as exc:
        hint = (
            "check TELEGRAM_PROXY"
            if settings.telegram_proxy
            else "from mainland China set TELEGRAM_PROXY, or run the bot on a server outside"
        )
        return [Finding(Level.FAIL, "telegram", f"unreachable ({exc}): {hint}")]


async def _staff_group(bot: Bot, settings: Settings, bot_id: int) -> Finding:
    chat_id = settings.staff_chat_id
    if chat_id is None:
        return Finding(
            Level.FAIL,
            "staff group",
            "STAFF_CHAT_ID is not set: add the bot to the group, send /whoami there",
        )
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot_id)
    except TelegramError as exc:
        return Finding(
            Level.FAIL,
            "staff group",
            f"{chat_id} cannot be reached ({exc}): is STAFF_CHAT_ID right, is the bot in it?",
        )
    if member.status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return Finding(
            Level.FAIL,
            "staff group",
            f"the bot is in «{chat.title}» but not an administrator: make it one",
        )
    return Finding(Level.OK, "staff group", f"«{chat.title}», the bot is an administrator")


def _admins(settings: Settings) -> Finding:
    if not settings.admin_user_ids:
        return Finding(
            Level.WARN, "admins", "ADMIN_USER_IDS is empty: nobody can manage roles or block"
        )
    return Finding(Level.OK, "admins", ", ".join(map(str, settings.admin_user_ids)))


async def _database(settings: Settings) -> list[Finding]:
    where = settings.database_label
    engine = make_engine(settings.database_url, **_timeout(settings))
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
            await conn.rollback()
            if current is not None:
                async with conn.begin() as tx:  # a write, rolled back: nothing changes
                    await conn.execute(
                        text("UPDATE alembic_version SET version_num = version_num")
                    )
                    await tx.rollback()
    except (SQLAlchemyError, OSError) as exc:
        return [Finding(Level.FAIL, "database", describe_database_failure(exc, settings))]
    finally:
        await engine.dispose()
    found = [Finding(Level.OK, "database", f"{where} is reachable and writable")]
    if current != head:
        found.append(
            Finding(
                Level.FAIL,
                "migrations",
                f"at {current or 'none'}, code expects {head}: run `ipdesk db upgrade`",
            )
        )
    else:
        found.append(Finding(Level.OK, "migrations", f"up to date ({head})"))
    return found


def _timeout(settings: Settings) -> dict[str, object]:
    if settings.sqlite_path() is None:
        return {"connect_args": {"timeout": 10}}
    return {}


def _office(settings: Settings) -> list[Finding]:
    unset = settings.unset_office_details()
    if unset:
        return [
            Finding(
                Level.WARN,
                "office details",
                f"{', '.join(unset)} not set: answers will say «ask the secretariat»",
            )
        ]
    return [Finding(Level.OK, "office details", "set")]


def _webhook(settings: Settings) -> Finding:
    if not settings.webhook_url:
        return Finding(Level.OK, "mode", "long polling (no public URL needed)")
    if not settings.webhook_url.startswith("https://"):
        return Finding(Level.FAIL, "webhook", "WEBHOOK_URL must be https:// for Telegram")
    return Finding(Level.OK, "webhook", f"{settings.webhook_url}, secret set")
