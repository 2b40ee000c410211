"""End-to-end figures on the local emulator: the real `ipdesk run` against a minimal PTB echo bot.

    .venv/bin/python -m bench.bench_e2e [--members 200] [--messages 1000] [--rate 50]
                                        [--seconds 10] [--bots echo,ipdesk,echo+limiter]

One emulator process; each bot in turn (the emulator is reset in between) is started as a
subprocess pointed at it, with the same polling settings (`run_polling`, all update types,
no dropped updates). Simulated members (EmulatorClient) ask FAQ questions taken from
tests/data/eval_tuning.jsonl (action == "answer"). For each bot:

- inbound throughput: --messages messages from --members members sent as fast as the client
  can, divided by the time from the first send to the bot's last reply;
- answer latency p50/p95/p99 at a paced load of --rate messages/s for --seconds seconds
  (and at 20 messages/s for comparison): from send_text's return to the bot's sendMessage
  for that chat reaching the emulator (the emulator's call log timestamps; one reply per
  question, matched in order per chat).

Bots: `ipdesk` is the real bot with SQLite (FLOOD_MAX_MESSAGES raised so the flood guard
lets bench traffic through); `echo` is python-telegram-bot's minimal echo bot
(Application + MessageHandler replying with the text). Two diagnostic variants separate
the costs: `ipdesk-unthrottled` is the same ipdesk process with TELEGRAM_MAX_RATE=0, keeping
only the retry on 429 (no 30 messages/s cap), and `echo+limiter` is
the echo bot with `AIORateLimiter()` as ipdesk configures it.
Prints figures; asserts nothing. Timings are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.databases import postgres_url
from bot.emulator.client import EmulatorClient
from tests.support.botproc import BOT_TOKEN, BotProcess, Emulator

ROOT = Path(__file__).resolve().parent.parent
TUNING = ROOT / "tests" / "data" / "eval_tuning.jsonl"
MEMBER_BASE = 880_000_000
WARMUP_BASE = 890_000_000
SLOW_RATE = 20.0

ECHO_BOT = """
import os

from telegram import Update
from telegram.ext import AIORateLimiter, Application, MessageHandler, filters


async def echo(update: Update, context: object) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


builder = Application.builder().token(os.environ["TOKEN"]).base_url(os.environ["BASE_URL"])
if os.environ.get("RATE_LIMITER") == "1":
    builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
