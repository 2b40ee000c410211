"""Announcements, events and alerts end to end: the real `ipdesk run` on the emulator.

One bot and one database for the module, tests in file order: a small audience first
(compose → preview → confirm → delivery to the right members only), an event with one seat
(sign-up, waiting list, moving up, the staff's CSV), then a few hundred members written into
the bot's database for a large broadcast: a member's question is answered while it runs,
and a kill -9 in the middle of another one is followed by a restart that finishes it with
every member served at most once (a message whose request was in flight at the kill is
"in doubt": never sent again).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.emulator.client import BotMessage, EmulatorClient
from bot.i18n import load_catalog
from faq.models import Lang
from handlers.broadcast import SENDERS
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.support.botproc import BotProcess, Emulator

CATALOG = load_catalog()
ZH_MEMBER, EN_MEMBER, OPTED_OUT, BLOCKED = 760001, 760002, 760003, 760004
SEAT_1, SEAT_2 = 760011, 760012
BULK_FIRST, BULK = 770001, 240
RATE = 40  # BROADCAST_MAX_RATE of this bot: a 240-member broadcast takes about 6 s


def t(lang: Lang, key: str, **values: object) -> str:
    """Catalog text as the member reads it (tags stripped, entities decoded)."""
    import html

    text = CATALOG.t(lang, key, **values) if values else CATALOG.raw(lang, key)
    return html.unescape(re.sub(r"</?[a-z-]+[^>]*>", "", text))


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    proc = BotProcess.configure(
        tmp_path_factory.mktemp("outreach"),
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        TELEGRAM_MAX_RATE="60",
        BROADCAST_MAX_RATE=str(RATE),
        REMINDER_POLL_SECONDS="1",
        REMINDER_LEASE_SECONDS="3",
        FLOOD_MAX_MESSAGES="200",  # the admin composes several announcements in a row
        CIVIL_START="00:00",  # notices about a changed or cancelled event go out at once
        CIVIL_END="23:59",
    )
    proc.start()
    wait_until_polling(emulator)
    yield proc
    code = proc.stop()
    assert code == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-3000:]


def db(bot: BotProcess) -> sqlite3.Connection:
    return sqlite3.connect(Path(bot.workdir) / "ipdesk.sqlite3", timeout=30)


def outbox(bot: BotProcess, announcement: int) -> Counter[str]:
    with closing(db(bot)) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM reminders WHERE key LIKE ? GROUP BY status",
            (f"ann:{announcement}:%",),
        ).fetchall()
    return Counter({str(s): int(n) for s, n in rows})


async def latest_id(client: EmulatorClient, chat_id: int) -> int:
    messages = await client.messages(chat_id, sender="all")
    return messages[-1].message_id if messages else 0


async def until_button(
    client: EmulatorClient, chat_id: int, after: int, label: str, wait: float = 15
) -> BotMessage:
    """The first bot message after ``after`` that carries a button ``label``."""
    count = 1
    while True:
        found = await client.wait_for_messages(
            chat_id, after_message_id=after, count=count, timeout=wait
        )
        for message in found:
            if any(b.text == label for b in message.buttons):
                return message
        count = len(found) + 1


async def press(client: EmulatorClient, user: int, message: BotMessage, label: str) -> None:
    record = await client.press_button(user, message.message_id, label=label)
    await client.wait_for_callback_answer(record.query_id)


async def say(client: EmulatorClient, user: int, text: str) -> BotMessage:
    await client.send_text(user, text)
    return await client.wait_for_message(user)


async def compose(
    client: EmulatorClient,
    kind: str,
    zh: str | None,
    en: str | None,
    *,
    choice: str | None = None,
    event: str | None = None,
) -> tuple[list[BotMessage], BotMessage]:
    """The admin composes (Chinese menus); returns the previews and the review message."""
    after = await latest_id(client, ADMIN_ID)
    await client.send_text(ADMIN_ID, "/announce")
    menu = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, menu, t("zh", f"ann_kind_{kind}"))
    prompt = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    if zh is None:
        after = await latest_id(client, ADMIN_ID)
        await press(client, ADMIN_ID, prompt, t("zh", "ann_btn_no_zh"))
        prompt = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    else:
        prompt = await say(client, ADMIN_ID, zh)
    if en is None:
        after = await latest_id(client, ADMIN_ID)
        await press(client, ADMIN_ID, prompt, t("zh", "ann_btn_no_en"))
        prompt = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    else:
        prompt = await say(client, ADMIN_ID, en)
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, prompt, t("zh", "ann_btn_no_media"))
    prompt = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    if choice is not None:  # topic (news) or priority (alert)
        after = await latest_id(client, ADMIN_ID)
        await press(client, ADMIN_ID, prompt, choice)
        prompt = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, prompt, t("zh", "ann_btn_audience_all"))
    if event is not None:
        await client.wait_for_message(ADMIN_ID, after_message_id=after)
        after = await latest_id(client, ADMIN_ID)
        await client.send_text(ADMIN_ID, event)
        after += 1
    review = await until_button(client, ADMIN_ID, after, t("zh", "ann_btn_send_now"))
    previews = [
        m for m in await client.messages(ADMIN_ID) if after < m.message_id < review.message_id
    ]
    return previews, review


async def send_now(client: EmulatorClient, review: BotMessage) -> tuple[int, BotMessage]:
    """Press "Send now"; the announcement's number and its progress message."""
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, review, t("zh", "ann_btn_send_now"))
    progress = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    number = re.search(r"#(\d+)", progress.body)
    assert number is not None, progress.body
    return int(number.group(1)), progress


