"""Personal data end to end: the notice before anything is collected, /mydata, /forget,
/block, need-to-know on the staff-group card; the real bot against the emulator."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from bot.emulator.client import BotMessage, EmulatorClient
from bot.i18n import load_catalog
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID
from tests.e2e.test_escalation import (
    EXPERT_A,
    LAWYER_LETTER,
    ask,
    build_world,
    card_of,
    labels,
    latest_id,
    number_in,
    press_for_reply,
    start_escalation_bot,
    wait_card,
    wait_for,
)
from tests.support.botproc import BotProcess, Emulator

CATALOG = load_catalog()


def plain(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text)


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = start_escalation_bot(tmp_path_factory.mktemp("privacy"), emulator)
    asyncio.run(build_world(emulator.base_url))
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]
    log = proc.log()
    assert "Traceback" not in log, log[-5000:]
    for personal in ("13900001111", "钱多多", "秘密配方"):
        assert personal not in log  # personal data is never logged


async def _to_notice(client: EmulatorClient, member: int) -> tuple[str, BotMessage]:
    reply = await ask(client, member, LAWYER_LETTER)
    notice = await press_for_reply(client, member, reply, "咨询专家 🧑‍⚖️")
    return number_in(notice), notice


async def test_nothing_is_collected_before_the_member_agrees(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    await client.create_user(member, "孙", language_code="zh-hans")
    reply = await ask(client, member, LAWYER_LETTER)
    notice = await press_for_reply(client, member, reply, "咨询专家 🧑‍⚖️")
    assert labels(notice) == ["同意", "取消"]
    for part in (
        "个人信息告知",
        "公司名称、联系人姓名、联系电话",
        "24 个月",
        "/mydata",
        "/forget",
    ):
        assert part in notice.body, (part, notice.body)
    # Typing a company name now is not taken: agree first.
    typed = await ask(client, member, "秘密配方科技有限公司")
    assert typed.body == CATALOG.t("zh", "pv_consent_first")
    cancelled = await press_for_reply(client, member, typed, "取消")
    assert "已关闭" in cancelled.body or number_in(notice) in cancelled.body
    status = await ask(client, member, "/privacy")
    assert CATALOG.t("zh", "pv_privacy_not_agreed") in status.body
    data = await _mydata(client, member)
    assert data["consents"] == []
    assert data["profile"]["company"] is None
    assert "秘密配方" not in json.dumps(data, ensure_ascii=False)

    # Agreeing records the version and time, then the first question comes.
    _, notice = await _to_notice(client, member)
    first = await press_for_reply(client, member, notice, "同意")
    assert "1/3" in first.body
    assert "已记录您的同意" in first.body
    status = await ask(client, member, "/privacy")
    assert "您已于" in status.body
    assert [c["version"] for c in (await _mydata(client, member))["consents"]] == ["2026-12"]


async def _mydata(client: EmulatorClient, member: int) -> dict[str, Any]:
    after = await latest_id(client, member)
    await client.send_text(member, "/mydata")
    # Wait for the file itself: an acknowledgement of an earlier message may come first.
    sent = await wait_for(client, member, lambda m: m.document is not None, after=after)
    assert sent.document is not None
    assert sent.document["file_name"].endswith(".json")
    return dict(json.loads(await client.file_content(sent.document["file_id"])))


async def test_mydata_then_forget_closes_tickets_and_tells_the_expert(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    await client.create_user(member, "钱", language_code="zh-hans")
    number, notice = await _to_notice(client, member)
    first = await press_for_reply(client, member, notice, "同意")
    choices = await ask(client, member, "甬兴电器")
    contact = await press_for_reply(client, member, choices, "宁波市甬兴电器有限公司 ✓会员")
    phone = await ask(client, member, "钱多多")
    assert "3/3" in phone.body, phone.body
    named = await ask(client, member, "13900001111")
    assert number in named.body
    del first, contact
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    assert "13900001111" not in card.body
    assert "钱多多" not in card.body
    notice_to_expert = await wait_for(client, EXPERT_A, lambda m: number in m.body)
    assert "钱多多 · ☎️ 13900001111" in notice_to_expert.body
    m_after = await latest_id(client, member)
    await client.send_text(member, "附上营业执照编号 秘密配方")
    await wait_for(client, EXPERT_A, lambda m: "秘密配方" in m.body)
    # The receipt follows the copy (same outbox row): once it is there, the next message in
    # the member's chat is the answer to their next command.
    await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_after)

    data = await _mydata(client, member)
    assert data["profile"]["phone"] == "13900001111"
    assert data["profile"]["contact_name"] == "钱多多"
    [ticket] = data["tickets"]
    assert ticket["number"] == number
    assert "附上营业执照编号 秘密配方" in [m["text"] for m in ticket["messages"]]

    confirm = await ask(client, member, "/forget")
    assert number in confirm.body
    assert labels(confirm) == ["确认删除", "保留"]
    kept = await press_for_reply(client, member, confirm, "保留")
    assert kept.body == CATALOG.t("zh", "pv_forget_kept")
    assert (await _mydata(client, member))["profile"] is not None

    confirm = await ask(client, member, "/forget")
    expert_after = await latest_id(client, EXPERT_A)
    done = await press_for_reply(client, member, confirm, "确认删除")
    assert done.body.startswith("已删除您的个人信息")
    told = await wait_for(
        client, EXPERT_A, lambda m: "要求删除其个人信息" in m.body, after=expert_after
    )
    assert number in told.body
    closed = await wait_card(client, card.message_id, lambda c: "已关闭" in c.body)
    assert "律师函" not in closed.body  # the question's text is erased
    gone = await _mydata(client, member)  # asking again starts a new, empty record
    assert (gone["tickets"], gone["questions"], gone["consents"]) == ([], [], [])
    assert (gone["profile"]["company"], gone["profile"]["phone"]) == (None, None)
    assert gone["profile"]["contact_name"] is None
    # The member may start again as a stranger.
    again = await ask(client, member, "商标注册后能用多少年")
    assert "10" in again.body


def _query(database: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return list(conn.execute(sql, args).fetchall())


async def test_admin_blocks_a_member_who_then_gets_one_notice_and_silence(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    member = new_user_id
    await client.create_user(member, "扰", language_code="zh-hans")
    await ask(client, member, "你好")
    refused = await ask(client, member, f"/block {member}")
    assert refused.body == CATALOG.t("zh", "tk_err_not_allowed")
    done = await ask(client, ADMIN_ID, f"/block {member}")
    assert done.body == plain(CATALOG.t("zh", "pv_block_done", user_id=member))
    again = await ask(client, ADMIN_ID, f"/block {member}")
    assert again.body == plain(CATALOG.t("zh", "pv_block_already", user_id=member))

    after = await latest_id(client, member)
    for text in ("第一条", "第二条", "第三条"):
        await client.send_text(member, text)
    notice = await client.wait_for_message(member, after_message_id=after, timeout=20)
    assert notice.body.startswith("您的账号已被协会暂停使用本服务")
    # Of the three messages only the counter is kept (nothing else is stored).
    database = bot.env["DATABASE_URL"].split(":///", 1)[1]
    deadline = time.monotonic() + 20
    while _query(database, "SELECT dropped FROM blocks WHERE user_id = ?", member) != [(3,)]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    stored = _query(database, "SELECT text FROM questions WHERE user_id = ?", member)
    assert stored == [("你好",)]
    lifted = await ask(client, ADMIN_ID, f"/unblock {member}")
    assert lifted.body == plain(CATALOG.t("zh", "pv_unblock_done", user_id=member))
    bot_messages = [m for m in await client.messages(member) if m.message_id > after]
    assert [m.message_id for m in bot_messages] == [notice.message_id]
    served = await ask(client, member, "商标注册后能用多少年")
    assert "10" in served.body


async def test_whoami_tells_the_ids_people_need(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "Who", language_code="en")
    reply = await ask(client, new_user_id, "/whoami")
    assert f"Your Telegram user id: {new_user_id}" in reply.body
    after = await latest_id(client, STAFF_CHAT_ID)
    await client.send_text(ADMIN_ID, "/whoami", chat_id=STAFF_CHAT_ID)
    in_group = await wait_for(client, STAFF_CHAT_ID, lambda m: "用户 ID" in m.body, after=after)
    assert str(STAFF_CHAT_ID) in in_group.body
