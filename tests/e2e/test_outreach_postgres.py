"""Two real bot processes (`ipdesk run`, webhook mode as in production with several
processes) on one PostgreSQL database send one announcement: every member gets it exactly
once, both processes take part, and their combined sending rate is printed (the cap itself
is asserted on the database's slot sequence in tests/outreach/test_broadcast_lane.py; this
test asserts no wall-clock times)."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.emulator.client import EmulatorClient
from bot.services.outreach import OutreachService
from db.models import Reminder, Role, User
from db.session import make_engine, make_session_factory
from tests.e2e.conftest import ADMIN_ID
from tests.support.botproc import BotProcess, Emulator, emulator_calls, free_port
from tests.support.postgres import create_database

pytestmark = pytest.mark.postgres

MEMBERS = list(range(780001, 780001 + 160))
RATE = 40  # BROADCAST_MAX_RATE of each process: the cap is for both together
SECRET = "webhook-secret-1234567"


def _webhooks_set(emulator: Emulator) -> int:
    return len(emulator_calls(emulator, "setWebhook"))


def _start(proc: BotProcess, emulator: Emulator, hooks: int) -> None:
    """Start and wait until it registered its webhook (it is then sending too)."""
    proc.start()
    deadline = time.monotonic() + 60
    while _webhooks_set(emulator) < hooks:
        if time.monotonic() > deadline:
            raise TimeoutError(proc.log()[-2000:])
        time.sleep(0.1)


@pytest.fixture(scope="module")
def database(postgres_admin_url: str) -> str:
    return asyncio.run(create_database(postgres_admin_url, f"e2e_outreach_{os.getpid()}"))


@pytest.fixture(scope="module")
def bots(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, database: str
) -> Iterator[list[BotProcess]]:
    procs = []
    for index in range(2):
        port = free_port()
        procs.append(
            BotProcess.configure_webhook(
                tmp_path_factory.mktemp(f"outreach-pg-{index}"),
                emulator,
                port,
                SECRET,
                url=f"https://ipdesk{index}.example.org/tg/hook",
                DATABASE_URL=database,
                ADMIN_USER_IDS=str(ADMIN_ID),
                BROADCAST_MAX_RATE=str(RATE),
                TELEGRAM_MAX_RATE="60",
                REMINDER_POLL_SECONDS="1",
            )
        )
    # One after the other: the first one migrates the empty database.
    try:
        _start(procs[0], emulator, 1)
        _start(procs[1], emulator, 2)
    except BaseException:
        for proc in procs:  # no orphan process when the second one fails
            if proc.process is not None and proc.process.poll() is None:
                proc.kill9()
        raise
    yield procs
    for proc in procs:
        assert proc.stop() == 0, proc.log()[-3000:]
        assert "Traceback" not in proc.log(), proc.log()[-3000:]


@pytest.fixture
async def client(emulator: Emulator, bots: list[BotProcess]) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.base_url) as c:
        yield c


async def test_two_processes_send_one_announcement_each_member_once(
    client: EmulatorClient, bots: list[BotProcess], database: str
) -> None:
    await asyncio.gather(*(client.create_user(u, "m", language_code="zh-hans") for u in MEMBERS))
    engine = make_engine(database)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as s, s.begin():
            # The bots made the admin's row at start-up (ADMIN_USER_IDS).
            await s.merge(User(id=ADMIN_ID, first_name="admin", role=Role.ADMIN, lang="zh"))
            s.add_all(User(id=u, first_name="", role=Role.MEMBER, lang="zh") for u in MEMBERS)
        service = OutreachService(sessions)
        await service.start(ADMIN_ID, "alert")
        await service.update_draft(ADMIN_ID, step="review", text_zh="两个进程的预警")
        first_seq = max((c.seq for c in await client.api_calls()), default=0)
        draft = await service.confirm(ADMIN_ID, datetime.now(UTC), None, None, None)
        assert draft.recipients == len(MEMBERS)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while (progress := await service.progress(draft.id)).waiting:
            assert loop.time() < deadline, progress
            await asyncio.sleep(0.5)
        async with sessions() as s:
            holders = (
                await s.scalars(
                    select(Reminder.claimed_by).where(Reminder.key.like(f"ann:{draft.id}:%"))
                )
            ).all()
    finally:
        await engine.dispose()
    assert progress.sent == len(MEMBERS)
    sends = [
        c
        for c in await client.api_calls("sendMessage", since=first_seq)
        if int(c.params["chat_id"]) in set(MEMBERS)
    ]
    received = Counter(int(c.params["chat_id"]) for c in sends)
    assert set(received) == set(MEMBERS)
    assert set(received.values()) == {1}  # exactly once, across both processes
    pids = {str(h).split(":")[-2] for h in holders if h}  # worker id: host:pid:random
    expected = {str(b.process.pid) for b in bots if b.process is not None}
    assert pids == expected, (pids, expected)  # both processes took part
    times = sorted(c.at for c in sends)
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"two processes: {len(times)} messages at {rate:.1f}/s (cap {RATE}/s for both)")