async def until_finished(client: EmulatorClient, progress: BotMessage, wait: float = 60) -> str:
    """Wait until the progress message says finished; its last text."""
    done = t("zh", "ann_status_sent")
    message = progress
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while done not in message.body:
        left = deadline - loop.time()
        assert left > 0, message.body
        message = await client.wait_for_edit(
            ADMIN_ID, progress.message_id, after_version=message.version, timeout=min(left, 20)
        )
    return message.body


async def member(client: EmulatorClient, user: int, language_code: str) -> None:
    await client.create_user(user, f"m{user}", language_code=language_code)
    await say(client, user, "/start")


async def test_compose_preview_and_deliver_to_the_right_members_once(
    client: EmulatorClient, bot: BotProcess
) -> None:
    await client.create_user(ADMIN_ID, "admin", language_code="zh-hans")
    await member(client, ZH_MEMBER, "zh-hans")
    await member(client, EN_MEMBER, "en")
    await member(client, OPTED_OUT, "zh-hans")
    await member(client, BLOCKED, "zh-hans")
    menu = await say(client, OPTED_OUT, "/subscriptions")
    alerts = t("zh", "sub_on", topic=t("zh", "subtopic_alerts"))
    await press(client, OPTED_OUT, menu, alerts)
    await client.block_bot(BLOCKED)

    previews, review = await compose(
        client,
        "alert",
        "美国 <b>337 调查</b> 涉及 <script>宁波</script> 企业",
        "A US <i>Section 337</i> complaint names Ningbo firms",
        choice=t("zh", "ann_btn_priority_high"),
    )
    bodies = "\n".join(p.body for p in previews)
    assert "337 调查" in bodies
    assert "Section 337" in bodies
    assert "<script>宁波</script>" in bodies  # shown as text, never as markup
    assert "2" in review.body or "3" in review.body

    number, progress = await send_now(client, review)
    final = await until_finished(client, progress)
    assert "0 / " in final or "0/" in final

    zh = [m for m in await client.messages(ZH_MEMBER) if "337" in m.body]
    en = [m for m in await client.messages(EN_MEMBER) if "337" in m.body]
    assert len(zh) == 1
    assert len(en) == 1
    assert "调查" in zh[0].body
    assert t("zh", "ann_priority_high") in zh[0].body
    assert "Section 337" in en[0].body
    assert t("en", "ann_btn_expert") in [b.text for b in en[0].buttons]
    assert [m for m in await client.messages(OPTED_OUT) if "337" in m.body] == []
    assert [m for m in await client.messages(BLOCKED) if "337" in m.body] == []
    counts = outbox(bot, number)
    assert counts["sent"] == 2
    assert counts["pending"] == counts["sending"] == 0

    # "Talk to an expert about this" opens a ticket linked to the alert.
    after = await latest_id(client, EN_MEMBER)
    await press(client, EN_MEMBER, en[0], t("en", "ann_btn_expert"))
    reply = await client.wait_for_message(EN_MEMBER, after_message_id=after)
    assert re.search(r"IP-\d{4}-\d{4,}", reply.body), reply.body
    with closing(db(bot)) as conn:
        linked = conn.execute(
            "SELECT t.question, t.user_id FROM alert_tickets a JOIN tickets t"
            " ON t.id = a.ticket_id WHERE a.announcement_id = ?",
            (number,),
        ).fetchall()
    assert len(linked) == 1
    assert linked[0][1] == EN_MEMBER
    assert f"#{number}" in linked[0][0]


