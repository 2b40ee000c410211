"""Two bot processes on one PostgreSQL, as in production's webhook mode: every relayed
message and every receipt is delivered exactly once.

Both processes run `ipdesk run` in webhook mode on the same database. The emulator does not
push updates to webhooks, so the test stands where the reverse proxy would: a small
balancer reads the emulator's pending updates and posts each to one process, a chat always
to the same one (members with even ids to one, odd ids to the other). Each process stores
the messages it receives and writes their outbox rows; both processes' outbox workers claim
rows from the shared table (``FOR UPDATE SKIP LOCKED``), so the copies for the one expert's
chat, written by both, are sent by whichever claims them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.emulator.client import EmulatorClient
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID
from tests.e2e.test_escalation import (
    EXPERT_A,
    LAWYER_LETTER,
    build_world,
    import_roster_and_members,
    profiled_ticket,
    wait_for,
)
from tests.support.botproc import BotProcess, Emulator, free_port, wait_listening
from tests.support.postgres import create_database

pytestmark = pytest.mark.postgres

SECRET = "two-processes-secret-123"
MEMBERS = [760002, 760003, 760004, 760005, 760006, 760007]  # three to each process
MESSAGES = 3  # per member, sent at once


def _chat_of(update: dict[str, Any]) -> int:
    for key in ("message", "edited_message", "my_chat_member", "chat_member"):
        if key in update:
            return int(update[key]["chat"]["id"])
    if "callback_query" in update:
        query = update["callback_query"]
        message = query.get("message")
        return int(message["chat"]["id"]) if message else int(query["from"]["id"])
    return 0


class Balancer:
    """Posts every pending update of the emulator to one of the processes, by chat."""

    def __init__(self, client: EmulatorClient, ports: list[int]) -> None:
        self._client = client
        self._ports = ports
        self._seen: set[int] = set()

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                for update in await self._client.pending_updates():
                    if update["update_id"] in self._seen:
                        continue
                    self._seen.add(update["update_id"])
                    port = self._ports[_chat_of(update) % len(self._ports)]
                    async with http.post(
                        f"http://127.0.0.1:{port}/tg/hook",
                        data=json.dumps(update),
                        headers={
                            "Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": SECRET,
                        },
                    ) as response:
                        assert response.status == 200, await response.text()
                await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def shared_database(postgres_admin_url: str) -> str:
    return asyncio.run(create_database(postgres_admin_url, f"e2e_outbox_{os.getpid()}"))


@pytest.fixture(scope="module")
def processes(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, shared_database: str
) -> Iterator[list[tuple[BotProcess, int]]]:
    started: list[tuple[BotProcess, int]] = []
    for name in ("a", "b"):
        port = free_port()
        proc = BotProcess.configure_webhook(
            tmp_path_factory.mktemp(f"process-{name}"),
            emulator,
            port,
            SECRET,
            DATABASE_URL=shared_database,
            STAFF_CHAT_ID=str(STAFF_CHAT_ID),
            ADMIN_USER_IDS=str(ADMIN_ID),
            FLOOD_MAX_MESSAGES="60",
            FLOOD_WINDOW_SECONDS="10",
            REMINDER_POLL_SECONDS="1",
        )
        if not started:
            import_roster_and_members(proc)  # one shared database
        proc.start()
        started.append((proc, port))
        try:
            wait_listening(proc, port)
        except BaseException:
            for running, _ in started:  # no orphan process when the second one fails
                running.kill9()
            raise
    yield started
    for proc, _ in started:
        assert proc.stop() == 0, proc.log()[-3000:]
        assert "Traceback" not in proc.log(), proc.log()[-5000:]


@pytest.fixture
async def client(
    emulator: Emulator, processes: list[tuple[BotProcess, int]]
) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.base_url) as c:
        balance = Balancer(c, [port for _, port in processes]).run()
        balancer = asyncio.get_running_loop().create_task(balance)
        try:
            await build_world(emulator.base_url)
            yield c
        finally:
            balancer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await balancer


async def _relay_rows(database_url: str) -> list[asyncpg.Record]:
    url = make_url(database_url)
    conn = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port,
        database=url.database,
    )  # fmt: skip
    try:
        return list(
            await conn.fetch("SELECT status, claimed_by FROM reminders WHERE kind = 'out.relay'")
        )
    finally:
        await conn.close()


async def test_two_processes_deliver_each_relayed_message_and_receipt_once(
    client: EmulatorClient, shared_database: str
) -> None:
    database_url = shared_database
    numbers = {}
    for index, member in enumerate(MEMBERS):
        numbers[member], _ = await profiled_ticket(client, member, LAWYER_LETTER, f"双{index}")
    for number in numbers.values():
        notice = "分配给您"
        await wait_for(client, EXPERT_A, lambda m: number in m.body and notice in m.body)  # noqa: B023

    texts = {member: [f"{member} 第{i}条" for i in range(MESSAGES)] for member in MEMBERS}
    await asyncio.gather(
        *(client.send_text(member, text) for member in MEMBERS for text in texts[member])
    )
    every = [text for member in MEMBERS for text in texts[member]]

    async def copies() -> list[str]:
        bodies = [m.body for m in await client.messages(EXPERT_A)]
        return [text for text in every for body in bodies if body.endswith(f"\n{text}")]

    deadline = time.monotonic() + 90
    while len(await copies()) < len(every):
        assert time.monotonic() < deadline, f"{len(await copies())} of {len(every)} arrived"
        await asyncio.sleep(0.1)
    for member in MEMBERS:
        receipts = [m for m in await client.messages(member) if m.body.startswith("✅")]
        while len(receipts) < MESSAGES:
            assert time.monotonic() < deadline, f"{member}: {len(receipts)} receipts"
            await asyncio.sleep(0.1)
            receipts = [m for m in await client.messages(member) if m.body.startswith("✅")]
    # Everything the outbox holds is sent: nothing more can go out. Each copy and each
    # receipt exactly once.
    while any(row["status"] != "sent" for row in await _relay_rows(database_url)):
        assert time.monotonic() < deadline, await _relay_rows(database_url)
        await asyncio.sleep(0.1)
    found = await copies()
    assert sorted(found) == sorted(every)
    for member in MEMBERS:
        receipts = [m for m in await client.messages(member) if m.body.startswith("✅")]
        assert len(receipts) == MESSAGES, [m.body for m in receipts]
        assert all(numbers[member] in m.body for m in receipts)
    rows = await _relay_rows(database_url)
    assert len(rows) == len(every)
