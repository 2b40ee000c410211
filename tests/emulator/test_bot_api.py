"""The emulator's Bot API, driven over HTTP by a real python-telegram-bot ``Bot``."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from bot.emulator import EmulatorClient, EmulatorState, RunningEmulator, run_emulator, tiny_png

TOKEN = "123456:TEST-token"
USER = 10001
OTHER = 10002


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    async with run_emulator(state=EmulatorState(token=TOKEN)) as running:
        yield running


@pytest.fixture
async def users(emu: RunningEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emu.base_url) as client:
        await client.create_user(USER, "Li", username="li_ipr", language_code="zh")
        yield client


@pytest.fixture
async def bot(
    emu: RunningEmulator, users: EmulatorClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Bot]:
    """A PTB Bot on the emulator, where the user USER exists."""
    # PTB warns (an error here) when RetryAfter.retry_after is read as int
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with Bot(TOKEN, base_url=emu.bot_base_url, base_file_url=emu.file_base_url) as b:
        yield b


async def _until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds (bounded)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


def _keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_get_me_identifies_the_bot_by_its_token(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "ipdesk_test_bot"
    assert me.can_read_all_group_messages is False


async def test_wrong_token_is_unauthorized(emu: RunningEmulator) -> None:
    other = Bot("999:wrong", base_url=emu.bot_base_url)
    try:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await other.initialize()
    finally:
        await other.shutdown()


async def test_unknown_method_is_not_found(bot: Bot, users: EmulatorClient) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})
    [call] = await users.api_calls("sendTelepathy")
    assert (call.error_code, call.description) == (404, "Not Found: method not found")


async def test_send_message_with_html(bot: Bot, users: EmulatorClient) -> None:
    sent = await bot.send_message(
        USER,
        '<b>Trademark</b> renewal: see <a href="https://ipr.example/tm">the guide</a> &amp; call',
        parse_mode=ParseMode.HTML,
        disable_notification=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert sent.text == "Trademark renewal: see the guide & call"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 9),
        ("text_link", 23, 9),
    ]
    assert sent.entities[1].url == "https://ipr.example/tm"
    assert sent.chat.id == USER
    assert sent.from_user is not None
    assert sent.from_user.id == 123456
    [stored] = await users.messages(USER)
    assert stored.message_id == sent.message_id
    assert stored.text == "Trademark renewal: see the guide & call"
    assert stored.raw_text is not None
    assert stored.raw_text.startswith("<b>Trademark</b>")
    assert stored.parse_mode == "HTML"
    assert stored.disable_notification is True
    assert stored.link_preview_options == {"is_disabled": True}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<p>para</p>", 'unsupported start tag "p" at byte offset 0'),
        ("<b>open", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("price < 100", 'unsupported start tag "" at byte offset 6'),
    ],
)
async def test_bad_html_is_rejected(
    bot: Bot, users: EmulatorClient, text: str, message: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    # PTB strips "Bad Request: " and capitalises the rest
    assert caught.value.message == f"Can't parse entities: {message}"
    assert await users.messages(USER) == []


async def test_text_length_counts_after_parsing(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
    sent = await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert sent.text == "x" * 4096


@pytest.mark.parametrize("data", ["d" * 65, "商" * 22])
async def test_callback_data_over_64_bytes_is_rejected(bot: Bot, data: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)^button_data_invalid$"):
        await bot.send_message(USER, "choose", reply_markup=_keyboard(("A", data)))


async def test_unknown_chat_is_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hello")


async def test_blocked_user_is_forbidden(bot: Bot, users: EmulatorClient) -> None:
    await users.block_bot(USER)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(USER, "reminder")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    await users.unblock_bot(USER)
    assert (await bot.send_message(USER, "welcome back")).text == "welcome back"


async def test_bot_cannot_write_first_to_a_user_who_never_started_it(
    bot: Bot, users: EmulatorClient
) -> None:
    await users.create_user(OTHER, "Wang", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(OTHER, "hi")
    await users.send_text(OTHER, "/start")
    assert (await bot.send_message(OTHER, "hi")).text == "hi"


async def test_get_updates_offset_semantics(bot: Bot, users: EmulatorClient) -> None:
    for text in ("a", "b", "c"):
        await users.send_text(USER, text)
    first = await bot.get_updates()
    ids = [u.update_id for u in first]
    assert [u.message.text for u in first if u.message] == ["a", "b", "c"]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    # not confirmed: delivered again
    assert [u.update_id for u in await bot.get_updates()] == ids
    # offset confirms every update below it
    rest = await bot.get_updates(offset=ids[1])
    assert [u.update_id for u in rest] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[1:2]
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert await users.pending_updates() == []
    # negative offset: only the last updates are kept
    for text in ("x", "y", "z"):
        await users.send_text(USER, text)
    [last] = await bot.get_updates(offset=-1)
    assert last.message is not None
    assert last.message.text == "z"
    assert last.update_id > ids[-1]


async def test_allowed_updates_filters_new_updates(bot: Bot, users: EmulatorClient) -> None:
    assert await bot.get_updates(allowed_updates=["callback_query"]) == ()
    await users.send_text(USER, "ignored")
    sent = await bot.send_message(USER, "pick", reply_markup=_keyboard(("A", "a")))
    await users.press_button(USER, sent.message_id, label="A")
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    await bot.get_updates(offset=update.update_id + 1, allowed_updates=[])
    await users.send_text(USER, "delivered")
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "delivered"


async def test_long_poll_wakes_up_when_a_user_writes(
    bot: Bot, users: EmulatorClient, emu: RunningEmulator
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await _until(lambda: emu.state.polls_waiting == 1)
    assert not poll.done()
    await users.send_text(USER, "/start")
    [update] = await asyncio.wait_for(poll, 5)
    assert update.message is not None
    assert update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "zh"


async def test_a_newer_poll_terminates_the_older_one(bot: Bot, emu: RunningEmulator) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=30))
    await _until(lambda: emu.state.polls_waiting == 1)
    # a second bot instance (PTB's own getUpdates pool holds one connection)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{emu.bot_base_url}{TOKEN}/getUpdates") as response,
    ):
        assert await response.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, 5)


async def test_callback_query_round_trip(bot: Bot, users: EmulatorClient) -> None:
    sent = await bot.send_message(
        USER, "Which topic?", reply_markup=_keyboard(("Trademark", "cat:tm"), ("Patent", "cat:pt"))
    )
    pressed = await users.press_button(USER, sent.message_id, label="Patent")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (pressed.query_id, "cat:pt", USER)
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await query.answer("Noted", show_alert=True) is True
    answer = await users.wait_for_callback_answer(pressed.query_id, timeout=5)
    assert (answer.answered, answer.text, answer.show_alert) == (True, "Noted", True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("twice")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("no-such-query")
    # tests may forge data that no button carries
    forged = await users.press_button(USER, sent.message_id, data="cat:../../etc")
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.callback_query is not None
    assert update.callback_query.data == "cat:../../etc"
    assert update.callback_query.id == forged.query_id != pressed.query_id


async def test_edit_message_text(bot: Bot, users: EmulatorClient) -> None:
    keyboard = _keyboard(("More", "more"))
    sent = await bot.send_message(USER, "v1", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "<i>v2</i>",
        chat_id=USER,
        message_id=sent.message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )
    assert not isinstance(edited, bool)
    assert edited.text == "v2"
    assert edited.edit_date is not None
    view = await users.message(USER, sent.message_id)
    assert (view.text, view.raw_text, view.version, view.edited) == ("v2", "<i>v2</i>", 2, True)
    assert view.buttons[0].callback_data == "more"
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text(
            "<i>v2</i>",
            chat_id=USER,
            message_id=sent.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
    # like Telegram: an edit without reply_markup removes the inline keyboard
    await bot.edit_message_text("<i>v2</i>", USER, sent.message_id, parse_mode=ParseMode.HTML)
    assert (await users.message(USER, sent.message_id)).reply_markup is None
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    user_message = await users.send_text(USER, "mine")
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", chat_id=USER, message_id=user_message["message_id"])


async def test_edit_reply_markup_and_delete(bot: Bot, users: EmulatorClient) -> None:
    sent = await bot.send_message(USER, "menu", reply_markup=_keyboard(("A", "a")))
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=_keyboard(("B", "b")))
    assert [b.text for b in (await users.message(USER, sent.message_id)).buttons] == ["B"]
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_reply_markup(
            USER, sent.message_id, reply_markup=_keyboard(("B", "b"))
        )
    assert await bot.delete_message(USER, sent.message_id) is True
    assert (await users.message(USER, sent.message_id)).deleted is True
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(USER, sent.message_id)


async def test_reply_keyboards_and_replies(bot: Bot, users: EmulatorClient) -> None:
    question = await users.send_text(USER, "How long does a trademark last?")
    answer = await bot.send_message(
        USER,
        "Ten years.",
        reply_parameters=ReplyParameters(question["message_id"]),
        reply_markup=ReplyKeyboardMarkup([["Renew", "Register"]], one_time_keyboard=True),
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "How long does a trademark last?"
    view = await users.message(USER, answer.message_id)
    assert view.keyboard == [["Renew", "Register"]]
    assert view.reply_to_message_id == question["message_id"]
    assert (await users.get_chat(USER))["reply_keyboard"] is not None
    await bot.send_message(USER, "ok", reply_markup=ReplyKeyboardRemove())
    assert (await users.get_chat(USER))["reply_keyboard"] is None
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(USER, "x", reply_parameters=ReplyParameters(999))
    sent = await bot.send_message(
        USER, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    assert sent.reply_to_message is None


async def test_user_photo_then_get_file_and_download(bot: Bot, users: EmulatorClient) -> None:
    image = tiny_png(40, 30)
    await users.send_photo(USER, image, caption="our logo /check")
    [update] = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.caption == "our logo /check"
    assert message.caption_entities[0].type == "bot_command"
    largest = message.photo[-1]
    assert (largest.width, largest.height) == (40, 30)
    assert len(message.photo) == 2
    file = await largest.get_file()
    assert file.file_path is not None
    assert file.file_path.startswith(f"{bot.base_file_url}/photos/")
    assert bytes(await file.download_as_bytearray()) == image


async def test_user_album_and_document(bot: Bot, users: EmulatorClient) -> None:
    for index in range(3):
        await users.send_photo(USER, tiny_png(index + 1, 1), media_group_id="album-1")
    await users.send_document(USER, b"%PDF-1.4 certificate", "certificate.pdf", caption="cert")
    updates = await bot.get_updates()
    groups = [u.message.media_group_id for u in updates if u.message]
    assert groups == ["album-1", "album-1", "album-1", None]
    document = updates[-1].message.document if updates[-1].message else None
    assert document is not None
    assert (document.file_name, document.mime_type) == ("certificate.pdf", "application/pdf")
    file = await document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 certificate"


async def test_bot_send_photo_and_document(bot: Bot, users: EmulatorClient) -> None:
    photo = await bot.send_photo(
        USER, tiny_png(64, 48), caption="<b>Chart</b>", parse_mode=ParseMode.HTML
    )
    assert (photo.photo[-1].width, photo.photo[-1].height) == (64, 48)
    assert photo.caption == "Chart"
    assert photo.caption_entities[0].type == "bold"
    # resend by file_id
    again = await bot.send_photo(USER, photo.photo[-1].file_id)
    assert again.photo[-1].width == 64
    document = await bot.send_document(
        USER, b"case,status\n1,open\n", filename="tickets.csv", caption="report"
    )
    assert document.document is not None
    assert document.document.file_name == "tickets.csv"
    assert document.document.file_size == 19
    assert document.caption == "report"
    file = await bot.get_file(document.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"case,status\n1,open\n"
    assert await users.file_content(document.document.file_id) == b"case,status\n1,open\n"
    kinds = [m.kind for m in await users.messages(USER)]
    assert kinds == ["photo", "photo", "document"]
    with pytest.raises(BadRequest, match=r"^Image_process_failed$"):
        await bot.send_photo(USER, b"this is not an image")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_document(USER, b"x", filename="x.txt", caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"^Wrong file identifier/http url specified$"):
        await bot.send_document(USER, "no-such-file-id")


async def test_bot_send_media_group(bot: Bot, users: EmulatorClient) -> None:
    sent = await bot.send_media_group(
        USER,
        [
            InputMediaPhoto(tiny_png(10, 10), caption="<i>front</i>", parse_mode=ParseMode.HTML),
            InputMediaPhoto(tiny_png(20, 10)),
            InputMediaPhoto(tiny_png(30, 10)),
        ],
    )
    assert len(sent) == 3
    assert len({m.media_group_id for m in sent}) == 1
    assert sent[0].media_group_id is not None
    assert sent[0].caption == "front"
    assert [m.photo[-1].width for m in sent] == [10, 20, 30]
    assert [m.message_id for m in sent] == sorted(m.message_id for m in sent)
    views = await users.messages(USER)
    assert [v.media_group_id for v in views] == [sent[0].media_group_id] * 3
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(USER, [InputMediaPhoto(tiny_png())])
    with pytest.raises(BadRequest, match=r"^Too many messages to send as an album$"):
        await bot.send_media_group(USER, [InputMediaPhoto(tiny_png()) for _ in range(11)])
    with pytest.raises(BadRequest, match="can't be mixed"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(tiny_png()), InputMediaDocument(b"x", filename="x.txt")]
        )
    assert len(await users.messages(USER)) == 3


async def test_copy_and_forward(bot: Bot, users: EmulatorClient) -> None:
    await users.create_user(OTHER, "Expert Wang")
    question = await users.send_text(USER, "Is my logo infringing?")
    forwarded = await bot.forward_message(OTHER, USER, question["message_id"])
    assert forwarded.text == "Is my logo infringing?"
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    copied = await bot.copy_message(OTHER, USER, question["message_id"])
    view = await users.message(OTHER, copied.message_id)
    assert view.text == "Is my logo infringing?"
    assert "forward_origin" not in view.message
    with pytest.raises(BadRequest, match=r"^Message to copy not found$"):
        await bot.copy_message(OTHER, USER, 999)


async def test_rate_limit_fault_surfaces_as_retry_after(bot: Bot, users: EmulatorClient) -> None:
    await users.inject_fault("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "hello")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert (await bot.send_message(USER, "hello")).text == "hello"
    calls = await users.api_calls("sendMessage")
    assert [(c.ok, c.error_code) for c in calls] == [(False, 429), (True, None)]


@pytest.mark.parametrize("status", [500, 502])
async def test_server_error_faults(bot: Bot, users: EmulatorClient, status: int) -> None:
    await users.inject_fault("sendMessage", error_code=status, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "hello")
    assert (await bot.send_message(USER, "hello")).text == "hello"
    # other methods were never affected
    assert (await bot.get_me()).id == 123456


async def test_commands_per_scope_and_language(bot: Bot, users: EmulatorClient) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "开始")], language_code="zh")
    await bot.set_my_commands(
        [BotCommand("tickets", "Open tickets")], scope=BotCommandScopeChat(USER)
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["开始"]
    sets = {(s.scope["type"], s.language_code) for s in await users.commands()}
    assert sets == {("default", ""), ("default", "zh"), ("chat", "")}
    await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])


async def test_webhook_is_recorded_and_blocks_polling(bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example/hook") is True
    assert (await bot.get_webhook_info()).url == "https://bot.example/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_chat_action_menu_button_chat_info(bot: Bot, users: EmulatorClient) -> None:
    assert await bot.send_chat_action(USER, ChatAction.TYPING) is True
    assert (await users.get_chat(USER))["last_chat_action"] == "typing"
    with pytest.raises(BadRequest, match=r"^Wrong parameter action in request$"):
        await bot.send_chat_action(USER, "dancing")
    assert await bot.set_chat_menu_button() is True
    chat = await bot.get_chat(USER)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Li", "li_ipr")
    member = await bot.get_chat_member(USER, USER)
    assert member.status == "member"
    assert await bot.close() is True


async def test_groups_privacy_mode_and_membership(bot: Bot, users: EmulatorClient) -> None:
    await users.create_user(OTHER, "Staff")
    group = await users.create_group("IPR staff", member_ids=[USER], creator_id=OTHER)
    chat_id = group["id"]
    with pytest.raises(
        Forbidden, match=r"^Forbidden: bot is not a member of the supergroup chat$"
    ):
        await bot.send_message(chat_id, "hello")
    await users.add_bot_to_group(chat_id, OTHER)
    joined = await bot.get_updates()
    assert joined[0].my_chat_member is not None
    assert joined[0].my_chat_member.new_chat_member.status == "member"
    assert joined[1].message is not None
    assert [u.id for u in joined[1].message.new_chat_members] == [123456]
    offset = joined[-1].update_id + 1

    greeting = await bot.send_message(chat_id, "Hello staff")
    await users.send_text(USER, "chatting among ourselves", chat_id=chat_id)
    await users.send_text(USER, "/tickets@ipdesk_test_bot", chat_id=chat_id)
    await users.send_text(USER, "/tickets@some_other_bot", chat_id=chat_id)
    await users.send_text(USER, "thanks", chat_id=chat_id, reply_to_message_id=greeting.message_id)
    seen = await bot.get_updates(offset=offset)
    assert [u.message.text for u in seen if u.message] == ["/tickets@ipdesk_test_bot", "thanks"]
    member = await bot.get_chat_member(chat_id, OTHER)
    assert member.status == "creator"
    assert await bot.leave_chat(chat_id) is True
    with pytest.raises(Forbidden):
        await bot.send_message(chat_id, "still here?")


async def test_plain_json_form_and_query_requests(
    emu: RunningEmulator, users: EmulatorClient
) -> None:
    url = f"{emu.bot_base_url}{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": USER, "text": "json", "reply_markup": markup}
        ) as response:
            body = await response.json()
        assert body["ok"] is True
        assert body["result"]["reply_markup"] == markup
        async with http.get(f"{url}/SENDMESSAGE", params={"chat_id": str(USER), "text": "q"}) as r:
            assert (await r.json())["result"]["text"] == "q"
        async with http.post(f"{url}/sendMessage", data={"chat_id": "x", "text": "t"}) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
    [json_call, query_call, _] = await users.api_calls()
    assert json_call.params["reply_markup"] == markup
    assert query_call.method == "sendMessage"
    assert query_call.params["chat_id"] == USER