async def test_event_sign_up_waiting_list_and_csv(client: EmulatorClient, bot: BotProcess) -> None:
    await member(client, SEAT_1, "zh-hans")
    await member(client, SEAT_2, "en")
    _, review = await compose(
        client,
        "event",
        "百家堂第 12 期：跨境电商商标风险",
        "Forum 12: trademark risks in cross-border e-commerce",
        event="百家堂第12期\n2027-01-20 14:00\n协会三楼会议室\n1",
    )
    number, progress = await send_now(client, review)
    await until_finished(client, progress)
    invitation_zh = next(m for m in await client.messages(SEAT_1) if "百家堂" in m.body)
    invitation_en = next(m for m in await client.messages(SEAT_2) if "Forum 12" in m.body)

    after = await latest_id(client, SEAT_1)
    await press(client, SEAT_1, invitation_zh, t("zh", "ann_btn_signup"))
    seat = await client.wait_for_message(SEAT_1, after_message_id=after)
    assert "您已报名" in seat.body
    after = await latest_id(client, SEAT_2)
    await press(client, SEAT_2, invitation_en, t("en", "ann_btn_signup"))
    waiting = await client.wait_for_message(SEAT_2, after_message_id=after)
    assert "waiting list" in waiting.body

    mine = await say(client, SEAT_1, "/events")
    assert "百家堂第12期" in mine.body
    after = await latest_id(client, SEAT_1)
    await press(client, SEAT_1, seat, t("zh", "ev_btn_cancel"))
    cancelled = await client.wait_for_message(SEAT_1, after_message_id=after)
    assert "已取消" in cancelled.body
    moved_up = await client.wait_for_message(SEAT_2, after_message_id=waiting.message_id)
    assert "A seat has become free" in moved_up.body

    with closing(db(bot)) as conn:
        (eid,) = conn.execute(
            "SELECT event_id FROM announcements WHERE id = ?", (number,)
        ).fetchone()
    after = await latest_id(client, ADMIN_ID)
    await client.send_text(ADMIN_ID, f"/event {eid} csv")
    document = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    assert document.document is not None
    content = (await client.file_content(document.document["file_id"])).decode("utf-8-sig")
    lines = content.strip().splitlines()
    assert lines[0].startswith("registration,status")
    assert [line.split(",")[1] for line in lines[1:]] == ["cancelled", "registered"]
    report = await say(client, ADMIN_ID, f"/announcement {number}")
    assert "报名：1" in report.body


