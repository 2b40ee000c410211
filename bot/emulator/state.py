"""The emulator's in-memory world: users, chats, messages, the update queue, files.

One :class:`EmulatorState` per emulator. It is used from a single asyncio event loop (the
server's), so nothing here is locked. Two kinds of failure:

* :class:`~bot.emulator.validation.ApiError` — what Telegram would answer the bot;
* :class:`ControlError` — a test or the shell asked for something impossible (unknown user,
  pressing a button that does not exist, ...).

Numbering: ``update_id`` increases monotonically for the life of the state — also across
:meth:`EmulatorState.reset`, so a bot that keeps polling with an old offset never skips new
updates. ``message_id`` is per chat and shared by the bot and users, as in Telegram. Dates
are Unix seconds of the real clock.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import mimetypes
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bot.emulator.validation import (
    ApiError,
    FormattedText,
    JsonDict,
    bad_request,
    find_bot_commands,
    forbidden,
    inline_buttons,
    too_many_requests,
)

UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
#: delivered only when asked for explicitly in ``allowed_updates``
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

#: message keys that name the content of a message, in the order the view reports them
CONTENT_KINDS = (
    "text",
    "photo",
    "document",
    "video",
    "audio",
    "sticker",
    "voice",
    "location",
    "contact",
    "new_chat_members",
    "left_chat_member",
)
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
BOT_GROUP_STATUSES = frozenset({"member", "administrator", "left", "kicked"})
DEFAULT_BOT_ID = 7_000_000_001
MAX_GET_FILE_SIZE = 20 * 1024 * 1024


class ControlError(Exception):
    """A request of the test/control API that cannot be carried out."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def unix_now() -> int:
    return int(time.time())


def _compact(data: JsonDict) -> JsonDict:
    return {key: value for key, value in data.items() if value is not None}


# --------------------------------------------------------------------------- records


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    is_bot: bool = False
    #: the user blocked the bot (Telegram answers the bot 403)
    blocked_bot: bool = False
    #: the user has opened the private chat (else the bot "can't initiate conversation")
    started: bool = True

    def to_api(self) -> JsonDict:
        return _compact(
            {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
                "last_name": self.last_name,
                "username": self.username,
                "language_code": None if self.is_bot else self.language_code,
                "is_premium": True if self.is_premium else None,
            }
        )

    def view(self) -> JsonDict:
        return {**self.to_api(), "blocked_bot": self.blocked_bot, "started": self.started}


@dataclass
class ChatRecord:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    #: user id -> status (creator, administrator, member, restricted, left, kicked)
    members: dict[int, str] = field(default_factory=dict)
    #: the bot's own status in the chat
    bot_status: str = "member"
    next_message_id: int = 1
    #: the reply keyboard the bot last showed here (None once removed)
    reply_keyboard: JsonDict | None = None
    menu_button: JsonDict | None = None
    last_chat_action: str | None = None

    def to_api(self) -> JsonDict:
        return _compact(
            {
                "id": self.id,
                "type": self.type,
                "title": self.title,
                "username": self.username,
                "first_name": self.first_name,
                "last_name": self.last_name,
            }
        )

    def full_info(self) -> JsonDict:
        info = self.to_api()
        info.update(
            {
                "accent_color_id": abs(self.id) % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    def view(self) -> JsonDict:
        return {
            **self.to_api(),
            "members": {str(user_id): status for user_id, status in self.members.items()},
            "bot_status": self.bot_status,
            "reply_keyboard": self.reply_keyboard,
            "last_chat_action": self.last_chat_action,
        }


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    kind: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    #: set for files "sent" by URL: there is nothing to download
    source_url: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.content)

    def to_api_file(self) -> JsonDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def view(self) -> JsonDict:
        return _compact(
            {
                **self.to_api_file(),
                "kind": self.kind,
                "mime_type": self.mime_type,
                "file_name": self.file_name,
                "width": self.width,
                "height": self.height,
                "source_url": self.source_url,
            }
        )


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    #: the Telegram Message object, current version
    message: JsonDict
    #: the text or caption exactly as the bot sent it (before parse_mode)
    raw_text: str | None = None
    parse_mode: str | None = None
    #: any reply_markup kind (the Message object only carries inline keyboards)
    reply_markup: JsonDict | None = None
    version: int = 1
    deleted: bool = False
    disable_notification: bool = False
    link_preview_options: JsonDict | None = None
    #: earlier versions of ``message``, oldest first
    history: list[JsonDict] = field(default_factory=list)
    #: the emulator-wide change counter at this message's last change (send/edit/delete)
    change_seq: int = 0

    @property
    def kind(self) -> str:
        for key in CONTENT_KINDS:
            if key in self.message:
                return key
        return "other"

    def view(self) -> JsonDict:
        msg = self.message
        reply = msg.get("reply_to_message")
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "sender_id": self.sender_id,
            "date": msg["date"],
            "kind": self.kind,
            "text": msg.get("text"),
            "caption": msg.get("caption"),
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "entities": msg.get("entities") or msg.get("caption_entities") or [],
            "reply_markup": self.reply_markup,
            "reply_to_message_id": reply["message_id"] if reply else None,
            "media_group_id": msg.get("media_group_id"),
            "photo": msg.get("photo"),
            "document": msg.get("document"),
            "version": self.version,
            "edited": self.version > 1,
            "deleted": self.deleted,
            "disable_notification": self.disable_notification,
            "link_preview_options": self.link_preview_options,
            "change_seq": self.change_seq,
            "message": msg,
        }


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    date: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None

    def view(self) -> JsonDict:
        return {
            "query_id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "date": self.date,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "cache_time": self.cache_time,
        }


