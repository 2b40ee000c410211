"""A member talks to the real bot process through the emulator.

Every test plays its own new user(s). Replies are awaited with the emulator's long polls; a
button press creates no user message, so the wait after a press starts from the newest
message in the chat (`latest_id`).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from contextlib import closing
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.emulator.client import BotMessage, CallbackRecord, EmulatorClient
from bot.i18n import load_catalog
from bot.knowledge import build_engine
from bot.settings import Settings
from faq.engine import TriageEngine
from faq.models import CATEGORIES, Lang
from tests.support.botproc import BotProcess

CATALOG = load_catalog()
TICKET_NUMBER = re.compile(r"\bIP-(\d{4})-(\d{4,})\b")
ZH_TOPICS = ["商标", "专利", "版权", "侵权维权", "协会服务"]
RECORDED = {"zh": "已记录您的专家咨询请求", "en": "Your request for an expert is recorded"}
EN_TOPICS = ["Trademarks", "Patents", "Copyright", "Infringement", "Association services"]


def t(lang: Lang, key: str) -> str:
    """A catalog string without placeholders, as the member reads it (tags stripped)."""
    return re.sub(r"</?[a-z]+>", "", CATALOG.raw(lang, key))


@pytest.fixture(scope="module")
def engine() -> TriageEngine:
    """The same knowledge base the bot process loads (it runs without a .env file)."""
    return build_engine(Settings(_env_file=None))  # type: ignore[call-arg]


async def latest_id(client: EmulatorClient, chat_id: int) -> int:
    messages = await client.messages(chat_id, sender="all")
    return messages[-1].message_id if messages else 0


async def start_user(
    client: EmulatorClient, user_id: int, language_code: str | None, name: str = "李"
) -> BotMessage:
    """Create a user, send /start, return the welcome."""
    await client.create_user(user_id, name, language_code=language_code)
    await client.send_text(user_id, "/start")
    return await client.wait_for_message(user_id)


async def ask(client: EmulatorClient, user_id: int, text: str) -> BotMessage:
    await client.send_text(user_id, text)
    return await client.wait_for_message(user_id)


async def press(
    client: EmulatorClient, user_id: int, message: BotMessage, label: str
) -> tuple[CallbackRecord, BotMessage]:
    """Press a button by its label; return the answered callback and the bot's next message."""
    after = await latest_id(client, user_id)
    record = await client.press_button(user_id, message.message_id, label=label)
    reply = await client.wait_for_message(user_id, after_message_id=after)
    answered = await client.wait_for_callback_answer(record.query_id)
    return answered, reply


async def press_for_answer(
    client: EmulatorClient, user_id: int, message: BotMessage, label: str
) -> CallbackRecord:
    """Press a button that is answered with a callback text only (no new message)."""
    record = await client.press_button(user_id, message.message_id, label=label)
    return await client.wait_for_callback_answer(record.query_id)


def labels(message: BotMessage) -> list[str]:
    return [b.text for b in message.buttons]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------ start, help, language


async def test_start_then_free_text_answer_in_chinese(
    client: EmulatorClient, new_user_id: int
) -> None:
    welcome = await start_user(client, new_user_id, "zh-hans")
    assert "知识产权" in welcome.body
    assert "您好 李！" in welcome.body
    assert labels(welcome)[:5] == ZH_TOPICS
    assert labels(welcome)[5] == CATALOG.raw("zh", "btn_language")

    answer = await ask(client, new_user_id, "我们的商标快到期了怎么办")
    assert "10年" in flat(answer.body)
    assert "续展" in answer.body
    assert "已解决 👍" in labels(answer)
    assert "咨询专家 🧑‍⚖️" in labels(answer)


async def test_start_in_english_for_an_english_telegram_user(
    client: EmulatorClient, new_user_id: int
) -> None:
    welcome = await start_user(client, new_user_id, "en-GB", name="Alice")
    assert welcome.body.startswith("Hello Alice! I am the member enquiry assistant")
    assert "Ningbo IP Protection Association" in welcome.body
    assert "I cannot replace a lawyer" in welcome.body
    assert labels(welcome) == [*EN_TOPICS, "🌐 中文 / English"]
    assert [b.callback_data for b in welcome.buttons] == [
        *(f"t:{c}" for c in CATEGORIES),
        "lang",
    ]


