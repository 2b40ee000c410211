"""A member–expert conversation end to end, beyond the happy path: the routing rows not
covered in test_escalation.py (a reply to one's own ticket wins over the chosen ticket and
the FAQ mode), a relayed message that finally fails (its sender is told, in their language),
and the Resolve prompt given by command and left by its Cancel button.

The module runs its own bot with the escalation world of test_escalation.py. Faults are tied
to one chat, so nothing else the bot sends meanwhile can take them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.emulator.client import EmulatorClient
from tests.e2e.conftest import STAFF_CHAT_ID
from tests.e2e.test_escalation import (
    A_LABEL,
    EXPERT_A,
    LAWYER_LETTER,
    agree_if_asked,
    ask,
    build_world,
    labels,
    latest_id,
    number_in,
    press,
    press_for_reply,
    profiled_ticket,
    settle_private,
    start_escalation_bot,
    t,
    wait_for,
)
from tests.support.botproc import BotProcess, Emulator

BAD_REQUEST = {"error_code": 400, "description": "Bad Request: chat not found"}


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = start_escalation_bot(tmp_path_factory.mktemp("conversation"), emulator)
    asyncio.run(build_world(emulator.base_url))
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-5000:]


async def expert_writes(
    client: EmulatorClient, member: int, number: str, text: str
) -> tuple[int, int]:
    """The expert answers the ticket with /reply; (the member's copy, its receipt to the
    expert) message ids once both are there."""
    m_after = await latest_id(client, member)
    a_after = await latest_id(client, EXPERT_A)
    await client.send_text(EXPERT_A, f"/reply {number} {text}")
    copy = await wait_for(client, member, lambda m: text in m.body, after=m_after)
    receipt = await wait_for(
        client, EXPERT_A, lambda m: m.body == f"✅ 已发送给会员（{number}）。", after=a_after
    )
    return copy.message_id, receipt.message_id


async def test_a_reply_to_an_expert_message_goes_to_its_ticket_whatever_was_chosen(
    client: EmulatorClient, new_user_id: int
) -> None:
    """Routing row "reply to own ticket": the member is in FAQ mode, then writes to another
    ticket; a Telegram reply to the first ticket's expert message still goes to that ticket."""
    member = new_user_id
    first, named = await profiled_ticket(client, member, LAWYER_LETTER, name="回复")
    copy_id, _ = await expert_writes(client, member, first, "请补充律师函的日期")

    # ❓ New question: FAQ mode. A reply to the expert's message goes to the expert anyway.
    await press_for_reply(client, member, named, "❓ 问新问题")
    a_after = await latest_id(client, EXPERT_A)
    m_after = await latest_id(client, member)
    await client.send_text(member, "律师函是12月1日收到的", reply_to_message_id=copy_id)
    relayed = await wait_for(client, EXPERT_A, lambda m: "12月1日" in m.body, after=a_after)
    assert relayed.body.startswith(f"📨 {first}")
    ack = await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_after)
    assert ack.body.startswith(f"✅ 已转给{A_LABEL}，咨询编号 {first}。")

    # A second ticket is opened and chosen; a reply to the first one's message still goes
    # to the first ticket, and a plain message then goes where the member last wrote.
    await press_for_reply(client, member, ack, "❓ 问新问题")
    answer = await ask(client, member, "客户起诉了我们，传票要求下周一应诉，怎么办")
    second_named = await press_for_reply(client, member, answer, "咨询专家 🧑‍⚖️")
    second = number_in(second_named)
    assert second != first
    await settle_private(client, member)
    a_after = await latest_id(client, EXPERT_A)
    await client.send_text(member, "第一件：对方律师姓王", reply_to_message_id=copy_id)
    again = await wait_for(client, EXPERT_A, lambda m: "对方律师姓王" in m.body, after=a_after)
    assert again.body.startswith(f"📨 {first}")
    await client.send_text(member, "第一件：还有一份合同")
    plain = await wait_for(client, EXPERT_A, lambda m: "还有一份合同" in m.body, after=a_after)
    assert plain.body.startswith(f"📨 {first}")


