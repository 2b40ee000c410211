"""The bot is killed (SIGKILL) in the middle of an escalation and started again: the profile
dialogue, the ticket, its messages and the relay continue with nothing lost.

Telegram (here the emulator) keeps every update until the bot confirms it with the next
getUpdates offset, so what members and experts send while the bot is down is delivered
after the restart; what the bot had stored but not sent is sent at start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator

import pytest

from bot.emulator.client import EmulatorClient, tiny_png
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID
from tests.e2e.test_escalation import (
    A_LABEL,
    EXPERT_A,
    EXPERT_B,
    LAWYER_LETTER,
    STAFF_1,
    ask,
    build_world,
    card_of,
    escalate,
    labels,
    latest_id,
    number_in,
    press,
    press_for_reply,
    profiled_ticket,
    start_escalation_bot,
    t,
    wait_card,
    wait_for,
    wait_for_all,
)
from tests.support.botproc import BotProcess, Emulator


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = start_escalation_bot(tmp_path_factory.mktemp("restart"), emulator)
    asyncio.run(build_world(emulator.base_url))
    yield proc
    if proc.process is not None and proc.process.poll() is None:
        assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-5000:]


async def kill_and_restart(
    client: EmulatorClient, bot: BotProcess, while_down: Awaitable[None]
) -> None:
    """kill -9, run ``while_down`` (users keep writing), start again, wait for polling."""
    bot.kill9()
    seen = max((c.seq for c in await client.api_calls()), default=0)
    await while_down
    bot.start()
    async with asyncio.timeout(60):
        while True:
            if await client.api_calls("getUpdates", since=seen):
                return
            await asyncio.sleep(0.1)


async def test_killed_mid_conversation_nothing_is_lost(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    member = new_user_id
    await client.create_user(member, "王", language_code="zh-hans")

    # Killed in the middle of the profile dialogue: the restarted bot continues it.
    prompt = await escalate(client, member, LAWYER_LETTER)
    number = number_in(prompt)
    choices = await ask(client, member, "甬兴电器")
    contact_prompt = await press_for_reply(client, member, choices, "宁波市甬兴电器有限公司 ✓会员")
    assert "2/3" in contact_prompt.body

    async def nothing() -> None:
        return None

    await kill_and_restart(client, bot, nothing())
    phone_prompt = await ask(client, member, "王五")
    assert "3/3" in phone_prompt.body
    named = await press_for_reply(client, member, phone_prompt, "跳过")
    assert f"您的咨询 {number} 已交给 {A_LABEL}。" in named.body

    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    await press(client, EXPERT_A, card, label="✋ 认领")
    await wait_card(client, card.message_id, lambda c: "认领：张伟" in c.body)
    a_after = await latest_id(client, EXPERT_A)
    m_before = await latest_id(client, member)
    await client.send_text(member, "停机前的消息")
    before = await wait_for(client, EXPERT_A, lambda m: "停机前的消息" in m.body, after=a_after)
    # The receipt goes out once the copy is recorded as delivered: only then can a reply to
    # the copy find its ticket (a kill before that would resend it after the restart).
    await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_before)

    # Killed with the relay running; both sides keep writing while the bot is down.
    async def users_keep_writing() -> None:
        await client.send_text(member, "停机期间会员的消息")
        await client.send_photo(member, tiny_png(5, 5), caption="停机期间的照片")
        for index in range(2):
            await client.send_photo(
                member, tiny_png(3, 3 + index), media_group_id="restart-album", caption=None
            )
        await client.send_text(
            EXPERT_A, "停机期间专家的答复", reply_to_message_id=before.message_id
        )
        assert len(await client.pending_updates()) >= 5

    m_after = await latest_id(client, member)
    await kill_and_restart(client, bot, users_keep_writing())

    header = f"📨 {number} · 宁波市甬兴电器有限公司 · 王五"
    text = await wait_for(
        client, EXPERT_A, lambda m: "停机期间会员的消息" in m.body, after=a_after
    )
    assert text.body == f"{header}\n停机期间会员的消息"
    photo = await wait_for(client, EXPERT_A, lambda m: "停机期间的照片" in m.body, after=a_after)
    assert photo.photo is not None
    album = await wait_for_all(
        client, EXPERT_A, lambda m: m.media_group_id is not None, 2, after=a_after
    )
    assert len({m.media_group_id for m in album}) == 1
    reply = await wait_for(client, member, lambda m: "停机期间专家的答复" in m.body, after=m_after)
    assert reply.body == f"💬 张伟 · {number}\n停机期间专家的答复"

    # The relay goes on, and the ticket holds every message exactly once.
    await client.send_text(member, "重启后的消息")
    await wait_for(client, EXPERT_A, lambda m: "重启后的消息" in m.body, after=a_after)
    assert await client.pending_updates() == []
    history = await ask(client, ADMIN_ID, f"/ticket {number}")
    for line in (
        "停机前的消息",
        "停机期间会员的消息",
        "[图片] 停机期间的照片",
        "停机期间专家的答复",
        "重启后的消息",
    ):
        assert history.body.count(line) == 1, (line, history.body)
    assert history.body.count("👤 会员：[图片]") == 3  # the photo and the album's two
    relayed = [m for m in await client.messages(EXPERT_A) if m.message_id > a_after]
    assert sum("停机期间会员的消息" in m.body for m in relayed) == 1

    # Resolve with the card's button: the bot asks (usual conclusions as buttons); the
    # secretary's next message in the group is the conclusion, no reply to the prompt needed.
    group_after = await latest_id(client, STAFF_CHAT_ID)
    m_after = await latest_id(client, member)
    await press(client, STAFF_1, await client.message(STAFF_CHAT_ID, card.message_id),
                label="✅ 结案")  # fmt: skip
    prompt = await wait_for(
        client, STAFF_CHAT_ID, lambda m: "处理结论是什么" in m.body, after=group_after
    )
    assert prompt.body.startswith(f"王秘书：{number} 的处理结论是什么？")
    assert labels(prompt) == [
        "💬 已在对话中答复", "📞 已电话沟通", "➡️ 建议委托代理机构或律师", "取消"
    ]  # fmt: skip
    await client.send_text(STAFF_1, "已指导会员书面答复", chat_id=STAFF_CHAT_ID)
    await wait_for(
        client, STAFF_CHAT_ID, lambda m: m.body == f"✅ {number} 已结案，结论已发给会员。",
        after=prompt.message_id,
    )  # fmt: skip
    resolved = await wait_card(client, card.message_id, lambda c: "状态：已解决" in c.body)
    assert "结论：已指导会员书面答复" in resolved.body
    told = await wait_for(client, member, lambda m: "已处理完毕" in m.body, after=m_after)
    assert "已指导会员书面答复" in told.body


async def test_a_message_that_could_not_be_sent_is_retried_while_running_and_once(
    client: EmulatorClient, bot: BotProcess, new_user_id: int
) -> None:
    member = new_user_id
    number, _ = await profiled_ticket(client, member, LAWYER_LETTER, "赵")
    await wait_for(client, STAFF_CHAT_ID, card_of(number))  # the bot is done with assigning
    await wait_for(client, EXPERT_A, lambda m: number in m.body)
    a_after = await latest_id(client, EXPERT_A)
    m_after = await latest_id(client, member)
    # Telegram fails towards the expert, then towards the staff group (the fallback); each
    # fault is tied to its chat, so nothing else the bot sends meanwhile can take it.
    for chat in (EXPERT_A, STAFF_CHAT_ID):
        await client.inject_fault(
            "sendMessage", error_code=502, description="Bad Gateway", chat_id=chat
        )
    await client.send_text(member, "网络故障时的消息")
    # The outbox retries it after its back-off while the bot runs (no restart needed), and
    # only then the member's receipt says where it went.
    late = await wait_for(
        client, EXPERT_A, lambda m: "网络故障时的消息" in m.body, after=a_after, within=120
    )
    assert late.body.startswith(f"📨 {number}")
    assert await client.faults() == []
    ack = await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_after)
    assert ack.body.startswith(f"✅ 已转给{A_LABEL}，咨询编号 {number}。")

    async def nothing() -> None:
        return None

    await kill_and_restart(client, bot, nothing())
    await client.send_text(member, "之后的消息")
    await wait_for(client, EXPERT_A, lambda m: "之后的消息" in m.body, after=a_after)
    relayed = [m for m in await client.messages(EXPERT_A) if m.message_id > a_after]
    assert sum("网络故障时的消息" in m.body for m in relayed) == 1
    await wait_for(client, member, lambda m: m.body.startswith("✅"), after=ack.message_id)
    receipts = [m for m in await client.messages(member) if m.message_id > m_after]
    assert sum(m.body.startswith("✅") for m in receipts) == 2  # one per message, no repeat

    # /reassign to 李娜: she is told privately, 张伟 that it left him, the member who has it.
    b_after = await latest_id(client, EXPERT_B)
    m_after = await latest_id(client, member)
    done = await ask(client, STAFF_1, f"/reassign {number} li-na")
    assert done.body == f"已把 {number} 改派给 李娜。"
    notice = await wait_for(client, EXPERT_B, lambda m: number in m.body, after=b_after)
    assert notice.body.startswith("🔁 秘书处把一件咨询改派给您")
    await wait_for(client, EXPERT_A, lambda m: "已由秘书处改派给其他专家" in m.body,
                   after=a_after)  # fmt: skip
    told = await wait_for(client, member, lambda m: "现由" in m.body, after=m_after)
    assert told.body == f"您的咨询 {number} 现由李娜（专利代理师）负责。"

    # She claims from her private notice, gets the dossier, resolves from it.
    claimed = await press(client, EXPERT_B, notice, label="✋ 认领")
    assert claimed.text == f"已认领 {number}。会员资料（摸底）已私信发给您。"
    dossier = await wait_for(
        client, EXPERT_B, lambda m: m.body.startswith("📋 摸底"), after=b_after
    )
    ask_summary = await press_for_reply(client, EXPERT_B, dossier, "✅ 结案")
    assert ask_summary.body.startswith(f"Na，{number} 的处理结论是什么？")
    # A usual conclusion by button: resolved, the member gets it, the prompt loses its buttons.
    m_after = await latest_id(client, member)
    await press(client, EXPERT_B, ask_summary, label="📞 已电话沟通")
    resolved = await wait_for(
        client, EXPERT_B, lambda m: m.body.startswith("✅"), after=ask_summary.message_id
    )
    assert resolved.body == f"✅ {number} 已结案，结论已发给会员。"
    told = await wait_for(client, member, lambda m: "已处理完毕" in m.body, after=m_after)
    assert t("zh", "tk_conclusion_phone") in told.body
    prompt_now = await client.wait_for_edit(
        EXPERT_B, ask_summary.message_id, after_version=ask_summary.version, timeout=30
    )
    assert prompt_now.buttons == []
    # The prompt is answered: the expert's next message is not taken as a conclusion.
    hint = await ask(client, EXPERT_B, "谢谢")
    assert hint.body == t("zh", "tk_team_hint")
