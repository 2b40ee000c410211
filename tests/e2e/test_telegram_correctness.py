"""What the bot sends is valid Telegram: limits, parse mode, commands, groups, blocked users.

The last test audits every sendMessage call made in this module (the module has its own
emulator), so it covers the traffic of the tests above it as well as its own.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot.emulator.client import ApiCall, BotMessage, EmulatorClient
from bot.i18n import load_catalog
from bot.knowledge import build_engine
from bot.settings import Settings
from faq.models import Lang
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.e2e.test_inbox import inbox_emptied
from tests.support.botproc import BotProcess, Emulator
from tests.support.holding import until

CATALOG = load_catalog()
TELEGRAM_TEXT_MAX = 4096
CALLBACK_DATA_MAX = 64
BLOCKED = "Forbidden: bot was blocked by the user"


async def ask(client: EmulatorClient, user_id: int, text: str) -> BotMessage:
    await client.send_text(user_id, text)
    return await client.wait_for_message(user_id)


async def latest_id(client: EmulatorClient, chat_id: int) -> int:
    messages = await client.messages(chat_id, sender="all")
    return messages[-1].message_id if messages else 0


async def wait_for_call(client: EmulatorClient, method: str, chat_id: int) -> ApiCall:
    """Poll the emulator's call log (it has no long poll) for up to 10 s."""
    async with asyncio.timeout(10):
        while True:
            for call in await client.api_calls(method):
                if call.params.get("chat_id") == chat_id:
                    return call
            await asyncio.sleep(0.05)


async def wait_for_failed_call(
    client: EmulatorClient, method: str, chat_id: int, error_code: int
) -> ApiCall:
    """The first call to ``chat_id`` that failed with ``error_code`` (the emulator's call log
    has no long poll: polled for up to 20 s)."""
    async with asyncio.timeout(20):
        while True:
            for call in await client.api_calls(method):
                if call.params.get("chat_id") == chat_id and call.error_code == error_code:
                    return call
            await asyncio.sleep(0.05)


async def handled_before_marker(
    client: EmulatorClient, user_id: int, after: int
) -> list[BotMessage]:
    """Send /help as a marker; return the bot's messages after ``after`` that precede the
    marker's reply. A chat's updates are handled in order, so those are complete."""
    await client.send_text(user_id, "/help")
    count = 1
    while True:
        found = await client.wait_for_messages(user_id, after_message_id=after, count=count)
        if found[-1].body.startswith(("使用说明", "How to use this bot")):
            return found[:-1]
        count = len(found) + 1


def markup_of(call: ApiCall) -> dict[str, Any]:
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        decoded: dict[str, Any] = json.loads(markup)
        return decoded
    return markup or {}


def callback_data_of(call: ApiCall) -> list[str]:
    return [
        button["callback_data"]
        for row in markup_of(call).get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ commands


async def test_command_menu_registered_in_chinese_and_english(client: EmulatorClient) -> None:
    sets = {c.language_code: c for c in await client.commands()}
    assert {"zh", "en"} <= set(sets)
    for lang in ("zh", "en"):
        commands = sets[lang].commands
        assert [c["command"] for c in commands] == ["start", "help", "language"]
        assert [c["description"] for c in commands] == [
            CATALOG.raw(lang, f"cmd_{name}") for name in ("start", "help", "language")
        ]
    assert sets["zh"].commands[0]["description"] == "主菜单与常见问题主题"
    assert sets["en"].commands[2]["description"] == "Switch language"
    assert "" in sets  # a default for every other language
    assert [c["command"] for c in sets[""].commands] == ["start", "help", "language"]


# ------------------------------------------------------------------ long answers


async def test_longest_answer_arrives_whole(client: EmulatorClient, new_user_id: int) -> None:
    engine = build_engine(Settings(_env_file=None))  # type: ignore[call-arg]
    langs: tuple[Lang, ...] = ("zh", "en")
    longest = max(
        ((entry, lang) for entry in engine.kb for lang in langs),
        key=lambda pair: len(engine.render_answer(pair[0].id, pair[1])),
    )
    entry, lang = longest
    answer = engine.render_answer(entry.id, lang)
    assert len(answer) > 2000  # the knowledge base does have long answers

    await client.create_user(new_user_id, "Long", language_code=lang)
    welcome = await ask(client, new_user_id, "/start")
    record = await client.press_button(new_user_id, welcome.message_id, data=f"f:{entry.id}")
    await client.wait_for_callback_answer(record.query_id)
    chunks = await handled_before_marker(client, new_user_id, welcome.message_id)
    assert all(len(m.body) <= TELEGRAM_TEXT_MAX for m in chunks)
    assert all(not m.buttons for m in chunks[:-1])  # the keyboard goes on the last chunk
    assert chunks[-1].buttons
    body = normalise("\n\n".join(m.body for m in chunks))
    assert normalise(answer) in body
    assert body.startswith(entry.title[lang])
    if len(answer) < TELEGRAM_TEXT_MAX - 200:
        assert len(chunks) == 1, [len(m.body) for m in chunks]


# ------------------------------------------------------------------ groups


@pytest.fixture(scope="module")
def second_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, BotProcess]]:
    """A bot of its own for the add-to-group tests: their bug (below) writes a traceback to
    the log, which would fail the shared bot's clean-log check at teardown."""
    emulator = Emulator.start(tmp_path_factory.mktemp("emu2"))
    proc = BotProcess.configure(
        tmp_path_factory.mktemp("bot2"), emulator, STAFF_CHAT_ID=str(STAFF_CHAT_ID)
    )
    try:
        proc.start()
        wait_until_polling(emulator)
        yield emulator, proc
    finally:
        if proc.process is not None:
            proc.stop()
        emulator.stop()


