"""The checks the real Bot API server applies, with its error texts.

Everything here is pure: functions take request values and either return the normalised
value or raise :class:`ApiError` carrying Telegram's ``error_code`` and ``description``.

The HTML parser follows Telegram's own (tdlib ``parse_html``) semantics:

* only Telegram's tags are accepted; anything else is ``Unsupported start tag``;
* only ``&lt; &gt; &amp; &quot;`` and numeric references are decoded.  Telegram keeps any
  other ``&name;`` as literal text instead of rejecting it; pass ``strict_entities=True``
  to reject it (an emulator-only strictness, off by default);
* entity offsets and lengths are in UTF-16 code units, error offsets in UTF-8 bytes;
* after parsing, the text is cleaned and trimmed as Telegram does (control characters
  become spaces, ``\\r`` is dropped, leading/trailing spaces and newlines are removed), and
  the 4,096 / 1,024 limits count Unicode code points of that final text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MIN_CALLBACK_DATA_BYTES = 1
MAX_CALLBACK_DATA_BYTES = 64
MIN_MEDIA_GROUP_ITEMS = 2
MAX_MEDIA_GROUP_ITEMS = 10
MAX_COMMANDS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API failure: the HTTP status is ``error_code``."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JsonDict:
        payload: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def not_found(detail: str | None = None) -> ApiError:
    return ApiError(404, f"Not Found: {detail}" if detail else "Not Found")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


@dataclass
class FormattedText:
    """Plain text plus its entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


# --------------------------------------------------------------------------- HTML


