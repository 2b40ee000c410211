"""Escalation to a named expert, end to end: the real `ipdesk run` process on the emulator.

The module starts its own bot (a roster and the member list are imported into its database
first, with the `ipdesk` command line) and builds one world: three experts, two secretaries,
an admin and a stranger, all in the staff group, where the bot is an administrator.

Telegram allows a bot about 20 messages a minute in one group and the bot's rate limiter
enforces it, so the tests keep the staff group's traffic small and wait generously there.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.emulator.client import BotMessage, CallbackRecord, EmulatorClient, tiny_png
from bot.i18n import load_catalog
from bot.knowledge import build_engine
from bot.settings import Settings
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.support.botproc import ROOT, BotProcess, Emulator

CATALOG = load_catalog()
NUMBER = re.compile(r"\bIP-\d{4}-\d{4,}\b")

EXPERT_A = 810001  # 张伟: trademark, patent, infringement, general; zh+en
EXPERT_B = 810002  # 李娜: patent; zh
EXPERT_C = 810003  # 陈洁: copyright; inactive — nobody takes copyright
STAFF_1 = 820001
STAFF_2 = 820002
STRANGER = 830001
A_USERNAME = "zhangwei_private"

ROSTER = f"""\
experts:
  - key: zhang-wei
    telegram_user_id: {EXPERT_A}
    name: {{zh: 张伟, en: Zhang Wei}}
    title: {{zh: 律师、商标代理人, en: Attorney and trademark agent}}
    organisation: {{zh: 宁波甬知律师事务所, en: Ningbo Yongzhi Law Firm}}
    categories: [trademark, patent, infringement, general]
    languages: [zh, en]
    max_open_tickets: 50
  - key: li-na
    telegram_user_id: {EXPERT_B}
    name: {{zh: 李娜, en: Li Na}}
    title: {{zh: 专利代理师, en: Patent attorney}}
    categories: [patent]
    languages: [zh]
    max_open_tickets: 6
  - key: chen-jie
    telegram_user_id: {EXPERT_C}
    name: {{zh: 陈洁, en: Chen Jie}}
    categories: [copyright]
    languages: [zh, en]
    active: false
"""

LAWYER_LETTER = "我们收到律师函，说我们侵犯了专利ZL201910123456.7，要求7天内答复，怎么办？"
A_LABEL = "张伟（律师、商标代理人 · 宁波甬知律师事务所）"


def t(lang: str, key: str, **values: object) -> str:
    """A catalog string as the user reads it (tags stripped, entities unescaped)."""
    text = CATALOG.t(lang, key, **values) if values else CATALOG.raw(lang, key)  # type: ignore[arg-type]
    text = re.sub(r"</?[a-z]+>", "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ------------------------------------------------------------------ the bot and the world


def import_roster_and_members(proc: BotProcess) -> None:
    roster = proc.workdir / "experts.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    members = ROOT / "tests" / "data" / "members.example.csv"
    for args in (["experts", "import", str(roster)], ["members", "import", str(members)]):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=proc.workdir,
            env=proc.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def start_escalation_bot(workdir: Path, emulator: Emulator) -> BotProcess:
    proc = BotProcess.configure(
        workdir,
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        FLOOD_MAX_MESSAGES="60",
        FLOOD_WINDOW_SECONDS="10",
        EXPERT_FIRST_REPLY_HOURS="8",
    )
    import_roster_and_members(proc)
    proc.start()
    wait_until_polling(emulator)
    return proc


async def build_world(base_url: str) -> None:
    """Users, the staff group with the bot as administrator, two secretaries (/role)."""
    async with EmulatorClient(base_url) as client:
        await client.create_user(ADMIN_ID, "管理员", language_code="zh-hans")
        await client.create_user(EXPERT_A, "Wei", language_code="zh-hans", username=A_USERNAME)
        await client.create_user(EXPERT_B, "Na", language_code="zh-hans")
        await client.create_user(EXPERT_C, "Jie", language_code="zh-hans")
        await client.create_user(STAFF_1, "王秘书", language_code="zh-hans")
        await client.create_user(STAFF_2, "赵秘书", language_code="zh-hans")
        await client.create_user(STRANGER, "路人", language_code="zh-hans")
        team = [ADMIN_ID, EXPERT_A, EXPERT_B, EXPERT_C, STAFF_1, STAFF_2, STRANGER]
        await client.create_group(
            "协会秘书处", chat_id=STAFF_CHAT_ID, member_ids=team, creator_id=ADMIN_ID
        )
        await client.add_bot_to_group(STAFF_CHAT_ID, ADMIN_ID, as_admin=True)
        for staff_id in (STAFF_1, STAFF_2):
            await client.send_text(ADMIN_ID, f"/role {staff_id} staff")
            reply = await client.wait_for_message(ADMIN_ID)
            assert reply.body == f"用户 {staff_id} 的角色：member → staff", reply.body


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = start_escalation_bot(tmp_path_factory.mktemp("escalation"), emulator)
    asyncio.run(build_world(emulator.base_url))
    yield proc
    code = proc.stop()
    assert code == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-5000:]


# ------------------------------------------------------------------ helpers


async def latest_id(client: EmulatorClient, chat_id: int) -> int:
    messages = await client.messages(chat_id, sender="all")
    return messages[-1].message_id if messages else 0


async def wait_for(
    client: EmulatorClient,
    chat_id: int,
    predicate: Callable[[BotMessage], bool],
    *,
    after: int = 0,
    within: float = 30,
) -> BotMessage:
    """The first bot message in the chat after ``after`` that satisfies ``predicate``."""
    deadline = time.monotonic() + within
    while True:
        for message in await client.messages(chat_id):
            if message.message_id > after and predicate(message):
                return message
        if time.monotonic() > deadline:
            bodies = [m.body[:80] for m in await client.messages(chat_id)][-8:]
            raise AssertionError(f"nothing matched in chat {chat_id}; last: {bodies}")
        await asyncio.sleep(0.1)


async def wait_for_all(
    client: EmulatorClient,
    chat_id: int,
    predicate: Callable[[BotMessage], bool],
    count: int,
    *,
    after: int = 0,
    within: float = 30,
) -> list[BotMessage]:
    deadline = time.monotonic() + within
    while True:
        found = [
            m for m in await client.messages(chat_id) if m.message_id > after and predicate(m)
        ]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} messages in chat {chat_id}")
        await asyncio.sleep(0.1)


async def wait_card(
    client: EmulatorClient, message_id: int, predicate: Callable[[BotMessage], bool]
) -> BotMessage:
    """The staff-group card once it satisfies ``predicate`` (it is edited asynchronously)."""
    deadline = time.monotonic() + 30
    while True:
        card = await client.message(STAFF_CHAT_ID, message_id)
        if predicate(card):
            return card
        if time.monotonic() > deadline:
            raise AssertionError(card.body)
        await asyncio.sleep(0.1)


async def ask(client: EmulatorClient, user_id: int, text: str, **kw: object) -> BotMessage:
    after = await latest_id(client, user_id)
    await client.send_text(user_id, text, **kw)  # type: ignore[arg-type]
    return await client.wait_for_message(user_id, after_message_id=after, timeout=20)


async def press(
    client: EmulatorClient,
    user_id: int,
    message: BotMessage,
    *,
    label: str | None = None,
    data: str | None = None,
) -> CallbackRecord:
    """Press a button (by label, or any data) and return the bot's answer."""
    record = await client.press_button(
        user_id, message.message_id, label=label, data=data, chat_id=message.chat_id
    )
    return await client.wait_for_callback_answer(record.query_id, timeout=30)