async def add_to_foreign_group(
    client: EmulatorClient, proc: BotProcess, user_id: int, group_id: int
) -> None:
    await client.create_user(user_id, "Group", language_code="zh-hans")
    await client.create_group("别的群", chat_id=group_id, member_ids=[user_id], creator_id=user_id)
    await client.add_bot_to_group(group_id, user_id)
    leave = await wait_for_call(client, "leaveChat", group_id)
    assert leave.ok
    # The service message about the bot joining follows my_chat_member; let it be handled.
    # (Not proved by a reply in another chat: chats are handled concurrently. The bot has
    # left the group, so nothing can be answered there: every update it fetched is done.)
    await until(lambda: no_pending_updates(client))
    await inbox_emptied(proc)


async def no_pending_updates(client: EmulatorClient) -> bool:
    return await client.pending_updates() == []


async def test_foreign_group_is_left_when_the_bot_is_added(
    second_bot: tuple[Emulator, BotProcess], new_user_id: int
) -> None:
    emulator, proc = second_bot
    group_id = -1003000000000 - new_user_id
    async with EmulatorClient(emulator.base_url) as client:
        await add_to_foreign_group(client, proc, new_user_id, group_id)
        chat = await client.get_chat(group_id)
        assert chat["bot_status"] == "left"
        sent = await client.api_calls("sendMessage")
        assert [c for c in sent if c.params.get("chat_id") == group_id] == []
        assert await client.messages(group_id) == []


async def test_foreign_group_is_left_once_and_quietly(
    second_bot: tuple[Emulator, BotProcess], new_user_id: int
) -> None:
    emulator, proc = second_bot
    group_id = -1003500000000 - new_user_id
    async with EmulatorClient(emulator.base_url) as client:
        await add_to_foreign_group(client, proc, new_user_id, group_id)
        leaves = [
            c for c in await client.api_calls("leaveChat") if c.params.get("chat_id") == group_id
        ]
        assert "Traceback" not in proc.log()
        assert [c.ok for c in leaves] == [True]


async def test_messages_in_a_foreign_group_are_ignored_and_the_bot_leaves(
    client: EmulatorClient, new_user_id: int
) -> None:
    group_id = -1004000000000 - new_user_id
    await client.create_user(new_user_id, "Group", language_code="zh-hans")
    await client.create_group(
        "其他公司群",
        chat_id=group_id,
        member_ids=[new_user_id],
        creator_id=new_user_id,
        bot_status="administrator",  # sees every message, not only commands
    )
    await client.send_text(new_user_id, "我们的商标快到期了怎么办", chat_id=group_id)
    await wait_for_call(client, "leaveChat", group_id)
    # In private the same member is served as usual.
    answer = await ask(client, new_user_id, "我们的商标快到期了怎么办")
    assert "续展" in answer.body
    assert await client.messages(group_id) == []
    assert (await client.get_chat(group_id))["bot_status"] == "left"


async def test_the_staff_group_is_not_left(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "Staff", language_code="zh-hans")
    await client.create_user(ADMIN_ID, "管理员", language_code="zh-hans")
    await client.create_group(
        "秘书处",
        chat_id=STAFF_CHAT_ID,
        member_ids=[new_user_id, ADMIN_ID],
        creator_id=new_user_id,
        bot_status="administrator",
    )
    await client.send_text(new_user_id, "/start", chat_id=STAFF_CHAT_ID)
    # A chat's updates are handled in order (other chats concurrently): once the admin's
    # /help in the group is answered there, the /start before it has been handled.
    await client.send_text(ADMIN_ID, "/help", chat_id=STAFF_CHAT_ID)
    team_help = await client.wait_for_message(STAFF_CHAT_ID, timeout=30)
    assert team_help.body.startswith("秘书处与专家使用说明"), team_help.body
    leaves = [
        c for c in await client.api_calls("leaveChat") if c.params.get("chat_id") == STAFF_CHAT_ID
    ]
    assert leaves == []
    assert (await client.get_chat(STAFF_CHAT_ID))["bot_status"] == "administrator"


