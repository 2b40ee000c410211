"""Event reminders end to end with a travelling clock: the day before at 10:00, an hour
before, and the 1–5 question after the event, each in the member's language, each once.

The bot of tests/e2e/test_followups.py (its clock set at every start, see that module); the
admin composes an event for Wednesday 9 December 2026, 14:00 (Asia/Shanghai) on Monday, two
members sign up, and the bot is started again at the moments that matter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest

from bot.emulator.client import BotMessage, EmulatorClient
from faq.models import Lang
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.test_followups import (
    TravellingBot,
    finish,
    local,
    start_followup_bot,
    stored,
)
from tests.e2e.test_outreach import compose, latest_id, press, say, send_now, t, until_finished
from tests.support.botproc import Emulator

START = local("2026-12-07 10:00")  # Monday
ZH_MEMBER, EN_MEMBER = 765001, 765002
TITLE = "百家堂第13期"


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TravellingBot]:
    proc = start_followup_bot(tmp_path_factory.mktemp("event-reminders"), emulator, START)
    yield proc
    finish(proc)


def about_event(messages: list[BotMessage]) -> list[BotMessage]:
    return [m for m in messages if TITLE in m.body]


def reminder_rows(bot: TravellingBot, kind: str) -> list[tuple[int, str, str, str | None]]:
    with closing(sqlite3.connect(bot.workdir / "ipdesk.sqlite3")) as conn:
        return conn.execute(
            "SELECT recipient_id, status, due_at, sent_at FROM reminders WHERE kind = ?"
            " ORDER BY recipient_id",
            (kind,),
        ).fetchall()


async def test_sign_up_on_monday(client: EmulatorClient, bot: TravellingBot) -> None:
    for user, lang in ((ZH_MEMBER, "zh-hans"), (EN_MEMBER, "en")):
        await client.create_user(user, "m", language_code=lang)
        await say(client, user, "/start")
    _, review = await compose(
        client,
        "event",
        "百家堂：海外商标布局",
        "Forum: trademarks abroad",
        event=f"{TITLE}\n2026-12-09 14:00\n协会三楼\n50",
    )
    _, progress = await send_now(client, review)
    await until_finished(client, progress)
    members: tuple[tuple[int, Lang], ...] = ((ZH_MEMBER, "zh"), (EN_MEMBER, "en"))
    for user, lang in members:
        invitation = next(m for m in await client.messages(user) if TITLE in m.body)
        after = await latest_id(client, user)
        await press(client, user, invitation, t(lang, "ann_btn_signup"))
        await client.wait_for_message(user, after_message_id=after)
    due = {r[0]: stored(r[2]) for r in reminder_rows(bot, "event_day")}
    assert due == dict.fromkeys((ZH_MEMBER, EN_MEMBER), local("2026-12-08 10:00"))
    hour = {r[0]: stored(r[2]) for r in reminder_rows(bot, "event_hour")}
    assert hour == dict.fromkeys((ZH_MEMBER, EN_MEMBER), local("2026-12-09 13:00"))


async def test_nothing_before_ten_the_day_before(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    before = {u: len(about_event(await client.messages(u))) for u in (ZH_MEMBER, EN_MEMBER)}
    await bot.restart_at(client, local("2026-12-08 09:50"))
    await bot.settle(client)
    after = {u: len(about_event(await client.messages(u))) for u in (ZH_MEMBER, EN_MEMBER)}
    assert after == before
    assert {r[1] for r in reminder_rows(bot, "event_day")} == {"pending"}


async def test_day_before_reminder_at_ten_in_each_language(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.restart_at(client, local("2026-12-08 10:00:30"))
    await bot.settle(client)
    zh = [m for m in about_event(await client.messages(ZH_MEMBER)) if "明天" in m.body]
    en = [m for m in about_event(await client.messages(EN_MEMBER)) if "tomorrow" in m.body]
    assert len(zh) == 1
    assert len(en) == 1
    rows = reminder_rows(bot, "event_day")
    assert {r[1] for r in rows} == {"sent"}
    assert all(stored(r[3] or "") >= local("2026-12-08 10:00") for r in rows)


async def test_hour_before_then_feedback_after(client: EmulatorClient, bot: TravellingBot) -> None:
    await bot.restart_at(client, local("2026-12-09 13:00:30"))
    await bot.settle(client)
    hour = [m for m in await client.messages(EN_MEMBER) if "starts in an hour" in m.body]
    assert len(hour) == 1
    assert TITLE in hour[0].body

    await bot.restart_at(client, local("2026-12-09 17:00:30"))
    await bot.settle(client)
    question = next(m for m in reversed(await client.messages(ZH_MEMBER)) if "1–5" in m.body)
    assert TITLE in question.body
    after = await latest_id(client, ZH_MEMBER)
    await press(client, ZH_MEMBER, question, "4 ⭐")
    thanks = await client.wait_for_message(ZH_MEMBER, after_message_id=after)
    assert "4" in thanks.body
    with closing(sqlite3.connect(bot.workdir / "ipdesk.sqlite3")) as conn:
        feedback = conn.execute("SELECT user_id, feedback FROM registrations").fetchall()
    assert (ZH_MEMBER, 4) in feedback
    assert ADMIN_ID not in {u for u, _ in feedback}
