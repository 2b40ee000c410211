"""An announcement to 20,000 members: planning, memory, claiming, and the paced sending rate
while member questions are answered.

    .venv/bin/python -m bench.bench_broadcast [--members 20000] [--only sqlite|postgresql]
                                              [--live-seconds 30] [--no-live | --live-only]

In-process, on SQLite (file) and on PostgreSQL (a throwaway server unless
IPDESK_BENCH_POSTGRES_URL names one):

- **plan**: `OutreachService.count` (the preview's recipient count) and `confirm` (one
  outbox row per recipient in one INSERT … SELECT), for 20,000 members of whom 5% switched
  alerts off and 1% blocked the bot;
- **peak memory**: tracemalloc's peak while planning, and while the whole lane runs;
- **claim rate**: `ReminderStore.claim_due` alone (lane of kind 'announcement', 100 a batch),
  and the full lane (claim, read the batch's members, decide per member, commit the attempt
  before the send and record each send at once, as the bot does) with a sender that returns
  at once — what the database allows, against Telegram's cap; a group-commit variant shows
  what recording costs; on PostgreSQL, how fast the shared pace row hands out slots.

Live, with the real `ipdesk run` on the local emulator (SQLite, TELEGRAM_MAX_RATE=30,
BROADCAST_MAX_RATE=20, the defaults; three pumps send, paced together): the same
20,000-member announcement is planned into
the bot's database while it runs; for --live-seconds the emulator's call log gives the
sending rate of the announcement, while members (not in the audience) ask FAQ questions at
5 a second — their answer latency is compared with the same load before the broadcast.
Prints figures; asserts nothing. Timings are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from bench.databases import postgres_url, sqlite_url
from bot.i18n import load_catalog
from bot.scheduler import ReminderPump, SendResult
from bot.services.audience import Audience
from bot.services.broadcast import BroadcastPreparer, LaneStore, SharedPacer
from bot.services.followups import Delivery
from bot.services.outreach import OUTBOX_KIND, OutreachService
from bot.services.reminders import ReminderStore
from db.migrate import upgrade
from db.models import Reminder, ReminderStatus, Role, Subscription, User
from db.session import SessionFactory, make_engine, make_session_factory

REPO = str(Path(__file__).resolve().parents[1])
ADMIN = 1
FIRST_MEMBER = 1_000_000
ASKER_BASE = 990_000_000


async def no_send(_delivery: Delivery) -> SendResult:
    return SendResult.sent()


async def fill(sessions: SessionFactory, members: int, first: int = FIRST_MEMBER) -> None:
    """Members (zh), 5% with alerts off, 1% blocked, and one admin."""
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        await s.execute(
            insert(User),
            [
                {
                    "id": ADMIN,
                    "first_name": "admin",
                    "role": Role.ADMIN,
                    "lang": "zh",
                    "dialog_data": {},
                }
            ],
        )
        rows: list[dict[str, object]] = [
            {
                "id": first + i,
                "first_name": "",
                "role": Role.MEMBER,
                "lang": "zh" if i % 4 else "en",
                "dialog_data": {},
                "blocked_bot_at": now if i % 100 == 99 else None,
            }
            for i in range(members)
        ]
        for start in range(0, len(rows), 5000):
            await s.execute(insert(User), rows[start : start + 5000])
        opted = [
            {"user_id": first + i, "topic": "alerts", "enabled": False}
            for i in range(members)
            if i % 20 == 7
        ]
        await s.execute(insert(Subscription), opted)


async def plan(service: OutreachService, audience: Audience) -> tuple[float, float, int, int]:
    """(count seconds, confirm seconds, recipients, tracemalloc peak bytes)."""
    await service.start(ADMIN, "alert")
    await service.update_draft(
        ADMIN,
        text_zh="<b>预警</b>：欧盟海关新规",
        text_en="EU customs rules",
        step="review",
        audience=audience,
    )
    draft = await service.draft_of(ADMIN)
    assert draft is not None
    tracemalloc.start()
    t0 = time.perf_counter()
    await service.count(draft)
    t1 = time.perf_counter()
    planned = await service.confirm(ADMIN, datetime.now(UTC), None, None, None)
    t2 = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return t1 - t0, t2 - t1, planned.recipients, peak


async def reset_outbox(sessions: SessionFactory) -> None:
    async with sessions() as s, s.begin():
        await s.execute(
            update(Reminder)
            .where(Reminder.kind == OUTBOX_KIND)
            .values(status=ReminderStatus.PENDING, claimed_by=None, claimed_at=None, attempts=0)
        )


async def claim_only(sessions: SessionFactory, batch: int) -> tuple[float, int]:
    store = ReminderStore(sessions, only_kinds=(OUTBOX_KIND,))
    now = datetime.now(UTC) + timedelta(seconds=1)
    total = 0
    t0 = time.perf_counter()
    while True:
        got = await store.claim_due(now, "bench", batch)
        if not got:
            break
        total += len(got)
    return time.perf_counter() - t0, total


async def full_lane(
    sessions: SessionFactory, batch: int, flush: float = 0
) -> tuple[float, int, int]:
    preparer = BroadcastPreparer(sessions, load_catalog(), ZoneInfo("Asia/Shanghai"))
    store = LaneStore(sessions, preparer, None)

    async def attempt_then_no_send(delivery: Delivery) -> SendResult:
        # As the bot does: the attempt is committed before the request (at most once).
        await store.mark_attempt(delivery.reminder, datetime.now(UTC))
        return await no_send(delivery)

    pump = ReminderPump(
        store,
        preparer,
        attempt_then_no_send,
        worker_id="bench",
        batch_size=batch,
        flush_interval=flush,
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    handled = await pump.drain(datetime.now(UTC) + timedelta(seconds=1), max_batches=1_000_000)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, handled, peak


def mib(n: float) -> str:
    return f"{n / 2**20:6.1f} MiB"


async def in_process(label: str, url: str, members: int, batch: int) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        sessions = make_session_factory(engine)
        await fill(sessions, members)
        service = OutreachService(sessions)
        count_s, confirm_s, recipients, peak = await plan(service, Audience())
        print(f"\n{label}: {members:,} members")
        print(f"preview count         {count_s * 1000:8.0f} ms")
        print(
            f"plan (confirm)        {confirm_s * 1000:8.0f} ms  {recipients:,} outbox rows "
            f"({recipients / confirm_s:,.0f} rows/s), peak memory {mib(peak)}"
        )
        seconds, claimed = await claim_only(sessions, batch)
        print(
            f"claim only            {seconds:8.2f} s  {claimed / seconds:8,.0f} rows/s "
            f"(batch {batch})"
        )
        await reset_outbox(sessions)
        seconds, handled, peak = await full_lane(sessions, batch)
        progress = await service.progress(1)
        print(
            f"lane, no-op sender    {seconds:8.2f} s  {handled / seconds:8,.0f} rows/s, "
            f"peak memory {mib(peak)}; sent {progress.sent:,}, opted out "
            f"{progress.opted_out:,}, blocked {progress.blocked:,} (each send recorded at "
            "once, as the bot does)"
        )
        await reset_outbox(sessions)
        seconds, handled, _ = await full_lane(sessions, batch, flush=0.05)
        print(
            f"lane, group commit    {seconds:8.2f} s  {handled / seconds:8,.0f} rows/s "
            "(diagnostic: sent marks written together every 50 ms)"
        )
        if url.startswith("postgresql"):
            pacer = SharedPacer(sessions, 1_000_000)  # no waiting: how fast slots are handed out
            t0 = time.perf_counter()
            for _ in range(2000):
                await pacer.reserve()
            seconds = time.perf_counter() - t0
            print(
                f"shared pace (DB row)  {seconds:8.2f} s  {2000 / seconds:8,.0f} slots/s "
                "(one UPSERT each; every process takes its slots from this row)"
            )
    finally:
        await engine.dispose()


# -- live: the real bot on the emulator -----------------------------------------------------


def faq_questions() -> list[str]:
    path = Path(REPO) / "tests" / "data" / "eval_tuning.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r["text"] for r in rows if r.get("action") == "answer" and r.get("lang") == "zh"]


def pct(values: Sequence[float], p: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def ask_paced(
    client: object, askers: list[int], texts: list[str], rate: float, seconds: float
) -> list[float]:
    """Questions at `rate`/s for `seconds`; latency from the send to the bot's reply."""
    from bot.emulator.client import EmulatorClient

    assert isinstance(client, EmulatorClient)
    sent: dict[int, list[float]] = defaultdict(list)
    n = int(rate * seconds)
    start_seq = max((c.seq for c in await client.api_calls()), default=0)

    async def one(i: int) -> None:
        who = askers[i % len(askers)]
        await client.send_text(who, texts[i % len(texts)])
        sent[who].append(time.time())

    last: dict[int, int] = {}
    for who in askers:
        history = await client.messages(who, sender="all")
        last[who] = history[-1].message_id if history else 0
    start = time.monotonic()
    tasks = []
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    await asyncio.gather(
        *(
            client.wait_for_messages(
                who, after_message_id=last[who], count=len(times), timeout=120
            )
            for who, times in sent.items()
        ),
        return_exceptions=True,
    )
    replies: dict[int, list[float]] = defaultdict(list)
    for call in await client.api_calls("sendMessage", since=start_seq):
        chat = int(call.params["chat_id"])
        if call.ok and chat in sent:
            replies[chat].append(call.at)
    latencies = []
    for who, times in sent.items():
        answered = sorted(replies.get(who, []))
        latencies += [max(0.0, a - s) for s, a in zip(sorted(times), answered, strict=False)]
    return latencies


