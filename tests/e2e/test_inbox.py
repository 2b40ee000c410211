"""The durable inbox with a real process: updates fetched and confirmed, then kill -9 before
they are handled; after the restart every member message is answered exactly once.

The bot runs first with IPDESK_E2E_HOLD_UPDATES=1 (bot/updates.py): it fetches, stores and
confirms updates as usual, but handles none. Python-telegram-bot alone would lose them:
Telegram (the emulator) forgets an update once the next getUpdates offset confirms it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing

import pytest

from bot.emulator.client import EmulatorClient
from bot.updates import HOLD_ENV
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.support.botproc import BotProcess, Emulator

MEMBERS = 10
QUESTIONS = [
    "商标注册需要多长时间？",
    "专利申请需要什么材料？",
    "商标续展怎么办理？",
    "作品登记怎么办？",
    "协会的办公时间是什么？",
]


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = BotProcess.configure(
        tmp_path_factory.mktemp("inbox"),
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        **{HOLD_ENV: "1"},
    )
    proc.start()
    wait_until_polling(emulator)
    yield proc
    if proc.process is not None and proc.process.poll() is None:
        assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-5000:]


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:  # noqa: ASYNC109
    """Poll the emulator's state until ``check`` holds (it has no event for these)."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def confirmed(client: EmulatorClient) -> bool:
    """The bot has confirmed every update: Telegram would forget them now."""
    return await client.pending_updates() == []


def database(bot: BotProcess) -> sqlite3.Connection:
    return sqlite3.connect(bot.env["DATABASE_URL"].split(":///", 1)[1])


async def test_fetched_but_unhandled_updates_survive_kill9_and_are_answered_once(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    members = [new_user_id + 1000 * i for i in range(MEMBERS)]
    for member in members:
        await client.create_user(member, "周", language_code="zh-hans")
    for question in QUESTIONS:
        for member in members:
            await client.send_text(member, question)
    await until(lambda: confirmed(client))

    # Fetched, confirmed and stored, not handled: nothing answered yet.
    with closing(database(bot)) as db:
        stored = db.execute(
            "SELECT count(*) FROM inbox_updates WHERE done_at IS NULL AND payload IS NOT NULL"
        ).fetchone()[0]
    assert stored == MEMBERS * len(QUESTIONS)
    for member in members:
        assert await client.messages(member) == []

    bot.kill9()
    del bot.env[HOLD_ENV]
    seen = max((c.seq for c in await client.api_calls()), default=0)
    bot.start()

    async def polling() -> bool:
        return bool(await client.api_calls("getUpdates", since=seen))

    await until(polling)

    # /help from each member after the restart: a chat's updates are handled in order, so
    # once it is answered every earlier update of the chat (and any repeat) has been handled.
    for member in members:
        await client.send_text(member, "/help")
    for member in members:
        await client.wait_for_messages(member, after_message_id=0, count=6, timeout=60)
    for member in members:
        replies = [m.body for m in await client.messages(member)]
        assert len(replies) == len(QUESTIONS) + 1, (member, replies)
        assert replies[-1].startswith("使用说明"), replies[-1]
        assert not any(r.startswith("使用说明") for r in replies[:-1])

    with closing(database(bot)) as db:
        asked = dict(
            db.execute(
                "SELECT user_id, count(*) FROM questions WHERE user_id BETWEEN ? AND ?"
                " GROUP BY user_id",
                (min(members), max(members)),
            ).fetchall()
        )
        unfinished = db.execute(
            "SELECT count(*) FROM inbox_updates WHERE done_at IS NULL OR payload IS NOT NULL"
        ).fetchone()[0]
    assert asked == {m: len(QUESTIONS) for m in members}  # each question recorded once
    assert unfinished == 0  # all done, and no member text kept in the inbox