async def test_help_lists_the_commands_in_the_member_language(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "王", language_code="zh")
    help_zh = await ask(client, new_user_id, "/help")
    assert help_zh.body.startswith("使用说明")
    for command in ("/start", "/language", "/help"):
        assert command in help_zh.body
    assert "咨询专家" in help_zh.body
    assert labels(help_zh)[:5] == ZH_TOPICS

    other = new_user_id + 500_000
    await client.create_user(other, "Bob", language_code="en")
    help_en = await ask(client, other, "/help")
    assert help_en.body.startswith("How to use this bot")
    assert 'tap "Ask an expert"' in help_en.body
    assert labels(help_en)[:5] == EN_TOPICS


async def test_language_switch_to_english_persists(
    client: EmulatorClient, new_user_id: int
) -> None:
    welcome = await start_user(client, new_user_id, "zh-hans")
    assert labels(welcome)[:5] == ZH_TOPICS

    chooser = await ask(client, new_user_id, "/language")
    assert chooser.body == "请选择语言 / Please choose a language:"
    assert labels(chooser) == ["中文", "English"]

    answered, menu = await press(client, new_user_id, chooser, "English")
    assert answered.text == "Language switched to English."
    assert menu.body.startswith("Language switched to English.")
    assert t("en", "menu_prompt") in menu.body
    assert labels(menu)[:5] == EN_TOPICS

    again = await ask(client, new_user_id, "/start")
    assert again.body.startswith("Hello 李!")
    assert labels(again)[:5] == EN_TOPICS

    # The explicit choice wins over the script of a message: a Chinese question is
    # answered in English for a member who chose English.
    answer = await ask(client, new_user_id, "商标注册后能用多少年")
    assert answer.body.startswith("Trademark term and renewal")
    assert labels(answer)[:2] == ["Solved 👍", "Ask an expert 🧑‍⚖️"]
    later = await ask(client, new_user_id, "/start")
    assert later.body.startswith("Hello 李!")
    assert labels(later)[:5] == EN_TOPICS


async def test_language_switch_to_chinese_from_the_menu_button_persists(
    client: EmulatorClient, new_user_id: int
) -> None:
    welcome = await start_user(client, new_user_id, "en", name="Carol")
    _, chooser = await press(client, new_user_id, welcome, "🌐 中文 / English")
    assert labels(chooser) == ["中文", "English"]

    answered, menu = await press(client, new_user_id, chooser, "中文")
    assert answered.text == "已切换为中文。"
    assert menu.body.startswith("已切换为中文。")
    assert labels(menu)[:5] == ZH_TOPICS

    again = await ask(client, new_user_id, "/start")
    assert again.body.startswith("您好 Carol！")
    assert labels(again)[:5] == ZH_TOPICS
    help_zh = await ask(client, new_user_id, "/help")
    assert help_zh.body.startswith("使用说明")


# ------------------------------------------------------------------ topic browsing


async def test_topic_browsing_trademark_entry_and_related(
    client: EmulatorClient, new_user_id: int, engine: TriageEngine
) -> None:
    welcome = await start_user(client, new_user_id, "zh-hans")

    _, listing = await press(client, new_user_id, welcome, "商标")
    assert listing.body == "商标：常见问题（点选查看）"
    titles = [e.title["zh"] for e in engine.kb.in_category("trademark")]
    assert "有效期与续展" in titles
    assert labels(listing) == [*titles, "🏠 主菜单"]
    assert all(
        b.callback_data and b.callback_data.startswith("f:tm-") for b in listing.buttons[:-1]
    )

    _, answer = await press(client, new_user_id, listing, "有效期与续展")
    assert answer.body.startswith("有效期与续展")
    assert "10年" in flat(answer.body)
    assert "宽展期" in answer.body
    assert answer.body.endswith(t("zh", "answer_prompt"))
    assert labels(answer)[:2] == ["已解决 👍", "咨询专家 🧑‍⚖️"]
    entry = engine.kb.get("tm-term-renewal")
    assert entry is not None
    related = [engine.kb.get(r) for r in entry.related[:3]]
    related_labels = [f"↪ {r.title['zh']}" for r in related if r is not None]
    assert related_labels == ["↪ 商标信息变更", "↪ 三年不使用撤销"]
    assert labels(answer)[2:] == [*related_labels, "🏠 主菜单"]

    _, follow = await press(client, new_user_id, answer, "↪ 三年不使用撤销")
    assert follow.body.startswith("三年不使用撤销")
    assert "三年" in follow.body
    assert labels(follow)[:2] == ["已解决 👍", "咨询专家 🧑‍⚖️"]

    _, menu = await press(client, new_user_id, follow, "🏠 主菜单")
    assert menu.body == t("zh", "menu_prompt")
    assert labels(menu)[:5] == ZH_TOPICS