async def test_staff_move_then_cancel_an_event_everyone_told_in_their_language(
    client: EmulatorClient, bot: BotProcess
) -> None:
    _, review = await compose(
        client,
        "event",
        "知识产权海关保护培训",
        "Training: IP protection at customs",
        event="海关保护培训\n2027-02-03 14:00\n协会三楼会议室\n1",
    )
    number, progress = await send_now(client, review)
    await until_finished(client, progress)
    invitation_zh = next(m for m in await client.messages(SEAT_1) if "海关保护" in m.body)
    invitation_en = next(m for m in await client.messages(SEAT_2) if "at customs" in m.body)
    # The button is answered before the confirmation is sent: wait for the confirmation, so
    # that the next message in each chat is the notice of the change below.
    signups: tuple[tuple[int, BotMessage, Lang], ...] = (
        (SEAT_1, invitation_zh, "zh"),
        (SEAT_2, invitation_en, "en"),
    )
    for user, invitation, lang in signups:
        after = await latest_id(client, user)
        await press(client, user, invitation, t(lang, "ann_btn_signup"))  # SEAT_2: waiting list
        await client.wait_for_message(user, after_message_id=after)
    with closing(db(bot)) as conn:
        (eid,) = conn.execute(
            "SELECT event_id FROM announcements WHERE id = ?", (number,)
        ).fetchone()

    def reminders() -> Counter[tuple[str, str]]:
        with closing(db(bot)) as conn:
            rows = conn.execute(
                "SELECT kind, status FROM reminders WHERE key LIKE ? OR key LIKE ?",
                (f"event_day:{eid}:%", f"event_hour:{eid}:%"),
            ).fetchall()
        return Counter((str(k), str(st)) for k, st in rows)

    assert reminders()[("event_day", "pending")] == 1  # the seat's, not the waiting one's
    zh_after, en_after = await latest_id(client, SEAT_1), await latest_id(client, SEAT_2)
    bad = await say(client, ADMIN_ID, f"/event {eid} date 明天")
    assert "明天" in bad.body
    moved = await say(client, ADMIN_ID, f"/event {eid} date 2027-02-10 15:00")
    assert moved.body.startswith(t("zh", "ev_changed", id=eid, told=2))
    changed_zh = await client.wait_for_message(SEAT_1, after_message_id=zh_after)
    changed_en = await client.wait_for_message(SEAT_2, after_message_id=en_after)
    assert "有变更" in changed_zh.body
    assert "2027年2月10日 15:00" in changed_zh.body
    assert "has changed" in changed_en.body
    assert "waiting list" in changed_en.body
    assert reminders()[("event_day", "pending")] == 1  # moved: the old one cancelled
    assert reminders()[("event_day", "cancelled")] == 1

    refused = await say(client, ADMIN_ID, f"/event {eid} capacity 0x")
    assert refused.body == t("zh", "ev_parse_capacity", text="0x")
    confirm = await say(client, ADMIN_ID, f"/event {eid} cancel")
    assert "2" in confirm.body
    zh_after, en_after = await latest_id(client, SEAT_1), await latest_id(client, SEAT_2)
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, confirm, t("zh", "ev_btn_cancel_event"))
    done = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    assert done.body == t("zh", "ev_event_cancel_done", id=eid, told=2)
    gone_zh = await client.wait_for_message(SEAT_1, after_message_id=zh_after)
    gone_en = await client.wait_for_message(SEAT_2, after_message_id=en_after)
    assert gone_zh.body.startswith("❌ 很抱歉")
    assert "海关保护培训" in gone_zh.body
    assert gone_en.body.startswith("❌ We are sorry")
    counts = reminders()
    assert counts[("event_day", "pending")] == counts[("event_hour", "pending")] == 0
    # A late tap on the invitation is refused politely.
    record = await client.press_button(
        SEAT_2, invitation_en.message_id, label=t("en", "ann_btn_signup")
    )
    answer = await client.wait_for_callback_answer(record.query_id)
    assert answer.text == t("en", "ev_gone")
    summary = await say(client, ADMIN_ID, f"/event {eid}")
    assert summary.body.startswith(t("zh", "ev_summary_cancelled"))
    again = await say(client, ADMIN_ID, f"/event {eid} cancel")
    assert t("zh", "ev_btn_cancel_event") in [b.text for b in again.buttons]


