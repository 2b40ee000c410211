"""The durable inbox with a real process and kill -9.

* Updates fetched and confirmed, then the bot killed before it handles them: the bot runs
  with IPDESK_E2E_HOLD_UPDATES=1 (bot/updates.py), so it fetches, stores and confirms
  updates as usual but handles none. Python-telegram-bot alone would lose them: Telegram
  (the emulator) forgets an update once the next getUpdates offset confirms it.
* The bot killed while the emulator holds its reply: the question and the update's done mark
  were committed together, so the restarted bot does not handle it again.

Each test starts from a running bot without the hold and leaves one running.
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
HELP_STARTS = "使用说明"


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = BotProcess.configure(
        tmp_path_factory.mktemp("inbox"),
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
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


async def kill9_and_start(client: EmulatorClient, bot: BotProcess, *, hold: bool) -> None:
    """kill -9, start again (holding updates or not), wait until it polls."""
    bot.kill9()
    if hold:
        bot.env[HOLD_ENV] = "1"
    else:
        bot.env.pop(HOLD_ENV, None)
    seen = max((c.seq for c in await client.api_calls()), default=0)
    bot.start()

    async def polling() -> bool:
        return bool(await client.api_calls("getUpdates", since=seen))

    await until(polling)


def database(bot: BotProcess) -> sqlite3.Connection:
    return sqlite3.connect(bot.env["DATABASE_URL"].split(":///", 1)[1])


def questions_of(bot: BotProcess, members: list[int]) -> dict[int, int]:
    with closing(database(bot)) as db:
        rows = db.execute(
            "SELECT user_id, count(*) FROM questions WHERE user_id BETWEEN ? AND ?"
            " GROUP BY user_id",
            (min(members), max(members)),
        ).fetchall()
    return dict(rows)


async def inbox_emptied(bot: BotProcess) -> None:
    """Wait until every update is done and no text is kept (the last update is marked done
    just after its reply is sent)."""

    async def emptied() -> bool:
        with closing(database(bot)) as db:
            left = db.execute(
                "SELECT count(*) FROM inbox_updates WHERE done_at IS NULL OR payload IS NOT NULL"
            ).fetchone()[0]
        return bool(left == 0)

    await until(emptied)


async def test_fetched_but_unhandled_updates_survive_kill9_and_are_answered_once(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    await kill9_and_start(client, bot, hold=True)
    members = [new_user_id + 1000 * i for i in range(MEMBERS)]
    for member in members:
        await client.create_user(member, "周", language_code="zh-hans")
    for question in QUESTIONS:
        for member in members:
            await client.send_text(member, question)

    async def confirmed() -> bool:
        return await client.pending_updates() == []  # Telegram would forget them now

    await until(confirmed)
    # Fetched, confirmed and stored, not handled: nothing answered yet.
    with closing(database(bot)) as db:
        stored = db.execute(
            "SELECT count(*) FROM inbox_updates WHERE done_at IS NULL AND payload IS NOT NULL"
        ).fetchone()[0]
    assert stored == MEMBERS * len(QUESTIONS)
    for member in members:
        assert await client.messages(member) == []

    await kill9_and_start(client, bot, hold=False)
    # /help from each member after the restart: a chat's updates are handled in order, so
    # once it is answered every earlier update of the chat (and any repeat) has been handled.
    for member in members:
        await client.send_text(member, "/help")
    for member in members:
        await client.wait_for_messages(
            member, after_message_id=0, count=len(QUESTIONS) + 1, timeout=60
        )
    for member in members:
        replies = [m.body for m in await client.messages(member)]
        assert len(replies) == len(QUESTIONS) + 1, (member, replies)
        assert replies[-1].startswith(HELP_STARTS), replies[-1]
        assert not any(r.startswith(HELP_STARTS) for r in replies[:-1])

    # each question recorded once; all done, and no member's text kept in the inbox
    assert questions_of(bot, members) == {m: len(QUESTIONS) for m in members}
    await inbox_emptied(bot)


async def test_an_update_whose_effects_were_committed_is_not_handled_again(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    """Killed while the emulator holds the answer: the question (and with it the update's
    done mark) was committed, so the restarted bot does not handle the update again. The
    answer in flight went down with the process: replies are sent after their commit."""
    member = new_user_id
    await client.create_user(member, "吴", language_code="zh-hans")
    # The emulator holds the bot's next message to this member (and then fails it).
    await client.inject_fault("sendMessage", error_code=502, delay=120, chat_id=member)
    seen = max((c.seq for c in await client.api_calls()), default=0)
    await client.send_text(member, QUESTIONS[0])

    async def answer_in_flight() -> bool:
        calls = await client.api_calls("sendMessage", since=seen)
        return any(str(c.params.get("chat_id")) == str(member) for c in calls)

    await until(answer_in_flight)
    assert questions_of(bot, [member]) == {member: 1}  # recorded before the answer is sent
    await inbox_emptied(bot)  # done in the same transaction
    await kill9_and_start(client, bot, hold=False)

    await client.send_text(member, "/help")
    await client.wait_for_messages(member, after_message_id=0, count=1, timeout=60)
    replies = [m.body for m in await client.messages(member)]
    assert len(replies) == 1, replies  # the help, nothing repeated before it
    assert replies[0].startswith(HELP_STARTS)
    assert questions_of(bot, [member]) == {member: 1}
    await inbox_emptied(bot)
