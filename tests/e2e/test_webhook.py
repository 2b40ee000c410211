"""Webhook mode: `ipdesk run` with WEBHOOK_URL registers the hook and serves pushed updates."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator.client import EmulatorClient
from bot.runner import WebhookRefusals
from tests.support.botproc import BotProcess, Emulator, free_port, wait_for_webhook

SECRET = "webhook-secret-1234567"


@pytest.fixture(scope="module")
def webhook_bot(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BotProcess, int]]:
    port = free_port()
    proc = BotProcess.configure_webhook(tmp_path_factory.mktemp("webhook"), emulator, port, SECRET)
    proc.start()
    wait_for_webhook(emulator, proc, port)
    yield proc, port
    assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log()


def _post(port: int, update: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/tg/hook", data=json.dumps(update).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_webhook_is_registered_and_pushed_updates_are_answered(
    emulator: Emulator, webhook_bot: tuple[BotProcess, int], tmp_path: Path
) -> None:
    _, port = webhook_bot
    async with EmulatorClient(emulator.base_url) as client:
        [call] = await client.api_calls("setWebhook")
        assert call.params["url"] == "https://ipdesk.example.org/tg/hook"
        assert call.params["secret_token"] == SECRET
        user = await client.create_user(880001, "Web", language_code="zh")
        message = {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 880001, "type": "private", "first_name": "Web"},
            "from": user,
            "text": "商标注册后能用多少年",
        }
        # A forged push without the secret is refused and changes nothing.
        assert _post(port, {"update_id": 10, "message": message}, "wrong") == 403
        assert _post(port, {"update_id": 11, "message": message}, SECRET) == 200
        reply = await client.wait_for_message(880001, after_message_id=0)
    assert "10年" in reply.body.replace(" ", "")


async def test_forged_pushes_are_refused_logged_without_body_and_change_nothing(
    emulator: Emulator, webhook_bot: tuple[BotProcess, int]
) -> None:
    """Claiming an admin's id in a forged update must not reach any handler."""
    proc, port = webhook_bot
    forged_text = "/role 880099 admin FORGED-BODY-MARKER"
    message = {
        "message_id": 7,
        "date": int(time.time()),
        "chat": {"id": 880002, "type": "private", "first_name": "Mallory"},
        "from": {"id": 880002, "is_bot": False, "first_name": "Mallory"},
        "text": forged_text,
    }
    before = proc.log().count(WebhookRefusals.MESSAGE)
    assert _post(port, {"update_id": 20, "message": message}, None) == 403
    assert _post(port, {"update_id": 21, "message": message}, "x" * 32) == 403
    assert _post(port, {"update_id": 22, "message": message}, SECRET[:-1]) == 403
    deadline = time.monotonic() + 20
    while proc.log().count(WebhookRefusals.MESSAGE) < before + 3:
        assert time.monotonic() < deadline, proc.log()[-2000:]
        await asyncio.sleep(0.05)
    log = proc.log()
    assert "FORGED-BODY-MARKER" not in log
    assert "x" * 32 not in log
    async with EmulatorClient(emulator.base_url) as client:
        # Nothing was sent to the forger's chat: the update never reached a handler.
        sent = [
            c
            for c in await client.api_calls("sendMessage")
            if c.params.get("chat_id") in (880002, "880002")
        ]
    assert sent == []
