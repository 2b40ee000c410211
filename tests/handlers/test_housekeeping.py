"""Daily housekeeping: the backup job writes and rotates; both jobs are scheduled daily."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from telegram.ext import Application

from bot.settings import load_settings
from db.migrate import upgrade_url
from handlers.housekeeping import daily_backup, install


async def test_daily_backup_writes_and_keeps_the_newest(tmp_path: Path) -> None:
    settings = load_settings(ipdesk_home=tmp_path, backup_keep=2, _env_file=None)
    await upgrade_url(settings.database_url)
    start = dt.datetime(2026, 12, 1, 19, 30, tzinfo=dt.UTC)
    written = [await daily_backup(settings, start + dt.timedelta(days=d)) for d in range(3)]
    assert all(w is not None for w in written)
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert kept == ["ipdesk-20261202-193000.sqlite3", "ipdesk-20261203-193000.sqlite3"]


async def test_daily_backup_off_or_failing_is_none(tmp_path: Path) -> None:
    off = load_settings(ipdesk_home=tmp_path, backup_keep=0, _env_file=None)
    assert await daily_backup(off) is None
    missing = load_settings(ipdesk_home=tmp_path / "nothing-here", _env_file=None)
    assert await daily_backup(missing) is None  # no database yet: logged, tried tomorrow


def test_both_jobs_are_scheduled_daily_in_local_time() -> None:
    settings = load_settings(backup_time="02:45", _env_file=None)
    app = Application.builder().token("123:abc").build()
    assert app.job_queue is not None
    install(app.job_queue, settings)  # type: ignore[arg-type]
    jobs = {job.name: job for job in app.job_queue.jobs()}
    assert set(jobs) == {"backup", "retention"}
    backup_trigger = str(jobs["backup"].trigger)
    assert "hour='2'" in backup_trigger
    assert "minute='45'" in backup_trigger
    none = load_settings(backup_keep=0, retention_months=0, _env_file=None)
    other = Application.builder().token("123:abc").build()
    assert other.job_queue is not None
    install(other.job_queue, none)  # type: ignore[arg-type]
    assert other.job_queue.jobs() == ()
