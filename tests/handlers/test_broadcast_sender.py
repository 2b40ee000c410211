"""The announcement lane's Telegram sender: parts, retries resuming after the media, and
failures mapped to outbox outcomes (a stand-in Bot records the calls)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx
import pytest
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.services.broadcast import BroadcastDelivery, ButtonSpec, Pacer, Rendered
from bot.services.outreach import IN_DOUBT
from bot.services.reminders import PARTS_SENT, ClaimedReminder
from handlers.broadcast import AnnouncementSender, Attempt


@dataclass
class StandInBot:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail: dict[str, Exception] = field(default_factory=dict)

    async def _call(self, method: str, **kwargs: Any) -> None:
        error = self.fail.pop(method, None)
        if error is not None:
            raise error
        self.calls.append((method, kwargs))

    async def send_photo(self, chat_id: int, photo: str, **kwargs: Any) -> None:
        await self._call("send_photo", chat_id=chat_id, photo=photo, **kwargs)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        await self._call("send_message", chat_id=chat_id, text=text, **kwargs)


def delivery(text: str, parts_sent: int = 0) -> BroadcastDelivery:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    reminder = ClaimedReminder(
        1, "ann:1:42", "announcement", None, 42, now, {"a": 1, PARTS_SENT: parts_sent}, 1, "w", now
    )
    rendered = Rendered(text, "photo", "file-1", (ButtonSpec("Sign up", "evs", "3.1"),))
    return BroadcastDelivery(reminder, (), chat_id=42, rendered=rendered, announcement_id=1)


async def held(_reminder: ClaimedReminder, _now: datetime) -> bool:
    return True


def sender(bot: StandInBot, attempt: Attempt = held) -> AnnouncementSender:
    return AnnouncementSender(bot, Pacer(0), attempt)  # type: ignore[arg-type]


async def test_short_text_is_the_photo_caption_with_the_buttons() -> None:
    bot = StandInBot()
    result = await sender(bot)(delivery("<b>short</b>"))
    assert result.ok
    assert [c[0] for c in bot.calls] == ["send_photo"]
    assert bot.calls[0][1]["caption"] == "<b>short</b>"
    assert bot.calls[0][1]["reply_markup"] is not None


async def test_a_retry_after_the_photo_sends_only_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # timedelta retry_after (PTB warns otherwise)
    bot = StandInBot(fail={"send_message": RetryAfter(timedelta(seconds=3))})
    long_text = "长" * 1500
    first = await sender(bot)(delivery(long_text))
    assert not first.ok
    assert first.retryable
    assert first.parts_sent == 1
    assert first.retry_after == 3
    assert [c[0] for c in bot.calls] == ["send_photo"]
    assert bot.calls[0][1]["caption"] is None
    second = await sender(bot)(delivery(long_text, parts_sent=first.parts_sent))
    assert second.ok
    assert [c[0] for c in bot.calls] == ["send_photo", "send_message"]


async def test_a_member_who_blocked_the_bot_is_a_permanent_failure() -> None:
    bot = StandInBot(fail={"send_photo": Forbidden("bot was blocked by the user")})
    result = await sender(bot)(delivery("x"))
    assert not result.ok
    assert not result.retryable
    assert result.blocked_user_id == 42
    assert (result.error or "").startswith("blocked")


def _network(error: type[Exception], wrapped: Exception) -> Exception:
    """A PTB network error as HTTPXRequest raises it: the httpx error as its cause."""
    exc = error("network") if error is NetworkError else error()
    exc.__cause__ = wrapped
    return exc


async def test_no_connection_is_retried_an_answer_lost_is_in_doubt_never_retried() -> None:
    request = httpx.Request("POST", "http://telegram.invalid/sendPhoto")
    key = aiohttp.client_reqrep.ConnectionKey(
        "telegram.invalid", 443, True, True, None, None, None
    )
    for never_left in (
        _network(NetworkError, aiohttp.ClientConnectorError(key, OSError(111, "refused"))),
        _network(TimedOut, aiohttp.ConnectionTimeoutError("connect")),
        _network(NetworkError, httpx.ConnectError("refused", request=request)),
        _network(TimedOut, httpx.PoolTimeout("pool", request=request)),
    ):
        bot = StandInBot(fail={"send_photo": never_left})
        result = await sender(bot)(delivery("x"))
        assert result.retryable, never_left
    for lost in (
        _network(TimedOut, aiohttp.SocketTimeoutError("read")),
        _network(NetworkError, aiohttp.ServerDisconnectedError()),
        _network(TimedOut, TimeoutError()),  # the total time ran out
        _network(TimedOut, httpx.ReadTimeout("read", request=request)),
        _network(NetworkError, httpx.RemoteProtocolError("closed", request=request)),
        NetworkError("Bad Gateway"),
    ):
        bot = StandInBot(fail={"send_photo": lost})
        result = await sender(bot)(delivery("x"))
        assert not result.ok
        assert not result.retryable, lost
        assert (result.error or "").startswith(IN_DOUBT)


async def test_each_request_is_preceded_by_its_committed_attempt_or_not_sent() -> None:
    order: list[str] = []

    async def attempt(_reminder: ClaimedReminder, _now: datetime) -> bool:
        order.append("attempt")
        return True

    bot = StandInBot()
    original = bot._call

    async def call(method: str, **kwargs: Any) -> None:
        order.append(method)
        await original(method, **kwargs)

    bot._call = call  # type: ignore[method-assign]
    assert (await sender(bot, attempt)(delivery("长" * 1500))).ok
    assert order == ["attempt", "send_photo", "attempt", "send_message"]

    async def taken_over(_reminder: ClaimedReminder, _now: datetime) -> bool:
        return False

    bot = StandInBot()
    result = await sender(bot, taken_over)(delivery("x"))
    assert result.retryable  # a fenced no-op for the store: the row is another worker's
    assert bot.calls == []
