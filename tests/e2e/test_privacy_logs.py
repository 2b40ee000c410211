"""A database error in the middle of the profile dialogue: the member gets the apology, the
log gets the failed statement and its traceback, never the member's name or phone."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest

from bot.emulator.client import EmulatorClient
from bot.i18n import load_catalog
from tests.e2e.test_escalation import (
    ask,
    build_world,
    number_in,
    press_for_reply,
    start_escalation_bot,
)
from tests.support.botproc import BotProcess, Emulator

CATALOG = load_catalog()


def plain(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text)


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = start_escalation_bot(tmp_path_factory.mktemp("privacy-logs"), emulator)
    asyncio.run(build_world(emulator.base_url))
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]


async def test_a_database_error_in_the_profile_dialogue_logs_no_name_or_phone(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    """The write of this member's phone fails inside the database (a trigger tied to this
    one phone number): the member gets the apology, the log gets the statement without its
    values."""
    member, phone, contact = new_user_id, "13700009999", "周保密"
    database = bot.env["DATABASE_URL"].split(":///", 1)[1]
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        conn.execute(
            "CREATE TRIGGER IF NOT EXISTS phone_fails BEFORE UPDATE OF phone ON users "
            f"WHEN NEW.phone = '{phone}' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
        )
        conn.commit()
    await client.create_user(member, "周", language_code="zh-hans")
    reply = await ask(client, member, "我们收到律师函，说我们侵犯了专利，怎么办？")
    notice = await press_for_reply(client, member, reply, "咨询专家 🧑‍⚖️")
    assert number_in(notice)
    await press_for_reply(client, member, notice, "同意")
    choices = await ask(client, member, "甬兴电器")
    await press_for_reply(client, member, choices, "宁波市甬兴电器有限公司 ✓会员")
    asked = await ask(client, member, contact)
    assert "3/3" in asked.body, asked.body
    apology = await ask(client, member, phone)
    assert apology.body == plain(CATALOG.t("zh", "error"))
    log = bot.log()
    assert "simulated failure" in log
    assert "SQL parameters hidden" in log
    assert phone not in log
    assert contact not in log
