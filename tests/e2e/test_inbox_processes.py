"""Inbox takeover between two real processes on one PostgreSQL, end to end.

Two bots run `ipdesk run` in webhook mode on the same database (as in production behind a
reverse proxy). Process A receives every member's updates and answers 200 for each once it
is stored; the emulator holds A's first reply (tests/support/holding.py), so A handles none
of them, and A is killed with SIGKILL. Process B, which never received them, takes them over
once A's claims are older than the lease (INBOX_LEASE_SECONDS) and answers each exactly
once: the emulator's record of sendMessage calls per chat has one accepted call per update.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.emulator.client import EmulatorClient, JsonDict
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID
from tests.e2e.test_inbox import HELP_STARTS, QUESTIONS
from tests.e2e.test_webhook import _post
from tests.support.botproc import BotProcess, Emulator, free_port, wait_listening
from tests.support.holding import accepted, held, hold_next_reply, last_call, until
from tests.support.postgres import create_database

pytestmark = pytest.mark.postgres

SECRET = "inbox-two-processes-123"
MEMBERS = [763001, 763002, 763003]
LEASE_SECONDS = 5
"""A renews its claims every third of it, so B cannot take them over while A lives."""


@pytest.fixture(scope="module")
def shared_database(postgres_admin_url: str) -> str:
    return asyncio.run(create_database(postgres_admin_url, f"e2e_inbox_{os.getpid()}"))


@pytest.fixture(scope="module")
def processes(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, shared_database: str
) -> Iterator[dict[str, tuple[BotProcess, int]]]:
    started: dict[str, tuple[BotProcess, int]] = {}
    for name in ("a", "b"):  # one after the other: the first one migrates the database
        port = free_port()
        proc = BotProcess.configure_webhook(
            tmp_path_factory.mktemp(f"inbox-process-{name}"),
            emulator,
            port,
            SECRET,
            DATABASE_URL=shared_database,
            STAFF_CHAT_ID=str(STAFF_CHAT_ID),
            ADMIN_USER_IDS=str(ADMIN_ID),
            INBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        proc.start()
        started[name] = (proc, port)
        try:
            wait_listening(proc, port)
        except BaseException:
            for running, _ in started.values():  # no orphan process when one fails
                running.kill9()
            raise
    yield started
    for proc, _ in started.values():
        if proc.process is not None and proc.process.poll() is None:
            assert proc.stop() == 0, proc.log()[-3000:]
        assert "Traceback" not in proc.log(), proc.log()[-5000:]


def _update(update_id: int, user: JsonDict, text: str) -> JsonDict:
    message: JsonDict = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def _inbox(database_url: str) -> list[asyncpg.Record]:
    url = make_url(database_url)
    conn = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port,
        database=url.database,
    )  # fmt: skip
    try:
        return list(
            await conn.fetch(
                "SELECT update_id, chat_id, claimed_by, attempts, done_at, failed_at, payload"
                " FROM inbox_updates ORDER BY update_id"
            )
        )
    finally:
        await conn.close()


async def test_a_killed_process_s_stored_updates_are_answered_once_by_the_other(
    emulator: Emulator, processes: dict[str, tuple[BotProcess, int]], shared_database: str
) -> None:
    (a, a_port), (b, _) = processes["a"], processes["b"]
    async with EmulatorClient(emulator.base_url) as client:
        users = [await client.create_user(m, "孙", language_code="zh-hans") for m in MEMBERS]
        since = await last_call(client)
        # Every member starts with /help (done only once answered), then asks; A holds them.
        hold = await hold_next_reply(client, a, MEMBERS[0])
        update_id = 5000
        assert _post(a_port, _update(update_id, users[0], "/help"), SECRET) == 200
        await held(client, a, hold)  # from now on A sends nothing
        for user in users[1:]:
            update_id += 1
            assert _post(a_port, _update(update_id, user, "/help"), SECRET) == 200
        for question in QUESTIONS:
            for user in users:
                update_id += 1
                assert _post(a_port, _update(update_id, user, question), SECRET) == 200
        per_member = 1 + len(QUESTIONS)
        stored = await _inbox(shared_database)
        assert len(stored) == len(MEMBERS) * per_member
        assert all(row["done_at"] is None and row["payload"] for row in stored)
        assert len({row["claimed_by"] for row in stored}) == 1  # A's

        last_held = update_id
        a.kill9()
        for member in MEMBERS:  # B takes them over after the lease
            await client.wait_for_messages(
                member, after_message_id=0, count=per_member, timeout=90
            )
        # One more /help each, to B: once it is answered, every earlier update of the chat
        # has been handled (in order), so any repeat would have been sent by then.
        _, b_port = processes["b"]
        for user in users:
            update_id += 1
            assert _post(b_port, _update(update_id, user, "/help"), SECRET) == 200
        for member in MEMBERS:
            await client.wait_for_messages(
                member, after_message_id=0, count=per_member + 1, timeout=60
            )
        calls = await client.api_calls("sendMessage", since=since)
        for member in MEMBERS:
            assert len(accepted(calls, member)) == per_member + 1, member
            replies = [m.body for m in await client.messages(member)]
            helps = [i for i, r in enumerate(replies) if r.startswith(HELP_STARTS)]
            assert helps == [0, per_member], (member, replies)

        async def all_done() -> bool:
            return all(row["done_at"] is not None for row in await _inbox(shared_database))

        await until(all_done)
    rows = await _inbox(shared_database)
    taken = [row for row in rows if row["update_id"] <= last_held]
    assert len(taken) == len(MEMBERS) * per_member
    assert {row["attempts"] for row in rows if row["update_id"] > last_held} == {1}
    assert {row["attempts"] for row in taken} == {2}  # A's beginning, B's takeover
    assert all(row["failed_at"] is None and row["payload"] is None for row in taken)
    assert len({row["claimed_by"] for row in taken}) == 1  # B's now
    assert "taken over" in b.log()
