"""Async client of the emulator's control API (``/_emu/...``), for tests and ``ipdesk shell``.

It plays the *users* (they write, press buttons, block the bot) and reads what the bot did.
The bot itself talks to the emulator's Bot API with python-telegram-bot, not with this class.

Use it as an async context manager so its HTTP session is closed::

    async with EmulatorClient(emu.base_url) as client:
        await client.create_user(10001, "Li", language_code="zh")
        await client.send_text(10001, "/start")
        [reply] = await client.wait_for_messages(10001)
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

JsonDict = dict[str, Any]

DEFAULT_REQUEST_TIMEOUT = 30.0
_WAIT_MARGIN = 10.0


class EmulatorError(Exception):
    """The control API refused a request (``status`` is the HTTP status)."""

    def __init__(self, status: int, message: str, result: Any = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.result = result


class EmulatorTimeoutError(EmulatorError):
    """A wait timed out; ``result`` holds what had arrived by then."""


@dataclass(frozen=True)
class InlineButton:
    text: str
    callback_data: str | None
    url: str | None
    row: int
    column: int


@dataclass(frozen=True)
class BotMessage:
    """A message as the emulator stores it (bot's or user's), with its edit state."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    date: int
    kind: str
    #: the plain text (after parse_mode), None for media
    text: str | None
    #: the plain caption (after parse_mode)
    caption: str | None
    #: text or caption exactly as the bot sent it, tags included
    raw_text: str | None
    parse_mode: str | None
    entities: list[JsonDict]
    #: any reply_markup kind the bot sent (inline keyboard, reply keyboard, remove, ...)
    reply_markup: JsonDict | None
    reply_to_message_id: int | None
    media_group_id: str | None
    photo: list[JsonDict] | None
    document: JsonDict | None
    #: 1 when sent, +1 per edit
    version: int
    edited: bool
    deleted: bool
    disable_notification: bool
    link_preview_options: JsonDict | None
    #: emulator-wide change counter at the last send/edit/delete (see wait_for_changes)
    change_seq: int
    #: the full Telegram Message object (current version)
    message: JsonDict

    @classmethod
    def from_json(cls, data: JsonDict) -> BotMessage:
        return cls(
            chat_id=data["chat_id"],
            message_id=data["message_id"],
            from_bot=data["from_bot"],
            sender_id=data["sender_id"],
            date=data["date"],
            kind=data["kind"],
            text=data["text"],
            caption=data["caption"],
            raw_text=data["raw_text"],
            parse_mode=data["parse_mode"],
            entities=data["entities"],
            reply_markup=data["reply_markup"],
            reply_to_message_id=data["reply_to_message_id"],
            media_group_id=data["media_group_id"],
            photo=data["photo"],
            document=data["document"],
            version=data["version"],
            edited=data["edited"],
            deleted=data["deleted"],
            disable_notification=data["disable_notification"],
            link_preview_options=data["link_preview_options"],
            change_seq=data["change_seq"],
            message=data["message"],
        )

    @property
    def body(self) -> str:
        """Text or caption (plain), "" if neither."""
        return self.text or self.caption or ""

    @property
    def buttons(self) -> list[InlineButton]:
        """The inline keyboard's buttons, row by row."""
        markup = self.reply_markup or {}
        return [
            InlineButton(
                text=button.get("text", ""),
                callback_data=button.get("callback_data"),
                url=button.get("url"),
                row=row_number,
                column=column,
            )
            for row_number, row in enumerate(markup.get("inline_keyboard", []))
            for column, button in enumerate(row)
        ]

    def button(self, text: str) -> InlineButton:
        for button in self.buttons:
            if button.text == text:
                return button
        raise LookupError(f"no button {text!r}: {[b.text for b in self.buttons]}")

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of a reply keyboard ([] for other markups)."""
        markup = self.reply_markup or {}
        return [
            [b if isinstance(b, str) else b.get("text", "") for b in row]
            for row in markup.get("keyboard", [])
        ]


@dataclass(frozen=True)
class CallbackRecord:
    """A callback query a user produced, and the bot's answer once it came."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    date: int
    answered: bool
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None

    @classmethod
    def from_json(cls, data: JsonDict) -> CallbackRecord:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request the bot made (decoded parameters, uploads summarised)."""

    seq: int
    method: str
    params: JsonDict
    files: dict[str, JsonDict]
    at: float
    ok: bool | None
    error_code: int | None
    description: str | None

    @classmethod
    def from_json(cls, data: JsonDict) -> ApiCall:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class CommandSet:
    scope: JsonDict
    language_code: str
    commands: list[JsonDict]

    @classmethod
    def from_json(cls, data: JsonDict) -> CommandSet:
        return cls(data["scope"], data["language_code"], data["commands"])


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG image (sendPhoto refuses bytes that are not an image, like Telegram)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _drop_none(data: JsonDict) -> JsonDict:
    return {key: value for key, value in data.items() if value is not None}


class EmulatorClient:
    """Typed wrapper of the control API at ``base_url`` (e.g. ``http://127.0.0.1:8081``)."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._request_timeout = request_timeout

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: JsonDict | None = None,
        query: JsonDict | None = None,
        wait_seconds: float = 0.0,
    ) -> Any:
        params = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in _drop_none(query or {}).items()
        }
        timeout = aiohttp.ClientTimeout(total=self._request_timeout + wait_seconds)
        async with self._http().request(
            method, f"{self.base_url}{path}", json=body, params=params, timeout=timeout
        ) as response:
            payload = await response.json(content_type=None)
            status = response.status
        if not isinstance(payload, dict):
            raise EmulatorError(status, "the emulator answered something that is not JSON")
        message = str(payload.get("error") or payload.get("description") or "unknown error")
        if status == 408:
            raise EmulatorTimeoutError(status, message, payload.get("result"))
        if status >= 400 or not payload.get("ok"):
            raise EmulatorError(status, message, payload.get("result"))
        return payload["result"]

    # -------------------------------------------------------------- the world

    async def health(self) -> bool:
        return bool(await self._call("GET", "/_emu/health"))

    async def bot_info(self) -> JsonDict:
        """The bot's user, privacy mode, webhook, allowed_updates, menu button, texts."""
        result: JsonDict = await self._call("GET", "/_emu/bot")
        return result

    async def reset(self) -> None:
        """Forget users, chats, messages, updates, files, commands, faults and calls."""
        await self._call("POST", "/_emu/reset")

    async def create_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
        started: bool = True,
    ) -> JsonDict:
        """Register a user (and their private chat, whose id is ``user_id``).

        ``started=False``: the bot cannot write first (403) until the user sends something."""
        result: JsonDict = await self._call(
            "POST",
            "/_emu/users",
            body={
                "id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "is_premium": is_premium,
                "started": started,
            },
        )
        return result

    async def get_user(self, user_id: int) -> JsonDict:
        result: JsonDict = await self._call("GET", f"/_emu/users/{user_id}")
        return result

    async def block_bot(self, user_id: int) -> None:
        await self._call("POST", f"/_emu/users/{user_id}/block")

    async def unblock_bot(self, user_id: int) -> None:
        await self._call("POST", f"/_emu/users/{user_id}/unblock")

    async def create_group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        username: str | None = None,
        member_ids: Iterable[int] = (),
        admin_ids: Iterable[int] = (),
        creator_id: int | None = None,
        bot_status: str = "left",
    ) -> JsonDict:
        """A group or supergroup; ``bot_status`` is set silently (no update). To add the bot
        the way a user does (with my_chat_member + new_chat_members), use add_bot_to_group."""
        result: JsonDict = await self._call(
            "POST",
            "/_emu/chats",
            body={
                "title": title,
                "id": chat_id,
                "type": chat_type,
                "username": username,
                "member_ids": list(member_ids),
                "admin_ids": list(admin_ids),
                "creator_id": creator_id,
                "bot_status": bot_status,
            },
        )
        return result

    async def get_chat(self, chat_id: int) -> JsonDict:
        result: JsonDict = await self._call("GET", f"/_emu/chats/{chat_id}")
        return result

    async def set_bot_status(
        self, chat_id: int, status: str, *, by_user_id: int
    ) -> JsonDict | None:
        """member / administrator / left / kicked, done by a member of the group.
        Returns the service message if one was produced."""
        result: JsonDict | None = await self._call(
            "POST",
            f"/_emu/chats/{chat_id}/bot",
            body={"status": status, "by_user_id": by_user_id},
        )
        return result

    async def add_bot_to_group(
        self, chat_id: int, by_user_id: int, *, as_admin: bool = False
    ) -> JsonDict | None:
        return await self.set_bot_status(
            chat_id, "administrator" if as_admin else "member", by_user_id=by_user_id
        )

    async def remove_bot_from_group(self, chat_id: int, by_user_id: int) -> JsonDict | None:
        return await self.set_bot_status(chat_id, "kicked", by_user_id=by_user_id)

    async def set_member_status(
        self, chat_id: int, user_id: int, status: str = "member", *, by_user_id: int | None = None
    ) -> JsonDict | None:
        """A user joins (member/administrator) or leaves (left/kicked) a group."""
        result: JsonDict | None = await self._call(
            "POST",
            f"/_emu/chats/{chat_id}/members",
            body={"user_id": user_id, "status": status, "by_user_id": by_user_id},
        )
        return result

    # -------------------------------------------------------------- users act

    async def _user_message(self, user_id: int, body: JsonDict) -> JsonDict:
        result: JsonDict = await self._call(
            "POST", f"/_emu/users/{user_id}/messages", body=_drop_none(body)
        )
        return result

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        forward_origin: JsonDict | None = None,
        entities: list[JsonDict] | None = None,
    ) -> JsonDict:
        """The user writes ``text`` (in their private chat unless ``chat_id``); returns the
        Message. bot_command entities are detected as Telegram does unless ``entities`` is
        given. ``forward_origin``: e.g. {"type": "hidden_user", "sender_user_name": "X"} or
        {"type": "user", "sender_user_id": 5}."""
        return await self._user_message(
            user_id,
            {
                "type": "text",
                "text": text,
                "chat_id": chat_id,
                "reply_to_message_id": reply_to_message_id,
                "forward_origin": forward_origin,
                "entities": entities,
            },
        )

    async def send_photo(
        self,
        user_id: int,
        content: bytes,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        media_group_id: str | None = None,
        width: int | None = None,
        height: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JsonDict:
        """A photo (PhotoSize array: thumbnail + full size). Photos sharing a
        ``media_group_id`` form an album (one update per photo, as in Telegram)."""
        return await self._user_message(
            user_id,
            {
                "type": "photo",
                "content_b64": _b64(content),
                "caption": caption,
                "chat_id": chat_id,
                "media_group_id": media_group_id,
                "width": width,
                "height": height,
                "reply_to_message_id": reply_to_message_id,
            },
        )

    async def send_document(
        self,
        user_id: int,
        content: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        media_group_id: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JsonDict:
        return await self._user_message(
            user_id,
            {
                "type": "document",
                "content_b64": _b64(content),
                "file_name": file_name,
                "mime_type": mime_type,
                "caption": caption,
                "chat_id": chat_id,
                "media_group_id": media_group_id,
                "reply_to_message_id": reply_to_message_id,
            },
        )

    async def send_sticker(
        self, user_id: int, *, emoji: str = "\N{THUMBS UP SIGN}", chat_id: int | None = None
    ) -> JsonDict:
        return await self._user_message(
            user_id, {"type": "sticker", "emoji": emoji, "chat_id": chat_id}
        )

    async def send_voice(
        self,
        user_id: int,
        *,
        duration: int = 1,
        content: bytes | None = None,
        chat_id: int | None = None,
    ) -> JsonDict:
        return await self._user_message(
            user_id,
            {
                "type": "voice",
                "duration": duration,
                "content_b64": _b64(content) if content is not None else None,
                "chat_id": chat_id,
            },
        )

    async def send_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> JsonDict:
        return await self._user_message(
            user_id,
            {"type": "location", "latitude": latitude, "longitude": longitude, "chat_id": chat_id},
        )

    async def send_contact(
        self,
        user_id: int,
        phone_number: str,
        first_name: str,
        *,
        last_name: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
    ) -> JsonDict:
        return await self._user_message(
            user_id,
            {
                "type": "contact",
                "phone_number": phone_number,
                "first_name": first_name,
                "last_name": last_name,
                "user_id": contact_user_id,
                "chat_id": chat_id,
            },
        )

    async def edit_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> JsonDict:
        """The user edits their text message → ``edited_message`` update."""
        result: JsonDict = await self._call(
            "POST",
            f"/_emu/users/{user_id}/edits",
            body=_drop_none({"message_id": message_id, "text": text, "chat_id": chat_id}),
        )
        return result

    async def press_button(
        self,
        user_id: int,
        message_id: int,
        *,
        label: str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
    ) -> CallbackRecord:
        """Press an inline button by its label, or send any ``data`` (forgery allowed).
        Returns the callback query record (``query_id``; not answered yet)."""
        result = await self._call(
            "POST",
            f"/_emu/users/{user_id}/callbacks",
            body=_drop_none(
                {"message_id": message_id, "label": label, "data": data, "chat_id": chat_id}
            ),
        )
        return CallbackRecord.from_json(result)

    # -------------------------------------------------------------- what the bot did

    async def messages(
        self, chat_id: int, *, sender: str = "bot", include_deleted: bool = True
    ) -> list[BotMessage]:
        """Messages of a chat, oldest first; ``sender``: "bot", "user" or "all"."""
        result = await self._call(
            "GET",
            f"/_emu/chats/{chat_id}/messages",
            query={"from": sender, "include_deleted": include_deleted},
        )
        return [BotMessage.from_json(item) for item in result]

    async def message(self, chat_id: int, message_id: int) -> BotMessage:
        result = await self._call("GET", f"/_emu/chats/{chat_id}/messages/{message_id}")
        return BotMessage.from_json(result)

    async def wait_for_messages(
        self,
        chat_id: int,
        *,
        after_message_id: int | None = None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server-side long-poll duration
    ) -> list[BotMessage]:
        """Long-poll until the bot has sent ``count`` messages with id > ``after_message_id``
        (default: after the last message a user sent in that chat); returns all of them.
        Raises EmulatorTimeoutError (with what arrived) after ``timeout`` seconds."""
        try:
            result = await self._call(
                "GET",
                f"/_emu/chats/{chat_id}/messages/wait",
                query={"after_message_id": after_message_id, "count": count, "timeout": timeout},
                wait_seconds=timeout + _WAIT_MARGIN,
            )
        except EmulatorTimeoutError as exc:
            exc.result = [BotMessage.from_json(item) for item in exc.result or []]
            raise
        return [BotMessage.from_json(item) for item in result]

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        after_message_id: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server-side long-poll duration
    ) -> BotMessage:
        """The first bot message after ``after_message_id`` (see wait_for_messages)."""
        found = await self.wait_for_messages(
            chat_id, after_message_id=after_message_id, count=1, timeout=timeout
        )
        return found[0]

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        after_version: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server-side long-poll duration
    ) -> BotMessage:
        """Long-poll until the message's version exceeds ``after_version`` (edited) or it is
        deleted; pass the ``version`` you last saw."""
        try:
            result = await self._call(
                "GET",
                f"/_emu/chats/{chat_id}/messages/{message_id}/wait",
                query={"after_version": after_version, "timeout": timeout},
                wait_seconds=timeout + _WAIT_MARGIN,
            )
        except EmulatorTimeoutError as exc:
            if exc.result is not None:
                exc.result = BotMessage.from_json(exc.result)
            raise
        return BotMessage.from_json(result)

    async def wait_for_changes(
        self,
        chat_id: int,
        *,
        since: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server-side long-poll duration
    ) -> tuple[int, list[BotMessage]]:
        """The bot's messages in the chat that were sent, edited or deleted after the cursor
        ``since`` (0: all), waiting up to ``timeout`` seconds for the first; returns
        ``(cursor, messages)`` — pass the cursor back next time. Empty list on timeout.
        This is the feed a chat UI (``ipdesk shell``) follows."""
        result = await self._call(
            "GET",
            f"/_emu/chats/{chat_id}/changes",
            query={"since": since, "timeout": timeout},
            wait_seconds=timeout + _WAIT_MARGIN,
        )
        return result["cursor"], [BotMessage.from_json(item) for item in result["messages"]]

    async def callback_answers(self, query_id: str | None = None) -> list[CallbackRecord]:
        """Callback queries users produced (answered or not), oldest first."""
        result = await self._call("GET", "/_emu/callbacks", query={"query_id": query_id})
        return [CallbackRecord.from_json(item) for item in result]

    async def wait_for_callback_answer(
        self,
        query_id: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server-side long-poll duration
    ) -> CallbackRecord:
        """Long-poll until the bot called answerCallbackQuery for ``query_id``."""
        try:
            result = await self._call(
                "GET",
                f"/_emu/callbacks/{query_id}/wait",
                query={"timeout": timeout},
                wait_seconds=timeout + _WAIT_MARGIN,
            )
        except EmulatorTimeoutError as exc:
            if exc.result is not None:
                exc.result = CallbackRecord.from_json(exc.result)
            raise
        return CallbackRecord.from_json(result)

    async def commands(self) -> list[CommandSet]:
        """Every command list the bot registered, per scope and language_code."""
        result = await self._call("GET", "/_emu/commands")
        return [CommandSet.from_json(item) for item in result]

    async def pending_updates(self) -> list[JsonDict]:
        """Updates the bot has not confirmed yet (getUpdates offset)."""
        result: list[JsonDict] = await self._call("GET", "/_emu/updates")
        return result

    async def api_calls(self, method: str | None = None, *, since: int = 0) -> list[ApiCall]:
        """Bot API calls with seq > ``since`` (optionally of one method), oldest first."""
        result = await self._call(
            "GET", "/_emu/calls", query={"method": method, "since": since or None}
        )
        return [ApiCall.from_json(item) for item in result]

    async def clear_api_calls(self) -> None:
        await self._call("DELETE", "/_emu/calls")

    async def inject_fault(
        self,
        method: str,
        *,
        error_code: int = 429,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> JsonDict:
        """The next ``count`` calls of ``method`` ("*" = any) fail with ``error_code``
        (429 carries ``parameters.retry_after``, default 1), after ``delay`` seconds; with
        ``chat_id``, only calls to that chat."""
        result: JsonDict = await self._call(
            "POST",
            "/_emu/faults",
            body=_drop_none(
                {
                    "method": method,
                    "error_code": error_code,
                    "count": count,
                    "retry_after": retry_after,
                    "description": description,
                    "delay": delay,
                    "chat_id": chat_id,
                }
            ),
        )
        return result

    async def faults(self) -> list[JsonDict]:
        result: list[JsonDict] = await self._call("GET", "/_emu/faults")
        return result

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/_emu/faults")

    async def file_info(self, file_id: str) -> JsonDict:
        result: JsonDict = await self._call("GET", f"/_emu/files/{file_id}")
        return result

    async def file_content(self, file_id: str) -> bytes:
        """The bytes of any stored file (e.g. a document the bot sent)."""
        timeout = aiohttp.ClientTimeout(total=self._request_timeout)
        url = f"{self.base_url}/_emu/files/{file_id}/content"
        async with self._http().get(url, timeout=timeout) as response:
            if response.status != 200:
                payload = await response.json(content_type=None)
                raise EmulatorError(response.status, str(payload.get("error", "unknown error")))
            return await response.read()
