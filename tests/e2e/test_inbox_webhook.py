"""The durable inbox in webhook mode: the bot answers 200 only for a stored update.

Pushed updates are stored and acknowledged but not handled (the emulator holds the bot's
first reply, tests/support/holding.py, so the chat's later updates wait behind it), the bot
is killed with SIGKILL, started again: each is answered once, and a push Telegram repeats
(same update_id) is not handled a second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from bot.emulator.client import EmulatorClient
from tests.e2e.test_inbox import HELP_STARTS, QUESTIONS, questions_of, unfinished
from tests.e2e.test_webhook import SECRET, _post
from tests.support.botproc import (
    BotProcess,
    Emulator,
    free_port,
    last_call_seq,
    wait_for_webhook,
)
from tests.support.holding import held, hold_next_reply, until

MEMBER = 881001


@pytest.fixture(scope="module")
def webhook_bot(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BotProcess, int]]:
    port = free_port()
    proc = BotProcess.configure_webhook(
        tmp_path_factory.mktemp("inbox-webhook"),
        emulator,
        port,
        SECRET,
    )
    since = last_call_seq(emulator)
    proc.start()
    wait_for_webhook(emulator, proc, port, since)
    yield proc, port
    if proc.process is not None and proc.process.poll() is None:
        assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-5000:]


def _update(
    update_id: int, message_id: int, user: dict[str, object], text: str
) -> dict[str, object]:
    message: dict[str, object] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": MEMBER, "type": "private", "first_name": "Web"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def test_acknowledged_pushes_survive_kill9_and_a_repeated_push_is_not_handled_twice(
    emulator: Emulator, webhook_bot: tuple[BotProcess, int]
) -> None:
    proc, port = webhook_bot
    async with EmulatorClient(emulator.base_url) as client:
        user = await client.create_user(MEMBER, "Web", language_code="zh-hans")
        hold = await hold_next_reply(client, proc, MEMBER)
        assert _post(port, _update(100, 1, user, "/help"), SECRET) == 200
        await held(client, proc, hold)
        pushes = [_update(101 + i, i + 2, user, q) for i, q in enumerate(QUESTIONS)]
        for push in pushes:
            assert _post(port, push, SECRET) == 200  # Telegram forgets it now

        async def stored() -> bool:
            return unfinished(proc) == 1 + len(QUESTIONS)

        await until(stored)  # answered 200 after its commit: already true
        assert questions_of(proc, [MEMBER]) == {}
        proc.kill9()
        since = last_call_seq(emulator)
        proc.start()
        await asyncio.to_thread(wait_for_webhook, emulator, proc, port, since)

        async def all_answered() -> bool:
            return len(await client.messages(MEMBER)) >= 1 + len(QUESTIONS)

        await until(all_answered)
        # Telegram pushes one again (it never saw the 200), then the member asks for help.
        assert _post(port, pushes[2], SECRET) == 200
        assert _post(port, _update(200, 50, user, "/help"), SECRET) == 200
        await client.wait_for_messages(
            MEMBER, after_message_id=0, count=len(QUESTIONS) + 2, timeout=60
        )
        replies = [m.body for m in await client.messages(MEMBER)]
    assert len(replies) == len(QUESTIONS) + 2, replies
    helps = [i for i, r in enumerate(replies) if r.startswith(HELP_STARTS)]
    assert helps == [0, len(replies) - 1], replies
    assert questions_of(proc, [MEMBER]) == {MEMBER: len(QUESTIONS)}