app = builder.build()
app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
"""


def questions() -> list[str]:
    rows = [json.loads(line) for line in TUNING.read_text(encoding="utf-8").splitlines()]
    return [r["text"] for r in rows if r.get("action") == "answer"]


def percentile(values: Sequence[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@dataclass
class Figures:
    throughput: float = float("nan")  # replies per second
    send_rate: float = float("nan")  # how fast the client injected the burst
    latency: dict[float, list[float]] = field(default_factory=dict)  # rate → seconds
    missing: int = 0  # questions without a reply
    cpu_ms: float = float("nan")  # the bot process's CPU time (all threads) per burst message
    main_cpu_ms: float = float("nan")  # of which the event loop's thread


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time of a process, all its threads, or of one thread (Linux /proc)."""
    stat = Path(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ bot processes


@contextmanager
def ipdesk_bot(
    emulator: Emulator,
    workdir: Path,
    *,
    unthrottled: bool = False,
    database_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    database = {"DATABASE_URL": database_url} if database_url else {}
    proc = BotProcess.configure(
        workdir,
        emulator,
        FLOOD_MAX_MESSAGES="1000000",
        FLOOD_WINDOW_SECONDS="1",
        # Unthrottled: `ipdesk run` exactly, with TELEGRAM_MAX_RATE=0 (no 30 messages/s cap;
        # a 429 is still retried).
        TELEGRAM_MAX_RATE="0" if unthrottled else "30",
        CONCURRENT_UPDATES=os.environ.get("CONCURRENT_UPDATES", "16"),
        **database,
        **(extra or {}),
    )
    proc.start()
    assert proc.process is not None
    try:
        yield proc.process
    finally:
        code = proc.stop()
        if code != 0:
            print(f"  (ipdesk exited with {code}; see {proc.log_path})")


@contextmanager
def echo_bot(
    emulator: Emulator, workdir: Path, *, rate_limiter: bool
) -> Iterator[subprocess.Popen[bytes]]:
    script = workdir / "echo_bot.py"
    script.write_text(ECHO_BOT, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "TOKEN": BOT_TOKEN,
        "BASE_URL": f"{emulator.base_url}/bot",
        "RATE_LIMITER": "1" if rate_limiter else "0",
    }
    with (workdir / "echo.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(script)], cwd=workdir, env=env, stdout=log, stderr=log
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ------------------------------------------------------------------ load


async def until_polling(client: EmulatorClient) -> None:
    async with asyncio.timeout(60):
        while True:
            if await client.api_calls("getUpdates"):
                return
            await asyncio.sleep(0.1)


async def bounded(tasks: Sequence[Awaitable[object]], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(task: Awaitable[object]) -> None:
        async with gate:
            await task

    await asyncio.gather(*(run(t) for t in tasks))


async def replies_in(
    client: EmulatorClient, chats: dict[int, int], after: dict[int, int] | None = None
) -> None:
    """Wait until every chat has its expected number of bot messages (after a message id)."""
    await asyncio.gather(
        *(
            client.wait_for_messages(
                chat, after_message_id=(after or {}).get(chat, 0), count=n, timeout=300
            )
            for chat, n in chats.items()
        )
    )


async def warm_up(client: EmulatorClient, texts: list[str]) -> None:
    users = [WARMUP_BASE + i for i in range(20)]
    for user in users:
        await client.create_user(user, "Warm", language_code="zh")
    await asyncio.gather(*(client.send_text(u, texts[i]) for i, u in enumerate(users)))
    await replies_in(client, dict.fromkeys(users, 1))


async def burst(client: EmulatorClient, members: list[int], texts: list[str], n: int) -> Figures:
    """`n` messages as fast as the client can send them; throughput to the last reply."""
    await client.clear_api_calls()
    plan = [(members[i % len(members)], texts[i % len(texts)]) for i in range(n)]
    expected: dict[int, int] = defaultdict(int)
    for member, _ in plan:
        expected[member] += 1
    started = time.time()
    await bounded([client.send_text(m, t) for m, t in plan], limit=64)
    sent = time.time()
    try:
        await replies_in(client, expected)
    except Exception as exc:  # report what arrived rather than nothing
        print(f"  burst: not every reply arrived ({exc})")
    calls = [c for c in await client.api_calls("sendMessage") if c.ok]
    last = max((c.at for c in calls), default=float("nan"))
    return Figures(
        throughput=len(calls) / (last - started),
        send_rate=n / (sent - started),
        missing=n - len(calls),
    )


async def paced(
    client: EmulatorClient, members: list[int], texts: list[str], rate: float, seconds: float
) -> tuple[list[float], int]:
    """`rate` messages per second for `seconds`; latency from send_text's return to the
    bot's reply reaching the emulator."""
    await client.clear_api_calls()
    n = int(rate * seconds)
    sends: dict[int, list[tuple[int, float]]] = defaultdict(list)  # chat → (msg id, sent at)

    async def one(i: int) -> None:
        member = members[i % len(members)]
        message = await client.send_text(member, texts[i % len(texts)])
        sends[member].append((message["message_id"], time.time()))

    start = time.monotonic()
    tasks = []
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    for sent in sends.values():
        sent.sort()  # by message id: the order the bot receives them
    first = {chat: s[0][0] for chat, s in sends.items()}
    try:
        await replies_in(client, {chat: len(s) for chat, s in sends.items()}, first)
    except Exception as exc:
        print(f"  paced {rate:g}/s: not every reply arrived ({exc})")
    replies: dict[int, list[float]] = defaultdict(list)
    for call in await client.api_calls("sendMessage"):
        if call.ok:
            replies[int(call.params["chat_id"])].append(call.at)
    latencies: list[float] = []
    missing = 0
    for chat, sent in sends.items():
        answered = replies.get(chat, [])
        missing += max(0, len(sent) - len(answered))
        latencies.extend(max(0.0, at - s) for (_, s), at in zip(sent, answered, strict=False))
    return latencies, missing


@contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy (collapsed stacks) on the bot process while the block runs, when asked."""
    if out is None:
        yield
        return
    spy = subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--nonblocking",
         "--rate", "250", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # attached before the load starts
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


async def measure(
    emulator: Emulator,
    args: argparse.Namespace,
    texts: list[str],
    session: aiohttp.ClientSession,
    pid: int,
    profile: Path | None,
) -> Figures:
    client = EmulatorClient(emulator.base_url, session=session)
    await until_polling(client)
    members = [MEMBER_BASE + i for i in range(args.members)]
    for member in members:
        await client.create_user(member, f"M{member % 1000}", language_code="zh")
    await warm_up(client, texts)
    with profiled(pid, profile):
        cpu, main_cpu = cpu_seconds(pid), cpu_seconds(pid, pid)  # the main thread's id is the pid
        figures = await burst(client, members, texts, args.messages)
        figures.cpu_ms = (cpu_seconds(pid) - cpu) / args.messages * 1e3
        figures.main_cpu_ms = (cpu_seconds(pid, pid) - main_cpu) / args.messages * 1e3
    for rate in (args.rate, SLOW_RATE):
        latencies, missing = await paced(client, members, texts, rate, args.seconds)
        figures.latency[rate] = latencies
        figures.missing += missing
    return figures


def run_bot(
    name: str, emulator: Emulator, args: argparse.Namespace, texts: list[str], workdir: Path
) -> Figures:
    async def reset() -> None:
        async with EmulatorClient(emulator.base_url) as client:
            await client.reset()

    async def go(pid: int) -> Figures:
        connector = aiohttp.TCPConnector(limit=0)
        profile = Path(args.profile) / f"{slug}.txt" if args.profile else None
        async with aiohttp.ClientSession(connector=connector) as session:
            return await measure(emulator, args, texts, session, pid, profile)

    async def with_database() -> Figures:
        async with AsyncExitStack() as stack:
            url = None
            if args.database == "postgres":
                url = await stack.enter_async_context(postgres_url(f"ipdesk_bench_{slug}"))
            unthrottled = name == "ipdesk-unthrottled"
            extra = dict(item.split("=", 1) for item in args.env)
            with ipdesk_bot(
                emulator, folder, unthrottled=unthrottled, database_url=url, extra=extra
            ) as bot:
                return await go(bot.pid)

    asyncio.run(reset())
    slug = name.replace("+", "_").replace("-", "_")
    folder = workdir / slug
    folder.mkdir()
    if name.startswith("ipdesk"):
        return asyncio.run(with_database())
    with echo_bot(emulator, folder, rate_limiter=name == "echo+limiter") as bot:
        return asyncio.run(go(bot.pid))


# ------------------------------------------------------------------ report


def report(results: dict[str, Figures], args: argparse.Namespace) -> None:
    names = list(results)
    width = max(20, *(len(n) + 2 for n in names)) + 6

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<32}" + "".join(f"{v:>{width}}" for v in values))

    def ms(values: list[float], p: int) -> str:
        return f"{percentile(values, p) * 1e3:.1f}" if values else "-"

    # The target is the unthrottled bot's (the 30 messages/s cap is by design) when it ran.
    subject = "ipdesk-unthrottled" if "ipdesk-unthrottled" in results else "ipdesk"
    has_ratio = subject in results and "echo" in results
    print()
    print(
        f"ipdesk on {args.database} {' '.join(args.env)}; "
        f"{args.members} members, {args.messages} messages burst, "
        f"paced {args.rate:g} and {SLOW_RATE:g} msg/s for {args.seconds:g} s each"
    )
    row("", [*names, *([f"{subject}/echo"] if has_ratio else [])])

    tput = [f"{results[n].throughput:.1f}" for n in names]
    if has_ratio:
        tput.append(f"{results[subject].throughput / results['echo'].throughput:.0%}")
    row("inbound throughput (replies/s)", tput)
    row("  client send rate (msg/s)", [f"{results[n].send_rate:.0f}" for n in names])
    row("  bot CPU per message (ms)", [f"{results[n].cpu_ms:.2f}" for n in names])
    row("    of which the event loop's thread", [f"{results[n].main_cpu_ms:.2f}" for n in names])
    for rate in (args.rate, SLOW_RATE):
        for p in (50, 95, 99):
            values = [ms(results[n].latency.get(rate, []), p) for n in names]
            extra: list[str] = []
            if has_ratio:
                a = results[subject].latency.get(rate, [])
                b = results["echo"].latency.get(rate, [])
                if a and b:
                    extra = [f"{percentile(a, p) / percentile(b, p):.1f}x"]
            row(f"latency p{p} @ {rate:g} msg/s (ms)", values + extra)
    row("questions without a reply", [str(results[n].missing) for n in names])
    if has_ratio:
        ip, echo = results[subject], results["echo"]
        share = ip.throughput / echo.throughput
        p95 = percentile(ip.latency.get(args.rate, []), 95) * 1e3
        print()
        print(
            f"target: {subject} ≥ 50% of echo throughput -> {share:.0%} "
            f"({'met' if share >= 0.5 else 'NOT met'})"
        )
        print(
            f"target: {subject} p95 < 100 ms at {args.rate:g} msg/s -> {p95:.0f} ms "
            f"({'met' if p95 < 100 else 'NOT met'})"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bots", default="echo,ipdesk,ipdesk-unthrottled,echo+limiter")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="ipdesk's database: a temp SQLite file, or a fresh PostgreSQL database "
        "(IPDESK_BENCH_POSTGRES_URL's server, else a throwaway cluster; bench/databases.py)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the ipdesk bots (e.g. EVENT_LOOP=asyncio), repeatable",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record each bot's CPU in the burst with py-spy (collapsed stacks, DIR/<bot>.txt)",
    )
    args = parser.parse_args(argv)
    texts = questions()
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="bench_e2e_") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        if args.database == "postgres" and not os.environ.get("IPDESK_BENCH_POSTGRES_URL"):
            # One throwaway cluster for the whole run (each bot gets its own database).
            from tests.support.postgres import throwaway_postgres

            server = stack.enter_context(throwaway_postgres())
            os.environ["IPDESK_BENCH_POSTGRES_URL"] = server.url("postgres")
        emulator = Emulator.start(workdir)
        try:
            for name in args.bots.split(","):
                print(f"running {name} …", flush=True)
                began = time.monotonic()
                results[name] = run_bot(name, emulator, args, texts, workdir)
                print(f"  done in {time.monotonic() - began:.1f} s", flush=True)
        finally:
            emulator.stop()
    report(results, args)


if __name__ == "__main__":
    main()
