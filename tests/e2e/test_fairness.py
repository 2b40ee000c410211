"""Fairness under load, end to end: one chat floods, another chat's question is answered
while most of the flood is still waiting (bot/updates.py: an update waits for its chat's turn
before it takes one of the global slots, so one chat never holds more than one).

The module runs its own bot with the flood guard out of the way and only 4 slots, so the
flood is handled, one message at a time, in full. Nothing here measures time: the test
waits for events (the other member's answer, the flood's last reply) and then reads the
order in which the bot sent its replies from the emulator's call log.

The whole flood is in the bot's inbox, unhandled, before the other member writes: the
emulator holds the flooder's first reply (tests/support/holding.py), so their /help does
not finish and the flood waits stored behind it; the bot is killed, the other member writes
while it is down, and the restarted bot queues the stored flood first, then the question it
fetches. (Fed live, how much of the flood was handled before the other member even wrote
depended on how fast the test posted 100 messages: a race with the machine's load.)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest

from bot.emulator.client import EmulatorClient
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.e2e.test_inbox import unfinished
from tests.support.botproc import BotProcess, Emulator
from tests.support.holding import held, hold_next_reply, last_call, until

FLOOD = 100
SLOTS = 4


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = BotProcess.configure(
        tmp_path_factory.mktemp("fairness"),
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        FLOOD_MAX_MESSAGES="1000",
        FLOOD_WINDOW_SECONDS="10",
        CONCURRENT_UPDATES=str(SLOTS),
    )
    proc.start()
    wait_until_polling(emulator)
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-3000:]


async def test_one_chat_flooding_does_not_hold_up_another_chat(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    flooder, other = new_user_id, new_user_id + 600_000
    await client.create_user(flooder, "Flood", language_code="en")
    await client.create_user(other, "钱", language_code="zh-hans")
    hold = await hold_next_reply(client, bot, flooder)
    await client.send_text(flooder, "/help")
    await held(client, bot, hold)
    await asyncio.gather(
        *(
            client.send_text(flooder, f"how long does a design patent last {i}")
            for i in range(FLOOD)
        )
    )

    async def stored() -> bool:  # confirmed to Telegram, kept in the inbox, not handled
        return await client.pending_updates() == [] and unfinished(bot) == FLOOD + 1

    await until(stored)
    bot.kill9()
    seen = await last_call(client)
    await client.send_text(other, "商标注册后能用多少年")
    bot.start()

    answer = await client.wait_for_message(other, timeout=60)
    assert "10年" in re.sub(r"\s+", "", answer.body)
    # The flood is handled in full, in order, one message at a time: the /help, then every
    # question answered.
    replies = await client.wait_for_messages(
        flooder, after_message_id=0, count=FLOOD + 1, timeout=120
    )
    assert replies[0].body.startswith("How to use this bot"), replies[0].body
    assert sum("15 years" in m.body for m in replies) == FLOOD

    # In the order the bot sent them: the other member's answer went out while most of the
    # flood was still waiting. (Were the chat's lock taken after a slot, the flood's queued
    # updates would fill every slot and the other member would wait for nearly all of it.)
    order = [
        int(call.params["chat_id"])
        for call in await client.api_calls("sendMessage", since=seen)
        if call.ok and int(call.params["chat_id"]) in (flooder, other)
    ]
    before = order[: order.index(other)].count(flooder)
    assert before < FLOOD // 2, f"{before} of {FLOOD} flood replies went out first"