def bulk_members(bot: BotProcess) -> list[int]:
    ids = list(range(BULK_FIRST, BULK_FIRST + BULK))
    with closing(db(bot)) as conn, conn:
        conn.executemany(
            "INSERT INTO users (id, first_name, role, lang, dialog_data, created_at, updated_at)"
            " VALUES (?, '', 'member', 'zh', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [(i,) for i in ids],
        )
    return ids


async def test_member_question_is_answered_during_a_large_broadcast(
    client: EmulatorClient, bot: BotProcess
) -> None:
    ids = bulk_members(bot)
    await asyncio.gather(*(client.create_user(i, "m", language_code="zh-hans") for i in ids))
    _, review = await compose(
        client, "alert", "欧盟海关新规预警", None, choice=t("zh", "ann_btn_priority_normal")
    )
    number, progress = await send_now(client, review)
    total = sum(outbox(bot, number).values())
    assert total >= BULK
    # Wait until the broadcast is well under way, then a member (who does not receive
    # alerts) asks the FAQ a question.
    await client.wait_for_messages(ids[30], after_message_id=0, count=1, timeout=30)
    answer = await say(client, OPTED_OUT, "商标注册后能用多少年")
    sent_when_answered = outbox(bot, number)["sent"]
    assert answer.body
    assert "欧盟海关新规预警" not in answer.body
    assert 0 < sent_when_answered < total, (sent_when_answered, total)
    await until_finished(client, progress)
    assert outbox(bot, number)["sent"] == total


async def test_kill_9_mid_broadcast_then_every_member_once(
    client: EmulatorClient, bot: BotProcess, emulator: Emulator
) -> None:
    ids = list(range(BULK_FIRST, BULK_FIRST + BULK))
    _, review = await compose(
        client, "news", "商标新规速递", None, choice=t("zh", "subtopic_trademark")
    )
    with closing(db(bot)) as conn, conn:  # the bulk members chose the trademark topic
        conn.executemany(
            "INSERT INTO subscriptions (user_id, topic, enabled, updated_at)"
            " VALUES (?, 'trademark', 1, CURRENT_TIMESTAMP)",
            [(i,) for i in ids],
        )
    number, progress = await send_now(client, review)
    await client.wait_for_messages(ids[20], after_message_id=0, count=2, timeout=30)
    bot.kill9()
    before = outbox(bot, number)
    assert 0 < before["sent"] < BULK
    bot.start()
    wait_until_polling(emulator)
    final = await until_finished(client, progress, wait=90)
    received = Counter[int]()
    for user in ids:
        received[user] = sum(1 for m in await client.messages(user) if "商标新规速递" in m.body)
    with closing(db(bot)) as conn:
        rows = conn.execute(
            "SELECT recipient_id, status, last_error FROM reminders WHERE key LIKE ?",
            (f"ann:{number}:%",),
        ).fetchall()
    sent = {int(u) for u, status, _ in rows if status == "sent"}
    in_doubt = {int(u) for u, status, error in rows if (error or "").startswith("in doubt")}
    # At most once: nobody got it twice, across the kill and the restart.
    assert max(received.values()) == 1
    # Every row was either sent once, or its request was in flight at the kill (at most one
    # per sending pump): then it is "in doubt", never sent again, and may or may not have
    # reached the member.
    assert sent | in_doubt == set(ids)
    assert not sent & in_doubt
    assert len(in_doubt) <= SENDERS
    assert all(received[u] == 1 for u in sent)
    assert outbox(bot, number)["sent"] == len(sent) == BULK - len(in_doubt)
    if in_doubt:  # the sender is told how many may or may not have arrived
        assert t("zh", "ann_in_doubt", count=len(in_doubt)) in final, final
    else:
        assert "⚠️" not in final
    got = sum(received[u] for u in in_doubt)
    print(f"kill -9: {len(sent)} sent once, {len(in_doubt)} in doubt ({got} of them arrived)")


