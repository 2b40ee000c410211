"""The flood guard counts an album as one message: its parts never trip it."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from telegram import Chat, Message, PhotoSize, Update, User

from bot.services.flood import FloodGuard
from handlers.guards import limit_flood

NOW = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC)
MEMBER = User(5, "Li", is_bot=False)
CHAT = Chat(5, "private")


def _update(update_id: int, **fields: object) -> Update:
    message = Message(update_id, NOW, CHAT, from_user=MEMBER, **fields)  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_album_parts_do_not_count_towards_the_flood_limit() -> None:
    guard = FloodGuard(1, 60)
    context = SimpleNamespace(services=SimpleNamespace(flood=guard))
    photo = (PhotoSize("p", "u", 10, 10),)
    for index in range(10):
        update = _update(index + 1, photo=photo, media_group_id="album-1")
        await limit_flood(update, context)  # type: ignore[arg-type]
    # The member's one allowed message in the window is still there.
    await limit_flood(_update(20, text="我的问题"), context)  # type: ignore[arg-type]
    assert guard.check(MEMBER.id) == (False, True)