async def press_for_reply(
    client: EmulatorClient, user_id: int, message: BotMessage, label: str
) -> BotMessage:
    after = await latest_id(client, user_id)
    await press(client, user_id, message, label=label)
    return await client.wait_for_message(user_id, after_message_id=after, timeout=20)


def labels(message: BotMessage) -> list[str]:
    return [b.text for b in message.buttons]


def number_in(message: BotMessage) -> str:
    found = NUMBER.search(message.body)
    assert found, message.body
    return found[0]


def card_of(number: str) -> Callable[[BotMessage], bool]:
    return lambda m: m.body.startswith("🎫") and number in m.body


def ticket_id_of(card: BotMessage) -> int:
    data = card.button("✋ 认领").callback_data
    assert data is not None
    assert data.startswith("cl:")
    return int(data.removeprefix("cl:"))


AGREE = ("同意", "I agree")
"""The button under the personal-data notice."""


async def agree_if_asked(client: EmulatorClient, member: int, message: BotMessage) -> BotMessage:
    """The first time a member's profile is needed the notice comes first: agree to it and
    return the bot's next message (the first profile question); else ``message``."""
    for label in AGREE:
        if label in labels(message):
            assert "/mydata" in message.body, message.body
            assert "/forget" in message.body, message.body
            return await press_for_reply(client, member, message, label)
    return message


async def escalate(
    client: EmulatorClient, member: int, question: str, *, label: str = "咨询专家 🧑‍⚖️"
) -> BotMessage:
    """Ask ``question``, press "Ask an expert" under the reply (and agree to the notice if
    it is shown); the bot's next message."""
    reply = await ask(client, member, question)
    assert label in labels(reply), reply.body
    return await agree_if_asked(
        client, member, await press_for_reply(client, member, reply, label)
    )


async def complete_profile(
    client: EmulatorClient,
    member: int,
    prompt: BotMessage,
    *,
    company: str,
    pick: str | None,
    contact: str,
    phone: str | None,
) -> BotMessage:
    """Answer the profile dialogue; returns the message that names the expert."""
    assert "1/3" in prompt.body, prompt.body
    choices = await ask(client, member, company)
    if pick is not None:
        contact_prompt = await press_for_reply(client, member, choices, pick)
    else:
        contact_prompt = choices
    assert "2/3" in contact_prompt.body, contact_prompt.body
    phone_prompt = await ask(client, member, contact)
    assert "3/3" in phone_prompt.body, phone_prompt.body
    if phone is None:
        return await press_for_reply(client, member, phone_prompt, "跳过")
    return await ask(client, member, phone)


async def profiled_ticket(
    client: EmulatorClient, member: int, question: str, name: str = "测试"
) -> tuple[str, BotMessage]:
    """A fresh member escalates and completes the profile (海天塑机, no phone)."""
    await client.create_user(member, name, language_code="zh-hans")
    prompt = await escalate(client, member, question)
    named = await complete_profile(
        client,
        member,
        prompt,
        company="海天塑机",
        pick="宁波海天塑机股份有限公司 ✓会员",
        contact=name,
        phone=None,
    )
    return number_in(named), named


async def settle_private(client: EmulatorClient, user_id: int) -> None:
    """A chat's updates are handled in order: once /mytickets is answered, the chat's earlier
    ones were (other chats are handled concurrently: this proves nothing about them)."""
    after = await latest_id(client, user_id)
    await client.send_text(user_id, "/mytickets")
    await client.wait_for_message(user_id, after_message_id=after, timeout=20)


# ------------------------------------------------------------------ the whole flow