async def test_topic_browsing_in_english(
    client: EmulatorClient, new_user_id: int, engine: TriageEngine
) -> None:
    welcome = await start_user(client, new_user_id, "en")
    _, listing = await press(client, new_user_id, welcome, "Copyright")
    assert listing.body == "Copyright: common questions (tap to read)"
    titles = [e.title["en"] for e in engine.kb.in_category("copyright")]
    assert labels(listing) == [*titles, "🏠 Main menu"]
    _, answer = await press(client, new_user_id, listing, "Software copyright registration")
    assert answer.body.startswith("Software copyright registration")
    assert "Copyright Protection Center" in answer.body
    assert labels(answer)[:2] == ["Solved 👍", "Ask an expert 🧑‍⚖️"]


# ------------------------------------------------------------------ free-text answers


@pytest.mark.parametrize(
    ("language_code", "question", "facts", "title"),
    [
        ("zh-hans", "商标注册后能用多少年", ["10年"], "有效期与续展"),
        ("en", "商标注册后能用多少年", ["10年"], "有效期与续展"),
        ("zh-hans", "我们的商标快到期了怎么办", ["10年", "续展", "6个月"], "有效期与续展"),
        ("en", "我们的商标快到期了怎么办", ["10年", "续展"], "有效期与续展"),
    ],
)
async def test_free_text_answer_in_chinese(
    client: EmulatorClient,
    new_user_id: int,
    language_code: str,
    question: str,
    facts: list[str],
    title: str,
) -> None:
    await client.create_user(new_user_id, "张", language_code=language_code)
    answer = await ask(client, new_user_id, question)
    assert answer.body.startswith(title)
    for fact in facts:
        assert fact in flat(answer.body)
    assert answer.body.endswith("这个回答解决您的问题了吗？")
    assert labels(answer)[:2] == ["已解决 👍", "咨询专家 🧑‍⚖️"]
    assert labels(answer)[-1] == "🏠 主菜单"


@pytest.mark.parametrize(
    ("language_code", "question", "facts", "title"),
    [
        ("en", "how long does a design patent last", ["15 years"], "Patent types and terms"),
        ("zh-hans", "how long does a design patent last", ["15 years"], "Patent types and terms"),
        (
            "en",
            "how do I register our software copyright",
            ["Copyright Protection Center", "30 consecutive pages", "50 years"],
            "Software copyright registration",
        ),
        (
            "zh-hans",
            "how do I register our software copyright",
            ["Copyright Protection Center"],
            "Software copyright registration",
        ),
    ],
)
async def test_free_text_answer_in_english(
    client: EmulatorClient,
    new_user_id: int,
    language_code: str,
    question: str,
    facts: list[str],
    title: str,
) -> None:
    await client.create_user(new_user_id, "Dan", language_code=language_code)
    answer = await ask(client, new_user_id, question)
    assert answer.body.startswith(title)
    for fact in facts:
        assert fact in answer.body
    assert answer.body.endswith("Did this answer solve your problem?")
    assert labels(answer)[:2] == ["Solved 👍", "Ask an expert 🧑‍⚖️"]
    assert labels(answer)[-1] == "🏠 Main menu"


# ------------------------------------------------------------------ escalation and tickets


def ticket_number(message: BotMessage) -> str:
    found = TICKET_NUMBER.search(message.body)
    assert found is not None, message.body
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    assert int(found[1]) == year
    return found[0]