_SPACES = frozenset(" \t\r\n\v\f\0")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_NAME_TOKEN = _ASCII_LETTERS | _DIGITS | frozenset(".-")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
SUPPORTED_HTML_TAGS = frozenset(
    {*_SIMPLE_TAG_TYPES, "a", "code", "pre", "span", "tg-emoji", "blockquote"}
)
# tdlib's sort order for entities starting at the same offset with the same length
_TYPE_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_URL_SCHEMES = ("http", "https", "tg", "ton", "tonsite", "ftp")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://\S+$")
_BARE_HOST_RE = re.compile(r"^[^\s/:?#]+\.[^\s/:?#]+(?:[/?#]\S*)?$")
_TG_USER_RE = re.compile(r"^tg://user\?id=(\d{1,20})$", re.IGNORECASE)


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_char_reference(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the reference at ``text[pos] == '&'``: (character, index after it) or None."""
    size = len(text)
    end = pos + 1
    if end < size and text[end] == "#":
        end += 1
        value = 0
        if end < size and text[end] == "x":
            end += 1
            while end < size and text[end] in _HEX_DIGITS:
                value = value * 16 + int(text[end], 16)
                end += 1
        else:
            while end < size and text[end] in _DIGITS:
                value = value * 10 + int(text[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < size and text[end] in _ASCII_LETTERS:
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < size and text[end] == ";":
        end += 1
    return char, end


_UNKNOWN_REFERENCE_RE = re.compile(r"&(?:#x?[0-9A-Za-z]*|[A-Za-z][A-Za-z0-9]*);")


def check_url(url: str) -> str | None:
    """The URL as Telegram would store it, or None when Telegram would drop/refuse it."""
    url = url.strip()
    match = _SCHEME_RE.match(url)
    if match:
        return url if match.group(1).lower() in _URL_SCHEMES else None
    if _BARE_HOST_RE.match(url):
        return f"http://{url}"
    return None


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    piece_index: int


class _HtmlParser:
    def __init__(self, markup: str, *, strict_entities: bool) -> None:
        self.markup = markup
        self.strict_entities = strict_entities
        self.pieces: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JsonDict] = []
        self.has_surrogate = False

    def _error_at(self, detail: str, index: int) -> ApiError:
        return _cant_parse(f"{detail} at byte offset {_byte_offset(self.markup, index)}")

    def _append(self, char: str) -> None:
        self.pieces.append(char)
        self.utf16 += _utf16_units(char)

    def parse(self) -> FormattedText:
        text = self.markup
        size = len(text)
        i = 0
        while i < size:
            char = text[i]
            if char == "&":
                decoded = _decode_char_reference(text, i)
                if decoded is not None:
                    value, i = decoded
                    if 0xD800 <= ord(value) <= 0xDFFF:
                        self.has_surrogate = True
                    self._append(value)
                    continue
                if self.strict_entities:
                    unknown = _UNKNOWN_REFERENCE_RE.match(text, i)
                    if unknown:
                        raise self._error_at(f'Unsupported HTML entity "{unknown.group(0)}"', i)
            if char != "<":
                self._append(char)
                i += 1
                continue
            closing = i + 1 < size and text[i + 1] == "/"
            i = self._end_tag(i) if closing else self._start_tag(i)
        if self.stack:
            raise _cant_parse(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        if self.has_surrogate:
            raise _cant_parse(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return FormattedText("".join(self.pieces), sort_entities(self.entities))

    def _start_tag(self, begin: int) -> int:
        text = self.markup
        size = len(text)
        i = begin + 1
        while i < size and text[i] not in _SPACES and text[i] != ">":
            i += 1
        if i >= size:
            raise self._error_at("Unclosed start tag", begin)
        name = text[begin + 1 : i].lower()
        if name not in SUPPORTED_HTML_TAGS:
            raise self._error_at(f'Unsupported start tag "{name}"', begin)
        argument = ""
        while True:
            while i < size and text[i] in _SPACES:
                i += 1
            if i < size and text[i] == ">":
                break
            attribute_begin = i
            while i < size and text[i] not in _SPACES and text[i] not in "=>":
                i += 1
            attribute = text[attribute_begin:i]
            if not attribute:
                raise self._error_at(f'Empty attribute name in the tag "{name}"', begin)
            while i < size and text[i] in _SPACES:
                i += 1
            if i >= size or text[i] != "=":
                if name == "blockquote" and attribute.lower() == "expandable":
                    argument = "expandable"
                    continue
                raise self._error_at(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}"',
                    begin,
                )
            i += 1
            while i < size and text[i] in _SPACES:
                i += 1
            if i >= size:
                raise self._error_at(f'Unclosed start tag "{name}"', begin)
            value, i = self._attribute_value(i)
            if i >= size:
                raise self._error_at("Unclosed start tag", begin)
            argument = _tag_argument(name, attribute, value, argument)
        if name == "span" and argument != "spoiler":
            raise self._error_at('Tag "span" must have class "tg-spoiler"', begin)
        self.stack.append(_OpenTag(name, argument, self.utf16, len(self.pieces)))
        return i + 1

    def _attribute_value(self, i: int) -> tuple[str, int]:
        text = self.markup
        size = len(text)
        quote = text[i]
        if quote not in "'\"":
            token_begin = i
            while i < size and text[i] in _NAME_TOKEN:
                i += 1
            if i < size and text[i] not in _SPACES and text[i] != ">":
                raise self._error_at("Unexpected end of name token", token_begin)
            return text[token_begin:i].lower(), i
        i += 1
        value: list[str] = []
        while i < size and text[i] != quote:
            if text[i] == "&":
                decoded = _decode_char_reference(text, i)
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                    continue
            value.append(text[i])
            i += 1
        if i < size:
            i += 1
        return "".join(value), i

    def _end_tag(self, begin: int) -> int:
        text = self.markup
        size = len(text)
        if not self.stack:
            raise self._error_at("Unexpected end tag", begin)
        i = begin + 2
        while i < size and text[i] not in _SPACES and text[i] != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while i < size and text[i] in _SPACES:
            i += 1
        if i >= size or text[i] != ">":
            raise self._error_at("Unclosed end tag", begin)
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise _cant_parse(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        self.stack.pop()
        if self.utf16 > open_tag.utf16_offset:
            self._close(open_tag)
        return i + 1

    def _close(self, tag: _OpenTag) -> None:
        offset = tag.utf16_offset
        length = self.utf16 - offset
        name = tag.name
        simple = _SIMPLE_TAG_TYPES.get(name)
        if simple is not None or name == "span":
            self.entities.append({"type": simple or "spoiler", "offset": offset, "length": length})
        elif name == "a":
            self._close_link(tag, offset, length)
        elif name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise _cant_parse("Invalid custom emoji identifier specified")
            self.entities.append(
                {
                    "type": "custom_emoji",
                    "offset": offset,
                    "length": length,
                    "custom_emoji_id": tag.argument,
                }
            )
        elif name == "blockquote":
            kind = "expandable_blockquote" if tag.argument == "expandable" else "blockquote"
            self.entities.append({"type": kind, "offset": offset, "length": length})
        elif name == "pre":
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == offset
                and last["length"] == length
                and last.get("language")
            ):
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", "offset": offset, "length": length})
        else:  # code
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "pre"
                and last["offset"] == offset
                and last["length"] == length
                and tag.argument
            ):
                last["language"] = tag.argument
            else:
                entity: JsonDict = {"type": "code", "offset": offset, "length": length}
                if tag.argument:
                    entity["language"] = tag.argument
                self.entities.append(entity)

    def _close_link(self, tag: _OpenTag, offset: int, length: int) -> None:
        url = tag.argument or "".join(self.pieces[tag.piece_index :])
        mention = _TG_USER_RE.match(url.strip())
        if mention:
            user = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
            self.entities.append(
                {"type": "text_mention", "offset": offset, "length": length, "user": user}
            )
            return
        checked = check_url(url)
        if checked is not None:
            self.entities.append(
                {"type": "text_link", "offset": offset, "length": length, "url": checked}
            )


def _tag_argument(tag: str, attribute: str, value: str, current: str) -> str:
    if tag == "a" and attribute == "href":
        return value
    if tag == "code" and attribute == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and attribute == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value
    return current


def sort_entities(entities: list[JsonDict]) -> list[JsonDict]:
    """Telegram's order: by offset, longer first, then by type priority."""
    for entity in entities:
        if entity["type"] == "code" and not entity.get("language"):
            entity.pop("language", None)
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)),
    )