async def test_member_escalates_to_a_named_expert_and_they_talk_through_the_bot(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    engine = build_engine(Settings(_env_file=None))  # type: ignore[call-arg]
    read_title = engine.kb.get("tm-term-renewal").title["zh"]  # type: ignore[union-attr]
    await client.create_user(member, "李", language_code="zh-hans", username="li_member")
    read = await ask(client, member, "我们的商标快到期了怎么办")
    assert read.body.startswith(read_title)

    # "Ask an expert": the number at once, then the short profile dialogue.
    prompt = await escalate(client, member, LAWYER_LETTER)
    assert prompt.body.startswith("已记录您的专家咨询请求")
    number = number_in(prompt)
    assert "1/3 贵公司的名称是？" in prompt.body
    assert [b.callback_data for b in prompt.buttons] == ["pq"]

    choices = await ask(client, member, "甬兴电器")
    assert "宁波市甬兴电器有限公司 ✓会员" in labels(choices)
    assert labels(choices)[-2:] == ["都不是，就用「甬兴电器」", "取消"]
    contact_prompt = await press_for_reply(client, member, choices, "宁波市甬兴电器有限公司 ✓会员")
    assert contact_prompt.body.startswith("已确认：宁波市甬兴电器有限公司（协会会员）。")
    phone_prompt = await ask(client, member, "李明")
    assert "3/3" in phone_prompt.body
    assert labels(phone_prompt) == ["跳过", "取消"]
    bad = await ask(client, member, "12345")
    assert bad.body == t("zh", "tk_profile_phone_bad_format")
    assert labels(bad) == ["跳过", "取消"]

    named = await ask(client, member, "138 1234 5678")
    assert named.body.startswith("已记录电话 13812345678。")
    assert f"您的咨询 {number} 已交给 {A_LABEL}。" in named.body
    assert "预计1 个工作日内给您首次答复。" in named.body
    assert A_USERNAME not in named.body
    assert str(EXPERT_A) not in named.body
    assert labels(named) == ["✍️ 补充说明或材料", "✖️ 结束咨询", "❓ 问新问题"]

    # The card in the staff group.
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    for part in (
        "侵权维权",
        "宁波市甬兴电器有限公司 · ✅ 会员 NBIP-0001",
        "联系人和电话：仅承办专家和管理员可见",
        "律师函",
        "⏰ 期限：",
        f"专家：{A_LABEL}",
        "状态：已分配",
    ):
        assert part in card.body, (part, card.body)
    assert "13812345678" not in card.body  # need-to-know: not for the whole group
    assert "李明" not in card.body
    assert labels(card) == ["✋ 认领", "🔁 改派", "✅ 结案"]
    ticket_id = ticket_id_of(card)
    assert [b.callback_data for b in card.buttons] == [
        f"cl:{ticket_id}",
        f"ra:{ticket_id}",
        f"rs:{ticket_id}",
    ]

    # The expert is told privately, and claims on the card.
    notice = await wait_for(client, EXPERT_A, lambda m: number in m.body and "分配给您" in m.body)
    assert labels(notice) == ["✋ 认领"]
    assert "李明 · ☎️ 13812345678" in notice.body  # the assigned expert has the contact
    a_after = await latest_id(client, EXPERT_A)
    claimed = await press(client, EXPERT_A, card, label="✋ 认领")
    assert claimed.text == t("zh", "tk_claimed", number=number)
    # Cards are edited through the outbox (coalesced): wait for the state, not for one edit.
    edited = await wait_card(client, card.message_id, lambda c: "状态：处理中" in c.body)
    assert "认领：张伟" in edited.body
    assert labels(edited) == ["🔁 改派", "✅ 结案"]  # held: no Claim button any more
    # The member learns who took it up, by name and title (never an account).
    taken = await wait_for(client, member, lambda m: "已接手您的咨询" in m.body)
    assert taken.body.startswith(f"👤 {A_LABEL}已接手您的咨询 {number}。")

    # 摸底: company, membership, history, FAQ read recently.
    dossier = await wait_for(
        client, EXPERT_A, lambda m: m.body.startswith("📋 摸底"), after=a_after
    )
    for part in (
        number,
        "宁波市甬兴电器有限公司 · ✅ 会员 NBIP-0001",
        "以往咨询（共 0 件）",
        "近期阅读的常见问题",
        read_title,
    ):
        assert part in dossier.body, (part, dossier.body)

    # Member → expert: text, photo, document, album; each stored and passed on with a header.
    header = f"📨 {number} · 宁波市甬兴电器有限公司 · 李明"
    m_after = await latest_id(client, member)
    sent_text = await client.send_text(member, "补充：对方要求我们下周五前停止销售。")
    relayed_text = await wait_for(client, EXPERT_A, lambda m: "停止销售" in m.body, after=a_after)
    assert relayed_text.body.startswith(header)
    assert relayed_text.message.get("forward_origin") is None
    ack = await client.wait_for_message(member, after_message_id=m_after)
    assert ack.body == f"✅ 已转给{A_LABEL}，咨询编号 {number}。想问别的问题，点「❓ 问新问题」。"

    await client.send_photo(member, tiny_png(4, 4), caption="商标注册证")
    relayed_photo = await wait_for(client, EXPERT_A, lambda m: m.photo is not None, after=a_after)
    assert relayed_photo.body == f"{header}\n商标注册证"

    letter = b"%PDF-1.4\n% lawyer's letter\n"
    await client.send_document(member, letter, "律师函.pdf", mime_type="application/pdf")
    relayed_doc = await wait_for(client, EXPERT_A, lambda m: m.document is not None, after=a_after)
    assert relayed_doc.document is not None
    assert relayed_doc.document["file_name"] == "律师函.pdf"
    assert await client.file_content(relayed_doc.document["file_id"]) == letter
    assert relayed_doc.body == header

    for index in range(3):
        await client.send_photo(
            member,
            tiny_png(2 + index, 2),
            media_group_id="escalation-album-1",
            caption="现场照片" if index == 0 else None,
        )
    album = await wait_for_all(
        client, EXPERT_A, lambda m: m.media_group_id is not None, 3, after=a_after
    )
    assert len({m.media_group_id for m in album}) == 1
    assert album[0].body == f"{header}\n现场照片"
    groups = [
        c for c in await client.api_calls("sendMediaGroup") if c.params.get("chat_id") == EXPERT_A
    ]
    assert len(groups) == 1

    # Expert → member: a reply to the relayed message; the expert's name, never the account.
    m_after = await latest_id(client, member)
    await client.send_text(
        EXPERT_A, "您好，请把律师函原件发给我。", reply_to_message_id=relayed_text.message_id
    )
    # The member's chat may still receive acknowledgements of the album: wait for the reply.
    answer = await wait_for(client, member, lambda m: m.body.startswith("💬"), after=m_after)
    assert answer.body == f"💬 张伟 · {number}\n您好，请把律师函原件发给我。"
    assert A_USERNAME not in (answer.raw_text or "")
    assert str(EXPERT_A) not in answer.body
    assert answer.message.get("forward_origin") is None
    sent_ack = await wait_for(client, EXPERT_A, lambda m: m.body.startswith("✅ 已发送给会员"))
    assert number in sent_ack.body

    await client.send_photo(
        EXPERT_A, tiny_png(3, 3), caption="请看标注", reply_to_message_id=relayed_photo.message_id
    )
    photo_back = await wait_for(client, member, lambda m: m.photo is not None, after=m_after)
    assert photo_back.body == f"💬 张伟 · {number}\n请看标注"
    opinion = b"PK\x03\x04 opinion"
    await client.send_document(
        EXPERT_A, opinion, "意见书.docx", reply_to_message_id=relayed_doc.message_id
    )
    doc_back = await wait_for(client, member, lambda m: m.document is not None, after=m_after)
    assert doc_back.document is not None
    assert doc_back.document["file_name"] == "意见书.docx"
    assert await client.file_content(doc_back.document["file_id"]) == opinion

    await client.send_text(EXPERT_A, f"/reply {number} 明天上午我给您打电话。")
    by_command = await wait_for(client, member, lambda m: "明天上午" in m.body, after=m_after)
    assert by_command.body == f"💬 张伟 · {number}\n明天上午我给您打电话。"

    # Edits are not passed on: the member is told to send a correction instead.
    m_after = await latest_id(client, member)
    await client.edit_text(member, sent_text["message_id"], "补充：对方要求我们下周一前停止销售。")
    edit_notice = await wait_for(client, member, lambda m: "修改后的内容" in m.body, after=m_after)
    assert edit_notice.body == t("zh", "tk_edit_not_relayed")

    # The member replying to the expert's message stays on the ticket.
    m_after = await latest_id(client, member)
    await client.send_text(member, "好的，谢谢！", reply_to_message_id=answer.message_id)
    await wait_for(client, EXPERT_A, lambda m: "好的，谢谢" in m.body, after=a_after)
    # Its receipt goes out just after the copy: wait for it, so that the member's /ticket
    # below is answered by the next message in the chat.
    await wait_for(client, member, lambda m: m.body.startswith("✅ 已转给"), after=m_after)

    # A private note never reaches the member.
    secret = "内部：会员可能需要应诉准备"
    note_ack = await ask(client, EXPERT_A, f"/note {number} {secret}")
    assert note_ack.body == f"📝 已为 {number} 添加内部备注（会员看不到）。"
    history = await ask(client, STAFF_1, f"/ticket {number}")
    assert f"🗂 {number} 全部记录" in history.body
    assert secret in history.body
    assert "补充：对方要求" in history.body
    assert "[文件 律师函.pdf]" in history.body
    own = await ask(client, member, f"/ticket {number}")
    assert own.body.startswith(f"🎫 {number} · 处理中")
    assert "明天上午我给您打电话" in own.body
    assert secret not in own.body

    # Resolve: the card is edited, the member gets the conclusion.
    m_after = await latest_id(client, member)
    done = await ask(
        client, EXPERT_A, f"/resolve {number} 已指导会员在期限内书面答复，并准备不侵权证据。"
    )
    assert done.body == f"✅ {number} 已结案，结论已发给会员。"
    resolved_card = await wait_card(client, card.message_id, lambda c: "状态：已解决" in c.body)
    assert "结论：已指导会员在期限内书面答复" in resolved_card.body
    assert resolved_card.buttons == []
    told = await wait_for(client, member, lambda m: "已处理完毕" in m.body, after=m_after)
    assert "已指导会员在期限内书面答复" in told.body
    assert labels(told) == ["↩️ 重新打开", "❓ 问新问题"]

    everything = " ".join(m.body for m in await client.messages(member))
    assert secret not in everything
    assert A_USERNAME not in everything

    # A second question: the profile is complete, so the expert is named at once, and the
    # dossier now shows the first request with its conclusion.
    second = await escalate(client, member, "客户起诉了我们，传票要求下周一应诉，怎么办")
    assert "已交给" in second.body
    assert "1/3" not in second.body
    second_number = number_in(second)
    assert second_number != number
    second_card = await wait_for(client, STAFF_CHAT_ID, card_of(second_number))
    assert "🔴 紧急" in second_card.body  # a summons makes it urgent
    a_after = await latest_id(client, EXPERT_A)
    await press(client, EXPERT_A, second_card, label="✋ 认领")
    dossier2 = await wait_for(
        client, EXPERT_A, lambda m: m.body.startswith("📋 摸底"), after=a_after
    )
    assert "以往咨询（共 1 件）" in dossier2.body
    assert number in dossier2.body
    assert "已指导会员在期限内书面答复" in dossier2.body


# ------------------------------------------------------------------ races and refusals


async def test_concurrent_claims_exactly_one_wins(
    client: EmulatorClient, new_user_id: int
) -> None:
    number, _ = await profiled_ticket(client, new_user_id, LAWYER_LETTER, "孙")
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    first, second = await asyncio.gather(
        client.press_button(STAFF_1, card.message_id, label="✋ 认领", chat_id=STAFF_CHAT_ID),
        client.press_button(STAFF_2, card.message_id, label="✋ 认领", chat_id=STAFF_CHAT_ID),
    )
    answers = [
        await client.wait_for_callback_answer(first.query_id, timeout=30),
        await client.wait_for_callback_answer(second.query_id, timeout=30),
    ]
    texts = sorted(a.text or "" for a in answers)
    won = [x for x in texts if x.startswith(f"已认领 {number}")]
    lost = [x for x in texts if x.startswith(f"{number} 已由")]
    assert len(won) == 1, texts
    assert len(lost) == 1, texts
    winner = "王秘书" if answers[0].text == won[0] else "赵秘书"
    assert lost[0] == f"{number} 已由 {winner} 负责。"
    edited = await wait_card(client, card.message_id, lambda c: "认领：" in c.body)
    assert f"认领：{winner}" in edited.body


async def test_forged_and_stale_buttons_are_refused(
    client: EmulatorClient, new_user_id: int
) -> None:
    member, other = new_user_id, new_user_id + 300_000
    number, named = await profiled_ticket(client, member, LAWYER_LETTER, "周")
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    ticket_id = ticket_id_of(card)
    stale = t("zh", "stale_button")

    # A member forging team buttons on their own message learns nothing.
    for data in (f"cl:{ticket_id}", f"rx:{ticket_id}.1", f"rs:{ticket_id}", "cl:999999"):
        answered = await press(client, member, named, data=data)
        assert answered.text == stale, data
        assert answered.show_alert, data
    # Staff pressing a claim for a ticket that does not exist.
    answered = await press(client, STAFF_1, card, data="cl:999999")
    assert answered.text == stale
    # An expert (not staff) may not reassign.
    answered = await press(client, EXPERT_B, card, data=f"rx:{ticket_id}.1")
    assert answered.text == t("zh", "tk_err_not_allowed")
    # Reassigning to an expert that does not exist.
    answered = await press(client, STAFF_1, card, data=f"rx:{ticket_id}.999")
    assert answered.text == stale
    # Another member cannot close, write to or reopen this ticket.
    await client.create_user(other, "吴", language_code="zh-hans")
    welcome = await ask(client, other, "/start")
    for data in (f"tc:{ticket_id}", f"tk:{ticket_id}", f"tr:{ticket_id}", "pc:1", "ps", "pq"):
        answered = await press(client, other, welcome, data=data)
        assert answered.text == stale, data
    # Nothing changed: the card is as it was, the ticket still open.
    assert (await client.message(STAFF_CHAT_ID, card.message_id)).version == card.version
    own = await ask(client, member, f"/ticket {number}")
    assert "已分配" in own.body

    # The owner may close it (and reopen it); the card and the expert follow.
    a_after = await latest_id(client, EXPERT_A)
    closed = await press_for_reply(client, member, named, "✖️ 结束咨询")
    assert closed.body.startswith(f"咨询 {number} 已结束。")
    assert labels(closed) == ["↩️ 重新打开", "❓ 问新问题"]
    closed_card = await wait_card(client, card.message_id, lambda c: "状态：已关闭" in c.body)
    assert closed_card.buttons == []
    await wait_for(
        client, EXPERT_A, lambda m: m.body == f"会员已结束咨询 {number}。", after=a_after
    )
    again = await press(client, member, named, label="✖️ 结束咨询")
    assert again.text == stale  # already closed
    reopened = await press_for_reply(client, member, closed, "↩️ 重新打开")
    assert reopened.body == f"咨询 {number} 已重新打开，您可以继续留言。"
    await wait_card(client, card.message_id, lambda c: "状态：处理中" in c.body)


async def test_member_cannot_see_another_members_ticket(
    client: EmulatorClient, new_user_id: int
) -> None:
    owner, snoop = new_user_id, new_user_id + 300_000
    await client.create_user(owner, "郑", language_code="zh-hans")
    prompt = await escalate(client, owner, LAWYER_LETTER)
    number = number_in(prompt)
    await client.create_user(snoop, "Snoop", language_code="en")
    for asked in (number, number.lower(), "IP-2020-0001", "nonsense"):
        reply = await ask(client, snoop, f"/ticket {asked}")
        assert reply.body == t("en", "tk_err_not_found"), asked
        assert "律师函" not in reply.body
    mine = await ask(client, snoop, "/mytickets")
    assert mine.body == t("en", "tk_mytickets_empty")


async def test_stranger_in_the_staff_group_gets_nothing(
    client: EmulatorClient, new_user_id: int
) -> None:
    number, _ = await profiled_ticket(client, new_user_id, LAWYER_LETTER, "冯")
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    group_before = await latest_id(client, STAFF_CHAT_ID)

    refused = await press(client, STRANGER, card, label="✋ 认领")
    assert refused.text == t("zh", "tk_not_team")
    await client.send_text(STRANGER, "/queue", chat_id=STAFF_CHAT_ID)
    await client.send_text(STRANGER, f"/ticket {number}", chat_id=STAFF_CHAT_ID)
    await client.send_text(
        STRANGER, "我也想看看", chat_id=STAFF_CHAT_ID, reply_to_message_id=card.message_id
    )
    # A secretary's /help is answered; nothing came before it.
    await client.send_text(STAFF_1, "/help", chat_id=STAFF_CHAT_ID)
    sentinel = await wait_for(
        client, STAFF_CHAT_ID, lambda m: m.body.startswith("秘书处与专家使用说明"),
        after=group_before,
    )  # fmt: skip
    between = [
        m
        for m in await client.messages(STAFF_CHAT_ID)
        if group_before < m.message_id < sentinel.message_id
    ]
    assert between == []
    assert (await client.message(STAFF_CHAT_ID, card.message_id)).version == card.version


# ------------------------------------------------------------------ several tickets, FAQ


async def test_two_open_tickets_the_member_chooses_and_can_switch(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    first_number, named = await profiled_ticket(client, member, LAWYER_LETTER, "陈")

    # ❓ New question: the next text goes to the FAQ assistant, not to the ticket.
    mode = await press_for_reply(client, member, named, "❓ 问新问题")
    assert mode.body == t("zh", "tk_new_question_mode")
    answer = await ask(client, member, "外观设计专利保护多少年")
    assert answer.body.endswith(t("zh", "answer_prompt"))
    # A patent question: the patent attorney with fewer open tickets (李娜) takes it.
    second = await press_for_reply(client, member, answer, "咨询专家 🧑‍⚖️")
    second_number = number_in(second)
    assert "已交给 李娜（专利代理师）" in second.body

    # The new ticket is remembered: the next message goes to its expert.
    a_after = await latest_id(client, EXPERT_A)
    b_after = await latest_id(client, EXPERT_B)
    m_after = await latest_id(client, member)
    await client.send_text(member, "外观设计图纸稍后发送")
    to_b = await wait_for(client, EXPERT_B, lambda m: "外观设计图纸" in m.body, after=b_after)
    assert to_b.body.startswith(f"📨 {second_number} · 宁波海天塑机股份有限公司 · 陈")
    ack = await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_after)
    assert ack.body == (
        f"✅ 已转给李娜（专利代理师），咨询编号 {second_number}。想问别的问题，点「❓ 问新问题」。"
    )
    assert labels(ack) == ["❓ 问新问题", "🔀 切换咨询"]

    # 🔀 Switch: the member's tickets, ✍️ on the first one.
    listing = await press_for_reply(client, member, ack, "🔀 切换咨询")
    assert first_number in listing.body
    assert second_number in listing.body
    prompt = await press_for_reply(client, member, listing, f"✍️ 写给 {first_number}")
    assert prompt.body == t("zh", "tk_add_prompt", number=first_number)
    m_after = await latest_id(client, member)
    await client.send_text(member, "第一件的补充材料")
    to_a = await wait_for(client, EXPERT_A, lambda m: "第一件的补充材料" in m.body, after=a_after)
    assert to_a.body.startswith(f"📨 {first_number}")
    # Its receipt follows the copy: once it is there, /start below is answered next.
    receipt = await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_after)
    assert first_number in receipt.body

    # A third ticket, resolved at once: with two open and none chosen, the member picks.
    welcome = await ask(client, member, "/start")
    assert t("zh", "tk_start_open", count=2) in welcome.body
    third = await escalate(client, member, "客户起诉了我们，传票要求下周一应诉，怎么办")
    third_number = number_in(third)
    a_after = await latest_id(client, EXPERT_A)
    await client.send_text(EXPERT_A, f"/resolve {third_number} 已电话沟通应诉事宜")
    await wait_for(
        client, EXPERT_A, lambda m: m.body.startswith(f"✅ {third_number}"), after=a_after
    )
    m_after = await latest_id(client, member)
    await client.send_text(member, "这条消息属于哪件？")
    chooser = await wait_for(
        client, member, lambda m: m.body == t("zh", "tk_choose_ticket"), after=m_after
    )
    assert sorted(label.split(" · ")[0] for label in labels(chooser)) == sorted(
        [first_number, second_number]
    )
    await client.send_text(member, "还有一条")  # held as well, no second chooser
    await settle_private(client, member)
    following = [m for m in await client.messages(member) if m.message_id > chooser.message_id]
    assert following[0].body.startswith("我的专家咨询")
    a_after = await latest_id(client, EXPERT_A)
    first_label = next(label for label in labels(chooser) if label.startswith(first_number))
    await press(client, member, chooser, label=first_label)
    held = await wait_for_all(
        client,
        EXPERT_A,
        lambda m: "这条消息属于哪件" in m.body or "还有一条" in m.body,
        2,
        after=a_after,
    )
    assert all(m.body.startswith(f"📨 {first_number}") for m in held)
    # …and the choice is remembered.
    await client.send_text(member, "再补充一句")
    again = await wait_for(client, EXPERT_A, lambda m: "再补充一句" in m.body, after=a_after)
    assert again.body.startswith(f"📨 {first_number}")


