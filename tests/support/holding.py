"""Holding the bot's replies, from the emulator's side, so that updates stay unfinished.

Telegram's flood control as the emulator plays it: the bot's next sendMessage to one chat
is refused with 429 and ``retry_after`` of an hour. python-telegram-bot's rate limiter
(AIORateLimiter, as the bot runs it) then waits that long before it sends anything again,
to any chat. The handler whose reply was refused does not finish, so its update stays
stored and not done (a handler that writes nothing, like /help, is marked done only after
it returns), and the chat's later updates wait behind it. Killed with SIGKILL like this,
the bot leaves fetched, confirmed and unhandled updates behind — with no hook in the bot.

A fault is taken when the bot's call reaches it, so a restarted bot does not meet it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.emulator.client import ApiCall, EmulatorClient
from tests.support.botproc import BotProcess

HOLD_SECONDS = 3600
PAUSED = "Rate limit hit"
"""What python-telegram-bot's rate limiter logs when it starts waiting out a 429."""


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:  # noqa: ASYNC109
    """Poll a condition the emulator or the database has no event for."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def last_call(client: EmulatorClient) -> int:
    return max((c.seq for c in await client.api_calls()), default=0)


@dataclass(frozen=True)
class Hold:
    chat_id: int
    since: int
    """The emulator's last call number before the fault."""
    paused_before: int
    """Times the bot's log said it was waiting out a 429, before the fault."""


async def hold_next_reply(client: EmulatorClient, bot: BotProcess, chat_id: int) -> Hold:
    """Refuse the bot's next message to ``chat_id`` with an hour's retry_after."""
    hold = Hold(chat_id, await last_call(client), bot.log().count(PAUSED))
    await client.inject_fault(
        "sendMessage", error_code=429, retry_after=HOLD_SECONDS, chat_id=chat_id
    )
    return hold


async def held(client: EmulatorClient, bot: BotProcess, hold: Hold) -> None:
    """Wait until the bot met the fault of ``hold`` and its rate limiter started waiting
    (from then on this process sends nothing to any chat)."""

    async def refused() -> bool:
        calls = await client.api_calls("sendMessage", since=hold.since)
        return any(
            str(c.params.get("chat_id")) == str(hold.chat_id) and c.error_code == 429
            for c in calls
        )

    async def paused() -> bool:
        return bot.log().count(PAUSED) > hold.paused_before

    await until(refused)
    await until(paused)


def accepted(calls: list[ApiCall], chat_id: int) -> list[ApiCall]:
    """The calls to ``chat_id`` that the emulator (Telegram) carried out."""
    return [c for c in calls if c.ok and str(c.params.get("chat_id")) == str(chat_id)]
