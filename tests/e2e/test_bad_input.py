"""Odd, hostile and excessive input: the bot answers sensibly and never falls over.

The bot fixture (module scope) checks at teardown that the process exits cleanly on SIGTERM
and that its log has no Traceback, so every test here also proves "no crash".
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.emulator.client import (
    BotMessage,
    CallbackRecord,
    EmulatorClient,
    EmulatorError,
    tiny_png,
)
from bot.i18n import load_catalog
from faq.models import Lang
from tests.e2e.conftest import wait_until_polling
from tests.support.botproc import BotProcess, Emulator
from tests.support.postgres import create_database

CATALOG = load_catalog()
FLOOD_MAX_MESSAGES = 8  # what tests/e2e/conftest.py gives the bot
ZH_TOPICS = ["商标", "专利", "版权", "侵权维权", "协会服务"]


def t(lang: Lang, key: str) -> str:
    """A catalog string without placeholders, as the member reads it (tags stripped)."""
    return re.sub(r"</?[a-z]+>", "", CATALOG.raw(lang, key))


async def latest_id(client: EmulatorClient, chat_id: int) -> int:
    messages = await client.messages(chat_id, sender="all")
    return messages[-1].message_id if messages else 0


async def ask(client: EmulatorClient, user_id: int, text: str) -> BotMessage:
    await client.send_text(user_id, text)
    return await client.wait_for_message(user_id)


async def bot_messages_after(client: EmulatorClient, chat_id: int, after: int) -> list[BotMessage]:
    return [m for m in await client.messages(chat_id) if m.message_id > after]


async def settle(client: EmulatorClient, user_id: int) -> BotMessage:
    """Send /help and wait for its reply. The bot handles a chat's updates in order (other
    chats concurrently), so once this reply is there, everything sent before it in this chat
    has been fully handled."""
    reply = await ask(client, user_id, "/help")
    assert reply.body.startswith(("使用说明", "How to use this bot")), reply.body
    return reply


def answer_or_guidance(message: BotMessage, lang: Lang) -> bool:
    """One of the replies a free-text message may get (an answer, escalation, fallback…)."""
    body = message.body
    return (
        body.endswith(t(lang, "answer_prompt"))
        or body.startswith(t(lang, "escalate_intro")[:12])
        or body == t(lang, "fallback")
        or body == t(lang, "fallback_unsure")
        or body == t(lang, "did_you_mean")
        or any(body == t(lang, f"smalltalk_{kind}") for kind in SMALL_TALK_KINDS)
    )


SMALL_TALK_KINDS = ("greeting", "thanks", "ack", "bye", "bot", "price")


# ------------------------------------------------------------------ odd text


async def test_whitespace_only_is_refused_like_telegram_and_blank_looking_text_is_answered(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "空", language_code="zh-hans")
    # Telegram does not deliver empty or whitespace-only messages; neither does the emulator.
    for blank in ("   ", "\n\t \u3000"):
        with pytest.raises(EmulatorError) as refused:
            await client.send_text(new_user_id, blank)
        assert refused.value.status == 400
    # What does get through: the Hangul filler and zero-width spaces people use as "blank".
    for blankish in ("\u3164", "\u200b\u200b"):
        reply = await ask(client, new_user_id, blankish)
        assert reply.body in (t("zh", "empty_text"), t("zh", "fallback")), reply.body
        assert "10年" not in reply.body


async def test_maximum_length_message_gets_a_reply(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "长", language_code="zh-hans")
    question = "我们的商标快到期了怎么办？"
    text = (question + "请问续展需要准备什么材料。" * 400)[:4096]
    assert len(text) == 4096
    reply = await ask(client, new_user_id, text)
    assert answer_or_guidance(reply, "zh"), reply.body
    assert len(reply.body) <= 4096

    english = ("how long does a design patent last " * 200)[:4096]
    reply = await ask(client, new_user_id, english)
    assert answer_or_guidance(reply, "en"), reply.body
    await settle(client, new_user_id)


async def test_emoji_only(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "表情", language_code="zh-hans")
    reply = await ask(client, new_user_id, "😀🙏🎉👍")
    assert reply.body in (t("zh", "empty_text"), t("zh", "fallback")), reply.body
    if reply.body == t("zh", "fallback"):
        assert [b.text for b in reply.buttons][:5] == ZH_TOPICS


@pytest.mark.parametrize("text", ["😀🙏🎉👍", "\u3164", "？？？"])
async def test_wordless_text_asks_for_words(
    client: EmulatorClient, new_user_id: int, text: str
) -> None:
    await client.create_user(new_user_id, "表情", language_code="zh-hans")
    reply = await ask(client, new_user_id, text)
    assert reply.body == t("zh", "empty_text")


async def test_control_characters_are_tolerated(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "控制", language_code="zh-hans")
    text = "商标\x00注册\x01后\x02能\x1b用\x1f多少\x07年\x0b？\r"
    reply = await ask(client, new_user_id, text)
    assert "10年" in re.sub(r"\s+", "", reply.body)
    assert reply.body.startswith("有效期与续展")

    only_controls = "".join(chr(c) for c in range(0x01, 0x20) if chr(c) not in "\t\n\r\x0b\x0c")
    reply = await ask(client, new_user_id, only_controls + "x")
    assert reply.body in (t("zh", "empty_text"), t("zh", "fallback"), t("en", "fallback"))


@pytest.fixture
async def postgres_bot(
    postgres_admin_url: str, tmp_path: Path
) -> AsyncIterator[tuple[EmulatorClient, BotProcess]]:
    """A bot of its own on PostgreSQL (production's database), with its own emulator."""
    name = f"e2e_{os.getpid()}_{tmp_path.name}".lower().replace("-", "_")
    url = await create_database(postgres_admin_url, name)
    emulator = await asyncio.to_thread(Emulator.start, tmp_path)
    proc = BotProcess.configure(tmp_path, emulator, DATABASE_URL=url)
    try:
        proc.start()
        await asyncio.to_thread(wait_until_polling, emulator)
        async with EmulatorClient(emulator.base_url) as client:
            yield client, proc
    finally:
        if proc.process is not None:
            await asyncio.to_thread(proc.stop)
        await asyncio.to_thread(emulator.stop)


@pytest.mark.postgres
async def test_control_characters_on_postgresql(
    postgres_bot: tuple[EmulatorClient, BotProcess], new_user_id: int
) -> None:
    client, _ = postgres_bot
    await client.create_user(new_user_id, "控制", language_code="zh-hans")
    reply = await ask(client, new_user_id, "商标\x00注册后能用多少年")
    assert "10年" in re.sub(r"\s+", "", reply.body), reply.body


async def test_html_looking_text_is_escaped(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    # The first name goes into the welcome: it must be escaped there too.
    name = "<b>Li</b> & <i>Co"
    await client.create_user(new_user_id, name, language_code="zh-hans")
    welcome = await ask(client, new_user_id, "/start")
    assert f"您好 {name}！" in welcome.body

    reply = await ask(client, new_user_id, "<b>商标</b> <script>alert(1)</script> &amp;")
    assert answer_or_guidance(reply, "en") or answer_or_guidance(reply, "zh"), reply.body
    assert "<script>" not in (reply.raw_text or "")
    calls = await client.api_calls("sendMessage")
    mine = [c for c in calls if c.params.get("chat_id") == new_user_id]
    assert len(mine) == 2
    assert all(c.ok for c in mine), [c.description for c in mine]
    log = bot.log()
    assert "can't parse entities" not in log
    assert "Can't parse entities" not in log


async def test_sql_looking_text_then_normal_answers(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "Bobby", language_code="en")
    reply = await ask(client, new_user_id, "'; DROP TABLE users; --")
    assert reply.body == t("en", "fallback")
    reply = await ask(client, new_user_id, "Robert'); DROP TABLE questions;-- 商标")
    assert answer_or_guidance(reply, "en") or answer_or_guidance(reply, "zh")

    answer = await ask(client, new_user_id, "how long does a design patent last")
    assert "15 years" in answer.body
    solved = await client.press_button(
        new_user_id, answer.message_id, label=CATALOG.raw("en", "btn_solved")
    )
    answered = await client.wait_for_callback_answer(solved.query_id)
    assert answered.text == t("en", "feedback_thanks")
    # Tables are intact for other members too.
    other = new_user_id + 500_000
    await client.create_user(other, "Alice", language_code="en")
    welcome = await ask(client, other, "/start")
    assert welcome.body.startswith("Hello Alice!")


@pytest.mark.parametrize(
    ("command", "lang"), [("/foo", "zh"), ("/foo@ipdesk_bot bar", "zh"), ("/admin", "en")]
)
async def test_unknown_command(
    client: EmulatorClient, new_user_id: int, command: str, lang: Lang
) -> None:
    await client.create_user(new_user_id, "Cmd", language_code=lang)
    reply = await ask(client, new_user_id, command)
    assert reply.body == t(lang, "unknown_command")
    assert "/start" in reply.body


# ------------------------------------------------------------------ forged and stale buttons


async def press_forged(
    client: EmulatorClient, user_id: int, message: BotMessage, data: str
) -> CallbackRecord:
    record = await client.press_button(user_id, message.message_id, data=data)
    return await client.wait_for_callback_answer(record.query_id)


@pytest.mark.parametrize(
    "data",
    [
        "f:does-not-exist",
        "ok:999999",
        "ok:abc",
        "ok:-1",
        "ok:99999999999999999999",
        "ok:1\n",
        "x:999999",
        "e:999999",
        "zz",
        "t:trademarks",  # an older version's data
        "faq:tm-register",
        "lang:fr",
        "menu:now",
        "f:",
        ":",
        "f:tm-register:x",
        "f:../../etc/passwd",
        "x" * 64,
        "ok:" + "9" * 61,
        "é" * 32,  # 64 bytes in UTF-8
    ],
)
async def test_forged_callback_data_is_refused(
    client: EmulatorClient, new_user_id: int, data: str
) -> None:
    assert len(data.encode()) <= 64
    await client.create_user(new_user_id, "Mallory", language_code="en")
    welcome = await ask(client, new_user_id, "/start")
    answered = await press_forged(client, new_user_id, welcome, data)
    assert answered.answered
    assert answered.text == t("en", "stale_button")
    assert answered.show_alert
    after = welcome.message_id
    sentinel = await settle(client, new_user_id)
    assert [m.message_id for m in await bot_messages_after(client, new_user_id, after)] == [
        sentinel.message_id
    ]


async def test_other_members_buttons_reveal_nothing(
    client: EmulatorClient, new_user_id: int
) -> None:
    victim, mallory = new_user_id, new_user_id + 500_000
    await client.create_user(victim, "受害者", language_code="zh-hans")
    answer = await ask(client, victim, "商标注册后能用多少年")
    view_data = {b.callback_data for b in answer.buttons}
    ok_data = next(d for d in view_data if d and d.startswith("ok:"))
    x_data = next(d for d in view_data if d and d.startswith("x:"))
    escalation = await ask(
        client, victim, "我们收到律师函，说我们侵犯了专利ZL201910123456.7，要求7天内答复"
    )
    e_data = next(
        b.callback_data for b in escalation.buttons if (b.callback_data or "").startswith("e:")
    )
    assert e_data is not None
    victim_last = await latest_id(client, victim)

    await client.create_user(mallory, "Mallory", language_code="en")
    welcome = await ask(client, mallory, "/start")
    for data in (x_data, e_data, ok_data):
        answered = await press_forged(client, mallory, welcome, data)
        assert answered.text == t("en", "stale_button"), data
        assert answered.show_alert
    sentinel = await settle(client, mallory)
    assert [
        m.message_id for m in await bot_messages_after(client, mallory, welcome.message_id)
    ] == [sentinel.message_id]
    assert await bot_messages_after(client, victim, victim_last) == []

    # The victim's own buttons still work, and Mallory's "solved" was not recorded for them.
    solved = await press_forged(client, victim, answer, ok_data)
    assert solved.text == t("zh", "feedback_thanks")
    expert = await client.press_button(victim, escalation.message_id, data=e_data)
    recorded = await client.wait_for_message(victim, after_message_id=victim_last)
    await client.wait_for_callback_answer(expert.query_id)
    assert recorded.body.startswith("已记录您的专家咨询请求")


async def test_old_buttons_keep_working(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "旧", language_code="zh-hans")
    welcome = await ask(client, new_user_id, "/start")
    first = await ask(client, new_user_id, "商标注册后能用多少年")
    await ask(client, new_user_id, "外观设计专利保护多少年")
    # Buttons of older messages: the welcome's topic and the first answer's feedback.
    after = await latest_id(client, new_user_id)
    record = await client.press_button(new_user_id, welcome.message_id, label="专利")
    listing = await client.wait_for_message(new_user_id, after_message_id=after)
    await client.wait_for_callback_answer(record.query_id)
    assert listing.body == "专利：常见问题（点选查看）"
    ok_data = first.button(CATALOG.raw("zh", "btn_solved")).callback_data
    assert ok_data is not None
    solved = await press_forged(client, new_user_id, first, ok_data)
    assert solved.text == t("zh", "feedback_thanks")


# ------------------------------------------------------------------ non-text messages


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_non_text_messages_get_a_short_explanation(
    client: EmulatorClient, new_user_id: int, lang: Lang
) -> None:
    await client.create_user(new_user_id, "Media", language_code=lang)
    cases: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (lambda: client.send_sticker(new_user_id), "unsupported_sticker"),
        (lambda: client.send_voice(new_user_id, duration=3), "unsupported_voice"),
        (lambda: client.send_location(new_user_id, 29.87, 121.55), "unsupported_location"),
        (
            lambda: client.send_contact(new_user_id, "+8657400000000", "张三"),
            "unsupported_contact",
        ),
        (lambda: client.send_photo(new_user_id, tiny_png(), caption="证据"), "unsupported_media"),
        (
            lambda: client.send_document(
                new_user_id, b"%PDF-1.4\n", "letter.pdf", mime_type="application/pdf"
            ),
            "unsupported_media",
        ),
    ]
    for send, key in cases:
        await send()
        reply = await client.wait_for_message(new_user_id)
        assert reply.body == t(lang, key), key


async def test_edited_message_is_answered_again_with_a_note(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "改", language_code="zh-hans")
    sent = await client.send_text(new_user_id, "今天天气怎么样")
    first = await client.wait_for_message(new_user_id)
    assert first.body == t("zh", "fallback")
    await client.edit_text(new_user_id, sent["message_id"], "我们的商标快到期了怎么办")
    again = await client.wait_for_message(new_user_id, after_message_id=first.message_id)
    assert again.body.startswith(t("zh", "edited_note"))
    assert "有效期与续展" in again.body
    assert "10年" in re.sub(r"\s+", "", again.body)
    assert [b.text for b in again.buttons][:2] == ["已解决 👍", "咨询专家 🧑‍⚖️"]


# ------------------------------------------------------------------ flood


async def test_flood_gets_a_notice_and_others_are_still_served(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    flooder, other = new_user_id, new_user_id + 500_000
    await client.create_user(flooder, "Flood", language_code="en")
    await client.create_user(other, "钱", language_code="zh-hans")
    question = "how long does a design patent last"

    sends = [client.send_text(flooder, f"{question} {i}") for i in range(50)]
    sends.insert(25, client.send_text(other, "商标注册后能用多少年"))
    await asyncio.gather(*sends)

    answer = await client.wait_for_message(other)
    assert "10年" in re.sub(r"\s+", "", answer.body)
    # The flooder's updates are handled in order, one at a time: the first few are answered,
    # the next gets the notice, the rest are dropped silently. So once the notice is there,
    # every reply the flood will ever get is there. (The other member is not made to wait
    # for the flood: a chat takes its turn before a slot.)
    last = 0
    while not any(m.body == t("en", "flood") for m in await client.messages(flooder)):
        last = (await client.wait_for_message(flooder, after_message_id=last)).message_id

    replies = await client.messages(flooder)
    notices = [m for m in replies if m.body == t("en", "flood")]
    answers = [m for m in replies if "15 years" in m.body]
    assert 1 <= len(notices) <= 2  # one per burst (per 10 s window)
    assert 1 <= len(answers) <= FLOOD_MAX_MESSAGES
    assert len(replies) == len(answers) + len(notices)
    assert len(replies) < 50
    assert bot.process is not None
    assert bot.process.poll() is None
