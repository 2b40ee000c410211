"""The emulator's HTTP side (aiohttp): Telegram's Bot API, file downloads, and the control API.

* ``/bot<token>/<method>`` — GET or POST; JSON, form-urlencoded or multipart bodies, like
  api.telegram.org. PTB sends form-urlencoded for plain calls (every non-string value
  JSON-encoded) and multipart for uploads; both are decoded by parameter name here.
* ``/file/bot<token>/<file_path>`` — downloads for ``getFile``.
* ``/_emu/...`` — the test/control API (JSON), wrapped by
  :class:`bot.emulator.client.EmulatorClient`.

Nothing is logged with the request path: it contains the token (the access log is off).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import logging
import mimetypes
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from bot.emulator.state import (
    MAX_GET_FILE_SIZE,
    MEMBER_STATUSES,
    ChatRecord,
    ControlError,
    EmulatorState,
    StoredFile,
    StoredMessage,
    document_object,
    formatted_fields,
    image_size,
)
from bot.emulator.validation import (
    MAX_CALLBACK_ANSWER_LENGTH,
    ApiError,
    JsonDict,
    bad_request,
    check_chat_action,
    check_commands,
    check_language_code,
    check_media_group,
    check_reply_markup,
    not_found,
    prepare_caption,
    prepare_text,
)

logger = logging.getLogger(__name__)

STATE_KEY = web.AppKey("emulator_state", EmulatorState)
MAX_REQUEST_SIZE = 60 * 1024 * 1024
MAX_WAIT_SECONDS = 300.0

# ---------------------------------------------------------------------------- parameters

_INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "user_id",
        "cache_time",
        "message_thread_id",
        "max_connections",
        "duration",
        "width",
        "height",
        "until_date",
    }
)
_CHAT_ID_PARAMS = frozenset({"chat_id", "from_chat_id"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "has_spoiler",
        "show_caption_above_media",
        "disable_content_type_detection",
        "allow_paid_broadcast",
        "remove_caption",
        "only_if_banned",
        "for_channels",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "media",
        "entities",
        "caption_entities",
        "message_ids",
        "rights",
    }
)
_FLOAT_PARAMS = frozenset({"latitude", "longitude"})
_INT_RE = re.compile(r"^-?\d+$")


def normalize_param(name: str, value: Any) -> Any:
    """Decode a string parameter by its name, as Telegram does (values that do not decode
    stay strings, and the method then refuses them)."""
    if not isinstance(value, str):
        return value
    if name in _INT_PARAMS or name in _CHAT_ID_PARAMS:
        return int(value) if _INT_RE.match(value.strip()) else value
    if name in _BOOL_PARAMS:
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        return value
    if name in _FLOAT_PARAMS:
        try:
            return float(value)
        except ValueError:
            return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def summary(self) -> JsonDict:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
        }


class Params:
    """A Bot API call's parameters with Telegram's type checks."""

    def __init__(self, values: JsonDict, files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def integer(self, name: str, *, missing: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None:
            if missing is not None:
                raise bad_request(missing)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f'field "{name}" must be of type Integer')
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        raise bad_request(f'field "{name}" must be of type Boolean')

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, bool):
            raise bad_request("chat not found")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.startswith("@"):
            return value
        raise bad_request("chat not found")

    def json_value(self, name: str, *, error: str | None = None) -> Any:
        value = self.values.get(name)
        if isinstance(value, str) and name in _JSON_PARAMS:
            raise bad_request(error or f"can't parse {name} JSON object")
        return value

    def reply_markup(self) -> JsonDict | None:
        markup = self.json_value(
            "reply_markup", error="can't parse reply keyboard markup JSON object"
        )
        return check_reply_markup(markup)


async def read_params(request: web.Request) -> tuple[JsonDict, dict[str, UploadedFile]]:
    raw: JsonDict = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError as exc:
                    raise bad_request("can't parse JSON object") from exc
                if not isinstance(decoded, dict):
                    raise bad_request("JSON object expected")
                raw.update(decoded)
        elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    value.file.close()
                    files[key] = UploadedFile(key, value.filename, value.content_type, data)
                else:
                    raw[key] = value
    return {name: normalize_param(name, value) for name, value in raw.items()}, files


# ---------------------------------------------------------------------------- Bot API


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_COPYABLE_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "video",
    "audio",
    "sticker",
    "voice",
    "location",
    "contact",
    "caption",
    "caption_entities",
    "has_media_spoiler",
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_DEFAULT_PHOTO_SIZE = (800, 600)


@dataclass(frozen=True)
class _InputFile:
    content: bytes
    file_name: str | None
    mime_type: str | None
    source_url: str | None
    existing: StoredFile | None


class BotApi:
    """Telegram's methods over an :class:`EmulatorState`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # -------------------------------------------------------------- helpers

    def _text(self, p: Params, key: str = "text") -> Any:
        return prepare_text(
            p.raw(key),
            p.text("parse_mode"),
            p.json_value("entities"),
            strict_entities=self.state.strict_html_entities,
        )

    def _caption(self, p: Params) -> Any:
        return prepare_caption(
            p.raw("caption"),
            p.text("parse_mode"),
            p.json_value("caption_entities"),
            strict_entities=self.state.strict_html_entities,
        )

    def _writable_chat(self, p: Params) -> ChatRecord:
        chat = self.state.resolve_chat(p.chat_id())
        self.state.check_can_write(chat)
        return chat

    def _reply_target(self, p: Params, chat: ChatRecord) -> StoredMessage | None:
        parameters = p.json_value("reply_parameters", error="can't parse reply parameters")
        allow_missing = p.flag("allow_sending_without_reply")
        target_chat = chat
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
            if parameters.get("chat_id") is not None:
                target_chat = self.state.resolve_chat(parameters["chat_id"])
        elif parameters is not None:
            raise bad_request("can't parse reply parameters")
        else:
            message_id = p.integer("reply_to_message_id")
            if message_id is None:
                return None
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise bad_request("message to be replied not found")
        target = None
        if target_chat.id == chat.id:
            target = self.state.find_message(chat.id, message_id)
        if target is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return target

    def _bot_message(self, p: Params, *, what: str) -> tuple[ChatRecord, StoredMessage]:
        if p.raw("inline_message_id") is not None:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.state.resolve_chat(p.chat_id())
        message_id = p.integer("message_id", missing="message identifier is not specified")
        assert message_id is not None
        stored = self.state.find_message(chat.id, message_id)
        if stored is None:
            raise bad_request(f"message to {what} not found")
        if what == "edit" and not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat, stored

    def _inline_markup(self, p: Params) -> JsonDict | None:
        markup = p.reply_markup()
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return markup

    @staticmethod
    def _current_inline(stored: StoredMessage) -> JsonDict | None:
        markup = stored.reply_markup
        return markup if markup is not None and "inline_keyboard" in markup else None

    def _input_file(self, p: Params, field: str, *, value: Any = None) -> _InputFile:
        """A file given as an upload, attach://name, a known file_id, or an HTTP URL."""
        upload = p.files.get(field) if value is None else None
        given = p.raw(field) if value is None else value
        if upload is None and isinstance(given, str) and given.startswith("attach://"):
            upload = p.files.get(given.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"can't find {given} in the request")
        if upload is not None:
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                guessed = mimetypes.guess_type(upload.filename or "")[0]
                mime = guessed or mime
            return _InputFile(upload.data, upload.filename, mime, None, None)
        if isinstance(given, str) and given:
            existing = self.state.file(given)
            if existing is not None:
                return _InputFile(
                    existing.content, existing.file_name, existing.mime_type, None, existing
                )
            if given.startswith(("http://", "https://")):
                name = urlparse(given).path.rsplit("/", 1)[-1] or None
                mime = mimetypes.guess_type(name or "")[0]
                return _InputFile(b"", name, mime, given, None)
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {field} in the request")

    def _photo_sizes(self, source: _InputFile) -> list[JsonDict]:
        if source.existing is not None and source.existing.kind != "photo":
            kind = source.existing.kind.capitalize()
            raise bad_request(f"can't use file of type {kind} as Photo")
        if source.existing is not None and source.existing.width and source.existing.height:
            size = (source.existing.width, source.existing.height)
        elif source.source_url is not None:
            size = _DEFAULT_PHOTO_SIZE
        else:
            detected = image_size(source.content)
            if detected is None or min(detected) <= 0:
                raise bad_request("IMAGE_PROCESS_FAILED")
            size = detected
        if sum(size) > 10_000:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return self.state.photo_sizes(source.content, *size)

    def _stored_file(self, source: _InputFile, kind: str) -> StoredFile:
        if source.existing is not None:
            if source.existing.kind != kind:
                raise bad_request(
                    f"can't use file of type {source.existing.kind.capitalize()} "
                    f"as {kind.capitalize()}"
                )
            return source.existing
        return self.state.store_file(
            source.content,
            kind=kind,
            mime_type=source.mime_type,
            file_name=source.file_name,
            source_url=source.source_url,
        )

    def _media_content(self, kind: str, source: _InputFile) -> JsonDict:
        if kind == "photo":
            return {"photo": self._photo_sizes(source)}
        stored = self._stored_file(source, kind)
        if kind == "document":
            return {"document": document_object(stored)}
        media: JsonDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "duration": 0,
        }
        if stored.mime_type:
            media["mime_type"] = stored.mime_type
        if kind == "video":
            media.update({"width": stored.width or 640, "height": stored.height or 360})
        elif stored.file_name:
            media["file_name"] = stored.file_name
        return {kind: media}

    def _send_options(self, p: Params) -> JsonDict:
        return {"disable_notification": p.flag("disable_notification")}

    # -------------------------------------------------------------- bot and updates

    async def get_me(self, p: Params) -> JsonDict:
        return {
            **self.state.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.state.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def log_out(self, p: Params) -> bool:
        return True

    async def close(self, p: Params) -> bool:
        return True

    async def get_updates(self, p: Params) -> list[JsonDict]:
        if self.state.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        allowed = p.json_value("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("can't parse allowed_updates JSON object")
            self.state.set_allowed_updates(allowed)
        timeout = p.integer("timeout") or 0
        return await self.state.get_updates(
            offset=p.integer("offset") or 0,
            limit=p.integer("limit") or 100,
            seconds=min(max(timeout, 0), MAX_WAIT_SECONDS),
        )

    async def set_webhook(self, p: Params) -> bool:
        url = p.text("url") or ""
        if p.flag("drop_pending_updates"):
            self.state.drop_pending_updates()
        if not url:
            self.state.webhook = None
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = p.json_value("allowed_updates")
        if isinstance(allowed, list):
            self.state.set_allowed_updates(allowed)
        self.state.webhook = {
            "url": url,
            "max_connections": p.integer("max_connections") or 40,
            "has_secret_token": p.text("secret_token") is not None,
            "ip_address": p.text("ip_address"),
        }
        return True

    async def delete_webhook(self, p: Params) -> bool:
        if p.flag("drop_pending_updates"):
            self.state.drop_pending_updates()
        self.state.webhook = None
        return True

    async def get_webhook_info(self, p: Params) -> JsonDict:
        webhook = self.state.webhook
        info: JsonDict = {
            "url": webhook["url"] if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        if webhook:
            info["max_connections"] = webhook["max_connections"]
            if self.state.allowed_updates is not None:
                info["allowed_updates"] = sorted(self.state.allowed_updates)
        return info

    # -------------------------------------------------------------- commands and menu

    def _scope(self, p: Params) -> tuple[str, JsonDict]:
        scope = p.json_value("scope", error="can't parse BotCommandScope JSON object")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        normalized: JsonDict = {"type": kind}
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope.get("chat_id")
            if not isinstance(chat_id, int | str):
                raise bad_request("chat not found")
            normalized["chat_id"] = self.state.resolve_chat(chat_id).id
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id not in self.state.users:
                raise bad_request("user not found")
            normalized["user_id"] = user_id
        return json.dumps(normalized, sort_keys=True), normalized

    async def set_my_commands(self, p: Params) -> bool:
        commands = check_commands(
            p.json_value("commands", error="can't parse commands JSON object")
        )
        key, scope = self._scope(p)
        language = check_language_code(p.text("language_code"))
        if commands:
            self.state.commands[(key, language)] = (scope, commands)
        else:
            self.state.commands.pop((key, language), None)
        self.state.notifier.notify()
        return True

    async def get_my_commands(self, p: Params) -> list[JsonDict]:
        key, _ = self._scope(p)
        language = check_language_code(p.text("language_code"))
        found = self.state.commands.get((key, language))
        return copy.deepcopy(found[1]) if found else []

    async def delete_my_commands(self, p: Params) -> bool:
        key, _ = self._scope(p)
        language = check_language_code(p.text("language_code"))
        self.state.commands.pop((key, language), None)
        self.state.notifier.notify()
        return True

    async def set_chat_menu_button(self, p: Params) -> bool:
        button = p.json_value("menu_button", error="can't parse menu button JSON object")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button JSON object")
        if p.raw("chat_id") is None:
            self.state.default_menu_button = (
                {"type": "commands"} if button["type"] == "default" else button
            )
            return True
        chat = self.state.resolve_chat(p.chat_id())
        if chat.type != "private":
            raise bad_request("chat is not private")
        chat.menu_button = None if button["type"] == "default" else button
        return True

    async def get_chat_menu_button(self, p: Params) -> JsonDict:
        if p.raw("chat_id") is None:
            return dict(self.state.default_menu_button)
        chat = self.state.resolve_chat(p.chat_id())
        return dict(chat.menu_button or self.state.default_menu_button)

    def _set_bot_text(self, p: Params, name: str) -> bool:
        language = check_language_code(p.text("language_code"))
        value = p.text(name) or ""
        if value:
            self.state.bot_texts[(name, language)] = value
        else:
            self.state.bot_texts.pop((name, language), None)
        return True

    def _get_bot_text(self, p: Params, name: str) -> JsonDict:
        language = check_language_code(p.text("language_code"))
        text = self.state.bot_texts.get((name, language))
        if text is None:
            text = self.state.bot_texts.get((name, ""), "")
        if name == "name" and not text:
            text = self.state.bot.first_name
        return {name: text}

    async def set_my_name(self, p: Params) -> bool:
        return self._set_bot_text(p, "name")

    async def get_my_name(self, p: Params) -> JsonDict:
        return self._get_bot_text(p, "name")

    async def set_my_description(self, p: Params) -> bool:
        return self._set_bot_text(p, "description")

    async def get_my_description(self, p: Params) -> JsonDict:
        return self._get_bot_text(p, "description")

    async def set_my_short_description(self, p: Params) -> bool:
        return self._set_bot_text(p, "short_description")

    async def get_my_short_description(self, p: Params) -> JsonDict:
        return self._get_bot_text(p, "short_description")

    # -------------------------------------------------------------- sending

    async def send_message(self, p: Params) -> JsonDict:
        chat = self._writable_chat(p)
        formatted = self._text(p)
        markup = p.reply_markup()
        reply_to = self._reply_target(p, chat)
        preview = p.json_value("link_preview_options")
        stored = self.state.add_bot_message(
            chat,
            formatted_fields(formatted, caption=False),
            reply_to=reply_to,
            reply_markup=markup,
            raw_text=p.text("text"),
            parse_mode=p.text("parse_mode"),
            link_preview_options=preview if isinstance(preview, dict) else None,
            **self._send_options(p),
        )
        return copy.deepcopy(stored.message)

    async def _send_media(self, p: Params, kind: str) -> JsonDict:
        chat = self._writable_chat(p)
        source = self._input_file(p, kind)
        caption = self._caption(p)
        markup = p.reply_markup()
        reply_to = self._reply_target(p, chat)
        content = self._media_content(kind, source)
        content.update(formatted_fields(caption, caption=True))
        if p.flag("has_spoiler") and kind in ("photo", "video"):
            content["has_media_spoiler"] = True
        stored = self.state.add_bot_message(
            chat,
            content,
            reply_to=reply_to,
            reply_markup=markup,
            raw_text=p.text("caption"),
            parse_mode=p.text("parse_mode") if caption else None,
            **self._send_options(p),
        )
        return copy.deepcopy(stored.message)

    async def send_photo(self, p: Params) -> JsonDict:
        return await self._send_media(p, "photo")

    async def send_document(self, p: Params) -> JsonDict:
        return await self._send_media(p, "document")

    async def send_media_group(self, p: Params) -> list[JsonDict]:
        chat = self._writable_chat(p)
        media = check_media_group(p.json_value("media"))
        reply_to = self._reply_target(p, chat)
        prepared: list[tuple[JsonDict, str | None, str | None]] = []
        for number, item in enumerate(media, start=1):
            try:
                source = self._input_file(p, "media", value=item.get("media"))
                content = self._media_content(item["type"], source)
                caption = prepare_caption(
                    item.get("caption"),
                    item.get("parse_mode"),
                    item.get("caption_entities"),
                    strict_entities=self.state.strict_html_entities,
                )
            except ApiError as exc:
                detail = exc.description.removeprefix("Bad Request: ")
                raise bad_request(
                    f'failed to send message #{number} with the error message "{detail}"'
                ) from exc
            content.update(formatted_fields(caption, caption=True))
            prepared.append((content, item.get("caption"), item.get("parse_mode")))
        group_id = self.state.new_media_group_id()
        sent = []
        for content, raw_caption, parse_mode in prepared:
            stored = self.state.add_bot_message(
                chat,
                {**content, "media_group_id": group_id},
                reply_to=reply_to,
                raw_text=raw_caption,
                parse_mode=parse_mode if raw_caption else None,
                **self._send_options(p),
            )
            sent.append(copy.deepcopy(stored.message))
        return sent

    def _source_message(self, p: Params, what: str) -> StoredMessage:
        from_chat = self.state.resolve_chat(p.chat_id("from_chat_id"))
        message_id = p.integer("message_id", missing="message identifier is not specified")
        assert message_id is not None
        source = self.state.find_message(from_chat.id, message_id)
        if source is None:
            raise bad_request(f"message to {what} not found")
        if source.kind not in _COPYABLE_KEYS:
            raise bad_request(f"message can't be {'forwarded' if what == 'forward' else 'copied'}")
        return source

    async def copy_message(self, p: Params) -> JsonDict:
        chat = self._writable_chat(p)
        source = self._source_message(p, "copy")
        content = {k: copy.deepcopy(v) for k, v in source.message.items() if k in _COPYABLE_KEYS}
        raw_text = source.raw_text
        parse_mode = source.parse_mode
        if p.raw("caption") is not None or p.flag("remove_caption"):
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if not p.flag("remove_caption"):
                content.update(formatted_fields(self._caption(p), caption=True))
                raw_text, parse_mode = p.text("caption"), p.text("parse_mode")
            else:
                raw_text = parse_mode = None
        stored = self.state.add_bot_message(
            chat,
            content,
            reply_to=self._reply_target(p, chat),
            reply_markup=p.reply_markup(),
            raw_text=raw_text,
            parse_mode=parse_mode,
            **self._send_options(p),
        )
        return {"message_id": stored.message_id}

    async def forward_message(self, p: Params) -> JsonDict:
        chat = self._writable_chat(p)
        source = self._source_message(p, "forward")
        content = {k: copy.deepcopy(v) for k, v in source.message.items() if k in _COPYABLE_KEYS}
        origin = source.message.get("forward_origin")
        if origin is None:
            origin = {
                "type": "user",
                "sender_user": source.message["from"],
                "date": source.message["date"],
            }
        content["forward_origin"] = copy.deepcopy(origin)
        stored = self.state.add_bot_message(
            chat,
            content,
            raw_text=source.raw_text,
            parse_mode=source.parse_mode,
            **self._send_options(p),
        )
        return copy.deepcopy(stored.message)

    async def send_chat_action(self, p: Params) -> bool:
        chat = self._writable_chat(p)
        chat.last_chat_action = check_chat_action(p.text("action"))
        return True

    # -------------------------------------------------------------- editing

    async def edit_message_text(self, p: Params) -> JsonDict:
        chat, stored = self._bot_message(p, what="edit")
        self.state.check_can_write(chat)
        if "text" not in stored.message:
            raise bad_request("there is no text in the message to edit")
        new = formatted_fields(self._text(p), caption=False)
        markup = self._inline_markup(p)
        current = stored.message
        if (
            new["text"] == current["text"]
            and new.get("entities", []) == current.get("entities", [])
            and markup == self._current_inline(stored)
        ):
            raise bad_request(_NOT_MODIFIED)
        self.state.edit_bot_message(
            stored,
            new,
            reply_markup=markup,
            removed_keys=("entities",),
            raw_text=p.text("text"),
            parse_mode=p.text("parse_mode"),
        )
        return copy.deepcopy(stored.message)

    async def edit_message_caption(self, p: Params) -> JsonDict:
        chat, stored = self._bot_message(p, what="edit")
        self.state.check_can_write(chat)
        if not any(k in stored.message for k in ("photo", "document", "video", "audio")):
            raise bad_request("there is no caption in the message to edit")
        new = formatted_fields(self._caption(p), caption=True)
        markup = self._inline_markup(p)
        current = stored.message
        if (
            new.get("caption") == current.get("caption")
            and new.get("caption_entities", []) == current.get("caption_entities", [])
            and markup == self._current_inline(stored)
        ):
            raise bad_request(_NOT_MODIFIED)
        self.state.edit_bot_message(
            stored,
            new,
            reply_markup=markup,
            removed_keys=("caption", "caption_entities"),
            raw_text=p.text("caption"),
            parse_mode=p.text("parse_mode"),
        )
        return copy.deepcopy(stored.message)

    async def edit_message_reply_markup(self, p: Params) -> JsonDict:
        chat, stored = self._bot_message(p, what="edit")
        self.state.check_can_write(chat)
        markup = self._inline_markup(p)
        if markup == self._current_inline(stored):
            raise bad_request(_NOT_MODIFIED)
        self.state.edit_bot_message(stored, {}, reply_markup=markup, keep_raw=True)
        return copy.deepcopy(stored.message)

    async def delete_message(self, p: Params) -> bool:
        chat, stored = self._bot_message(p, what="delete")
        if not stored.from_bot and chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        self.state.delete_message(stored)
        return True

    async def answer_callback_query(self, p: Params) -> bool:
        query_id = p.text("callback_query_id")
        record = self.state.callback_queries.get(query_id or "")
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.text("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = p.flag("show_alert")
        record.url = p.text("url")
        record.cache_time = p.integer("cache_time")
        self.state.notifier.notify()
        return True

    # -------------------------------------------------------------- files and chats

    async def get_file(self, p: Params) -> JsonDict:
        stored = self.state.file(p.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_GET_FILE_SIZE:
            raise bad_request("file is too big")
        return stored.to_api_file()

    async def get_chat(self, p: Params) -> JsonDict:
        return self.state.resolve_chat(p.chat_id()).full_info()

    async def get_chat_member(self, p: Params) -> JsonDict:
        chat = self.state.resolve_chat(p.chat_id())
        user_id = p.integer("user_id", missing="user not found")
        if chat.type != "private" and chat.bot_status not in MEMBER_STATUSES:
            self.state.check_can_write(chat)
        if user_id == self.state.bot.id:
            user = self.state.bot
        else:
            found = self.state.users.get(user_id or 0)
            if found is None:
                raise bad_request("user not found")
            user = found
        return self.state.chat_member(chat, user)

    async def leave_chat(self, p: Params) -> bool:
        chat = self.state.resolve_chat(p.chat_id())
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if chat.bot_status not in MEMBER_STATUSES:
            self.state.check_can_write(chat)
        self.state.bot_leaves(chat)
        return True


Handler = Callable[[BotApi, Params], Awaitable[Any]]

HANDLERS: dict[str, Handler] = {
    "getMe": BotApi.get_me,
    "logOut": BotApi.log_out,
    "close": BotApi.close,
    "getUpdates": BotApi.get_updates,
    "setWebhook": BotApi.set_webhook,
    "deleteWebhook": BotApi.delete_webhook,
    "getWebhookInfo": BotApi.get_webhook_info,
    "setMyCommands": BotApi.set_my_commands,
    "getMyCommands": BotApi.get_my_commands,
    "deleteMyCommands": BotApi.delete_my_commands,
    "setChatMenuButton": BotApi.set_chat_menu_button,
    "getChatMenuButton": BotApi.get_chat_menu_button,
    "setMyName": BotApi.set_my_name,
    "getMyName": BotApi.get_my_name,
    "setMyDescription": BotApi.set_my_description,
    "getMyDescription": BotApi.get_my_description,
    "setMyShortDescription": BotApi.set_my_short_description,
    "getMyShortDescription": BotApi.get_my_short_description,
    "sendMessage": BotApi.send_message,
    "sendPhoto": BotApi.send_photo,
    "sendDocument": BotApi.send_document,
    "sendMediaGroup": BotApi.send_media_group,
    "copyMessage": BotApi.copy_message,
    "forwardMessage": BotApi.forward_message,
    "sendChatAction": BotApi.send_chat_action,
    "editMessageText": BotApi.edit_message_text,
    "editMessageCaption": BotApi.edit_message_caption,
    "editMessageReplyMarkup": BotApi.edit_message_reply_markup,
    "deleteMessage": BotApi.delete_message,
    "answerCallbackQuery": BotApi.answer_callback_query,
    "getFile": BotApi.get_file,
    "getChat": BotApi.get_chat,
    "getChatMember": BotApi.get_chat_member,
    "leaveChat": BotApi.leave_chat,
}
#: Telegram matches method names case-insensitively
METHODS: dict[str, tuple[str, Handler]] = {
    name.lower(): (name, handler) for name, handler in HANDLERS.items()
}


def _api_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.error_code)


def _token_ok(state: EmulatorState, token: str) -> bool:
    return bool(token) and (state.required_token is None or token == state.required_token)


async def handle_bot_api(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if not _token_ok(state, request.match_info["token"]):
        return _api_response(ApiError(401, "Unauthorized"))
    try:
        values, files = await read_params(request)
    except ApiError as exc:
        return _api_response(exc)
    method = request.match_info["method"]
    entry = METHODS.get(method.lower())
    summary = {name: upload.summary() for name, upload in files.items()}
    if entry is None:
        call = state.record_call(method, values, summary)
        error = not_found("method not found")
        call.ok, call.error_code, call.description = False, error.error_code, error.description
        return _api_response(error)
    name, handler = entry
    call = state.record_call(name, values, summary)
    try:
        fault = state.take_fault(name, values.get("chat_id"))
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            raise fault.to_error()
        result = await handler(BotApi(state), Params(values, files))
    except ApiError as exc:
        call.ok, call.error_code, call.description = False, exc.error_code, exc.description
        return _api_response(exc)
    except Exception as exc:
        logger.exception("emulator failure in %s", name)
        call.ok, call.error_code = False, 500
        call.description = f"Internal Server Error: emulator failure: {exc!r}"
        return _api_response(ApiError(500, call.description))
    call.ok = True
    return web.json_response({"ok": True, "result": result})


async def handle_file_download(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if not _token_ok(state, request.match_info["token"]):
        return _api_response(ApiError(401, "Unauthorized"))
    stored = state.file_by_path(request.match_info["file_path"])
    if stored is None:
        return _api_response(not_found())
    return web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream"
    )


async def handle_not_found(request: web.Request) -> web.Response:
    return _api_response(not_found())


# ---------------------------------------------------------------------------- control API


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _control_error(status: int, message: str, result: Any = None) -> web.Response:
    payload: JsonDict = {"ok": False, "error": message}
    if result is not None:
        payload["result"] = result
    return web.json_response(payload, status=status)


async def _body(request: web.Request) -> JsonDict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise ControlError(400, "the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _get(
    body: JsonDict, key: str, kind: type | tuple[type, ...], *, required: bool = False
) -> Any:
    value = body.get(key)
    if value is None:
        if required:
            raise ControlError(400, f"{key} is required")
        return None
    if isinstance(value, bool) and kind is not bool:
        raise ControlError(400, f"{key} has the wrong type")
    if not isinstance(value, kind):
        raise ControlError(400, f"{key} has the wrong type")
    return value


def _query_int(request: web.Request, key: str) -> int | None:
    value = request.query.get(key)
    if value is None or value == "":
        return None
    if not _INT_RE.match(value):
        raise ControlError(400, f"{key} must be an integer")
    return int(value)


def _query_float(request: web.Request, key: str, default: float) -> float:
    value = request.query.get(key)
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except ValueError as exc:
        raise ControlError(400, f"{key} must be a number") from exc
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _path_int(request: web.Request, key: str) -> int:
    return int(request.match_info[key])


def _decode_content(body: JsonDict, *, required: bool) -> bytes:
    encoded = _get(body, "content_b64", str, required=required)
    if encoded is None:
        return b""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ControlError(400, "content_b64 is not valid base64") from exc


ControlHandler = Callable[[web.Request, EmulatorState], Awaitable[web.Response]]


def _control(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def wrapper(request: web.Request) -> web.Response:
        try:
            return await handler(request, request.app[STATE_KEY])
        except ControlError as exc:
            return _control_error(exc.status, exc.message)
        except ApiError as exc:
            return _control_error(400, exc.description)

    return wrapper


async def c_health(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok(True)


async def c_bot(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok(
        {
            "user": state.bot.to_api(),
            "privacy_mode": state.privacy_mode,
            "token_required": state.required_token is not None,
            "webhook": state.webhook,
            "allowed_updates": sorted(state.allowed_updates) if state.allowed_updates else None,
            "default_menu_button": state.default_menu_button,
            "texts": [
                {"field": name, "language_code": lang, "text": text}
                for (name, lang), text in state.bot_texts.items()
            ],
        }
    )


async def c_reset(request: web.Request, state: EmulatorState) -> web.Response:
    state.reset()
    return _ok(True)


async def c_create_user(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    user = state.add_user(
        _get(body, "id", int, required=True),
        _get(body, "first_name", str) or "Test",
        last_name=_get(body, "last_name", str),
        username=_get(body, "username", str),
        language_code=_get(body, "language_code", str),
        is_premium=bool(_get(body, "is_premium", bool)),
        started=_get(body, "started", bool) is not False,
    )
    return _ok(user.view())


async def c_get_user(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok(state.user(_path_int(request, "user_id")).view())


async def c_block(request: web.Request, state: EmulatorState) -> web.Response:
    state.set_blocked(_path_int(request, "user_id"), True)
    return _ok(True)


async def c_unblock(request: web.Request, state: EmulatorState) -> web.Response:
    state.set_blocked(_path_int(request, "user_id"), False)
    return _ok(True)


def _user_content(state: EmulatorState, body: JsonDict) -> JsonDict:
    kind = _get(body, "type", str) or "text"
    caption = _get(body, "caption", str)
    if kind == "text":
        entities = _get(body, "entities", list)
        return state.user_text_content(_get(body, "text", str, required=True), entities)
    if kind == "photo":
        return state.user_photo_content(
            _decode_content(body, required=True),
            caption=caption,
            width=_get(body, "width", int),
            height=_get(body, "height", int),
        )
    if kind == "document":
        return state.user_document_content(
            _decode_content(body, required=True),
            file_name=_get(body, "file_name", str) or "document.bin",
            mime_type=_get(body, "mime_type", str),
            caption=caption,
        )
    if kind == "sticker":
        return state.user_sticker_content(emoji=_get(body, "emoji", str) or "\N{THUMBS UP SIGN}")
    if kind == "voice":
        return state.user_voice_content(
            duration=_get(body, "duration", int) or 1,
            content=_decode_content(body, required=False) or b"OggS",
        )
    if kind == "location":
        return state.user_location_content(
            float(_get(body, "latitude", (int, float), required=True)),
            float(_get(body, "longitude", (int, float), required=True)),
        )
    if kind == "contact":
        return state.user_contact_content(
            _get(body, "phone_number", str, required=True),
            _get(body, "first_name", str, required=True),
            last_name=_get(body, "last_name", str),
            contact_user_id=_get(body, "user_id", int),
        )
    raise ControlError(400, f"unknown message type {kind!r}")


async def c_user_message(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    user_id = _path_int(request, "user_id")
    state.user(user_id)
    content = _user_content(state, body)
    stored = state.user_sends(
        user_id,
        content,
        chat_id=_get(body, "chat_id", int),
        reply_to_message_id=_get(body, "reply_to_message_id", int),
        forward_origin=_get(body, "forward_origin", dict),
        media_group_id=_get(body, "media_group_id", (str, int)),
    )
    return _ok(stored.message)


async def c_user_edit(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    stored = state.user_edits_text(
        _path_int(request, "user_id"),
        _get(body, "message_id", int, required=True),
        _get(body, "text", str, required=True),
        chat_id=_get(body, "chat_id", int),
    )
    return _ok(stored.message)


async def c_user_callback(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    record = state.press_button(
        _path_int(request, "user_id"),
        _get(body, "message_id", int, required=True),
        chat_id=_get(body, "chat_id", int),
        data=_get(body, "data", str),
        label=_get(body, "label", str),
    )
    return _ok(record.view())


async def c_create_chat(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    members = _get(body, "member_ids", list) or []
    admins = _get(body, "admin_ids", list) or []
    if not all(isinstance(m, int) for m in [*members, *admins]):
        raise ControlError(400, "member_ids and admin_ids are lists of user ids")
    chat = state.add_group(
        _get(body, "title", str, required=True),
        chat_id=_get(body, "id", int),
        chat_type=_get(body, "type", str) or "supergroup",
        username=_get(body, "username", str),
        member_ids=members,
        admin_ids=admins,
        creator_id=_get(body, "creator_id", int),
        bot_status=_get(body, "bot_status", str) or "left",
    )
    return _ok(chat.view())


async def c_get_chat(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok(state.chat(_path_int(request, "chat_id")).view())


async def c_chat_member(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    stored = state.set_member_status(
        _path_int(request, "chat_id"),
        _get(body, "user_id", int, required=True),
        _get(body, "status", str) or "member",
        by_user_id=_get(body, "by_user_id", int),
    )
    return _ok(stored.message if stored else None)


async def c_chat_bot(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    stored = state.set_bot_status(
        _path_int(request, "chat_id"),
        _get(body, "status", str) or "member",
        by_user_id=_get(body, "by_user_id", int, required=True),
    )
    return _ok(stored.message if stored else None)


async def c_messages(request: web.Request, state: EmulatorState) -> web.Response:
    sender = request.query.get("from", "bot")
    if sender not in ("bot", "user", "all"):
        raise ControlError(400, "from must be bot, user or all")
    messages = state.list_messages(
        _path_int(request, "chat_id"),
        from_bot=None if sender == "all" else sender == "bot",
        include_deleted=request.query.get("include_deleted", "true") != "false",
    )
    return _ok([m.view() for m in messages])


async def c_wait_messages(request: web.Request, state: EmulatorState) -> web.Response:
    count = _query_int(request, "count") or 1
    ok, found = await state.wait_for_bot_messages(
        _path_int(request, "chat_id"),
        after_message_id=_query_int(request, "after_message_id"),
        count=count,
        seconds=_query_float(request, "timeout", 10.0),
    )
    views = [m.view() for m in found]
    if not ok:
        return _control_error(
            408, f"timed out waiting for {count} bot message(s); got {len(found)}", views
        )
    return _ok(views)


async def c_changes(request: web.Request, state: EmulatorState) -> web.Response:
    cursor, found = await state.wait_for_changes(
        _path_int(request, "chat_id"),
        since=_query_int(request, "since") or 0,
        seconds=_query_float(request, "timeout", 0.0),
    )
    return _ok({"cursor": cursor, "messages": [m.view() for m in found]})


async def c_message(request: web.Request, state: EmulatorState) -> web.Response:
    chat_id, message_id = _path_int(request, "chat_id"), _path_int(request, "message_id")
    stored = state.messages_in(chat_id).get(message_id)
    if stored is None:
        raise ControlError(404, f"no message {message_id} in chat {chat_id}")
    return _ok(stored.view())


async def c_wait_change(request: web.Request, state: EmulatorState) -> web.Response:
    after_version = _query_int(request, "after_version")
    if after_version is None:
        raise ControlError(400, "after_version is required")
    ok, stored = await state.wait_for_change(
        _path_int(request, "chat_id"),
        _path_int(request, "message_id"),
        after_version=after_version,
        seconds=_query_float(request, "timeout", 10.0),
    )
    if not ok:
        return _control_error(408, "timed out waiting for the message to change", stored.view())
    return _ok(stored.view())


async def c_callbacks(request: web.Request, state: EmulatorState) -> web.Response:
    query_id = request.query.get("query_id")
    records = [r.view() for r in state.callback_queries.values() if query_id in (None, r.id)]
    return _ok(records)


async def c_wait_callback(request: web.Request, state: EmulatorState) -> web.Response:
    ok, record = await state.wait_for_callback_answer(
        request.match_info["query_id"], seconds=_query_float(request, "timeout", 10.0)
    )
    if not ok:
        return _control_error(408, "timed out waiting for answerCallbackQuery", record.view())
    return _ok(record.view())


async def c_commands(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok(
        [
            {"scope": scope, "language_code": language, "commands": commands}
            for (_, language), (scope, commands) in state.commands.items()
        ]
    )


async def c_updates(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok(copy.deepcopy(state.updates))


async def c_calls(request: web.Request, state: EmulatorState) -> web.Response:
    calls = state.calls_of(request.query.get("method"), since=_query_int(request, "since") or 0)
    return _ok([call.view() for call in calls])


async def c_clear_calls(request: web.Request, state: EmulatorState) -> web.Response:
    state.calls.clear()
    return _ok(True)


async def c_faults(request: web.Request, state: EmulatorState) -> web.Response:
    return _ok([fault.view() for fault in state.faults])


async def c_add_fault(request: web.Request, state: EmulatorState) -> web.Response:
    body = await _body(request)
    fault = state.add_fault(
        _get(body, "method", str, required=True),
        error_code=_get(body, "error_code", int) or 429,
        count=_get(body, "count", int) or 1,
        retry_after=_get(body, "retry_after", int),
        description=_get(body, "description", str),
        delay=float(_get(body, "delay", (int, float)) or 0.0),
        chat_id=_get(body, "chat_id", int),
    )
    return _ok(fault.view())


async def c_clear_faults(request: web.Request, state: EmulatorState) -> web.Response:
    state.faults.clear()
    return _ok(True)


async def c_file(request: web.Request, state: EmulatorState) -> web.Response:
    stored = state.file(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "unknown file_id")
    return _ok(stored.view())


async def c_file_content(request: web.Request, state: EmulatorState) -> web.Response:
    stored = state.file(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "unknown file_id")
    return web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream"
    )


_CHAT = "/_emu/chats/{chat_id:-?\\d+}"
_USER = "/_emu/users/{user_id:\\d+}"
CONTROL_ROUTES: list[tuple[str, str, ControlHandler]] = [
    ("GET", "/_emu/health", c_health),
    ("GET", "/_emu/bot", c_bot),
    ("POST", "/_emu/reset", c_reset),
    ("POST", "/_emu/users", c_create_user),
    ("GET", _USER, c_get_user),
    ("POST", _USER + "/block", c_block),
    ("POST", _USER + "/unblock", c_unblock),
    ("POST", _USER + "/messages", c_user_message),
    ("POST", _USER + "/edits", c_user_edit),
    ("POST", _USER + "/callbacks", c_user_callback),
    ("POST", "/_emu/chats", c_create_chat),
    ("GET", _CHAT, c_get_chat),
    ("POST", _CHAT + "/members", c_chat_member),
    ("POST", _CHAT + "/bot", c_chat_bot),
    ("GET", _CHAT + "/messages", c_messages),
    ("GET", _CHAT + "/messages/wait", c_wait_messages),
    ("GET", _CHAT + "/changes", c_changes),
    ("GET", _CHAT + "/messages/{message_id:\\d+}", c_message),
    ("GET", _CHAT + "/messages/{message_id:\\d+}/wait", c_wait_change),
    ("GET", "/_emu/callbacks", c_callbacks),
    ("GET", "/_emu/callbacks/{query_id}/wait", c_wait_callback),
    ("GET", "/_emu/commands", c_commands),
    ("GET", "/_emu/updates", c_updates),
    ("GET", "/_emu/calls", c_calls),
    ("DELETE", "/_emu/calls", c_clear_calls),
    ("GET", "/_emu/faults", c_faults),
    ("POST", "/_emu/faults", c_add_fault),
    ("DELETE", "/_emu/faults", c_clear_faults),
    ("GET", "/_emu/files/{file_id}", c_file),
    ("GET", "/_emu/files/{file_id}/content", c_file_content),
]


# ---------------------------------------------------------------------------- app and runner


def create_app(state: EmulatorState | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_SIZE)
    app[STATE_KEY] = state if state is not None else EmulatorState()

    async def on_startup(app: web.Application) -> None:
        app[STATE_KEY].reopen()

    async def on_shutdown(app: web.Application) -> None:
        app[STATE_KEY].close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    for method, path, handler in CONTROL_ROUTES:
        app.router.add_route(method, path, _control(handler))
    app.router.add_route("*", "/bot{token}/{method}", handle_bot_api)
    app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", handle_file_download)
    app.router.add_route("*", "/{tail:.*}", handle_not_found)
    return app


@dataclass(frozen=True)
class RunningEmulator:
    """A started emulator: its URLs and its state (for direct access from tests)."""

    state: EmulatorState
    host: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """PTB's ``base_file_url``."""
        return f"{self.base_url}/file/bot"


@asynccontextmanager
async def run_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state: EmulatorState | None = None,
    shutdown_timeout: float = 5.0,
) -> AsyncIterator[RunningEmulator]:
    """Serve the emulator on ``host:port`` (0 = a free port) for the ``async with`` body."""
    app = create_app(state)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        address = runner.addresses[0]
        yield RunningEmulator(state=app[STATE_KEY], host=host, port=int(address[1]))
    finally:
        await runner.cleanup()


__all__ = [
    "BotApi",
    "Params",
    "RunningEmulator",
    "create_app",
    "normalize_param",
    "read_params",
    "run_emulator",
]
