"""Durability of the follow-ups with a real process: kill -9, Telegram failures, a blocked bot.

The same travelling bot as tests/e2e/test_followups.py, a world of its own for each test:
each test schedules a member's check-in by resolving a ticket, then starts
the bot again after the check-in is due, with something going wrong on the way. The
database is the source of truth; what the emulator received is what members saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.emulator.client import ApiCall, BotMessage, EmulatorClient
from faq.models import Lang
from tests.e2e.conftest import STAFF_CHAT_ID
from tests.e2e.test_followups import (
    EXPERT_ZH,
    TRADEMARK_EN,
    TRADEMARK_ZH,
    Ticket,
    TravellingBot,
    bot_messages,
    each_reminder_once,
    finish,
    is_text,
    last_call,
    local,
    new_member,
    open_ticket,
    resolve_privately,
    start_followup_bot,
    stored,
    t,
)
from tests.support.botproc import Emulator

START = local("2026-11-30 10:00")  # Monday


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """Each test its own emulator, bot, database and timeline (from Monday 30 November
    10:00): the tests hold in any order, alone or together."""
    emu = Emulator.start(tmp_path)
    yield emu
    emu.stop()


@pytest.fixture
def bot(emulator: Emulator, tmp_path: Path) -> Iterator[TravellingBot]:
    workdir = tmp_path / "bot"
    workdir.mkdir()
    proc = start_followup_bot(workdir, emulator, START)
    yield proc
    asyncio.run(each_reminder_once(emulator.base_url, proc))
    finish(proc)


async def resolved_ticket(
    client: EmulatorClient, bot: TravellingBot, lang: Lang, name: str
) -> tuple[Ticket, str]:
    """A member's ticket, resolved by its expert at once; returns it and its check-in key."""
    member = await new_member(client, lang, name)
    ticket = await open_ticket(
        client, bot, member, lang, TRADEMARK_ZH if lang == "zh" else TRADEMARK_EN
    )
    await resolve_privately(client, EXPERT_ZH, "zh", ticket, "已书面答复")
    resolved = stored(bot.db.ticket(ticket.number)["resolved_at"])
    key = f"checkin:{ticket.id}:{int(resolved.timestamp())}"
    checkin = bot.db.reminder(key)
    assert stored(checkin["due_at"]) == resolved + timedelta(days=3)
    assert checkin["status"] == "pending"
    return ticket, key


def checkin_text(ticket: Ticket) -> Callable[[BotMessage], bool]:
    expert = "张伟" if ticket.lang == "zh" else "Zhang Wei"
    return is_text(
        ticket.lang, "fu_checkin", number=ticket.number, expert=expert, question=ticket.question
    )


async def checkins(client: EmulatorClient, ticket: Ticket) -> int:
    return len(await bot_messages(client, ticket.member, checkin_text(ticket)))


async def sends_to(client: EmulatorClient, chat_id: int, *, since: int) -> list[ApiCall]:
    return [
        c
        for c in await client.api_calls("sendMessage", since=since)
        if c.params.get("chat_id") in (chat_id, str(chat_id))
    ]


