"""The durable inbox with a real process and kill -9.

* Updates fetched and confirmed, then the bot killed before it handles them. The emulator
  holds the bot's first reply (tests/support/holding.py: a 429 with an hour's retry_after,
  which python-telegram-bot's rate limiter waits out), so each member's /help stays
  unfinished and their questions wait behind it, while the bot goes on fetching, storing and
  confirming updates. Python-telegram-bot alone would lose them: Telegram (the emulator)
  forgets an update once the next getUpdates offset confirms it.
* The bot killed while the emulator holds its reply: the question and the update's done mark
  were committed together, so the restarted bot does not handle it again.
* An update that never finishes (the bot dies each time it handles it) is given up after
  INBOX_MAX_ATTEMPTS and its member told once; the chat goes on working.

Each test starts from a running bot and leaves one running.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest

from bot.emulator.client import EmulatorClient
from bot.i18n import load_catalog
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.support.botproc import BotProcess, Emulator
from tests.support.holding import held, hold_next_reply, last_call, until

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


async def kill9_and_start(client: EmulatorClient, bot: BotProcess) -> None:
    """kill -9, start again, wait until it polls."""
    bot.kill9()
    seen = await last_call(client)
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


def unfinished(bot: BotProcess) -> int:
    """Updates stored, with their text, and not done."""
    with closing(database(bot)) as db:
        count = db.execute(
            "SELECT count(*) FROM inbox_updates WHERE done_at IS NULL AND payload IS NOT NULL"
        ).fetchone()[0]
    return int(count)


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
    members = [new_user_id + 1000 * i for i in range(MEMBERS)]
    for member in members:
        await client.create_user(member, "周", language_code="zh-hans")
    # The first member's /help reply is held: from then on the bot sends nothing.
    hold = await hold_next_reply(client, bot, members[0])
    await client.send_text(members[0], "/help")
    await held(client, bot, hold)
    # Every member starts with /help (it writes nothing, so it is done only once answered),
    # then asks: a chat's updates are handled in order, all of them wait.
    for member in members[1:]:
        await client.send_text(member, "/help")
    for question in QUESTIONS:
        for member in members:
            await client.send_text(member, question)
    sent = MEMBERS * (1 + len(QUESTIONS))

    async def confirmed_and_stored() -> bool:
        # Telegram would forget them now
        return await client.pending_updates() == [] and unfinished(bot) == sent

    await until(confirmed_and_stored)
    assert questions_of(bot, members) == {}  # nothing handled
    for member in members:
        assert await client.messages(member) == []

    await kill9_and_start(client, bot)
    for member in members:
        await client.wait_for_messages(
            member, after_message_id=0, count=1 + len(QUESTIONS), timeout=60
        )
    # /help once more: once it is answered, every earlier update of the chat (and any
    # repeat) has been handled.
    for member in members:
        await client.send_text(member, "/help")
    for member in members:
        await client.wait_for_messages(
            member, after_message_id=0, count=len(QUESTIONS) + 2, timeout=60
        )
    for member in members:
        replies = [m.body for m in await client.messages(member)]
        assert len(replies) == len(QUESTIONS) + 2, (member, replies)
        helps = [i for i, r in enumerate(replies) if r.startswith(HELP_STARTS)]
        assert helps == [0, len(replies) - 1], (member, replies)

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
    hold = await hold_next_reply(client, bot, member)
    await client.send_text(member, QUESTIONS[0])
    await held(client, bot, hold)
    assert questions_of(bot, [member]) == {member: 1}  # recorded before the answer is sent
    await inbox_emptied(bot)  # done in the same transaction
    await kill9_and_start(client, bot)

    await client.send_text(member, "/help")
    await client.wait_for_messages(member, after_message_id=0, count=1, timeout=60)
    replies = [m.body for m in await client.messages(member)]
    assert len(replies) == 1, replies  # the help, nothing repeated before it
    assert replies[0].startswith(HELP_STARTS)
    assert questions_of(bot, [member]) == {member: 1}
    await inbox_emptied(bot)


async def test_an_update_that_never_finishes_is_given_up_and_its_member_told_once(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    """The bot dies each time it handles one member's /help (held, then kill -9): after
    INBOX_MAX_ATTEMPTS (3) beginnings it is marked failed instead of handled again, the
    member gets one notice, and their next message is answered as usual."""
    member = new_user_id
    await client.create_user(member, "郑", language_code="zh-hans")
    hold = await hold_next_reply(client, bot, member)
    await client.send_text(member, "/help")
    await held(client, bot, hold)
    for _ in range(2):  # resumed at each start, and the bot dies again
        hold = await hold_next_reply(client, bot, member)
        await kill9_and_start(client, bot)
        await held(client, bot, hold)
    await kill9_and_start(client, bot)  # the fourth beginning: given up

    notice = load_catalog().t("zh", "inbox_failed")
    [told] = await client.wait_for_messages(member, after_message_id=0, count=1, timeout=60)
    assert told.body == notice
    await client.send_text(member, "/help")
    await client.wait_for_messages(member, after_message_id=told.message_id, timeout=60)
    replies = [m.body for m in await client.messages(member)]
    assert len(replies) == 2, replies
    assert replies[1].startswith(HELP_STARTS)
    with closing(database(bot)) as db:
        row = db.execute(
            "SELECT attempts, failed_at IS NOT NULL, payload FROM inbox_updates"
            " WHERE chat_id = ? ORDER BY update_id LIMIT 1",
            (member,),
        ).fetchone()
    assert row == (3, 1, None)
    assert "given up after 3 attempts" in bot.log()
    await inbox_emptied(bot)
