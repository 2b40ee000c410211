"""The notice for a given-up update: in the member's language, private chats only, once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.services.inbox import FailedUpdate
from bot.services.inbox_failures import NOTICE, tell_member
from db.models import Reminder
from db.session import SessionFactory


def _callback(language_code: str) -> str:
    sender = {"id": 31, "is_bot": False, "first_name": "冯", "language_code": language_code}
    query = {"id": "q", "from": sender, "chat_instance": "c", "data": "x"}
    return json.dumps({"update_id": 1, "callback_query": query})


@pytest.mark.parametrize(
    ("chat_id", "payload", "lang"),
    [
        (31, _callback("en-GB"), "en"),  # a button press: the presser's Telegram language
        (32, "not json", "zh"),  # unreadable: the default language
        (33, "[]", "zh"),
        (-100, _callback("en"), None),  # a group: nobody to tell
        (None, _callback("en"), None),
    ],
)
async def test_the_notice_goes_to_private_chats_in_the_senders_language(
    sessions: SessionFactory, chat_id: int | None, payload: str, lang: str | None
) -> None:
    for _ in range(2):  # a repeat (two processes giving up the same row) queues nothing more
        async with sessions() as s, s.begin():
            await tell_member(s, FailedUpdate(9, chat_id, payload, 3))
    async with sessions() as s:
        rows = (await s.execute(select(Reminder))).scalars().all()
    expected = [] if lang is None else [(chat_id, NOTICE, lang)]
    assert [(r.recipient_id, r.payload["text_key"], r.payload["lang"]) for r in rows] == expected