def parse_html(markup: str, *, strict_entities: bool = False) -> FormattedText:
    """Parse Telegram-HTML into plain text and entities; raise ApiError like Telegram."""
    return _HtmlParser(markup, strict_entities=strict_entities).parse()


# --------------------------------------------------------------------------- cleaning


def clean_and_trim(formatted: FormattedText) -> FormattedText:
    """Telegram's post-processing: control characters → space, drop ``\\r``, trim."""
    kept: list[str] = []
    removed_at: list[int] = []  # UTF-16 offsets (in the input) of dropped characters
    utf16 = 0
    for char in formatted.text:
        units = _utf16_units(char)
        if char == "\r":
            removed_at.append(utf16)
        elif char != "\n" and ord(char) < 32:
            kept.append(" ")
        else:
            kept.append(char)
        utf16 += units
    entities = [dict(e) for e in formatted.entities]
    for position in reversed(removed_at):
        for entity in entities:
            end = entity["offset"] + entity["length"]
            if entity["offset"] > position:
                entity["offset"] -= 1
            elif end > position:
                entity["length"] -= 1
    text = "".join(kept)

    stripped_right = text.rstrip(" \n")
    limit = utf16_length(stripped_right)
    for entity in entities:
        entity["length"] = min(entity["offset"] + entity["length"], limit) - entity["offset"]
    # an entity does not start with whitespace: Telegram moves its start past it
    char_at: dict[int, str] = {}
    utf16 = 0
    for char in stripped_right:
        char_at[utf16] = char
        utf16 += _utf16_units(char)
    for entity in entities:
        while entity["length"] > 0 and char_at.get(entity["offset"]) in (" ", "\n"):
            entity["offset"] += 1
            entity["length"] -= 1
    entities = [e for e in entities if e["length"] > 0]

    first_entity = min((e["offset"] for e in entities), default=limit)
    lead = 0
    while lead < len(stripped_right) and stripped_right[lead] in " \n" and lead < first_entity:
        lead += 1
    for entity in entities:
        entity["offset"] -= lead
    return FormattedText(stripped_right[lead:], sort_entities(entities))


def _formatted(
    text: str, parse_mode: str | None, entities: Any, *, strict_entities: bool
) -> FormattedText:
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        return parse_html(text, strict_entities=strict_entities)
    if mode in ("markdown", "markdownv2"):
        raise bad_request(
            f"parse_mode {parse_mode} is not implemented by the emulator (only HTML is)"
        )
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    return FormattedText(text, check_entities(entities, text))


def check_entities(entities: Any, text: str) -> list[JsonDict]:
    """Validate explicitly given ``entities``/``caption_entities``."""
    if entities is None:
        return []
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    length = utf16_length(text)
    checked: list[JsonDict] = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise bad_request("can't parse MessageEntity: object expected")
        offset, size, kind = entity.get("offset"), entity.get("length"), entity.get("type")
        if not isinstance(kind, str):
            raise bad_request('can\'t parse MessageEntity: field "type" must be of type String')
        if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size < 0:
            raise bad_request("can't parse MessageEntity: wrong offset or length")
        if offset + size > length:
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text"
            )
        if size:
            checked.append(dict(entity))
    return sort_entities(checked)


