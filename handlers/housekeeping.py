"""Daily housekeeping on the JobQueue: a backup with rotation, and the retention sweep.

* **Backup** at BACKUP_TIME (local) into BACKUP_DIR (default ``$IPDESK_HOME/backups``), the
  newest BACKUP_KEEP kept (0: no scheduled backup). SQLite through the online backup API,
  PostgreSQL through ``pg_dump``; a failure is logged and tried again the next day.
* **Retention** at 04:15 (local): texts older than RETENTION_MONTHS are anonymised
  (:meth:`bot.services.privacy.PrivacyService.anonymise_expired`; 0: kept).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time

from telegram.ext import JobQueue

from bot.context import Context, Services
from bot.services.backup import BackupError, BackupResult, backup, backup_name, rotate
from bot.services.privacy import Expiry
from bot.settings import Settings

log = logging.getLogger(__name__)

RETENTION_TIME = time(4, 15)


async def daily_backup(settings: Settings, now: datetime | None = None) -> BackupResult | None:
    """One backup into the backup folder, then rotation; None when disabled or failed."""
    if settings.backup_keep == 0:
        return None
    directory = settings.backup_directory
    name = backup_name(settings.database_url, now or datetime.now(UTC))
    try:
        result = await asyncio.to_thread(backup, settings.database_url, directory / name)
        removed = await asyncio.to_thread(rotate, directory, settings.backup_keep)
    except (BackupError, OSError) as exc:
        log.warning("daily backup failed: %s", exc)
        return None
    log.info(
        "backup written: %s (%d bytes); %d old one(s) removed", name, result.size, len(removed)
    )
    return result


async def retention_sweep(services: Services) -> Expiry:
    expiry = await services.privacy.anonymise_expired(services.settings.retention_months)
    if expiry.tickets or expiry.questions or expiry.profiles:
        log.info(
            "retention: %d ticket(s), %d question(s), %d profile(s) anonymised",
            expiry.tickets,
            expiry.questions,
            expiry.profiles,
        )
    return expiry


async def _backup_job(context: Context) -> None:
    await daily_backup(context.services.settings)


async def _retention_job(context: Context) -> None:
    await retention_sweep(context.services)


def install(job_queue: JobQueue[Context], settings: Settings) -> None:
    """Schedule both jobs daily in local time (names: backup, retention)."""
    zone = settings.zone
    hours, minutes = (int(p) for p in settings.backup_time.split(":"))
    if settings.backup_keep > 0:
        job_queue.run_daily(_backup_job, time(hours, minutes, tzinfo=zone), name="backup")
    if settings.retention_months > 0:
        job_queue.run_daily(_retention_job, RETENTION_TIME.replace(tzinfo=zone), name="retention")