# ------------------------------------------------------------------ blocked users, 429


async def test_a_member_who_blocked_the_bot_breaks_nothing(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    blocker, other = new_user_id, new_user_id + 500_000
    await client.create_user(blocker, "Block", language_code="en")
    await client.create_user(other, "Other", language_code="en")
    welcome = await ask(client, blocker, "/start")

    # Blocking produces a my_chat_member update; the bot must take it in its stride.
    await client.block_bot(blocker)
    answer = await ask(client, other, "how long does a design patent last")
    assert "15 years" in answer.body
    await client.unblock_bot(blocker)

    # The member blocks the bot while it is answering: Telegram answers 403.
    # The fault is tied to the blocker's chat: the other member's reply, handled at the
    # same time, cannot take it (the old test's flake).
    await client.inject_fault("sendMessage", error_code=403, description=BLOCKED, chat_id=blocker)
    await client.send_text(blocker, "how do I register our software copyright")
    # Chats are handled concurrently: wait until the blocked member's reply met its 403.
    await wait_for_failed_call(client, "sendMessage", blocker, 403)
    answer = await ask(client, other, "how do I register our software copyright")
    assert "Copyright Protection Center" in answer.body
    assert await client.faults() == []  # the blocked member's reply hit the fault
    assert [m.message_id for m in await client.messages(blocker)] == [welcome.message_id]
    assert "blocked the bot" in bot.log()

    # Once they talk to the bot again they are served.
    again = await ask(client, blocker, "how long does a design patent last")
    assert "15 years" in again.body
    assert bot.process is not None
    assert bot.process.poll() is None


async def test_telegram_flood_limit_429_is_retried(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "Retry", language_code="zh-hans")
    # Tied to this member's chat: nothing else the bot sends meanwhile can take it.
    await client.inject_fault("sendMessage", error_code=429, retry_after=1, chat_id=new_user_id)
    answer = await ask(client, new_user_id, "商标注册后能用多少年")
    assert "续展" in answer.body
    calls = [
        c for c in await client.api_calls("sendMessage") if c.params.get("chat_id") == new_user_id
    ]
    assert [c.error_code for c in calls] == [429, None]
    assert calls[0].params["text"] == calls[1].params["text"]


# ------------------------------------------------------------------ audit of all sends


async def test_every_message_sent_in_this_module_is_valid(
    client: EmulatorClient, new_user_id: int
) -> None:
    # Some traffic of its own, so the audit also stands alone: menus, lists, answers,
    # escalation, tickets, in both languages.
    for lang, question in (("zh-hans", "我们的商标快到期了怎么办"), ("en", "trademark patent")):
        user = new_user_id if lang == "en" else new_user_id + 500_000
        await client.create_user(user, "Audit", language_code=lang)
        welcome = await ask(client, user, "/start")
        after = await latest_id(client, user)
        topic = await client.press_button(user, welcome.message_id, data="t:infringement")
        listing = await client.wait_for_message(user, after_message_id=after)
        await client.wait_for_callback_answer(topic.query_id)
        assert len(listing.buttons) > 3
        await ask(client, user, question)
        escalation = await ask(client, user, "客户起诉了我们，传票要求下周一应诉，怎么办")
        assert escalation.buttons
        await ask(client, user, "/language")

    calls = await client.api_calls("sendMessage")
    assert len(calls) >= 10
    for call in calls:
        text = call.params["text"]
        if call.error_code in (403, 429):  # faults injected above
            continue
        assert call.ok, (call.description, text[:200])
        assert call.params.get("parse_mode") == "HTML", text[:200]
        assert 1 <= len(text) <= TELEGRAM_TEXT_MAX
        for data in callback_data_of(call):
            assert 1 <= len(data.encode()) <= CALLBACK_DATA_MAX, data
            assert re.fullmatch(r"[a-z]{1,8}(:[A-Za-z0-9_.\-]+)?", data), data
    stored = [m for c in {c.params["chat_id"] for c in calls} for m in await client.messages(c)]
    assert all(len(m.body) <= TELEGRAM_TEXT_MAX for m in stored)
    answers = [c for c in await client.api_calls("answerCallbackQuery")]
    assert answers
    assert all(c.ok for c in answers)
    assert all(len(str(c.params.get("text") or "")) <= 200 for c in answers)