def prepare_text(
    text: Any,
    parse_mode: str | None = None,
    entities: Any = None,
    *,
    strict_entities: bool = False,
) -> FormattedText:
    """A message text as Telegram stores it, or ApiError."""
    if text is None or text == "":
        raise bad_request("message text is empty")
    if not isinstance(text, str):
        text = str(text)
    formatted = clean_and_trim(
        _formatted(text, parse_mode, entities, strict_entities=strict_entities)
    )
    if not formatted.text:
        raise bad_request("message text is empty")
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return formatted


def prepare_caption(
    caption: Any,
    parse_mode: str | None = None,
    entities: Any = None,
    *,
    strict_entities: bool = False,
) -> FormattedText | None:
    """A media caption as Telegram stores it (None when empty), or ApiError."""
    if caption is None or caption == "":
        return None
    if not isinstance(caption, str):
        caption = str(caption)
    formatted = clean_and_trim(
        _formatted(caption, parse_mode, entities, strict_entities=strict_entities)
    )
    if not formatted.text:
        return None
    if len(formatted.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return formatted


# --------------------------------------------------------------------------- keyboards


def check_callback_data(data: Any) -> str:
    if not isinstance(data, str):
        raise bad_request("BUTTON_DATA_INVALID")
    size = len(data.encode("utf-8"))
    if not MIN_CALLBACK_DATA_BYTES <= size <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")
    return data


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton expected")
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [name for name in INLINE_BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        check_callback_data(button["callback_data"])
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or check_url(url) is None:
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _rows(markup: JsonDict, key: str) -> list[list[Any]]:
    rows = markup[key]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" must be an Array of Arrays')
    return rows


def check_reply_markup(markup: Any) -> JsonDict | None:
    """Validate any of the four reply_markup kinds; return it (None when absent)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup, "inline_keyboard"):
            for button in row:
                _check_inline_button(button)
        return markup
    if "keyboard" in markup:
        for row in _rows(markup, "keyboard"):
            for button in row:
                if isinstance(button, str):
                    continue
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_buttons(markup: JsonDict | None) -> list[JsonDict]:
    """All buttons of an inline keyboard, row by row (empty for other markups)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


# --------------------------------------------------------------------------- commands etc.


_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def check_commands(commands: Any) -> list[JsonDict]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked: list[JsonDict] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: object expected")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": command, "description": description})
    return checked


def check_language_code(language_code: Any) -> str:
    if language_code is None or language_code == "":
        return ""
    if not isinstance(language_code, str) or not re.fullmatch(r"[a-z]{2}", language_code):
        raise bad_request("invalid language code specified")
    return language_code


def check_chat_action(action: Any) -> str:
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    assert isinstance(action, str)
    return action


def check_media_group(media: Any) -> list[JsonDict]:
    """Shape checks of sendMediaGroup's ``media``; the items' files are resolved later."""
    if media is None:
        raise bad_request('parameter "media" is required')
    if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
        raise bad_request("can't parse media JSON object")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > MAX_MEDIA_GROUP_ITEMS:
        raise bad_request("too many messages to send as an album")
    if len(media) < MIN_MEDIA_GROUP_ITEMS:
        # Telegram's documented contract is 2-10 items.
        raise bad_request("a media group must contain 2-10 items")
    kinds = [item.get("type") for item in media]
    for kind in kinds:
        if kind not in ("photo", "video", "document", "audio"):
            raise bad_request(f"can't parse InputMedia: type \"{kind}\" can't be used here")
    for special in ("document", "audio"):
        if special in kinds and any(kind != special for kind in kinds):
            raise bad_request(f"{special} can't be mixed with other media types")
    return media


# --------------------------------------------------------------------------- user entities


_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def find_bot_commands(text: str) -> list[JsonDict]:
    """``bot_command`` entities as Telegram detects them in a user's text."""
    entities: list[JsonDict] = []
    size = len(text)
    i = 0
    while i < size:
        if text[i] != "/":
            i += 1
            continue
        begin = i
        if begin > 0 and (_is_word_char(text[begin - 1]) or text[begin - 1] in "/<>"):
            i += 1
            continue
        i += 1
        while i < size and text[i] in _COMMAND_CHARS:
            i += 1
        name_size = i - begin - 1
        end = i
        if i < size and text[i] == "@":
            j = i + 1
            while j < size and text[j] in _COMMAND_CHARS:
                j += 1
            if not 3 <= j - i - 1 <= 32:
                continue
            i = end = j
        if not 1 <= name_size <= 64:
            continue
        if end < size and (_is_word_char(text[end]) or text[end] in "/<>"):
            continue
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_length(text[:begin]),
                "length": utf16_length(text[begin:end]),
            }
        )
    return entities