async def test_unassigned_ticket_is_served_in_the_staff_group_then_reassigned(
    client: EmulatorClient, new_user_id: int
) -> None:
    member = new_user_id
    await client.create_user(member, "Amy", language_code="en")
    answer = await ask(client, member, "how do I register copyright for software")
    notice = await press_for_reply(client, member, answer, "Ask an expert 🧑‍⚖️")
    assert labels(notice) == ["I agree", "Cancel"]
    assert "Personal data notice" in notice.body
    prompt = await agree_if_asked(client, member, notice)
    assert "1/3" in prompt.body
    choices = await ask(client, member, "Bright Star Textiles")
    contact = await press_for_reply(
        client, member, choices, "Ningbo Bright Star Textiles Co., Ltd. ✓member"
    )
    phone = await ask(client, member, "Amy Lin")
    named = await press_for_reply(client, member, phone, "Skip")
    number = number_in(named)
    assert "is with the association's secretariat, which will assign an expert" in named.body
    assert "within 1 working day" in named.body
    del contact

    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    assert "待指派 （专家库中没有负责该类别的专家）" in card.body

    # Nobody is assigned: the member's message comes to the staff group.
    group_after = await latest_id(client, STAFF_CHAT_ID)
    await client.send_text(member, "We found our software copied on a website.")
    relayed = await wait_for(
        client, STAFF_CHAT_ID, lambda m: "software copied" in m.body, after=group_after
    )
    # Need-to-know: in the group the contact's name is not shown ("会员" stands for it).
    assert relayed.body.startswith(f"📨 {number} · Ningbo Bright Star Textiles Co., Ltd. · 会员")
    assert "Amy Lin" not in relayed.body
    ack = await wait_for(client, member, lambda m: m.body.startswith("✅ Passed to"))
    assert ack.body == f"✅ Passed to the association's secretariat ({number})."

    # A secretary answers by replying in the group: the member sees the secretariat.
    m_after = await latest_id(client, member)
    await client.send_text(
        STAFF_1,
        "Please send us the link.",
        chat_id=STAFF_CHAT_ID,
        reply_to_message_id=relayed.message_id,
    )
    back = await wait_for(client, member, lambda m: "send us the link" in m.body, after=m_after)
    assert back.body == f"💬 Association secretariat · {number}\nPlease send us the link."
    assert "王秘书" not in back.body

    # Replying claimed it for the secretary. Reassign with the buttons: roster, then expert.
    card_now = await wait_card(client, card.message_id, lambda c: "认领：王秘书" in c.body)
    answered = await press(client, STAFF_1, card_now, label="🔁 改派")
    assert answered.text == f"请选择把 {number} 改派给哪位专家。"
    menu = await client.wait_for_edit(
        STAFF_CHAT_ID, card.message_id, after_version=card_now.version, timeout=30
    )
    options = labels(menu)
    assert options[-1] == "« 返回"
    zhang = next(label for label in options if label.startswith("张伟 · "))
    assert not any(label.startswith("陈洁") for label in options)  # inactive
    a_after = await latest_id(client, EXPERT_A)
    done = await press(client, STAFF_1, menu, label=zhang)
    assert done.text == f"已把 {number} 改派给 张伟。"
    reassigned = await client.wait_for_edit(
        STAFF_CHAT_ID, card.message_id, after_version=menu.version, timeout=30
    )
    assert f"专家：{A_LABEL}" in reassigned.body
    assert labels(reassigned) == ["✋ 认领", "🔁 改派", "✅ 结案"]
    await wait_for(client, EXPERT_A, lambda m: number in m.body and "改派给您" in m.body,
                   after=a_after)  # fmt: skip
    told = await wait_for(client, member, lambda m: "is now handled by" in m.body, after=m_after)
    assert told.body == (
        f"Your request {number} is now handled by "
        "Zhang Wei (Attorney and trademark agent · Ningbo Yongzhi Law Firm)."
    )

    # From now on the member's messages go to the expert.
    await client.send_text(member, "Here is the link: example.com/copy")
    to_a = await wait_for(client, EXPERT_A, lambda m: "example.com/copy" in m.body, after=a_after)
    assert to_a.body.startswith(f"📨 {number}")


