"""The announcement lane's Telegram sender: parts, retries resuming after the media, and
failures mapped to outbox outcomes (a stand-in Bot records the calls)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.error import Forbidden, RetryAfter

from bot.services.broadcast import BroadcastDelivery, ButtonSpec, Pacer, Rendered
from bot.services.reminders import PARTS_SENT, ClaimedReminder
from handlers.broadcast import AnnouncementSender


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


def sender(bot: StandInBot) -> AnnouncementSender:
    return AnnouncementSender(bot, Pacer(0))  # type: ignore[arg-type]


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