async def test_escalation_offers_expert_and_gives_one_ticket_number(
    client: EmulatorClient, new_user_id: int, engine: TriageEngine
) -> None:
    await client.create_user(new_user_id, "赵", language_code="zh-hans")
    reply = await ask(
        client,
        new_user_id,
        "我们收到律师函，说我们侵犯了专利ZL201910123456.7，要求7天内答复，怎么办？",
    )
    assert reply.body.startswith("您的问题涉及具体案情")
    related = engine.kb.get("inf-accused")
    assert related is not None
    assert f"可先阅读相关说明：{related.title['zh']}" in reply.body
    assert labels(reply) == ["咨询专家 🧑‍⚖️", related.title["zh"]]
    assert "10年" not in reply.body  # no FAQ answer is given in place of the expert

    _, recorded = await press(client, new_user_id, reply, "咨询专家 🧑‍⚖️")
    assert recorded.body.startswith("已记录您的专家咨询请求")
    number = ticket_number(recorded)

    _, again = await press(client, new_user_id, reply, "咨询专家 🧑‍⚖️")
    assert again.body.startswith("您的这个问题已提交专家咨询")
    assert ticket_number(again) == number

    _, context_answer = await press(client, new_user_id, reply, related.title["zh"])
    assert context_answer.body.startswith(related.title["zh"])
    assert "律师函" in context_answer.body
    assert labels(context_answer)[:2] == ["已解决 👍", "咨询专家 🧑‍⚖️"]


async def test_escalation_in_english(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "Eve", language_code="en")
    reply = await ask(
        client,
        new_user_id,
        "We received a lawyer's letter claiming we infringe patent CN201910123456.7 "
        "and must reply by 30 June",
    )
    assert reply.body.startswith("Your question involves the specifics of a case")
    assert "While you wait, this may help: We are accused of infringing" in reply.body
    assert labels(reply) == ["Ask an expert 🧑‍⚖️", "We are accused of infringing"]
    _, recorded = await press(client, new_user_id, reply, "Ask an expert 🧑‍⚖️")
    assert recorded.body.startswith("Your request for an expert is recorded (number IP-")
    number = ticket_number(recorded)
    _, again = await press(client, new_user_id, reply, "Ask an expert 🧑‍⚖️")
    assert again.body.startswith("This question is already with the experts")
    assert ticket_number(again) == number


async def test_ask_expert_under_an_answer_opens_one_ticket(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "Fay", language_code="en")
    answer = await ask(client, new_user_id, "how long does a design patent last")
    _, recorded = await press(client, new_user_id, answer, "Ask an expert 🧑‍⚖️")
    assert recorded.body.startswith("Your request for an expert is recorded")
    number = ticket_number(recorded)
    _, again = await press(client, new_user_id, answer, "Ask an expert 🧑‍⚖️")
    assert again.body.startswith("This question is already with the experts")
    assert ticket_number(again) == number


async def test_ask_expert_twice_under_a_browsed_answer_opens_one_ticket(
    client: EmulatorClient, new_user_id: int
) -> None:
    welcome = await start_user(client, new_user_id, "en")
    _, listing = await press(client, new_user_id, welcome, "Trademarks")
    _, answer = await press(client, new_user_id, listing, "Trademark term and renewal")
    _, recorded = await press(client, new_user_id, answer, "Ask an expert 🧑‍⚖️")
    number = ticket_number(recorded)
    _, again = await press(client, new_user_id, answer, "Ask an expert 🧑‍⚖️")
    assert again.body.startswith("This question is already with the experts")
    assert ticket_number(again) == number


# ------------------------------------------------------------------ fallback


