"""Telegram's validations, as the emulator applies them (pure functions, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator.validation import (
    ApiError,
    FormattedText,
    check_callback_data,
    check_chat_action,
    check_commands,
    check_media_group,
    check_reply_markup,
    check_url,
    clean_and_trim,
    find_bot_commands,
    parse_html,
    prepare_caption,
    prepare_text,
    utf16_length,
)

CANT_PARSE = "Bad Request: can't parse entities: "


def _error(call: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("markup", "text", "entities"),
    [
        ("plain", "plain", []),
        ("<b>bold</b>", "bold", [{"type": "bold", "offset": 0, "length": 4}]),
        ("<strong>s</strong>", "s", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            "<i>i</i><em>e</em>",
            "ie",
            [
                {"type": "italic", "offset": 0, "length": 1},
                {"type": "italic", "offset": 1, "length": 1},
            ],
        ),
        (
            "<u>u</u><ins>n</ins>",
            "un",
            [
                {"type": "underline", "offset": 0, "length": 1},
                {"type": "underline", "offset": 1, "length": 1},
            ],
        ),
        (
            "<s>a</s><strike>b</strike><del>c</del>",
            "abc",
            [
                {"type": "strikethrough", "offset": 0, "length": 1},
                {"type": "strikethrough", "offset": 1, "length": 1},
                {"type": "strikethrough", "offset": 2, "length": 1},
            ],
        ),
        (
            '<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>',
            "xy",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            '<a href="https://ipr.example/faq?a=1&amp;b=2">FAQ</a>',
            "FAQ",
            [
                {
                    "type": "text_link",
                    "offset": 0,
                    "length": 3,
                    "url": "https://ipr.example/faq?a=1&b=2",
                },
            ],
        ),
        (
            '<a href="tg://user?id=42">Li</a>',
            "Li",
            [
                {
                    "type": "text_mention",
                    "offset": 0,
                    "length": 2,
                    "user": {"id": 42, "is_bot": False, "first_name": ""},
                },
            ],
        ),
        ("<code>x</code>", "x", [{"type": "code", "offset": 0, "length": 1}]),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [
                {"type": "pre", "offset": 0, "length": 5, "language": "python"},
            ],
        ),
        ("<blockquote>q</blockquote>", "q", [{"type": "blockquote", "offset": 0, "length": 1}]),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [
                {"type": "expandable_blockquote", "offset": 0, "length": 1},
            ],
        ),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [
                {
                    "type": "custom_emoji",
                    "offset": 0,
                    "length": 2,
                    "custom_emoji_id": "5368324170671202286",
                },
            ],
        ),
        ("<B>upper</B>", "upper", [{"type": "bold", "offset": 0, "length": 5}]),
        (
            "<b>a <i>b</i></b>",
            "a b",
            [
                {"type": "bold", "offset": 0, "length": 3},
                {"type": "italic", "offset": 2, "length": 1},
            ],
        ),
        (
            "<b><i>x</i></b>",
            "x",
            [
                {"type": "bold", "offset": 0, "length": 1},
                {"type": "italic", "offset": 0, "length": 1},
            ],
        ),
        ("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;", '<b> & "q" AB', []),
        # Telegram keeps unsupported named entities as text instead of refusing them
        ("&nbsp;&copy;", "&nbsp;&copy;", []),
        ("AT&T", "AT&T", []),
        # offsets are UTF-16 code units: the emoji counts 2
        ("😀<b>商标</b>", "😀商标", [{"type": "bold", "offset": 2, "length": 2}]),
        ("<b></b>x", "x", []),
        ("<b>x</>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
    ],
)
def test_parse_html_accepts_telegram_markup(
    markup: str, text: str, entities: list[dict[str, Any]]
) -> None:
    assert parse_html(markup) == FormattedText(text, entities)


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("ab<", "Unclosed start tag at byte offset 2"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ("<a href=x/y>z</a>", "Unexpected end of name token at byte offset 8"),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        # byte offsets count UTF-8 bytes: "商标" is 6 bytes
        ("商标<x>", 'Unsupported start tag "x" at byte offset 6'),
    ],
)
def test_parse_html_rejects_what_telegram_rejects(markup: str, detail: str) -> None:
    error = _error(parse_html, markup)
    assert error.error_code == 400
    assert error.description == CANT_PARSE + detail


def test_strict_mode_rejects_unknown_named_entities() -> None:
    assert parse_html("a &lt; b").text == "a < b"
    error = _error(parse_html, "a &nbsp; b", strict_entities=True)
    assert error.description == CANT_PARSE + 'Unsupported HTML entity "&nbsp;" at byte offset 2'


def test_text_limits_count_characters_after_parsing() -> None:
    assert prepare_text("x" * 4096).text == "x" * 4096
    assert _error(prepare_text, "x" * 4097).description == "Bad Request: message is too long"
    # tags do not count; code points (not UTF-16 units) do
    assert len(prepare_text("<b>" + "x" * 4096 + "</b>", "HTML").text) == 4096
    assert len(prepare_text("😀" * 4096).text) == 4096
    assert _error(prepare_text, "😀" * 4097).description == "Bad Request: message is too long"


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "<b> </b>", None])
def test_empty_text_is_refused(text: str | None) -> None:
    error = _error(prepare_text, text, "HTML")
    assert error.description == "Bad Request: message text is empty"


def test_text_is_cleaned_and_trimmed_like_telegram() -> None:
    formatted = prepare_text("\n  <b> hi </b>\r\n\t!  \n", "HTML")
    assert formatted.text == "hi \n !"
    assert formatted.entities == [{"type": "bold", "offset": 0, "length": 3}]
    assert clean_and_trim(FormattedText("a\rb", [])).text == "ab"


def test_caption_limit_and_empty_caption() -> None:
    assert prepare_caption(None) is None
    assert prepare_caption("  ") is None
    caption = prepare_caption("<i>x</i>", "HTML")
    assert caption == FormattedText("x", [{"type": "italic", "offset": 0, "length": 1}])
    error = _error(prepare_caption, "c" * 1025)
    assert error.description == "Bad Request: message caption is too long"


def test_parse_modes() -> None:
    assert prepare_text("<b>x</b>", "html").text == "x"
    assert prepare_text("<b>x</b>").text == "<b>x</b>"
    assert (
        "not implemented by the emulator" in _error(prepare_text, "*x*", "MarkdownV2").description
    )
    assert (
        _error(prepare_text, "x", "Latex").description
        == "Bad Request: unsupported parse_mode Latex"
    )


def test_explicit_entities_are_checked() -> None:
    given = [{"type": "bold", "offset": 0, "length": 2}]
    assert prepare_text("hi", entities=given).entities == given
    error = _error(prepare_text, "hi", entities=[{"type": "bold", "offset": 1, "length": 5}])
    assert error.error_code == 400


@pytest.mark.parametrize("data", ["x", "a" * 64, "é" * 32, "cat:tm/renew"])
def test_callback_data_within_64_bytes(data: str) -> None:
    assert check_callback_data(data) == data


@pytest.mark.parametrize("data", ["", "a" * 65, "é" * 33, 5])
def test_callback_data_invalid(data: Any) -> None:
    assert _error(check_callback_data, data).description == "Bad Request: BUTTON_DATA_INVALID"


def test_reply_markup_kinds() -> None:
    inline = {
        "inline_keyboard": [
            [{"text": "A", "callback_data": "a"}],
            [{"text": "W", "url": "https://x.org"}],
        ]
    }
    assert check_reply_markup(inline) == inline
    keyboard = {"keyboard": [["Yes", {"text": "No"}]], "one_time_keyboard": True}
    assert check_reply_markup(keyboard) == keyboard
    assert check_reply_markup({"remove_keyboard": True}) == {"remove_keyboard": True}
    assert check_reply_markup({"force_reply": True}) == {"force_reply": True}
    assert check_reply_markup(None) is None


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (
            {"inline_keyboard": [[{"text": "A", "callback_data": "a" * 65}]]},
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {"inline_keyboard": [[{"text": "A"}]]},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"inline_keyboard": [{"text": "A", "callback_data": "a"}]},
            'Bad Request: field "inline_keyboard" must be an Array of Arrays',
        ),
        (
            {"inline_keyboard": [[{"text": "A", "url": "javascript:alert(1)"}]]},
            "Bad Request: inline keyboard button URL 'javascript:alert(1)' is invalid: "
            "Wrong HTTP URL",
        ),
        ({"whatever": 1}, "Bad Request: can't parse reply keyboard markup JSON object"),
        ("[]", "Bad Request: can't parse reply keyboard markup JSON object"),
    ],
)
def test_reply_markup_invalid(markup: Any, description: str) -> None:
    assert _error(check_reply_markup, markup).description == description


def test_commands() -> None:
    good = [{"command": "start", "description": "Start"}, {"command": "faq_2", "description": "x"}]
    assert check_commands(good) == good
    for bad in ("Start", "with space", "a" * 33, "/start", ""):
        error = _error(check_commands, [{"command": bad, "description": "d"}])
        assert error.description == "Bad Request: BOT_COMMAND_INVALID"
    error = _error(check_commands, [{"command": "ok", "description": " "}])
    assert error.description == "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
    many = [{"command": f"c{i}", "description": "d"} for i in range(101)]
    assert _error(check_commands, many).description == "Bad Request: BOT_COMMANDS_TOO_MUCH"


def test_chat_action() -> None:
    assert check_chat_action("typing") == "typing"
    error = _error(check_chat_action, "dancing")
    assert error.description == "Bad Request: wrong parameter action in request"


def test_media_group_shape() -> None:
    photo = {"type": "photo", "media": "attach://a"}
    document = {"type": "document", "media": "attach://b"}
    assert check_media_group([photo, photo]) == [photo, photo]
    assert check_media_group([document] * 10) == [document] * 10
    assert (
        _error(check_media_group, []).description == "Bad Request: there are no messages to send"
    )
    assert "2-10 items" in _error(check_media_group, [photo]).description
    too_many = _error(check_media_group, [photo] * 11).description
    assert too_many == "Bad Request: too many messages to send as an album"
    mixed = _error(check_media_group, [photo, document]).description
    assert mixed == "Bad Request: document can't be mixed with other media types"


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("/start", [(0, 6)]),
        ("/start payload", [(0, 6)]),
        ("/start@ipdesk_bot", [(0, 17)]),
        ("please /help me", [(7, 5)]),
        ("商标 /faq", [(3, 4)]),
        ("😀 /faq", [(3, 4)]),
        ("a/b", []),
        ("//x", []),
        ("/", []),
        ("/x@ab", []),
        ("no command", []),
    ],
)
def test_bot_command_entities(text: str, spans: list[tuple[int, int]]) -> None:
    found = find_bot_commands(text)
    assert [(e["offset"], e["length"]) for e in found] == spans
    assert all(e["type"] == "bot_command" for e in found)


def test_urls_and_utf16() -> None:
    assert check_url("https://example.com/x") == "https://example.com/x"
    assert check_url("example.com") == "http://example.com"
    assert check_url("tg://resolve?domain=x") == "tg://resolve?domain=x"
    assert check_url("javascript:alert(1)") is None
    assert check_url("not a url") is None
    assert utf16_length("a😀商") == 4