async def test_a_message_that_cannot_be_passed_on_is_told_to_the_member(
    client: EmulatorClient, new_user_id: int
) -> None:
    """No expert takes copyright here, so the member's messages go to the staff group. When
    Telegram refuses the copy for good, the outbox marks the row failed and the member is
    told, in English."""
    member = new_user_id
    await client.create_user(member, "Eve", language_code="en")
    answer = await ask(client, member, "how do I register copyright for software")
    notice = await press_for_reply(client, member, answer, "Ask an expert 🧑‍⚖️")
    prompt = await agree_if_asked(client, member, notice)
    assert "1/3" in prompt.body
    choices = await ask(client, member, "Bright Star Textiles")
    contact = await press_for_reply(
        client, member, choices, "Ningbo Bright Star Textiles Co., Ltd. ✓member"
    )
    phone = await ask(client, member, "Eve Wu")
    named = await press_for_reply(client, member, phone, "Skip")
    del contact
    number = number_in(named)
    await wait_for(client, STAFF_CHAT_ID, lambda m: number in m.body)  # the card is out

    await client.inject_fault("sendMessage", chat_id=STAFF_CHAT_ID, **BAD_REQUEST)  # type: ignore[arg-type]
    m_after = await latest_id(client, member)
    await client.send_text(member, "This one will not get through")
    told = await wait_for(client, member, lambda m: m.body.startswith("😔"), after=m_after)
    assert told.body == t(
        "en", "tk_relay_failed_member", number=number, excerpt="This one will not get through"
    )
    assert await client.faults() == []
    # No receipt claims it was passed on, and the group has nothing.
    after = [m for m in await client.messages(member) if m.message_id > m_after]
    assert not any(m.body.startswith("✅") for m in after)
    assert not [m for m in await client.messages(STAFF_CHAT_ID) if "not get through" in m.body]

    # The next message goes through as usual.
    await client.send_text(member, "Second try")
    await wait_for(client, STAFF_CHAT_ID, lambda m: "Second try" in m.body)


async def test_a_reply_that_cannot_reach_the_member_is_told_to_the_expert(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    number, _ = await profiled_ticket(client, member, LAWYER_LETTER, name="失败")
    await expert_writes(client, member, number, "您好，我是承办专家")
    # The first reply claimed the ticket: the member's "who answers" notice is out first,
    # so the fault below can only meet the next reply.
    await wait_for(client, member, lambda m: "已接手您的咨询" in m.body)
    await client.inject_fault("sendMessage", chat_id=member, **BAD_REQUEST)  # type: ignore[arg-type]
    a_after = await latest_id(client, EXPERT_A)
    await client.send_text(EXPERT_A, f"/reply {number} 请提供专利号")
    told = await wait_for(client, EXPERT_A, lambda m: m.body.startswith("⚠️"), after=a_after)
    assert told.body == t("zh", "tk_relay_failed_team", number=number, excerpt="请提供专利号")
    assert not [m for m in await client.messages(member) if "专利号" in m.body]


async def test_resolve_by_command_asks_and_its_cancel_button_leaves_the_ticket_open(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    number, _ = await profiled_ticket(client, member, LAWYER_LETTER, name="结案")
    # The assignment notice goes out through the outbox: once it is there, the next message
    # in the expert's chat is the answer to the command.
    await wait_for(client, EXPERT_A, lambda m: number in m.body and "分配给您" in m.body)
    prompt = await ask(client, EXPERT_A, f"/resolve {number}")
    assert prompt.body.startswith(f"Wei，{number} 的处理结论是什么？")
    assert labels(prompt) == [
        "💬 已在对话中答复", "📞 已电话沟通", "➡️ 建议委托代理机构或律师", "取消"
    ]  # fmt: skip
    answered = await press(client, EXPERT_A, prompt, label="取消")
    assert answered.text == t("zh", "tk_cancelled")
    edited = await client.wait_for_edit(
        EXPERT_A, prompt.message_id, after_version=prompt.version, timeout=30
    )
    assert edited.buttons == []
    # The prompt is gone: the next message is not a conclusion, and the ticket is open.
    hint = await ask(client, EXPERT_A, "好的")
    assert hint.body == t("zh", "tk_team_hint")
    own = await ask(client, EXPERT_A, f"/ticket {number}")
    assert "已解决" not in own.body