async def test_stop_a_running_broadcast(client: EmulatorClient, bot: BotProcess) -> None:
    ids = list(range(BULK_FIRST, BULK_FIRST + BULK))
    _, review = await compose(
        client, "news", "专利年费提醒", None, choice=t("zh", "subtopic_trademark")
    )
    number, progress = await send_now(client, review)
    await client.wait_for_messages(ids[10], after_message_id=0, count=3, timeout=30)
    current = await client.message(ADMIN_ID, progress.message_id)
    await press(client, ADMIN_ID, current, t("zh", "ann_btn_stop"))
    stopped = t("zh", "ann_status_cancelled")
    message = current
    while stopped not in message.body:
        message = await client.wait_for_edit(
            ADMIN_ID, progress.message_id, after_version=message.version, timeout=30
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while outbox(bot, number)["sending"] or outbox(bot, number)["pending"]:
        assert loop.time() < deadline, outbox(bot, number)
        await asyncio.sleep(0.2)  # rows already claimed finish within a batch
    counts = outbox(bot, number)
    assert counts["cancelled"] > 0
    assert counts["sent"] + counts["cancelled"] == BULK
    received = 0
    for user in ids:
        received += sum(1 for m in await client.messages(user) if "专利年费提醒" in m.body)
    assert received == counts["sent"]


async def test_cancel_drops_a_draft_at_a_button_step(client: EmulatorClient) -> None:
    await client.create_user(ADMIN_ID, "admin", language_code="zh-hans")
    after = await latest_id(client, ADMIN_ID)
    await client.send_text(ADMIN_ID, "/announce")
    menu = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, menu, t("zh", "ann_kind_news"))
    await client.wait_for_message(ADMIN_ID, after_message_id=after)
    await say(client, ADMIN_ID, "草稿")  # Chinese text → the English step
    media = await say(client, ADMIN_ID, "draft")  # English text → the attachment step
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, media, t("zh", "ann_btn_no_media"))
    topics = await client.wait_for_message(ADMIN_ID, after_message_id=after)
    assert topics.buttons  # a step that waits for a button
    dropped = await say(client, ADMIN_ID, "/cancel")
    assert t("zh", "ann_discarded") in dropped.body
    record = await client.press_button(
        ADMIN_ID, topics.message_id, label=t("zh", "subtopic_patent")
    )
    answer = await client.wait_for_callback_answer(record.query_id)
    assert answer.show_alert  # the draft is gone: the button is refused


async def test_schedule_for_later_then_stop_it(client: EmulatorClient, bot: BotProcess) -> None:
    await client.create_user(ADMIN_ID, "admin", language_code="zh-hans")
    _, review = await compose(
        client, "alert", "明日预警", None, choice=t("zh", "ann_btn_priority_normal")
    )
    after = await latest_id(client, ADMIN_ID)
    await press(client, ADMIN_ID, review, t("zh", "ann_btn_schedule"))
    await client.wait_for_message(ADMIN_ID, after_message_id=after)
    refused = await say(client, ADMIN_ID, "2020-01-01 09:00")
    assert refused.body == t("zh", "ann_schedule_bad")
    await client.send_text(ADMIN_ID, "2099-12-31 09:30")
    scheduled, progress = await client.wait_for_messages(ADMIN_ID, count=2)
    assert "2099年12月31日 09:30" in scheduled.body
    number = int(re.findall(r"#(\d+)", progress.body)[0])
    assert outbox(bot, number)["pending"] > 0
    await press(client, ADMIN_ID, progress, t("zh", "ann_btn_stop"))
    counts = outbox(bot, number)
    assert counts["pending"] == 0
    assert counts["cancelled"] > 0
    with closing(db(bot)) as conn:
        (status,) = conn.execute(
            "SELECT status FROM announcements WHERE id = ?", (number,)
        ).fetchone()
    assert status == "cancelled"
