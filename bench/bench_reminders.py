"""Reminder scheduler benchmark: 100,000 pending reminders on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.bench_reminders [--rows N] [--batch N] [--only sqlite|postgresql]

PostgreSQL: IPDESK_BENCH_POSTGRES_URL (postgresql+asyncpg://…/postgres, a database we may
CREATE DATABASE from) or, without it, a throwaway server (tests/support/postgres.py).

Figures printed per backend:
* fill — inserting the pending rows (setup, for scale);
* start-up — a fresh engine, store, pump and ReminderJobs on a real PTB JobQueue: release
  stale leases, claim what is overdue (nothing here), load the next 10-minute window into the
  JobQueue. "full rebuild" is the alternative design that turns every row into a job;
* peak memory — tracemalloc peak of the start-up (separate run: tracing slows Python down) and
  the process's ru_maxrss;
* claim throughput — the clock moved past every due time: rows claimed and handed to a no-op
  sender per second, end to end (claim batch → prepare → sender → mark_sent, one transaction
  per row), with one pump and with two concurrent pumps on separate engines ("processes");
  and claim alone (claim_due batches, no completion).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from telegram.ext import Application

from bench.databases import postgres_url, sqlite_url
from bot.scheduler import ReminderJobs, ReminderPump, SendResult
from bot.services.followups import Delivery, Skip
from bot.services.reminders import ClaimedReminder, ReminderStore
from db.migrate import upgrade
from db.models import Reminder
from db.session import make_engine, make_session_factory

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
SPREAD = timedelta(days=30)


class NoPrepare:
    async def prepare(self, reminder: ClaimedReminder, now: datetime) -> Delivery | Skip:
        return Delivery(reminder, ())


async def no_send(_delivery: Delivery) -> SendResult:
    return SendResult.sent()


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fill(url: str, rows: int) -> float:
    engine = make_engine(url)
    await upgrade(engine)
    started = time.perf_counter()
    step = SPREAD / rows
    async with engine.begin() as conn:
        for lo in range(0, rows, 5000):
            await conn.execute(
                insert(Reminder),
                [
                    {
                        "key": f"bench:{i}",
                        "kind": "bench",
                        "ticket_id": None,
                        "recipient_id": 1000 + i % 500,
                        "due_at": NOW + timedelta(minutes=1) + step * i,
                        "payload": {"i": i},
                        "status": "pending",
                        "attempts": 0,
                    }
                    for i in range(lo, min(rows, lo + 5000))
                ],
            )
    await engine.dispose()
    return time.perf_counter() - started


async def startup(url: str, horizon: timedelta) -> tuple[float, int]:
    """A fresh "process": engine, store, pump, JobQueue; seconds until ready, jobs loaded."""
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        store = ReminderStore(make_session_factory(engine))
        pump = ReminderPump(store, NoPrepare(), no_send, clock=lambda: NOW)
        app = Application.builder().token("123:BENCH").build()
        assert app.job_queue is not None
        jobs = ReminderJobs(
            app.job_queue, pump, horizon=horizon, clock=lambda: NOW, max_jobs=10**7
        )
        await jobs.start(NOW)
        elapsed = time.perf_counter() - started
        return elapsed, len(jobs.timed_keys)
    finally:
        await engine.dispose()


async def drain(urls: list[str], batch: int, flush: float = 0.05) -> tuple[float, int]:
    """Pumps (one per URL/engine) drain everything due; seconds and rows handled."""
    engines = [make_engine(u) for u in urls]
    later = NOW + SPREAD + timedelta(days=1)
    try:
        pumps = [
            ReminderPump(
                ReminderStore(make_session_factory(e)),
                NoPrepare(),
                no_send,
                worker_id=f"bench{i}",
                batch_size=batch,
                clock=lambda: later,
                flush_interval=flush,
            )
            for i, e in enumerate(engines)
        ]
        started = time.perf_counter()
        handled = await asyncio.gather(*(p.drain(later, max_batches=10**6) for p in pumps))
        return time.perf_counter() - started, sum(handled)
    finally:
        for e in engines:
            await e.dispose()


async def claim_only(url: str, batch: int) -> tuple[float, int]:
    engine = make_engine(url)
    later = NOW + SPREAD + timedelta(days=1)
    try:
        store = ReminderStore(make_session_factory(engine))
        started = time.perf_counter()
        total = 0
        while claimed := await store.claim_due(later, "claim-only", batch):
            total += len(claimed)
        return time.perf_counter() - started, total
    finally:
        await engine.dispose()


async def reset(url: str) -> None:
    """Put every row back to pending (between measurements)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "UPDATE reminders SET status='pending', claimed_by=NULL, claimed_at=NULL, "
                "sent_at=NULL, attempts=0"
            )
            if engine.dialect.name == "postgresql":
                await conn.exec_driver_sql("ANALYZE reminders")
    finally:
        await engine.dispose()


async def measure(label: str, url: str, rows: int, batch: int) -> None:
    print(f"\n== {label}: {rows:,} pending reminders ==")
    seconds = await fill(url, rows)
    print(f"fill                  {seconds:8.2f} s  ({rows / seconds:,.0f} rows/s)")
    await reset(url)  # also ANALYZE on PostgreSQL
    gc.collect()
    seconds, loaded = await startup(url, timedelta(minutes=10))
    print(f"start-up (window)     {seconds:8.3f} s  to a ready scheduler, {loaded} one-off jobs")
    tracemalloc.start()
    await startup(url, timedelta(minutes=10))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak memory         {peak / 2**20:8.1f} MiB traced; ru_maxrss {rss_mib():.0f} MiB")
    seconds, loaded = await startup(url, SPREAD * 2)
    print(
        f"start-up (full)       {seconds:8.3f} s  every row as a job ({loaded:,} jobs), "
        f"ru_maxrss {rss_mib():.0f} MiB"
    )
    gc.collect()
    seconds, handled = await drain([url], batch)
    print(
        f"claim+send, 1 pump    {seconds:8.2f} s  {handled / seconds:8,.0f} reminders/s "
        f"(batch {batch}, {handled:,} rows)"
    )
    await reset(url)
    seconds, handled = await drain([url], batch, flush=0)
    print(
        f"claim+send, per-row   {seconds:8.2f} s  {handled / seconds:8,.0f} reminders/s "
        "(each send recorded at once, as `ipdesk run` does)"
    )
    await reset(url)
    seconds, handled = await drain([url, url], batch)
    print(
        f"claim+send, 2 pumps   {seconds:8.2f} s  {handled / seconds:8,.0f} reminders/s "
        f"({handled:,} rows, each once)"
    )
    await reset(url)
    seconds, handled = await claim_only(url, batch)
    print(f"claim only            {seconds:8.2f} s  {handled / seconds:8,.0f} reminders/s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if args.only in (None, "sqlite"):
        with sqlite_url() as url:
            await measure("SQLite (file, WAL)", url, args.rows, args.batch)
    if args.only in (None, "postgresql"):
        async with postgres_url() as url:
            await measure("PostgreSQL", url, args.rows, args.batch)


if __name__ == "__main__":
    asyncio.run(main())