@pytest.mark.parametrize(
    ("language_code", "text", "lang"),
    [
        ("zh-hans", "今天天气怎么样", "zh"),
        ("en", "今天天气怎么样", "zh"),
        ("en", "write me a python script", "en"),
        ("zh-hans", "write me a python script", "en"),
    ],
)
async def test_fallback_shows_topics_never_an_answer(
    client: EmulatorClient, new_user_id: int, language_code: str, text: str, lang: Lang
) -> None:
    await client.create_user(new_user_id, "Gus", language_code=language_code)
    reply = await ask(client, new_user_id, text)
    assert reply.body == t(lang, "fallback")
    # every fallback offers an expert about the question first, then the topics
    assert labels(reply)[0] == t(lang, "btn_ask_expert")
    assert labels(reply)[1:6] == (ZH_TOPICS if lang == "zh" else EN_TOPICS)
    data = [b.callback_data or "" for b in reply.buttons]
    assert data[0].startswith("e:")
    assert not any(d.startswith(("ok:", "x:", "f:")) for d in data)
    assert t(lang, "answer_prompt") not in reply.body


# ------------------------------------------------------------------ did you mean


@pytest.mark.parametrize(("text", "lang"), [("商标", "zh"), ("trademark patent", "en")])
async def test_did_you_mean_offers_up_to_three_entries_and_none_of_these(
    client: EmulatorClient, new_user_id: int, engine: TriageEngine, text: str, lang: Lang
) -> None:
    decision = engine.triage(text)
    if not decision.suggestions:
        pytest.skip(f"the engine gives no suggestions for {text!r} any more")
    await client.create_user(new_user_id, "Hu", language_code="zh" if lang == "zh" else "en")
    reply = await ask(client, new_user_id, text)
    assert reply.body == t(lang, "did_you_mean")
    buttons = reply.buttons
    suggestions, last = buttons[:-1], buttons[-1]
    assert 1 <= len(suggestions) <= 3
    expected = [engine.kb.get(c.faq_id) for c in decision.suggestions]
    assert [b.text for b in suggestions] == [e.title[lang] for e in expected if e is not None]
    assert last.text == CATALOG.raw(lang, "none_of_these")
    assert last.callback_data is not None
    assert last.callback_data.startswith("e:")

    first = suggestions[0]
    _, answer = await press(client, new_user_id, reply, first.text)
    assert answer.body.startswith(first.text)
    assert labels(answer)[:2] == [
        CATALOG.raw(lang, "btn_solved"),
        CATALOG.raw(lang, "btn_ask_expert"),
    ]

    _, recorded = await press(client, new_user_id, reply, last.text)
    assert recorded.body.startswith(RECORDED[lang])
    ticket_number(recorded)


# ------------------------------------------------------------------ feedback


async def test_solved_thanks_once_then_already(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "钱", language_code="zh-hans")
    answer = await ask(client, new_user_id, "商标注册后能用多少年")
    before = await latest_id(client, new_user_id)

    first = await press_for_answer(client, new_user_id, answer, "已解决 👍")
    assert first.text == "感谢反馈！还有其他问题，随时直接输入。"
    assert not first.show_alert
    second = await press_for_answer(client, new_user_id, answer, "已解决 👍")
    assert second.text == "已收到您对这条回答的反馈，谢谢。"

    # Feedback is answered on the button only: no new chat message.
    sentinel = await ask(client, new_user_id, "/help")
    new = [m for m in await client.messages(new_user_id) if m.message_id > before]
    assert [m.message_id for m in new] == [sentinel.message_id]


async def test_solved_in_english(client: EmulatorClient, new_user_id: int) -> None:
    await client.create_user(new_user_id, "Ivy", language_code="en")
    answer = await ask(client, new_user_id, "how long does a design patent last")
    first = await press_for_answer(client, new_user_id, answer, "Solved 👍")
    assert first.text == "Thanks for the feedback! Type any other question at any time."
    second = await press_for_answer(client, new_user_id, answer, "Solved 👍")
    assert second.text == "We already have your feedback on this answer, thank you."


async def test_language_follows_the_last_question_when_none_was_chosen(
    client: EmulatorClient, new_user_id: int
) -> None:
    welcome = await start_user(client, new_user_id, "en", name="Jun")
    assert labels(welcome)[:5] == EN_TOPICS
    answer = await ask(client, new_user_id, "我们的商标快到期了怎么办")
    assert answer.body.startswith("有效期与续展")
    again = await ask(client, new_user_id, "/start")
    assert again.body.startswith("您好 Jun！")


# ------------------------------------------------------------------ the record