@dataclass
class ApiCall:
    seq: int
    method: str
    params: JsonDict
    #: uploaded parts: field name -> {"filename", "content_type", "size"}
    files: dict[str, JsonDict]
    at: float
    ok: bool | None = None
    error_code: int | None = None
    description: str | None = None

    def view(self) -> JsonDict:
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "files": self.files,
            "at": self.at,
            "ok": self.ok,
            "error_code": self.error_code,
            "description": self.description,
        }


_DEFAULT_FAULT_TEXT = {
    400: "Bad Request: injected failure",
    403: "Forbidden: injected failure",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    """``remaining`` more calls of ``method`` ("*" = any method) fail like this; with
    ``chat_id``, only calls addressed to that chat (so a test's fault hits its own chat)."""

    method: str
    error_code: int
    remaining: int
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0
    chat_id: int | None = None

    def to_error(self) -> ApiError:
        if self.error_code == 429:
            error = too_many_requests(self.retry_after if self.retry_after is not None else 1)
            if self.description:
                error.description = self.description
            return error
        text = self.description or _DEFAULT_FAULT_TEXT.get(self.error_code, "Injected failure")
        return ApiError(self.error_code, text, retry_after=self.retry_after)

    def view(self) -> JsonDict:
        return {
            "method": self.method,
            "error_code": self.error_code,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "description": self.description,
            "delay": self.delay,
            "chat_id": self.chat_id,
        }


class Notifier:
    """Wakes every waiter on each state change; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self.closed = False

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        """True as soon as ``condition()`` holds; False after ``seconds`` or on close."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(seconds, 0.0)
        while True:
            if condition():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed:
                return False
            if self._event is None:
                self._event = asyncio.Event()
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return condition()


# --------------------------------------------------------------------------- images


def image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG, WebP or BMP image; None if not an image."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        return int.from_bytes(content[6:8], "little"), int.from_bytes(content[8:10], "little")
    if content.startswith(b"BM") and len(content) >= 26:
        return (
            int.from_bytes(content[18:22], "little", signed=True),
            abs(int.from_bytes(content[22:26], "little", signed=True)),
        )
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP" and len(content) >= 30:
        chunk = content[12:16]
        if chunk == b"VP8X":
            return (
                int.from_bytes(content[24:27], "little") + 1,
                int.from_bytes(content[27:30], "little") + 1,
            )
        if chunk == b"VP8 ":
            return (
                int.from_bytes(content[26:28], "little") & 0x3FFF,
                int.from_bytes(content[28:30], "little") & 0x3FFF,
            )
        if chunk == b"VP8L":
            bits = int.from_bytes(content[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if content.startswith(b"\xff\xd8"):
        return _jpeg_size(content)
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(content):
        if content[i] != 0xFF:
            return None
        marker = content[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(content[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height = int.from_bytes(content[i + 5 : i + 7], "big")
            width = int.from_bytes(content[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    return None


# --------------------------------------------------------------------------- the world

_TOKEN_ID_RE = re.compile(r"^(\d{1,19}):")


class EmulatorState:
    """The whole emulated Telegram, as seen by one bot."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_id: int | None = None,
        bot_username: str = "ipdesk_test_bot",
        bot_first_name: str = "IPDesk (emulated)",
        privacy_mode: bool = True,
        strict_html_entities: bool = False,
        max_recorded_calls: int = 10_000,
    ) -> None:
        """``token``: when set, the Bot API answers 401 to any other token.

        ``privacy_mode``: like a BotFather default, in groups where the bot is not an
        administrator it only receives commands, replies to its messages, mentions of it and
        service messages.
        """
        if bot_id is None:
            match = _TOKEN_ID_RE.match(token or "")
            bot_id = int(match.group(1)) if match else DEFAULT_BOT_ID
        self.required_token = token
        self.bot = UserRecord(
            id=bot_id, first_name=bot_first_name, username=bot_username, is_bot=True
        )
        self.privacy_mode = privacy_mode
        self.strict_html_entities = strict_html_entities
        self.notifier = Notifier()
        self._max_recorded_calls = max_recorded_calls
        # counters that survive reset(), so identifiers never repeat
        self._update_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._callback_numbers = itertools.count(1)
        self._call_numbers = itertools.count(1)
        self._group_numbers = itertools.count(1)
        self._media_group_numbers = itertools.count(1)
        self._change_numbers = itertools.count(1)
        self.change_seq = 0
        self._reset_world()

    def _reset_world(self) -> None:
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self.updates: list[JsonDict] = []
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        #: (scope key, language code) -> (scope, commands)
        self.commands: dict[tuple[str, str], tuple[JsonDict, list[JsonDict]]] = {}
        #: (field, language code) -> text, for setMyName/setMyDescription/...
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.default_menu_button: JsonDict = {"type": "commands"}
        self.webhook: JsonDict | None = None
        self.allowed_updates: frozenset[str] | None = None
        self.faults: list[Fault] = []
        self.calls: deque[ApiCall] = deque(maxlen=self._max_recorded_calls)
        self._poll_generation = 0
        self.polls_waiting = 0

    def _changed(self, stored: StoredMessage) -> None:
        self.change_seq = next(self._change_numbers)
        stored.change_seq = self.change_seq
        self.notifier.notify()

    def reset(self) -> None:
        """Forget everything but the bot's identity and the identifier counters."""
        self._reset_world()
        self.notifier.notify()

    def close(self) -> None:
        """Release every long poll (the server is shutting down)."""
        self.notifier.closed = True
        self.notifier.notify()

    def reopen(self) -> None:
        self.notifier.closed = False

    # ------------------------------------------------------------------ people and chats

    def add_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
        started: bool = True,
    ) -> UserRecord:
        """Register (or update) a user; their private chat with the bot exists at once."""
        if user_id <= 0 or user_id == self.bot.id:
            raise ControlError(400, f"invalid user id {user_id}")
        if not first_name:
            raise ControlError(400, "first_name must be non-empty")
        existing = self.users.get(user_id)
        user = UserRecord(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
            started=started,
            blocked_bot=existing.blocked_bot if existing else False,
        )
        self.users[user_id] = user
        chat = self.chats.get(user_id)
        if chat is None:
            chat = ChatRecord(id=user_id, type="private")
            self.chats[user_id] = chat
            self.messages[user_id] = {}
        chat.first_name, chat.last_name, chat.username = first_name, last_name, username
        chat.members = {user_id: "member"}
        self.notifier.notify()
        return user

    def user(self, user_id: int) -> UserRecord:
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(404, f"unknown user {user_id}: create it first")
        return user

    def chat(self, chat_id: int) -> ChatRecord:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"unknown chat {chat_id}")
        return chat

    def add_group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        username: str | None = None,
        member_ids: Iterable[int] = (),
        creator_id: int | None = None,
        admin_ids: Iterable[int] = (),
        bot_status: str = "left",
    ) -> ChatRecord:
        """Create a group or supergroup. ``bot_status`` is set silently (no updates);
        use :meth:`set_bot_status` to add the bot the way a user would."""
        if chat_type not in ("group", "supergroup"):
            raise ControlError(400, "chat type must be group or supergroup")
        if bot_status not in BOT_GROUP_STATUSES:
            raise ControlError(400, f"bot status must be one of {sorted(BOT_GROUP_STATUSES)}")
        if not title:
            raise ControlError(400, "title must be non-empty")
        if chat_id is None:
            number = next(self._group_numbers)
            base = 1_000_000_000_000 if chat_type == "supergroup" else 4_000_000_000
            chat_id = -(base + number)
        if chat_id >= 0:
            raise ControlError(400, "group chat ids are negative")
        if chat_id in self.chats:
            raise ControlError(409, f"chat {chat_id} exists")
        members: dict[int, str] = {}
        for user_id in member_ids:
            self.user(user_id)
            members[user_id] = "member"
        for user_id in admin_ids:
            self.user(user_id)
            members[user_id] = "administrator"
        if creator_id is not None:
            self.user(creator_id)
            members[creator_id] = "creator"
        chat = ChatRecord(
            id=chat_id,
            type=chat_type,
            title=title,
            username=username,
            members=members,
            bot_status=bot_status,
        )
        self.chats[chat_id] = chat
        self.messages[chat_id] = {}
        self.notifier.notify()
        return chat

    def _group(self, chat_id: int) -> ChatRecord:
        chat = self.chat(chat_id)
        if chat.type == "private":
            raise ControlError(400, "not a group chat")
        return chat

    def chat_member(self, chat: ChatRecord, user: UserRecord) -> JsonDict:
        """The ChatMember object of ``user`` (the bot included) in ``chat``."""
        if user.id == self.bot.id:
            status = chat.bot_status
        elif chat.type == "private":
            status = "member" if user.id == chat.id else "left"
        else:
            status = chat.members.get(user.id, "left")
        return member_object(status, user.to_api())

    def set_member_status(
        self, chat_id: int, user_id: int, status: str, *, by_user_id: int | None = None
    ) -> StoredMessage | None:
        """A user joins (member/administrator) or leaves (left/kicked) a group.

        Produces the service message (new_chat_members / left_chat_member) and a
        ``chat_member`` update (delivered only if the bot asked for it, as in Telegram)."""
        chat = self._group(chat_id)
        user = self.user(user_id)
        actor = self.user(by_user_id) if by_user_id is not None else user
        if status not in ("member", "administrator", "creator", "left", "kicked"):
            raise ControlError(400, f"unsupported member status {status}")
        old = chat.members.get(user_id, "left")
        if old == status:
            return None
        chat.members[user_id] = status
        joined = old not in MEMBER_STATUSES and status in MEMBER_STATUSES
        left = old in MEMBER_STATUSES and status not in MEMBER_STATUSES
        if chat.bot_status in MEMBER_STATUSES:
            self._enqueue(
                "chat_member",
                {
                    "chat": chat.to_api(),
                    "from": actor.to_api(),
                    "date": unix_now(),
                    "old_chat_member": member_object(old, user.to_api()),
                    "new_chat_member": member_object(status, user.to_api()),
                },
            )
        service: JsonDict | None = None
        if joined:
            service = {"new_chat_members": [user.to_api()]}
        elif left:
            service = {"left_chat_member": user.to_api()}
        stored = None
        if service is not None:
            stored = self._store_message(chat, actor.id, False, actor.to_api(), service)
            if chat.bot_status in MEMBER_STATUSES:
                self._enqueue("message", stored.message)
        self.notifier.notify()
        return stored

    def set_bot_status(
        self, chat_id: int, status: str, *, by_user_id: int
    ) -> StoredMessage | None:
        """A user adds the bot to a group, promotes it, or removes it.

        Produces ``my_chat_member`` and, when the bot joins or is removed, the service message
        (``new_chat_members`` / ``left_chat_member``) like Telegram."""
        chat = self._group(chat_id)
        actor = self.user(by_user_id)
        if chat.members.get(by_user_id) not in MEMBER_STATUSES:
            raise ControlError(403, f"user {by_user_id} is not a member of chat {chat_id}")
        if status not in BOT_GROUP_STATUSES:
            raise ControlError(400, f"bot status must be one of {sorted(BOT_GROUP_STATUSES)}")
        old = chat.bot_status
        if old == status:
            return None
        chat.bot_status = status
        bot = self.bot.to_api()
        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": actor.to_api(),
                "date": unix_now(),
                "old_chat_member": member_object(old, bot),
                "new_chat_member": member_object(status, bot),
            },
        )
        stored = None
        if old not in MEMBER_STATUSES and status in MEMBER_STATUSES:
            stored = self._store_message(
                chat, actor.id, False, actor.to_api(), {"new_chat_members": [bot]}
            )
            self._enqueue("message", stored.message)
        elif old in MEMBER_STATUSES and status not in MEMBER_STATUSES:
            stored = self._store_message(
                chat, actor.id, False, actor.to_api(), {"left_chat_member": bot}
            )
        self.notifier.notify()
        return stored

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """The user blocks (or unblocks) the bot: ``my_chat_member`` kicked/member."""
        user = self.user(user_id)
        if user.blocked_bot == blocked:
            return
        user.blocked_bot = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        bot = self.bot.to_api()
        self._enqueue(
            "my_chat_member",
            {
                "chat": self.chats[user_id].to_api(),
                "from": user.to_api(),
                "date": unix_now(),
                "old_chat_member": member_object(old, bot),
                "new_chat_member": member_object(new, bot),
            },
        )
        self.notifier.notify()

    # ------------------------------------------------------------------ messages

    def messages_in(self, chat_id: int) -> dict[int, StoredMessage]:
        return self.messages.setdefault(chat_id, {})

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """The message if it exists and was not deleted."""
        stored = self.messages.get(chat_id, {}).get(message_id)
        if stored is None or stored.deleted:
            return None
        return stored

    def list_messages(
        self, chat_id: int, *, from_bot: bool | None = None, include_deleted: bool = True
    ) -> list[StoredMessage]:
        self.chat(chat_id)
        return [
            m
            for m in self.messages_in(chat_id).values()
            if (from_bot is None or m.from_bot == from_bot) and (include_deleted or not m.deleted)
        ]

    def _store_message(
        self,
        chat: ChatRecord,
        sender_id: int,
        from_bot: bool,
        sender: JsonDict,
        content: JsonDict,
        *,
        reply_to: StoredMessage | None = None,
    ) -> StoredMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: JsonDict = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_api(),
            "date": unix_now(),
        }
        if reply_to is not None:
            message["reply_to_message"] = quoted(reply_to.message)
        message.update(content)
        stored = StoredMessage(
            chat_id=chat.id,
            message_id=message_id,
            sender_id=sender_id,
            from_bot=from_bot,
            message=message,
        )
        self.messages_in(chat.id)[message_id] = stored
        self._changed(stored)
        return stored

    def add_bot_message(
        self,
        chat: ChatRecord,
        content: JsonDict,
        *,
        reply_to: StoredMessage | None = None,
        reply_markup: JsonDict | None = None,
        raw_text: str | None = None,
        parse_mode: str | None = None,
        disable_notification: bool = False,
        link_preview_options: JsonDict | None = None,
    ) -> StoredMessage:
        """Store a message the bot sent (checks were done by the caller)."""
        if reply_markup is not None and "inline_keyboard" in reply_markup:
            content = {**content, "reply_markup": reply_markup}
        if reply_markup is not None and "keyboard" in reply_markup:
            chat.reply_keyboard = reply_markup
        elif reply_markup is not None and reply_markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        stored = self._store_message(
            chat, self.bot.id, True, self.bot.to_api(), content, reply_to=reply_to
        )
        stored.reply_markup = reply_markup
        stored.raw_text = raw_text
        stored.parse_mode = parse_mode
        stored.disable_notification = disable_notification
        if link_preview_options is not None:
            stored.link_preview_options = link_preview_options
            stored.message["link_preview_options"] = link_preview_options
        self.notifier.notify()
        return stored

    def edit_bot_message(
        self,
        stored: StoredMessage,
        changes: JsonDict,
        *,
        reply_markup: JsonDict | None,
        removed_keys: Iterable[str] = (),
        raw_text: str | None = None,
        parse_mode: str | None = None,
        keep_raw: bool = False,
    ) -> StoredMessage:
        stored.history.append(copy.deepcopy(stored.message))
        message = dict(stored.message)
        for key in removed_keys:
            message.pop(key, None)
        message.update(changes)
        message.pop("reply_markup", None)
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        message["edit_date"] = unix_now()
        stored.message = message
        stored.reply_markup = reply_markup
        if not keep_raw:
            stored.raw_text = raw_text
            stored.parse_mode = parse_mode
        stored.version += 1
        self._changed(stored)
        return stored

    def delete_message(self, stored: StoredMessage) -> None:
        stored.deleted = True
        self._changed(stored)

    # ------------------------------------------------------------------ users act

    def _chat_for_user(self, user: UserRecord, chat_id: int | None) -> ChatRecord:
        chat = self.chat(user.id if chat_id is None else chat_id)
        if chat.type == "private":
            if chat.id != user.id:
                raise ControlError(403, f"user {user.id} cannot write in {chat.id}'s chat")
            if user.blocked_bot:
                raise ControlError(409, f"user {user.id} has blocked the bot; unblock first")
        elif chat.members.get(user.id) not in MEMBER_STATUSES:
            raise ControlError(403, f"user {user.id} is not a member of chat {chat.id}")
        return chat

    def _bot_sees(self, chat: ChatRecord, message: JsonDict) -> bool:
        """Whether Telegram would deliver this message to the bot (privacy mode)."""
        if chat.type == "private":
            return True
        if chat.bot_status not in MEMBER_STATUSES:
            return False
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        if "new_chat_members" in message or "left_chat_member" in message:
            return True
        reply = message.get("reply_to_message")
        if reply is not None and reply.get("from", {}).get("id") == self.bot.id:
            return True
        text = message.get("text") or message.get("caption") or ""
        command = re.match(r"/[A-Za-z0-9_]{1,64}(?:@([A-Za-z0-9_]{3,32}))?(?![\w/<>])", text)
        if command:
            addressed = command.group(1)
            return addressed is None or addressed.lower() == (self.bot.username or "").lower()
        mention = f"@{self.bot.username}".lower() if self.bot.username else None
        return mention is not None and mention in text.lower()

    def user_sends(
        self,
        user_id: int,
        content: JsonDict,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        forward_origin: JsonDict | None = None,
        media_group_id: str | None = None,
    ) -> StoredMessage:
        """A user posts a message; the bot gets a ``message`` update if it would see it."""
        user = self.user(user_id)
        chat = self._chat_for_user(user, chat_id)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = self.find_message(chat.id, reply_to_message_id)
            if reply_to is None:
                raise ControlError(404, f"no message {reply_to_message_id} in chat {chat.id}")
        content = dict(content)
        if forward_origin is not None:
            content["forward_origin"] = self._origin(forward_origin)
        if media_group_id is not None:
            content["media_group_id"] = str(media_group_id)
        stored = self._store_message(
            chat, user.id, False, user.to_api(), content, reply_to=reply_to
        )
        if chat.type == "private":
            user.started = True
        if self._bot_sees(chat, stored.message):
            self._enqueue("message", stored.message)
        self.notifier.notify()
        return stored

    def _origin(self, origin: JsonDict) -> JsonDict:
        result = dict(origin)
        result.setdefault("date", unix_now())
        kind = result.get("type")
        if kind == "user":
            if "sender_user" not in result:
                sender_id = result.pop("sender_user_id", None)
                if not isinstance(sender_id, int):
                    raise ControlError(400, "forward_origin user needs sender_user_id")
                result["sender_user"] = self.user(sender_id).to_api()
        elif kind == "hidden_user":
            if not isinstance(result.get("sender_user_name"), str):
                raise ControlError(400, "forward_origin hidden_user needs sender_user_name")
        elif kind not in ("chat", "channel"):
            raise ControlError(400, "forward_origin type: user, hidden_user, chat or channel")
        return result

    def user_text_content(self, text: str, entities: list[JsonDict] | None = None) -> JsonDict:
        if not text or not text.strip():
            raise ControlError(400, "a user cannot send an empty message")
        if len(text) > 4096:
            raise ControlError(400, "a user's message is at most 4096 characters")
        content: JsonDict = {"text": text}
        found = entities if entities is not None else find_bot_commands(text)
        if found:
            content["entities"] = found
        return content

    def caption_content(self, caption: str | None) -> JsonDict:
        if not caption:
            return {}
        if len(caption) > 1024:
            raise ControlError(400, "a user's caption is at most 1024 characters")
        content: JsonDict = {"caption": caption}
        found = find_bot_commands(caption)
        if found:
            content["caption_entities"] = found
        return content

    def user_photo_content(
        self,
        content: bytes,
        *,
        caption: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> JsonDict:
        detected = image_size(content)
        if width is None or height is None:
            width, height = detected or (1280, 720)
        return {
            "photo": self.photo_sizes(content, width, height),
            **self.caption_content(caption),
        }

    def user_document_content(
        self,
        content: bytes,
        *,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> JsonDict:
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.store_file(content, kind="document", mime_type=mime, file_name=file_name)
        return {"document": document_object(stored), **self.caption_content(caption)}

    def user_sticker_content(self, *, emoji: str = "\N{THUMBS UP SIGN}") -> JsonDict:
        stored = self.store_file(
            b"RIFF\x00\x00\x00\x00WEBP",
            kind="sticker",
            mime_type="image/webp",
            width=512,
            height=512,
        )
        return {
            "sticker": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
                "file_size": stored.file_size,
            }
        }

    def user_voice_content(self, *, duration: int = 1, content: bytes = b"OggS") -> JsonDict:
        stored = self.store_file(content, kind="voice", mime_type="audio/ogg")
        return {
            "voice": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": duration,
                "mime_type": "audio/ogg",
                "file_size": stored.file_size,
            }
        }

    @staticmethod
    def user_location_content(latitude: float, longitude: float) -> JsonDict:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ControlError(400, "latitude/longitude out of range")
        return {"location": {"latitude": latitude, "longitude": longitude}}

    def user_contact_content(
        self,
        phone_number: str,
        first_name: str,
        *,
        last_name: str | None = None,
        contact_user_id: int | None = None,
    ) -> JsonDict:
        if not phone_number or not first_name:
            raise ControlError(400, "a contact needs phone_number and first_name")
        return {
            "contact": _compact(
                {
                    "phone_number": phone_number,
                    "first_name": first_name,
                    "last_name": last_name,
                    "user_id": contact_user_id,
                }
            )
        }

    def user_edits_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> StoredMessage:
        user = self.user(user_id)
        chat = self._chat_for_user(user, chat_id)
        stored = self.find_message(chat.id, message_id)
        if stored is None or stored.sender_id != user.id or stored.from_bot:
            raise ControlError(404, f"user {user_id} has no message {message_id} in {chat.id}")
        if "text" not in stored.message:
            raise ControlError(400, "only text messages can be edited")
        content = self.user_text_content(text)
        if content["text"] == stored.message["text"]:
            raise ControlError(400, "message is not modified")
        stored.history.append(copy.deepcopy(stored.message))
        message = dict(stored.message)
        message.pop("entities", None)
        message.update(content)
        message["edit_date"] = unix_now()
        stored.message = message
        stored.version += 1
        self._changed(stored)
        if self._bot_sees(chat, message):
            self._enqueue("edited_message", message)
        self.notifier.notify()
        return stored

    def press_button(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        data: str | None = None,
        label: str | None = None,
    ) -> CallbackQueryRecord:
        """The user presses an inline button of a bot message → ``callback_query``.

        By ``label`` (the button's text) or by raw ``data``; data that no button carries is
        allowed on purpose (forged callback data)."""
        user = self.user(user_id)
        chat = self._chat_for_user(user, chat_id)
        stored = self.find_message(chat.id, message_id)
        if stored is None or not stored.from_bot:
            raise ControlError(404, f"no bot message {message_id} in chat {chat.id}")
        if label is not None:
            buttons = inline_buttons(stored.reply_markup)
            matching = [b for b in buttons if b.get("text") == label]
            if not matching:
                labels = [b.get("text") for b in buttons]
                raise ControlError(404, f"no button {label!r} on message {message_id}: {labels}")
            if "callback_data" not in matching[0]:
                raise ControlError(400, f"button {label!r} has no callback_data")
            data = matching[0]["callback_data"]
        if data is None:
            raise ControlError(400, "give the button's label or its callback data")
        query_id = str(4_000_000_000_000_000_000 + next(self._callback_numbers))
        record = CallbackQueryRecord(
            id=query_id,
            user_id=user.id,
            chat_id=chat.id,
            message_id=message_id,
            data=data,
            date=unix_now(),
        )
        self.callback_queries[query_id] = record
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "message": copy.deepcopy(stored.message),
                "chat_instance": str(abs(chat.id) * 7919 % 10**18),
                "data": data,
            },
        )
        self.notifier.notify()
        return record

    # ------------------------------------------------------------------ files

    def store_file(
        self,
        content: bytes,
        *,
        kind: str,
        mime_type: str | None = None,
        file_name: str | None = None,
        width: int | None = None,
        height: int | None = None,
        source_url: str | None = None,
    ) -> StoredFile:
        number = next(self._file_numbers)
        folder = {"photo": "photos", "sticker": "stickers", "voice": "voice"}.get(kind, f"{kind}s")
        if kind == "photo":
            extension = ".jpg"
        else:
            guessed = mimetypes.guess_extension(mime_type or "") if mime_type else None
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            extension = suffix or guessed or ""
        stored = StoredFile(
            file_id=f"EMU{kind.upper()}{number:012d}",
            file_unique_id=f"U{number:010d}",
            file_path=f"{folder}/file_{number}{extension}",
            content=content,
            kind=kind,
            mime_type=mime_type,
            file_name=file_name,
            width=width,
            height=height,
            source_url=source_url,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return self._files_by_path.get(file_path)

    def photo_sizes(self, content: bytes, width: int, height: int) -> list[JsonDict]:
        """PhotoSize array as Telegram returns it: a thumbnail and the full size."""
        sizes: list[JsonDict] = []
        scale = min(1.0, 90 / max(width, height, 1))
        dims = [(max(1, round(width * scale)), max(1, round(height * scale))), (width, height)]
        for w, h in dims:
            stored = self.store_file(
                content, kind="photo", mime_type="image/jpeg", width=w, height=h
            )
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": w,
                    "height": h,
                }
            )
        return sizes

    def new_media_group_id(self) -> str:
        return str(13_000_000_000_000_000 + next(self._media_group_numbers))

    def bot_leaves(self, chat: ChatRecord) -> None:
        """leaveChat: the bot's status becomes "left" (my_chat_member from the bot)."""
        old = chat.bot_status
        chat.bot_status = "left"
        bot = self.bot.to_api()
        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": bot,
                "date": unix_now(),
                "old_chat_member": member_object(old, bot),
                "new_chat_member": member_object("left", bot),
            },
        )
        self.notifier.notify()

    # ------------------------------------------------------------------ updates

    def _enqueue(self, kind: str, payload: JsonDict) -> int | None:
        allowed = self.allowed_updates
        if allowed is None:
            if kind in OPT_IN_UPDATE_TYPES:
                return None
        elif kind not in allowed:
            return None
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self.notifier.notify()
        return update_id

    def set_allowed_updates(self, allowed: Iterable[str] | None) -> None:
        """``None`` keeps the previous setting; an empty list means the default set."""
        if allowed is None:
            return
        kinds = frozenset(allowed)
        self.allowed_updates = kinds or None

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def drop_pending_updates(self) -> None:
        self.updates = []

    async def get_updates(self, *, offset: int, limit: int, seconds: float) -> list[JsonDict]:
        """getUpdates: confirm below ``offset``, then long-poll up to ``seconds``."""
        self._poll_generation += 1
        generation = self._poll_generation
        self.notifier.notify()  # an older poll learns it was superseded
        self.confirm_updates(offset)
        limit = limit if 1 <= limit <= 100 else 100

        def ready() -> bool:
            return bool(self.updates) or generation != self._poll_generation

        if not ready() and seconds > 0:
            self.polls_waiting += 1
            try:
                await self.notifier.wait_until(ready, seconds)
            finally:
                self.polls_waiting -= 1
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            )
        return copy.deepcopy(self.updates[:limit])

    # ------------------------------------------------------------------ waiting (tests)

    def _default_after(self, chat_id: int) -> int:
        """The latest message a user sent in the chat (0 if none)."""
        user_ids = [m.message_id for m in self.messages_in(chat_id).values() if not m.from_bot]
        return max(user_ids, default=0)

    async def wait_for_bot_messages(
        self, chat_id: int, *, after_message_id: int | None, count: int, seconds: float
    ) -> tuple[bool, list[StoredMessage]]:
        """Bot messages with id > ``after_message_id`` (default: the last user message),
        once there are at least ``count`` of them; (False, what there is) on timeout."""
        self.chat(chat_id)
        after = self._default_after(chat_id) if after_message_id is None else after_message_id

        def found() -> list[StoredMessage]:
            return [
                m
                for m in self.messages_in(chat_id).values()
                if m.from_bot and m.message_id > after
            ]

        ok = await self.notifier.wait_until(lambda: len(found()) >= count, seconds)
        return ok, found()

    async def wait_for_change(
        self, chat_id: int, message_id: int, *, after_version: int, seconds: float
    ) -> tuple[bool, StoredMessage]:
        """The message once its version exceeds ``after_version`` or it is deleted."""
        stored = self.messages_in(chat_id).get(message_id)
        if stored is None:
            raise ControlError(404, f"no message {message_id} in chat {chat_id}")
        ok = await self.notifier.wait_until(
            lambda: stored.version > after_version or stored.deleted, seconds
        )
        return ok, stored

    async def wait_for_changes(
        self, chat_id: int, *, since: int, seconds: float
    ) -> tuple[int, list[StoredMessage]]:
        """Bot messages of the chat sent, edited or deleted after change ``since`` (waiting up
        to ``seconds`` for the first one); returns (the cursor to pass next, the messages)."""
        self.chat(chat_id)

        def changed() -> list[StoredMessage]:
            return [
                m
                for m in self.messages_in(chat_id).values()
                if m.from_bot and m.change_seq > since
            ]

        await self.notifier.wait_until(lambda: bool(changed()), seconds)
        found = changed()
        return max([since, *(m.change_seq for m in found)]), found

    async def wait_for_callback_answer(
        self, query_id: str, *, seconds: float
    ) -> tuple[bool, CallbackQueryRecord]:
        record = self.callback_queries.get(query_id)
        if record is None:
            raise ControlError(404, f"unknown callback query {query_id}")
        ok = await self.notifier.wait_until(lambda: record.answered, seconds)
        return ok, record

    # ------------------------------------------------------------------ calls and faults

    def record_call(self, method: str, params: JsonDict, files: dict[str, JsonDict]) -> ApiCall:
        call = ApiCall(
            seq=next(self._call_numbers),
            method=method,
            params=params,
            files=files,
            at=time.time(),
        )
        self.calls.append(call)
        return call

    def calls_of(self, method: str | None = None, *, since: int = 0) -> Iterator[ApiCall]:
        for call in self.calls:
            if call.seq > since and (method is None or call.method.lower() == method.lower()):
                yield call

    def add_fault(
        self,
        method: str,
        *,
        error_code: int = 429,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> Fault:
        if count < 1:
            raise ControlError(400, "count must be at least 1")
        if not 400 <= error_code <= 599:
            raise ControlError(400, "error_code must be an HTTP error status")
        fault = Fault(
            method=method if method == "*" else method.lower(),
            error_code=error_code,
            remaining=count,
            retry_after=retry_after,
            description=description,
            delay=delay,
            chat_id=chat_id,
        )
        self.faults.append(fault)
        return fault

    def take_fault(self, method: str, chat_id: object = None) -> Fault | None:
        """The fault this call hits, if any (``chat_id``: the call's chat_id parameter)."""
        for fault in self.faults:
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            if fault.remaining > 0 and fault.method in ("*", method.lower()):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ bot-side checks

    def resolve_chat(self, chat_id: int | str) -> ChatRecord:
        """The chat the bot names by id or @username, or 400 chat not found."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            for chat in self.chats.values():
                if chat.type != "private" and (chat.username or "").lower() == name:
                    return chat
            raise bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def check_can_write(self, chat: ChatRecord) -> None:
        """Telegram's 403s for sending into ``chat``."""
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        label = "supergroup" if chat.type == "supergroup" else "group"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {label} chat")
        if chat.bot_status not in MEMBER_STATUSES:
            raise forbidden(f"bot is not a member of the {label} chat")


def member_object(status: str, user: JsonDict) -> JsonDict:
    """A ChatMember object with the fields PTB requires for each status."""
    if status == "administrator":
        member: JsonDict = {
            "status": status,
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": False,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": False,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_pin_messages": True,
        }
        return member
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    return {"status": status, "user": user}


def quoted(message: JsonDict) -> JsonDict:
    """A message as it appears in ``reply_to_message`` (one level only)."""
    result = copy.deepcopy(message)
    result.pop("reply_to_message", None)
    return result


def formatted_fields(formatted: FormattedText | None, *, caption: bool) -> JsonDict:
    """{"text"/"caption": ..., "entities"/"caption_entities": ...} without empty parts."""
    if formatted is None:
        return {}
    key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
    result: JsonDict = {key: formatted.text}
    if formatted.entities:
        result[entities_key] = formatted.entities
    return result


def document_object(stored: StoredFile) -> JsonDict:
    return _compact(
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_size": stored.file_size,
        }
    )