async def test_kill_9_between_scheduling_and_firing_and_right_after_sending(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    ticket, key = await resolved_ticket(client, bot, "zh", "甲")
    # Killed on Monday, started on Thursday after the check-in fell due: sent at start-up.
    await bot.restart_at(client, local("2026-12-03 10:30"), kill=True)
    assert await checkins(client, ticket) == 1
    # Killed again right after the send, started after the lease (5 min) would have run out
    # for a row left in 'sending': the send was recorded at once, nothing goes out twice.
    await bot.restart_at(client, local("2026-12-03 10:40"), kill=True)
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    await bot.settle(client)
    assert await checkins(client, ticket) == 1
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("sent", 1)


async def test_killed_while_sending_the_reminder_is_sent_once_after_its_lease(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-03 10:40"))
    ticket, key = await resolved_ticket(client, bot, "zh", "乙")
    # Telegram hangs on the next sendMessage to the member; the bot is killed while it waits.
    # (The outbox is empty first, and the fault is tied to the member's chat: no notice or
    # card left over from resolving the ticket can take it.)
    await bot.settle(client)
    bot.halt()
    since = await last_call(client)
    await client.inject_fault(
        "sendMessage", error_code=502, delay=5, count=1, chat_id=ticket.member
    )
    bot.launch(local("2026-12-06 11:00"))  # Sunday, after the check-in fell due
    deadline = time.monotonic() + 30
    while not [c for c in await sends_to(client, ticket.member, since=since) if c.ok is None]:
        assert time.monotonic() < deadline, "the check-in was never attempted"
        await asyncio.sleep(0.02)
    bot.kill9()
    await client.clear_faults()
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("sending", 1)
    assert await checkins(client, ticket) == 0

    # Two minutes later the dead worker's lease still holds the row: nobody sends it.
    await bot.restart_at(client, local("2026-12-06 11:02"))
    await bot.settle(client)
    assert await checkins(client, ticket) == 0
    assert bot.db.reminder(key)["status"] == "sending"
    # After the lease (5 min) the row is released and sent, once.
    await bot.restart_at(client, local("2026-12-06 11:10"))
    assert await checkins(client, ticket) == 1
    await bot.settle(client)
    assert await checkins(client, ticket) == 1
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_429_on_the_reminder_send_still_delivers_it_once(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-06 11:10"))
    ticket, key = await resolved_ticket(client, bot, "en", "Ann")
    # Monday's weekly report first, so that the check-in is the next message the bot sends.
    await bot.restart_at(client, local("2026-12-07 09:30"))
    await bot.settle(client)
    caption = t("zh", "stats_weekly_caption", start="2026-11-30", end="2026-12-06")
    assert len(await bot_messages(client, STAFF_CHAT_ID, lambda m: m.body == caption)) == 1

    bot.halt()
    since = await last_call(client)
    await client.inject_fault(
        "sendMessage", error_code=429, retry_after=1, count=1, chat_id=ticket.member
    )
    await bot.restart_at(client, local("2026-12-09 11:30"))  # Wednesday
    deadline = time.monotonic() + 60
    while await checkins(client, ticket) == 0:
        assert time.monotonic() < deadline, "the check-in never arrived"
        await asyncio.sleep(0.1)
    calls = await sends_to(client, ticket.member, since=since)
    assert [(c.ok, c.error_code) for c in calls] == [(False, 429), (True, None)]
    await bot.settle(client)
    assert await checkins(client, ticket) == 1
    assert bot.db.reminder(key)["status"] == "sent"


async def test_a_5xx_is_retried_with_back_off_and_recorded(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-09 11:30"))
    ticket, key = await resolved_ticket(client, bot, "zh", "丙")
    await bot.settle(client)  # nothing left over from resolving: the check-in meets the fault
    bot.halt()
    await client.inject_fault(
        "sendMessage", error_code=502, count=1, description="Bad Gateway", chat_id=ticket.member
    )
    await bot.restart_at(client, local("2026-12-12 12:00"))  # Saturday
    assert await checkins(client, ticket) == 0
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "Bad Gateway" in row["last_error"]
    retry_at = stored(row["due_at"])
    assert local("2026-12-12 12:00:30") <= retry_at < local("2026-12-12 12:01")  # 30 s back-off
    # Not dropped: sent when it is due again (here: the next start, a minute later).
    await bot.restart_at(client, local("2026-12-12 12:02"))
    assert await checkins(client, ticket) == 1
    await bot.settle(client)
    assert await checkins(client, ticket) == 1
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)


async def test_a_member_who_blocked_the_bot_is_marked_and_not_retried(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-12 12:02"))
    ticket, key = await resolved_ticket(client, bot, "zh", "丁")
    await client.block_bot(ticket.member)
    await bot.restart_at(client, local("2026-12-15 12:30"))  # Tuesday
    await bot.settle(client)  # and the bot goes on serving others
    assert await checkins(client, ticket) == 0
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "blocked" in row["last_error"]
    user = bot.db.one("SELECT blocked_bot_at FROM users WHERE id = ?", ticket.member)
    assert user["blocked_bot_at"] is not None
    assert local("2026-12-15 12:30") <= stored(user["blocked_bot_at"]) < local("2026-12-15 12:31")

    since = await last_call(client)
    await bot.restart_at(client, local("2026-12-15 12:40"))
    await bot.settle(client)
    assert await sends_to(client, ticket.member, since=since) == []
    row = bot.db.reminder(key)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert bot.running


async def test_a_failed_report_text_does_not_post_the_chart_twice(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    # The reports of the weeks before go out first (and next week's is planned), so that the
    # one of 21 December is the only thing the bot sends at that start.
    await bot.advance_to(client, local("2026-12-15 12:40"))
    await bot.settle(client)
    bot.halt()
    await client.inject_fault(
        "sendMessage", error_code=502, count=1, description="Bad Gateway", chat_id=STAFF_CHAT_ID
    )
    await bot.restart_at(client, local("2026-12-21 09:05"))  # Monday: the report is due
    row = bot.db.reminder("weekly_report:2026-W52")
    assert (row["status"], row["attempts"]) == ("pending", 1)  # the text failed: retry
    await bot.restart_at(client, local("2026-12-21 09:07"))  # the retry is due
    assert bot.db.reminder("weekly_report:2026-W52")["status"] == "sent"
    caption = t("zh", "stats_weekly_caption", start="2026-12-14", end="2026-12-20")
    charts = await bot_messages(client, STAFF_CHAT_ID, lambda m: m.body == caption)
    texts = await bot_messages(
        client, STAFF_CHAT_ID, lambda m: m.body.startswith("📊 服务质量统计 2026-12-14")
    )
    assert len(texts) == 1
    assert len(charts) == 1, f"the chart was posted {len(charts)} times"
