"""The control API (EmulatorClient): users act, tests observe, and a PTB Application polls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import (
    EmulatorClient,
    EmulatorError,
    EmulatorState,
    EmulatorTimeoutError,
    RunningEmulator,
    run_emulator,
    tiny_png,
)

TOKEN = "654321:CONTROL-token"
AnyApplication: TypeAlias = "Application[Any, Any, Any, Any, Any, Any]"
USER = 20001
STAFF = 20002


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    async with run_emulator(state=EmulatorState(token=TOKEN)) as running:
        yield running


@pytest.fixture
async def users(emu: RunningEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emu.base_url) as client:
        await client.create_user(USER, "Chen", language_code="en")
        yield client


@pytest.fixture
async def bot(emu: RunningEmulator, users: EmulatorClient) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.bot_base_url, base_file_url=emu.file_base_url) as b:
        yield b


# ------------------------------------------------------------------ a real Application


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id,
        "<b>Welcome.</b> What is your question about?",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Trademark", callback_data="topic:tm")],
                [InlineKeyboardButton("Patent", callback_data="topic:pt")],
            ]
        ),
    )


async def _topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Topic chosen: {query.data}")


async def _unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Please send text, a photo or a document.", do_quote=True
    )


@pytest.fixture
async def application(
    emu: RunningEmulator, users: EmulatorClient
) -> AsyncIterator[AnyApplication]:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emu.bot_base_url)
        .base_file_url(emu.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_topic, pattern=r"^topic:"))
    app.add_handler(
        MessageHandler(filters.Sticker.ALL | filters.VOICE | filters.LOCATION, _unsupported)
    )
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def test_application_conversation_over_long_polling(
    application: AnyApplication,
    users: EmulatorClient,
) -> None:
    await users.send_text(USER, "/start")
    welcome = await users.wait_for_message(USER, timeout=10)
    assert welcome.text == "Welcome. What is your question about?"
    assert welcome.raw_text == "<b>Welcome.</b> What is your question about?"
    assert [b.text for b in welcome.buttons] == ["Trademark", "Patent"]

    pressed = await users.press_button(USER, welcome.message_id, label="Patent")
    answer = await users.wait_for_callback_answer(pressed.query_id, timeout=10)
    assert answer.answered
    edited = await users.wait_for_edit(
        USER, welcome.message_id, after_version=welcome.version, timeout=10
    )
    assert edited.text == "Topic chosen: topic:pt"
    assert edited.version == 2
    assert edited.buttons == []

    await users.send_sticker(USER)
    reply = await users.wait_for_message(USER, timeout=10)
    assert reply.text == "Please send text, a photo or a document."
    assert reply.reply_to_message_id == reply.message_id - 1


async def test_location_and_voice_reach_the_bot(
    application: AnyApplication,
    users: EmulatorClient,
) -> None:
    await users.send_location(USER, 29.87, 121.54)
    assert (await users.wait_for_message(USER, timeout=10)).text is not None
    await users.send_voice(USER, duration=3)
    assert (await users.wait_for_message(USER, timeout=10)).text is not None
    user_messages = await users.messages(USER, sender="user")
    assert [m.kind for m in user_messages] == ["location", "voice"]


# ------------------------------------------------------------------ users act


async def test_user_messages_become_updates(bot: Bot, users: EmulatorClient) -> None:
    sent = await users.send_text(USER, "/faq trademark")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 4}]
    await users.send_contact(USER, "+86 574 0000 0000", "Chen", contact_user_id=USER)
    await users.send_text(
        USER, "forwarded", forward_origin={"type": "hidden_user", "sender_user_name": "Anon"}
    )
    edited = await users.edit_text(USER, sent["message_id"], "/faq patent")
    assert edited["edit_date"] >= edited["date"]
    updates = await bot.get_updates()
    assert updates[0].message is not None
    assert updates[0].message.text == "/faq trademark"
    assert updates[1].message is not None
    assert updates[1].message.contact is not None
    assert updates[1].message.contact.user_id == USER
    assert updates[2].message is not None
    assert updates[2].message.forward_origin is not None
    assert updates[2].message.forward_origin.type == "hidden_user"
    assert updates[3].edited_message is not None
    assert updates[3].edited_message.text == "/faq patent"
    message_ids = [u.message.message_id for u in updates[:3] if u.message]
    assert message_ids == [1, 2, 3]


async def test_reply_to_a_bot_message(bot: Bot, users: EmulatorClient) -> None:
    question = await bot.send_message(USER, "Your company name?")
    await users.send_text(USER, "Ningbo Widgets", reply_to_message_id=question.message_id)
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.text == "Your company name?"


async def test_control_errors(bot: Bot, users: EmulatorClient) -> None:
    with pytest.raises(EmulatorError) as caught:
        await users.send_text(99999, "who am I")
    assert caught.value.status == 404
    sent = await bot.send_message(
        USER,
        "pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    with pytest.raises(EmulatorError, match="no button 'B'"):
        await users.press_button(USER, sent.message_id, label="B")
    await users.block_bot(USER)
    with pytest.raises(EmulatorError) as blocked:
        await users.send_text(USER, "hello?")
    assert blocked.value.status == 409
    with pytest.raises(EmulatorError):
        await users.send_text(USER, "")


# ------------------------------------------------------------------ tests observe


async def test_wait_for_messages_counts_new_bot_messages(bot: Bot, users: EmulatorClient) -> None:
    question = await users.send_text(USER, "hello")
    waiter = asyncio.create_task(users.wait_for_messages(USER, count=2, timeout=10))
    await bot.send_message(USER, "one")
    assert not waiter.done()
    await bot.send_message(USER, "two")
    found = await asyncio.wait_for(waiter, 10)
    assert [m.text for m in found] == ["one", "two"]
    assert all(m.message_id > question["message_id"] for m in found)
    later = await users.wait_for_messages(USER, after_message_id=found[0].message_id)
    assert [m.text for m in later] == ["two"]
    with pytest.raises(EmulatorTimeoutError) as caught:
        await users.wait_for_messages(USER, after_message_id=found[1].message_id, timeout=0)
    assert caught.value.result == []


async def test_wait_for_edit_sees_deletion(bot: Bot, users: EmulatorClient) -> None:
    sent = await bot.send_message(USER, "temporary")
    waiter = asyncio.create_task(
        users.wait_for_edit(USER, sent.message_id, after_version=1, timeout=10)
    )
    await bot.delete_message(USER, sent.message_id)
    changed = await asyncio.wait_for(waiter, 10)
    assert changed.deleted
    assert [m.message_id for m in await users.messages(USER, include_deleted=False)] == []


async def test_api_calls_are_recorded_with_decoded_params(bot: Bot, users: EmulatorClient) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    await bot.send_message(USER, "<b>x</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    await bot.send_photo(USER, tiny_png(), filename="chart.png")
    [message_call] = await users.api_calls("sendMessage")
    assert message_call.ok is True
    assert message_call.params["chat_id"] == USER
    assert message_call.params["reply_markup"] == keyboard.to_dict()
    [photo_call] = await users.api_calls("sendPhoto")
    assert photo_call.files["photo"]["filename"] == "chart.png"
    assert photo_call.files["photo"]["size"] == len(tiny_png())
    assert [c.method for c in await users.api_calls(since=message_call.seq)] == ["sendPhoto"]
    await users.clear_api_calls()
    assert await users.api_calls() == []


async def test_faults_can_be_listed_and_cleared(bot: Bot, users: EmulatorClient) -> None:
    await users.inject_fault("*", error_code=502, count=3)
    assert [(f["method"], f["remaining"]) for f in await users.faults()] == [("*", 3)]
    await users.clear_faults()
    assert (await bot.get_me()).id == 654321


async def test_reset_keeps_update_ids_increasing(
    bot: Bot, users: EmulatorClient, emu: RunningEmulator
) -> None:
    await users.send_text(USER, "before")
    [before] = await bot.get_updates()
    await users.reset()
    assert emu.state.users == {}
    await users.create_user(USER, "Chen")
    await users.send_text(USER, "after")
    # the bot keeps its old offset: the new update must still be above it
    [after] = await bot.get_updates(offset=before.update_id + 1)
    assert after.update_id > before.update_id
    assert after.message is not None
    assert after.message.message_id == 1


async def test_group_membership_updates(bot: Bot, users: EmulatorClient) -> None:
    await users.create_user(STAFF, "Staff")
    group = await users.create_group("Secretariat", chat_type="group", creator_id=STAFF)
    await users.add_bot_to_group(group["id"], STAFF, as_admin=True)
    await users.set_member_status(group["id"], USER, "member", by_user_id=STAFF)
    await users.send_text(
        USER, "plain message, seen because the bot is admin", chat_id=group["id"]
    )
    updates = await bot.get_updates()
    kinds = [
        "my_chat_member" if u.my_chat_member else "message" if u.message else "other"
        for u in updates
    ]
    assert kinds == ["my_chat_member", "message", "message", "message"]
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "administrator"
    assert updates[2].message is not None
    assert [u.id for u in updates[2].message.new_chat_members] == [USER]
    info = await users.get_chat(group["id"])
    assert info["members"] == {str(STAFF): "creator", str(USER): "member"}
    assert info["bot_status"] == "administrator"


async def test_bot_info_and_health(users: EmulatorClient, bot: Bot) -> None:
    assert await users.health() is True
    await bot.set_my_description("Ask about IP", language_code="en")
    info = await users.bot_info()
    assert info["user"]["id"] == 654321
    assert info["token_required"] is True
    assert info["texts"] == [
        {"field": "description", "language_code": "en", "text": "Ask about IP"}
    ]


async def test_change_feed_reports_sends_edits_and_deletions(
    bot: Bot, users: EmulatorClient
) -> None:
    cursor, everything = await users.wait_for_changes(USER, timeout=0)
    assert everything == []
    first = await bot.send_message(USER, "draft")
    second = await bot.send_message(USER, "other")
    cursor, changed = await users.wait_for_changes(USER, since=cursor, timeout=5)
    assert [m.message_id for m in changed] == [first.message_id, second.message_id]
    waiter = asyncio.create_task(users.wait_for_changes(USER, since=cursor, timeout=10))
    await bot.edit_message_text("final", chat_id=USER, message_id=first.message_id)
    cursor, changed = await asyncio.wait_for(waiter, 10)
    assert [(m.message_id, m.text, m.version) for m in changed] == [(first.message_id, "final", 2)]
    await bot.delete_message(USER, second.message_id)
    cursor, changed = await users.wait_for_changes(USER, since=cursor, timeout=5)
    assert [(m.message_id, m.deleted) for m in changed] == [(second.message_id, True)]
    assert await users.wait_for_changes(USER, since=cursor, timeout=0) == (cursor, [])


async def test_control_errors_carry_status_and_message(users: EmulatorClient) -> None:
    with pytest.raises(EmulatorError) as caught:
        await users.get_chat(-1)
    assert (caught.value.status, caught.value.message) == (404, "unknown chat -1")


async def test_a_fault_tied_to_a_chat_hits_only_that_chat() -> None:
    from bot.emulator.state import EmulatorState

    state = EmulatorState()
    state.add_fault("sendMessage", error_code=403, chat_id=42)
    assert state.take_fault("sendMessage", 7) is None
    assert state.take_fault("sendMessage", "42") is not None
    assert state.faults == []