async def test_profile_dialogue_can_be_cancelled(client: EmulatorClient, new_user_id: int) -> None:
    member = new_user_id
    await client.create_user(member, "钱", language_code="zh-hans")
    prompt = await escalate(client, member, LAWYER_LETTER)
    number = number_in(prompt)
    cancelled = await press_for_reply(client, member, prompt, "取消")
    assert cancelled.body == t("zh", "tk_profile_cancelled", numbers=number)
    own = await ask(client, member, f"/ticket {number}")
    assert "已关闭" in own.body
    # Typing now is a question again, not a company name.
    faq = await ask(client, member, "商标注册后能用多少年")
    assert faq.body.endswith(t("zh", "answer_prompt"))
    # /cancel at a later step works the same way.
    again = await escalate(client, member, "客户起诉了我们，传票要求下周一应诉，怎么办")
    again_number = number_in(again)
    await ask(client, member, "某某科技")
    stopped = await ask(client, member, "/cancel")
    assert stopped.body == t("zh", "tk_profile_cancelled", numbers=again_number)


async def test_admin_manages_the_roster_in_telegram(client: EmulatorClient) -> None:
    roster = await ask(client, ADMIN_ID, "/experts")
    for key in ("zhang-wei", "li-na", "chen-jie"):
        assert key in roster.body
    off = await ask(client, ADMIN_ID, "/expert_off li-na")
    assert off.body.startswith("已停止为 li-na（李娜）分配新咨询。")
    on = await ask(client, ADMIN_ID, "/expert_on li-na")
    assert on.body.startswith("已恢复为 li-na（李娜）分配新咨询。")
    added = await ask(
        client,
        ADMIN_ID,
        "/expert_add\nkey: wang-fang\ntelegram_user_id: 810009\n"
        "name: {zh: 王芳, en: Wang Fang}\ncategories: [copyright]\nlanguages: [zh]",
    )
    assert added.body == "已添加专家 wang-fang：王芳。"
    invalid = await ask(client, ADMIN_ID, "/expert_add\nkey: X\nname: nobody")
    assert invalid.body.startswith("专家信息有误：")
    # Not an admin: refused by the service, politely.
    refused = await ask(client, STAFF_1, "/expert_off zhang-wei")
    assert refused.body == t("zh", "tk_err_not_allowed")
    refused = await ask(client, EXPERT_A, f"/role {EXPERT_A} admin")
    assert refused.body == t("zh", "tk_err_not_allowed")
    # Back to no copyright expert for the other tests' sake.
    await ask(client, ADMIN_ID, "/expert_off wang-fang")