async def live(members: int, seconds: float) -> None:
    from bot.emulator.client import EmulatorClient
    from tests.e2e.conftest import wait_until_polling
    from tests.support.botproc import BotProcess, Emulator

    with tempfile.TemporaryDirectory(prefix="ipdesk-bench-live-") as tmp:
        workdir = Path(tmp)
        (workdir / "emu").mkdir()
        emulator = Emulator.start(workdir / "emu")
        proc = BotProcess.configure(
            workdir,
            emulator,
            ADMIN_USER_IDS=str(ADMIN),
            FLOOD_MAX_MESSAGES="100000",
            TELEGRAM_MAX_RATE="30",
            BROADCAST_MAX_RATE="20",
            REMINDER_POLL_SECONDS="1",
        )
        url = proc.env["DATABASE_URL"]
        engine = make_engine(url)
        try:
            await upgrade(engine)
            sessions = make_session_factory(engine)
            await fill(sessions, members)
            proc.start()
            wait_until_polling(emulator)
            texts = faq_questions()
            async with EmulatorClient(emulator.base_url) as client:
                # The first members the lane reaches exist in the emulator; askers are
                # English speakers outside the (Chinese) audience, so only answers reach them.
                reached = int(seconds * 20 * 1.5) + 200
                await asyncio.gather(
                    *(
                        client.create_user(FIRST_MEMBER + i, "m", language_code="zh")
                        for i in range(reached)
                    )
                )
                askers = [ASKER_BASE + i for i in range(40)]
                for who in askers:
                    await client.create_user(who, "Asker", language_code="en")
                    await client.send_text(who, "/start")
                await asyncio.gather(
                    *(client.wait_for_messages(w, count=1, timeout=60) for w in askers)
                )
                await asyncio.sleep(1)
                baseline = await ask_paced(client, askers, texts, 5, seconds)

                service = OutreachService(sessions)
                t0 = time.perf_counter()
                _, confirm_s, recipients, _ = await plan(service, Audience(langs=("zh",)))
                print(
                    f"\nlive (SQLite, real bot): planned {recipients:,} recipients in "
                    f"{confirm_s * 1000:.0f} ms while the bot runs"
                )
                base_seq = max((c.seq for c in await client.api_calls()), default=0)
                during = await ask_paced(client, askers, texts, 5, seconds)
                window = time.perf_counter() - t0
                calls = [
                    c
                    for c in await client.api_calls("sendMessage", since=base_seq)
                    if int(c.params["chat_id"]) >= FIRST_MEMBER
                    and int(c.params["chat_id"]) < FIRST_MEMBER + members
                ]
                times = sorted(c.at for c in calls)
                steady = [t for t in times if t >= times[0] + 2] if times else []
                rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0
                print(
                    f"announcement sending  {len(calls):,} messages in the {window:.0f} s "
                    f"window; steady rate {rate:.1f}/s (cap BROADCAST_MAX_RATE=20)"
                )
                for name, lat in (("before", baseline), ("during", during)):
                    print(
                        f"member answers {name:6s} {len(lat):4d} answered, p50 "
                        f"{pct(lat, 50) * 1000:5.0f} ms, p95 {pct(lat, 95) * 1000:5.0f} ms, "
                        f"max {max(lat, default=float('nan')) * 1000:5.0f} ms "
                        f"(mean {statistics.fmean(lat) * 1000 if lat else float('nan'):.0f})"
                    )
                await service.cancel(ADMIN, 1)
        finally:
            await engine.dispose()
            with contextlib.suppress(Exception):
                proc.stop()
            emulator.stop()


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--live-seconds", type=float, default=30)
    parser.add_argument("--no-live", action="store_true")
    parser.add_argument("--live-only", action="store_true")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if args.only in (None, "sqlite") and not args.live_only:
        with sqlite_url() as url:
            await in_process("SQLite (file)", url, args.members, args.batch)
    if args.only in (None, "postgresql") and not args.live_only:
        async with postgres_url("ipdesk_bench_bc") as url:
            await in_process("PostgreSQL", url, args.members, args.batch)
    if not args.no_live:
        await live(args.members, args.live_seconds)


if __name__ == "__main__":
    asyncio.run(main())