def rows(bot: BotProcess, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Read the bot's own SQLite database (read-only; WAL lets us read while it writes)."""
    path = bot.workdir / "ipdesk.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return list(db.execute(sql, params))


async def test_questions_decisions_and_feedback_are_stored(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    await client.create_user(new_user_id, "孙", language_code="zh-hans")
    answer = await ask(client, new_user_id, "我们的商标快到期了怎么办")
    await press_for_answer(client, new_user_id, answer, "已解决 👍")
    await ask(client, new_user_id, "今天天气怎么样")
    escalation = await ask(
        client, new_user_id, "我们收到律师函，说我们侵犯了专利ZL201910123456.7，要求7天内答复"
    )
    _, recorded = await press(client, new_user_id, escalation, "咨询专家 🧑‍⚖️")
    number = ticket_number(recorded)

    asked = rows(
        bot,
        "SELECT text, lang, action, faq_id FROM questions WHERE user_id = ? ORDER BY id",
        new_user_id,
    )
    assert [(r[0], r[2]) for r in asked] == [
        ("我们的商标快到期了怎么办", "answer"),
        ("今天天气怎么样", "fallback"),
        ("我们收到律师函，说我们侵犯了专利ZL201910123456.7，要求7天内答复", "escalate"),
    ]
    assert asked[0][3] == "tm-term-renewal"
    assert {r[1] for r in asked} == {"zh"}
    views = rows(
        bot, "SELECT faq_id, source, feedback FROM faq_views WHERE user_id = ?", new_user_id
    )
    assert views == [("tm-term-renewal", "answer", "solved")]
    tickets = rows(
        bot, "SELECT number, status, question FROM tickets WHERE user_id = ?", new_user_id
    )
    assert len(tickets) == 1
    assert tickets[0][0] == number
    assert "律师函" in str(tickets[0][2])


# ------------------------------------------------------------------ restart


async def test_choices_and_buttons_survive_a_restart(
    client: EmulatorClient, new_user_id: int, bot: BotProcess
) -> None:
    """What a member chose lives in the database: a restarted bot continues where they were."""
    welcome = await start_user(client, new_user_id, "zh-hans")
    _, chooser = await press(client, new_user_id, welcome, "🌐 English / 中文")
    await press(client, new_user_id, chooser, "English")
    answer = await ask(client, new_user_id, "how long does a design patent last")

    assert bot.stop() == 0
    seen = max((c.seq for c in await client.api_calls()), default=0)
    bot.start()
    await until_polling(client, since=seen)

    again = await ask(client, new_user_id, "/start")
    assert again.body.startswith("Hello 李!")
    solved = await press_for_answer(client, new_user_id, answer, "Solved 👍")
    assert solved.text == "Thanks for the feedback! Type any other question at any time."


async def until_polling(client: EmulatorClient, *, since: int) -> None:
    """The restarted bot is ready once it asks for updates again (within a minute)."""
    async with asyncio.timeout(60):
        while True:
            if await client.api_calls("getUpdates", since=since):
                return
            await asyncio.sleep(0.1)


async def test_being_sued_is_offered_an_expert_never_out_of_scope(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "Gus", language_code="zh-hans")
    reply = await ask(client, new_user_id, "我们被告了怎么办")
    assert t("zh", "escalate_intro") in reply.body
    assert t("zh", "fallback") not in reply.body
    assert (reply.buttons[0].callback_data or "").startswith("e:")


@pytest.mark.parametrize(
    ("text", "kind"), [("你好", "greeting"), ("谢谢", "thanks"), ("多少钱", "price")]
)
async def test_small_talk_gets_a_friendly_reply(
    client: EmulatorClient, new_user_id: int, text: str, kind: str
) -> None:
    await client.create_user(new_user_id, "Gus", language_code="zh-hans")
    reply = await ask(client, new_user_id, text)
    assert reply.body == t("zh", f"smalltalk_{kind}")


async def test_one_latin_word_keeps_a_chinese_member_in_chinese(
    client: EmulatorClient, new_user_id: int
) -> None:
    await client.create_user(new_user_id, "Gus", language_code="zh-hans")
    await ask(client, new_user_id, "商标怎么注册")
    reply = await ask(client, new_user_id, "ok")
    assert reply.body == t("zh", "smalltalk_ack")