async def test_queue_and_mine(client: EmulatorClient, new_user_id: int) -> None:
    queue = await ask(client, STAFF_1, "/queue")
    assert queue.body.startswith("待办咨询（")
    lines = [line for line in queue.body.split("\n") if NUMBER.search(line)]
    flags = [line[0] for line in lines]
    assert flags == sorted(flags, key=lambda flag: flag != "🔴")  # urgent first
    mine = await ask(client, EXPERT_A, "/mine")
    assert mine.body.startswith("我负责的咨询（")
    assert "李娜" not in mine.body
    await client.create_user(new_user_id, "Member", language_code="en")
    refused = await ask(client, new_user_id, "/queue")
    assert refused.body == t("en", "tk_err_not_allowed")


async def test_command_menus_for_members_and_for_the_staff_group(client: EmulatorClient) -> None:
    sets = await client.commands()
    private = {c.language_code: c.commands for c in sets if c.scope["type"] == "all_private_chats"}
    assert [c["command"] for c in private["zh"]] == [
        "start",
        "help",
        "language",
        "mytickets",
        "profile",
        "subscriptions",
        "events",
        "privacy",
        "mydata",
        "forget",
    ]
    assert private["zh"][3]["description"] == "我的专家咨询"
    assert private["en"][3]["description"] == "My expert requests"
    # Set when the bot was added to the group (it was not there when it started).
    staff = {c.language_code: c.commands for c in sets if c.scope.get("chat_id") == STAFF_CHAT_ID}
    assert [c["command"] for c in staff["zh"]] == [
        "queue", "mine", "ticket", "reply", "note", "resolve", "reassign", "followup", "stats",
        "experts",
    ]  # fmt: skip
    default = {c.language_code: c.commands for c in sets if c.scope["type"] == "default"}
    assert [c["command"] for c in default[""]] == ["start", "help", "language"]


async def test_odd_messages_around_a_ticket(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    member = new_user_id
    await client.create_user(member, "怪", language_code="zh-hans")
    prompt = await escalate(client, member, LAWYER_LETTER)
    # A photo while the bot waits for the company name: answer the question first.
    after = await latest_id(client, member)
    await client.send_photo(member, tiny_png(), caption="营业执照")
    first = await client.wait_for_message(member, after_message_id=after)
    assert first.body == t("zh", "tk_profile_answer_first")
    assert labels(first) == ["取消"]
    # A company nobody knows: served as a non-member, flagged on the card.
    contact_prompt = await ask(client, member, "奇怪科技有限公司")
    assert contact_prompt.body.startswith("已记录：奇怪科技有限公司。该公司暂不在协会会员名录中")
    phone_prompt = await ask(client, member, "怪先生")
    # The member list knows nothing of this company: the optional audience questions.
    industry = await press_for_reply(client, member, phone_prompt, "跳过")
    assert industry.body.startswith(t("zh", "tk_phone_skipped"))
    assert t("zh", "tk_ask_industry") in industry.body
    assert labels(industry)[:2] == ["机械装备", "电子电器"]
    assert labels(industry)[-2:] == ["跳过", "其余都跳过"]
    markets = await press_for_reply(client, member, industry, "电子电器")
    assert markets.body.startswith("已记录：电子电器。")
    assert "尚未选择" in markets.body
    # Ticking redraws the same message; nothing new is sent.
    for label in ("⬜ 美国", "⬜ 欧盟"):
        version = (await client.message(member, markets.message_id)).version
        await press(client, member, markets, label=label)
        markets = await client.wait_for_edit(member, markets.message_id, after_version=version)
    assert "已选：美国、欧盟" in markets.body
    assert "✅ 美国" in labels(markets)
    city = await press_for_reply(client, member, markets, "完成")
    assert city.body.startswith("已记录：美国, 欧盟。")
    assert t("zh", "tk_ask_city") in city.body
    too_long = await ask(client, member, "城" * 51)
    assert too_long.body == t("zh", "tk_profile_city_too_long")
    named = await ask(client, member, "北仑")
    number = number_in(prompt)
    assert named.body.startswith("已记录：北仑。")
    assert number in named.body
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    assert "奇怪科技有限公司 · ⚠️ 非会员" in card.body
    with closing(sqlite3.connect(bot.workdir / "ipdesk.sqlite3")) as conn:
        stored = conn.execute(
            "SELECT industry, export_markets, city FROM companies WHERE name = ?",
            ("奇怪科技有限公司",),
        ).fetchone()
    assert stored == ("电子电器", ";us;eu;", "北仑")  # where the member list import keeps them

    # A sticker cannot be relayed: said so, nothing sent to the expert.
    after = await latest_id(client, member)
    await client.send_sticker(member)
    refused = await client.wait_for_message(member, after_message_id=after)
    assert refused.body == t("zh", "tk_relay_unsupported")

    # The expert writing without replying gets a reminder; a reply to an unknown message too.
    # (First their assignment notice, sent through the outbox, so that the next message in
    # their chat is the answer.)
    await wait_for(client, EXPERT_A, lambda m: number in m.body and "分配给您" in m.body)
    hint = await ask(client, EXPERT_A, "这是写给谁的？")
    assert hint.body == t("zh", "tk_team_hint")
    unknown = await ask(client, EXPERT_A, "回复错了", reply_to_message_id=hint.message_id)
    assert unknown.body == t("zh", "tk_reply_unknown")
    # ❓ under the reminder: the expert's own questions go to the FAQ assistant, while
    # replies to relayed messages still reach members.
    await press_for_reply(client, EXPERT_B, await ask(client, EXPERT_B, "你好"), "❓ 问新问题")
    faq = await ask(client, EXPERT_B, "商标注册后能用多少年")
    assert faq.body.endswith(t("zh", "answer_prompt"))


# ------------------------------------------------------------------ routing (bot.services.routing)


async def test_after_start_the_answer_to_the_expert_reaches_the_expert(
    client: EmulatorClient, new_user_id: int
) -> None:
    """The member went to the FAQ (/start) before the expert wrote; what they type next
    answers the expert, goes to the expert, and the receipt names expert and ticket. ❓ New
    question then sends the next message to the FAQ assistant again."""
    member = new_user_id
    number, _ = await profiled_ticket(client, member, LAWYER_LETTER, name="路由")
    notice = await wait_for(client, EXPERT_A, lambda m: number in m.body and "分配给您" in m.body)
    welcome = await ask(client, member, "/start")
    assert welcome.body.startswith("您好")

    m_after = await latest_id(client, member)
    await client.send_text(EXPERT_A, "请问对方公司叫什么？", reply_to_message_id=notice.message_id)
    await wait_for(client, member, lambda m: "对方公司叫什么" in m.body, after=m_after)
    taken = await wait_for(client, member, lambda m: "已接手您的咨询" in m.body, after=m_after)
    assert taken.body.startswith(f"👤 {A_LABEL}已接手您的咨询 {number}。")

    a_after = await latest_id(client, EXPERT_A)
    m_after = await latest_id(client, member)
    await client.send_text(member, "对方是甬江贸易公司")
    relayed = await wait_for(client, EXPERT_A, lambda m: "甬江贸易公司" in m.body, after=a_after)
    assert relayed.body.startswith(f"📨 {number}")
    ack = await wait_for(client, member, lambda m: m.body.startswith("✅"), after=m_after)
    assert ack.body == f"✅ 已转给{A_LABEL}，咨询编号 {number}。想问别的问题，点「❓ 问新问题」。"

    # One tap back to the FAQ assistant: the next question is answered, not relayed.
    await press_for_reply(client, member, ack, "❓ 问新问题")
    answer = await ask(client, member, "商标注册后能用多少年")
    assert "10年" in re.sub(r"\s+", "", answer.body)
    assert not [m for m in await client.messages(EXPERT_A) if "能用多少年" in m.body]


async def test_help_lists_the_ticket_commands(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "帮助", language_code="zh-hans")
    reply = await ask(client, new_user_id, "/help")
    for command in ("/mytickets", "/ticket", "/cancel"):
        assert command in reply.body, reply.body


async def test_when_the_other_tickets_expert_writes_the_answer_goes_to_that_ticket(
    client: EmulatorClient, new_user_id: int
) -> None:
    """Two open tickets, the member's messages going to the newer one; the expert of the
    older one writes: the member's next message answers that expert, on that ticket."""
    member = new_user_id
    first_number, named = await profiled_ticket(client, member, LAWYER_LETTER, name="两件")
    notice = await wait_for(
        client, EXPERT_A, lambda m: first_number in m.body and "分配给您" in m.body
    )
    await press_for_reply(client, member, named, "❓ 问新问题")
    answer = await ask(client, member, "外观设计专利保护多少年")
    second = await press_for_reply(client, member, answer, "咨询专家 🧑‍⚖️")
    second_number = number_in(second)
    assert second_number != first_number  # the member now writes to the second ticket
    await settle_private(client, member)  # the press is fully handled (its choice stored)

    m_after = await latest_id(client, member)
    await client.send_text(
        EXPERT_A, "第一件：请提供律师函扫描件", reply_to_message_id=notice.message_id
    )
    await wait_for(client, member, lambda m: "律师函扫描件" in m.body, after=m_after)
    a_after = await latest_id(client, EXPERT_A)
    await client.send_text(member, "扫描件稍后发您")
    to_a = await wait_for(client, EXPERT_A, lambda m: "扫描件稍后发您" in m.body, after=a_after)
    assert to_a.body.startswith(f"📨 {first_number}")


async def test_profile_shows_the_members_data_and_changes_an_item(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    """/profile → change the industry with the dialogue's own step → shown updated; what the
    member list set is locked and a forged button for it is refused politely."""
    member = new_user_id
    await client.create_user(member, "Zed", language_code="zh-hans")
    prompt = await escalate(client, member, LAWYER_LETTER)
    contact_prompt = await ask(client, member, "Zephyr Optics Co., Ltd.")
    phone_prompt = await ask(client, member, "周经理")
    industry = await press_for_reply(client, member, phone_prompt, "跳过")
    assert t("zh", "tk_ask_industry") in industry.body, contact_prompt.body
    named = await press_for_reply(client, member, industry, "其余都跳过")
    assert number_in(named) == number_in(prompt)

    card = await ask(client, member, "/profile")
    assert card.body.startswith("我的资料（只有您本人能看到）")
    assert "👤 联系人：周经理" in card.body
    assert "☎️ 电话：未填写" in card.body
    assert "🏢 公司：Zephyr Optics Co., Ltd." in card.body
    assert "🏭 行业：未填写" in card.body
    assert "🔒" not in card.body
    assert "✏️ 行业" in labels(card)
    assert "🗑 删除行业" not in labels(card)  # nothing to delete yet

    step = await press_for_reply(client, member, card, "✏️ 行业")
    assert step.body == t("zh", "tk_ask_industry")
    assert labels(step)[-1] == "取消"  # no Skip buttons when changing one item
    assert "跳过" not in labels(step)
    shown = await press_for_reply(client, member, step, "模具")
    assert shown.body.startswith("已记录：模具。")
    assert "🏭 行业：模具" in shown.body
    assert "🗑 删除行业" in labels(shown)
    # Cancel changes nothing; a typed value works as in the dialogue.
    step = await press_for_reply(client, member, shown, "✏️ 所在地")
    cancelled = await press_for_reply(client, member, step, "取消")
    assert cancelled.body.startswith(t("zh", "pf_unchanged"))
    assert "📍 所在地：未填写" in cancelled.body
    step = await press_for_reply(client, member, cancelled, "✏️ 所在地")
    typed = await ask(client, member, "北仑")
    assert "📍 所在地：北仑" in typed.body
    step = await press_for_reply(client, member, typed, "✏️ 电话")
    assert step.body == t("zh", "pf_ask_phone")  # not "3/3 … Skip": one item is changed
    bad = await ask(client, member, "12345")
    assert bad.body == t("zh", "pf_phone_bad_format")  # "…or tap Cancel"
    assert labels(bad) == ["取消"]
    phoned = await ask(client, member, "0574 8765 4321")
    assert phoned.body.startswith("已记录电话 0574-87654321。")
    assert "☎️ 电话：0574-87654321" in phoned.body
    assert "🗑 删除电话" in labels(phoned)
    # The member's messages still go to their request after the change.
    after = await ask(client, member, "补充一下：律师函是昨天收到的")
    assert number_in(prompt) in after.body, after.body
    with closing(sqlite3.connect(bot.workdir / "ipdesk.sqlite3")) as conn:
        stored = conn.execute(
            "SELECT industry, listed FROM companies WHERE name = ?", ("Zephyr Optics Co., Ltd.",)
        ).fetchone()
    assert stored == ("模具", None)

    deleted = await press_for_reply(client, member, shown, "🗑 删除行业")
    assert deleted.body.startswith(t("zh", "pf_deleted"))
    assert "🏭 行业：未填写" in deleted.body

    # A member company: the list set its industry, markets and city — locked, explained.
    other = member + 400_000
    await profiled_ticket(client, other, "我们的商标被别人抢注了怎么办", name="海")
    help_message = await ask(client, other, "/help")
    assert "/profile" in help_message.body
    listed = await press_for_reply(client, other, help_message, "👤 我的资料")
    assert "🏢 公司：宁波海天塑机股份有限公司（会员 NBIP-0002）" in listed.body
    assert "🏭 行业：机械装备 🔒" in listed.body
    assert "🌍 出口市场：欧盟、东盟 🔒" in listed.body
    assert t("zh", "pf_locked_note") in listed.body
    assert not any(label.endswith("行业") for label in labels(listed))
    last = await latest_id(client, other)
    await press(client, other, listed, data="pe:industry")
    refused = await client.wait_for_message(other, after_message_id=last, timeout=20)
    assert refused.body.startswith(t("zh", "tk_profile_industry_listed"))
    answer = await press(client, other, listed, data="pd:city")
    assert answer.text == t("zh", "tk_profile_city_listed")
    with closing(sqlite3.connect(bot.workdir / "ipdesk.sqlite3")) as conn:
        kept = conn.execute(
            "SELECT industry, city FROM companies WHERE member_no = 'NBIP-0002'"
        ).fetchone()
    assert kept == ("机械装备", "宁波")


async def test_profile_changes_wait_while_the_escalation_dialogue_asks(
    client: EmulatorClient, new_user_id: int
) -> None:
    """/profile during the escalation dialogue shows the data but changes wait: the open
    question keeps its answer (nothing is mixed up), in English too."""
    member = new_user_id
    await client.create_user(member, "Amy", language_code="en")
    prompt = await escalate(client, member, "A US complaint names our products, what now?",
                            label="Ask an expert 🧑‍⚖️")  # fmt: skip
    assert "1/3" in prompt.body, prompt.body
    card = await ask(client, member, "/profile")
    assert card.body.startswith("My profile (only you can see this)")
    assert "🏢 Company: not given" in card.body
    assert t("en", "pf_no_company") in card.body
    assert labels(card) == ["✏️ Contact", "✏️ Phone", "✏️ Company"]
    busy = await press_for_reply(client, member, card, "✏️ Phone")
    assert busy.body == t("en", "pf_busy")
    contact_prompt = await ask(client, member, "Quartzline Lenses Ltd")
    assert "2/3" in contact_prompt.body, contact_prompt.body


async def test_an_attribute_the_member_list_sets_meanwhile_is_not_overwritten(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    """The list is imported while the escalation dialogue asks for the industry: the member's
    answer is refused politely and the dialogue goes on (its request is not lost)."""
    member = new_user_id
    await client.create_user(member, "Kai", language_code="zh-hans")
    prompt = await escalate(client, member, LAWYER_LETTER)
    await ask(client, member, "Kestrel Valves Co., Ltd.")
    phone_prompt = await ask(client, member, "凯")
    industry = await press_for_reply(client, member, phone_prompt, "跳过")
    assert t("zh", "tk_ask_industry") in industry.body
    listing = bot.workdir / "late-list.csv"
    listing.write_text(
        'name,member_no,industry\n"Kestrel Valves Co., Ltd.",NBIP-0900,机械装备\n',
        encoding="utf-8",
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "members", "import", str(listing)],
        cwd=bot.workdir,
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    refused = await press_for_reply(client, member, industry, "模具")
    assert refused.body.startswith(t("zh", "tk_profile_industry_listed"))
    assert t("zh", "tk_ask_markets", chosen=t("zh", "tk_markets_none")) in refused.body
    named = await press_for_reply(client, member, refused, "其余都跳过")
    assert number_in(named) == number_in(prompt)
    with closing(sqlite3.connect(bot.workdir / "ipdesk.sqlite3")) as conn:
        stored = conn.execute(
            "SELECT industry, listed FROM companies WHERE member_no = 'NBIP-0900'"
        ).fetchone()
    assert stored == ("机械装备", ";industry;")
