"""Follow-ups end to end: the real `ipdesk run` process on the emulator, with a clock we set.

The bot process starts with ``tests/support/clock`` on its PYTHONPATH and
``IPDESK_TEST_TRAVEL_TO`` in its environment; that directory's ``sitecustomize`` starts a
time-machine travel (ticking) before anything else runs, so the services, SQLAlchemy's
defaults, APScheduler and PTB's JobQueue all live at that instant. Time moves forward the
way it does for a real deployment: the bot is stopped and started again later. That is also
how these tests prove that a reminder which fell due while the bot was down is sent once at
start-up and that nothing is sent twice across restarts.

Each test has a world of its own — an emulator, a bot process, a database and a timeline
that starts on Monday 30 November 2026, 10:00 (Asia/Shanghai) and only moves forward — so
the tests hold in any order, alone or together, and a regression fails the test that shows
it (no test waits on another's result). Dates are chosen on working days and times inside
working hours (09:00–17:00) unless a test is about the opposite. At the end of every test,
each reminder marked sent matches exactly one message in its chat.

"Nothing more was sent" is proved by events, not by waiting: everything due when the bot
starts is sent before its first getUpdates (``restart_at`` waits for that call), and
``settle`` waits until the database holds no reminder that is due or being sent by the
running process — the only rows the bot could still send — and the bot answers a bystander.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.emulator.client import BotMessage, CallbackRecord, EmulatorClient
from bot.i18n import load_catalog, placeholders_of
from faq.models import Lang
from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID
from tests.e2e.test_escalation import agree_if_asked
from tests.support.botproc import ROOT, BotProcess, Emulator

CATALOG = load_catalog()
ZONE = ZoneInfo("Asia/Shanghai")
TRAVEL = "IPDESK_TEST_TRAVEL_TO"
CLOCK_DIR = ROOT / "tests" / "support" / "clock"
NUMBER = re.compile(r"\bIP-\d{4}-\d{4,}\b")
POLL_SECONDS = 1.0

EXPERT_ZH = 811001  # 张伟: trademark, infringement, general; zh + en; Telegram in Chinese
EXPERT_EN = 811002  # Emma Lin: patent; en + zh; Telegram in English
EXPERT_OFF = 811003  # 陈洁: copyright, inactive: a copyright question finds nobody
STAFF_1 = 821001
BYSTANDER = 831001  # writes /start whenever a test needs proof that the bot is serving

ROSTER = f"""\
experts:
  - key: zhang-wei
    telegram_user_id: {EXPERT_ZH}
    name: {{zh: 张伟, en: Zhang Wei}}
    title: {{zh: 律师, en: Attorney}}
    categories: [trademark, infringement, general]
    languages: [zh, en]
    max_open_tickets: 50
  - key: emma-lin
    telegram_user_id: {EXPERT_EN}
    name: {{zh: 林爱玛, en: Emma Lin}}
    title: {{zh: 专利代理师, en: Patent attorney}}
    categories: [patent]
    languages: [en, zh]
    max_open_tickets: 50
  - key: chen-jie
    telegram_user_id: {EXPERT_OFF}
    name: {{zh: 陈洁, en: Chen Jie}}
    categories: [copyright]
    languages: [zh, en]
    active: false
"""

COPYRIGHT_ZH = "我们开发的软件被别人盗版了，怎么进行软件著作权登记？"
TRADEMARK_ZH = "我们的商标被别人抢注了，怎么办？"
TRADEMARK_EN = "Someone registered our trademark in China first, what can we do?"
PATENT_ZH = "外观设计专利保护多少年"
PATENT_EN = "How long does an invention patent last in China?"
INFRINGEMENT_ZH = "我们的产品外观被同行抄袭了，怎么维权？"
FAQ_ZH = "商标注册后能用多少年"

ASK_EXPERT: dict[Lang, str] = {"zh": "咨询专家 🧑‍⚖️", "en": "Ask an expert 🧑‍⚖️"}
SKIP_PHONE: dict[Lang, str] = {"zh": "跳过", "en": "Skip"}
COMPANY: dict[Lang, tuple[str, str, str]] = {  # typed, button, name on the ticket
    "zh": ("甬兴电器", "宁波市甬兴电器有限公司 ✓会员", "宁波市甬兴电器有限公司"),
    "en": (
        "Bright Star Textiles",
        "Ningbo Bright Star Textiles Co., Ltd. ✓member",
        "Ningbo Bright Star Textiles Co., Ltd.",
    ),
}
CONTACT: dict[Lang, str] = {"zh": "李明", "en": "Amy Lin"}
TELEGRAM_LANG: dict[Lang, str] = {"zh": "zh-hans", "en": "en"}
EXPERT_NAME: dict[int, dict[Lang, str]] = {
    EXPERT_ZH: {"zh": "张伟", "en": "Zhang Wei"},
    EXPERT_EN: {"zh": "林爱玛", "en": "Emma Lin"},
}

_member_ids = itertools.count(750001)


def local(text: str) -> datetime:
    """'2026-11-30 10:00' in the association's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def stored(value: str) -> datetime:
    """A timestamp as SQLite holds it (naive UTC text) → aware UTC."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# ------------------------------------------------------------------ catalog texts


def plain(text: str) -> str:
    """HTML as the user reads it: tags stripped, entities resolved."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", text))


def t(lang: Lang, key: str, **values: object) -> str:
    """A catalog string as the user reads it."""
    return plain(CATALOG.t(lang, key, **values) if values else CATALOG.raw(lang, key))


def shape(lang: Lang, key: str, **known: object) -> re.Pattern[str]:
    """The catalog text as a pattern: `known` values filled in, any other value a wildcard."""
    names = placeholders_of(CATALOG.raw(lang, key))
    marks = {name: f"\x00{name}\x00" for name in names if name not in known}
    regex = re.escape(t(lang, key, **known, **marks))
    for name, mark in marks.items():
        first, _, rest = regex.partition(re.escape(mark))
        regex = first + f"(?P<{name}>.+?)" + rest.replace(re.escape(mark), f"(?P={name})")
    return re.compile(regex, re.S)


def is_text(lang: Lang, key: str, **known: object) -> Callable[[BotMessage], bool]:
    pattern = shape(lang, key, **known)
    return lambda m: pattern.fullmatch(m.body) is not None


def any_language(key: str, **known: object) -> Callable[[BotMessage], bool]:
    patterns = [shape(lang, key, **known) for lang in ("zh", "en")]
    return lambda m: any(p.fullmatch(m.body) for p in patterns)


def labels(message: BotMessage) -> list[str]:
    return [b.text for b in message.buttons]


def number_in(message: BotMessage) -> str:
    found = NUMBER.search(message.body)
    assert found, message.body
    return found[0]


def card_of(number: str) -> Callable[[BotMessage], bool]:
    return lambda m: m.body.startswith("🎫") and number in m.body


# ------------------------------------------------------------------ the database


@dataclass(frozen=True)
class Database:
    """Read-only look into the bot's SQLite file (the source of truth for reminders)."""

    path: Path

    def rows(self, sql: str, *params: object) -> list[sqlite3.Row]:
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            conn.row_factory = sqlite3.Row
            return list(conn.execute(sql, params).fetchall())

    def one(self, sql: str, *params: object) -> sqlite3.Row:
        found = self.rows(sql, *params)
        assert len(found) == 1, (sql, params, [dict(r) for r in found])
        return found[0]

    def ticket(self, number: str) -> sqlite3.Row:
        return self.one("SELECT * FROM tickets WHERE number = ?", number)

    def reminders(self, ticket_id: int, kind: str | None = None) -> list[sqlite3.Row]:
        if kind is None:
            return self.rows("SELECT * FROM reminders WHERE ticket_id = ? ORDER BY id", ticket_id)
        return self.rows(
            "SELECT * FROM reminders WHERE ticket_id = ? AND kind = ? ORDER BY id",
            ticket_id,
            kind,
        )

    def reminder(self, key: str) -> sqlite3.Row:
        return self.one("SELECT * FROM reminders WHERE key = ?", key)


# ------------------------------------------------------------------ the bot and its clock


async def last_call(client: EmulatorClient) -> int:
    return max((c.seq for c in await client.api_calls()), default=0)


@dataclass
class TravellingBot(BotProcess):
    """`ipdesk run` whose wall clock starts wherever the test says, at every start."""

    base_env: dict[str, str] = field(default_factory=dict)
    started_at: datetime | None = None  # the travelled instant of the current run's start
    real_start: float = 0.0  # time.monotonic() at that start

    @classmethod
    def create(cls, workdir: Path, emulator: Emulator, **extra: str) -> TravellingBot:
        env = BotProcess.configure(workdir, emulator, **extra).env
        env["PYTHONPATH"] = os.pathsep.join([str(CLOCK_DIR), str(ROOT)])
        return cls(workdir, env, base_env=dict(env))

    @property
    def db(self) -> Database:
        return Database(self.workdir / "ipdesk.sqlite3")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def now(self) -> datetime:
        """The bot's clock (it ticks from the travel destination in real time)."""
        assert self.started_at is not None
        return self.started_at + timedelta(seconds=time.monotonic() - self.real_start)

    def environment_at(self, when: datetime, **overrides: str) -> dict[str, str]:
        return {**self.base_env, **overrides, TRAVEL: when.isoformat()}

    def cli(self, *args: str, at: datetime) -> None:
        """An `ipdesk` command on the bot's database, with the bot's environment, at `at`."""
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=self.workdir,
            env=self.environment_at(at),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def launch(self, when: datetime, **overrides: str) -> None:
        """Start the process with its clock at `when` (local time); don't wait."""
        if self.started_at is not None:
            assert when > self.now(), (
                f"time only moves forward: the bot is at {self.now():%a %Y-%m-%d %H:%M:%S}, "
                f"asked for {when:%a %Y-%m-%d %H:%M:%S} (tests of this module run in file order)"
            )
        assert not self.running
        self.env = self.environment_at(when, **overrides)
        self.started_at = when
        self.real_start = time.monotonic()
        self.start()

    def halt(self, *, kill: bool = False) -> None:
        if not self.running:
            return
        if kill:
            self.kill9()
        else:
            code = self.stop()
            assert code == 0, self.log()[-3000:]

    async def wait_polling(self, client: EmulatorClient, since: int) -> None:
        deadline = time.monotonic() + 60
        while not await client.api_calls("getUpdates", since=since):
            assert self.running, self.log()[-3000:]
            assert time.monotonic() < deadline, "the bot never started polling"
            await asyncio.sleep(0.05)

    async def restart_at(
        self, client: EmulatorClient, when: datetime, *, kill: bool = False, **overrides: str
    ) -> None:
        """Stop (SIGTERM, or kill -9), start again with the clock at `when`, wait for polling.

        Overdue reminders are claimed and sent in post_init, before the first getUpdates: once
        this returns, whatever fell due while the bot was down has been sent.
        """
        self.halt(kill=kill)
        since = await last_call(client)
        self.launch(when, **overrides)
        await self.wait_polling(client, since)

    async def advance_to(self, client: EmulatorClient, when: datetime) -> None:
        """Where a test begins: restart at `when`, unless the bot's clock is already there
        (within a minute: the previous test of the module ended at that time)."""
        assert self.started_at is not None
        assert when > self.now() - timedelta(minutes=1), (
            f"the bot is at {self.now():%a %Y-%m-%d %H:%M}, past {when:%a %Y-%m-%d %H:%M}"
        )
        if when > self.now() + timedelta(minutes=1):
            await self.restart_at(client, when)

    def sendable(self) -> list[str]:
        """Keys of the reminder rows this process could still send: pending and due, or being
        sent by it (a row held by a killed worker waits for its lease)."""
        assert self.process is not None
        now = self.now().astimezone(UTC)
        return [
            r["key"]
            for r in self.db.rows("SELECT key, status, due_at, claimed_by FROM reminders")
            if (r["status"] == "pending" and stored(r["due_at"]) <= now)
            or (r["status"] == "sending" and f":{self.process.pid}:" in (r["claimed_by"] or ""))
        ]

    async def settle(self, client: EmulatorClient) -> None:
        """Until nothing is left for the bot to send (see :meth:`sendable`), then prove it is
        serving: a bystander's /start is answered. What the emulator holds then is final."""
        deadline = time.monotonic() + 60
        while left := self.sendable():
            assert time.monotonic() < deadline, f"still to send: {left}"
            await asyncio.sleep(0.05)
        await ask(client, BYSTANDER, "/start")


# ------------------------------------------------------------------ conversations


async def latest_id(client: EmulatorClient, chat_id: int) -> int:
    messages = await client.messages(chat_id, sender="all")
    return messages[-1].message_id if messages else 0


async def bot_messages(
    client: EmulatorClient, chat_id: int, predicate: Callable[[BotMessage], bool]
) -> list[BotMessage]:
    return [m for m in await client.messages(chat_id) if predicate(m)]


async def wait_for(
    client: EmulatorClient,
    chat_id: int,
    predicate: Callable[[BotMessage], bool],
    *,
    after: int = 0,
    within: float = 30,
) -> BotMessage:
    """The first bot message in the chat after ``after`` that satisfies ``predicate``."""
    deadline = time.monotonic() + within
    while True:
        for message in await client.messages(chat_id):
            if message.message_id > after and predicate(message):
                return message
        if time.monotonic() > deadline:
            bodies = [m.body[:100] for m in await client.messages(chat_id)][-6:]
            raise AssertionError(f"nothing matched in chat {chat_id}; last: {bodies}")
        await asyncio.sleep(0.1)


async def ask(client: EmulatorClient, user_id: int, text: str, **kw: Any) -> BotMessage:
    after = await latest_id(client, user_id)
    await client.send_text(user_id, text, **kw)
    return await client.wait_for_message(user_id, after_message_id=after, timeout=20)


async def press(
    client: EmulatorClient, user_id: int, message: BotMessage, label: str
) -> CallbackRecord:
    record = await client.press_button(
        user_id, message.message_id, label=label, chat_id=message.chat_id
    )
    return await client.wait_for_callback_answer(record.query_id, timeout=30)


async def press_for_reply(
    client: EmulatorClient, user_id: int, message: BotMessage, label: str
) -> BotMessage:
    after = await latest_id(client, user_id)
    await press(client, user_id, message, label)
    return await client.wait_for_message(user_id, after_message_id=after, timeout=20)


@dataclass(frozen=True)
class Ticket:
    number: str
    id: int
    member: int
    lang: Lang
    question: str
    card: BotMessage


async def new_member(client: EmulatorClient, lang: Lang, name: str) -> int:
    member = next(_member_ids)
    await client.create_user(member, name, language_code=TELEGRAM_LANG[lang])
    return member


async def open_ticket(
    client: EmulatorClient, bot: TravellingBot, member: int, lang: Lang, question: str
) -> Ticket:
    """The member asks, presses "Ask an expert" under the answer and, the first time, answers
    the short profile dialogue (a member company, no phone). Returns once the card is up."""
    answer = await ask(client, member, question)
    assert ASK_EXPERT[lang] in labels(answer), answer.body
    reply = await agree_if_asked(
        client, member, await press_for_reply(client, member, answer, ASK_EXPERT[lang])
    )
    number = number_in(reply)
    if "1/3" in reply.body:
        typed, button, _ = COMPANY[lang]
        choices = await ask(client, member, typed)
        contact = await press_for_reply(client, member, choices, button)
        assert "2/3" in contact.body, contact.body
        phone = await ask(client, member, CONTACT[lang])
        assert "3/3" in phone.body, phone.body
        await press_for_reply(client, member, phone, SKIP_PHONE[lang])
    card = await wait_for(client, STAFF_CHAT_ID, card_of(number))
    row = bot.db.ticket(number)
    return Ticket(number, int(row["id"]), member, lang, question, card)


async def claim(client: EmulatorClient, expert: int, ticket: Ticket) -> None:
    answered = await press(client, expert, ticket.card, "✋ 认领")
    assert answered.text is not None, answered
    assert ticket.number in answered.text, answered


async def resolve_privately(
    client: EmulatorClient, expert: int, lang: Lang, ticket: Ticket, summary: str
) -> None:
    # The assignment notice may reach the expert's chat after the card: wait for the answer
    # to /resolve itself, not for whatever the bot says next.
    after = await latest_id(client, expert)
    await client.send_text(expert, f"/resolve {ticket.number} {summary}")
    expected = t(lang, "tk_resolved_team", number=ticket.number)
    await wait_for(client, expert, lambda m: m.body == expected, after=after)


# ------------------------------------------------------------------ the module's bot

START = local("2026-11-30 10:00")  # Monday


def prepare_world(base_url: str) -> None:
    """Users and the staff group (the bot an administrator there) before the first start."""

    async def build() -> None:
        async with EmulatorClient(base_url) as client:
            await client.create_user(ADMIN_ID, "管理员", language_code="zh-hans")
            await client.create_user(EXPERT_ZH, "Wei", language_code="zh-hans")
            await client.create_user(EXPERT_EN, "Emma", language_code="en")
            await client.create_user(EXPERT_OFF, "Jie", language_code="zh-hans")
            await client.create_user(STAFF_1, "王秘书", language_code="zh-hans")
            await client.create_user(BYSTANDER, "路人", language_code="zh-hans")
            await client.create_group(
                "协会秘书处",
                chat_id=STAFF_CHAT_ID,
                member_ids=[ADMIN_ID, EXPERT_ZH, EXPERT_EN, EXPERT_OFF, STAFF_1],
                creator_id=ADMIN_ID,
                bot_status="administrator",
            )

    asyncio.run(build())


def appoint_staff(base_url: str) -> None:
    async def appoint() -> None:
        async with EmulatorClient(base_url) as client:
            reply = await ask(client, ADMIN_ID, f"/role {STAFF_1} staff")
            assert reply.body == f"用户 {STAFF_1} 的角色：member → staff", reply.body

    asyncio.run(appoint())


def start_followup_bot(workdir: Path, emulator: Emulator, when: datetime) -> TravellingBot:
    proc = TravellingBot.create(
        workdir,
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        STAFF_LANG="zh",
        FLOOD_MAX_MESSAGES="60",
        FLOOD_WINDOW_SECONDS="10",
        REMINDER_POLL_SECONDS=str(POLL_SECONDS),
        UNCLAIMED_REMINDER_HOURS="2",
        UNCLAIMED_ADMIN_HOURS="2",
        EXPERT_REMINDER_DAYS="1",
        CHECKIN_DAYS="3",
        WORKDAY_START="09:00",
        WORKDAY_END="17:00",
        CIVIL_START="09:00",
        CIVIL_END="20:00",
        REPORT_WEEKDAY="0",
        REPORT_TIME="09:00",
    )
    prepare_world(emulator.base_url)
    roster = workdir / "experts.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    proc.cli("experts", "import", str(roster), at=when)
    proc.cli("members", "import", str(ROOT / "tests" / "data" / "members.example.csv"), at=when)
    proc.launch(when)

    async def polling() -> None:
        async with EmulatorClient(emulator.base_url) as client:
            await proc.wait_polling(client, 0)

    asyncio.run(polling())
    appoint_staff(emulator.base_url)
    return proc


def finish(proc: TravellingBot) -> None:
    if proc.running:
        assert proc.stop() == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-5000:]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """Each test its own emulator (and so its own chats): see the module docstring."""
    emu = Emulator.start(tmp_path)
    yield emu
    emu.stop()


@pytest.fixture
def bot(emulator: Emulator, tmp_path: Path) -> Iterator[TravellingBot]:
    """Each test its own bot, database and timeline, from Monday 30 November 10:00; at the
    end every sent reminder matches exactly one message."""
    workdir = tmp_path / "bot"
    workdir.mkdir()
    proc = start_followup_bot(workdir, emulator, START)
    yield proc
    asyncio.run(each_reminder_once(emulator.base_url, proc))
    finish(proc)


async def each_reminder_once(base_url: str, bot: TravellingBot) -> None:
    """Every reminder row marked sent matches exactly one message in its chat; every weekly
    report marked sent, one chart."""
    templates = {
        "unclaimed": "fu_unclaimed_staff",
        "unclaimed_admin": "fu_unclaimed_admin",
        "expert_waiting": "fu_expert_waiting",
        "checkin": "fu_checkin",
        "return_visit": "fu_return_visit",
        "return_visit_member": "fu_return_visit_member",
        "expert_escalation": "fu_expert_escalation",
        "member_nudge": "fu_member_nudge",
        "member_autoclose": "fu_member_autoclosed",
        "deadline": "fu_deadline",
    }
    rows = bot.db.rows(
        "SELECT r.kind, r.recipient_id, t.number FROM reminders r "
        "JOIN tickets t ON t.id = r.ticket_id WHERE r.status = 'sent' "
        "AND r.kind NOT LIKE 'out.%'"  # follow-ups, not the outbox's cards and notices
    )
    async with EmulatorClient(base_url) as client:
        for row in rows:
            chat = row["recipient_id"] or STAFF_CHAT_ID
            key = templates[row["kind"]]
            found = await bot_messages(client, chat, any_language(key, number=row["number"]))
            assert len(found) == 1, (dict(row), [m.body[:60] for m in found])
        weekly = bot.db.rows(
            "SELECT key FROM reminders WHERE kind = 'weekly_report' AND status = 'sent'"
        )
        photos = await bot_messages(
            client, STAFF_CHAT_ID, lambda m: m.photo is not None and m.body.startswith("📊 每周")
        )
        assert len(photos) == len(weekly) >= 1


# ------------------------------------------------------------------ the clock itself


async def test_the_bot_process_lives_at_the_travelled_time(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    """The services, SQLAlchemy's defaults and the scheduler see the travelled clock."""
    assert "[clock] IPDESK_TEST_TRAVEL_TO: travelled to 2026-11-30T10:00:00+08:00" in bot.log()
    # Rows written by the bot carry the travelled time (Python-side column defaults).
    admin = bot.db.one("SELECT created_at FROM users WHERE id = ?", ADMIN_ID)
    assert START <= stored(admin["created_at"]) < START + timedelta(minutes=5)
    # The weekly reports were planned from the travelled "today" (Monday 30 November)…
    weekly = {
        r["key"]: stored(r["due_at"])
        for r in bot.db.rows("SELECT key, due_at FROM reminders WHERE kind = 'weekly_report'")
    }
    assert weekly == {
        "weekly_report:2026-W49": local("2026-11-30 09:00"),
        "weekly_report:2026-W50": local("2026-12-07 09:00"),
    }
    # …and this week's, due at 09:00 while the bot was not running yet, went out at start-up.
    caption = t("zh", "stats_weekly_caption", start="2026-11-23", end="2026-11-29")
    reports = await bot_messages(client, STAFF_CHAT_ID, lambda m: m.body == caption)
    assert len(reports) == 1
    assert reports[0].photo
    sent = bot.db.reminder("weekly_report:2026-W49")
    assert sent["status"] == "sent"
    assert START <= stored(sent["sent_at"]) < START + timedelta(minutes=5)


# ------------------------------------------------------------------ 1. unclaimed tickets


async def test_unclaimed_ticket_reminds_the_staff_group_then_the_admins(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-11-30 10:00"))
    member = await new_member(client, "zh", "孙")
    ticket = await open_ticket(client, bot, member, "zh", COPYRIGHT_ZH)
    assert "待指派" in ticket.card.body  # nobody takes copyright: it waits for the staff
    created = stored(bot.db.ticket(ticket.number)["created_at"])
    assert local("2026-11-30 10:00") <= created < local("2026-11-30 10:05")
    # Two working hours after opening → the staff group; two more → each admin.
    staff_key = f"unclaimed:{ticket.id}:staff"
    admin_key = f"unclaimed:{ticket.id}:admin:{ADMIN_ID}"
    assert stored(bot.db.reminder(staff_key)["due_at"]) == created + timedelta(hours=2)
    admin_due = stored(bot.db.reminder(admin_key)["due_at"])
    assert admin_due == created + timedelta(hours=4)

    staff_reminder = is_text(
        "zh", "fu_unclaimed_staff", number=ticket.number, question=COPYRIGHT_ZH
    )
    admin_reminder = is_text(
        "zh", "fu_unclaimed_admin", number=ticket.number, question=COPYRIGHT_ZH
    )

    # 12:30: due at 12:00 while the bot was down → sent at start-up, in Chinese, once.
    await bot.restart_at(client, local("2026-11-30 12:30"))
    [reminder] = await bot_messages(client, STAFF_CHAT_ID, staff_reminder)
    found = shape("zh", "fu_unclaimed_staff", number=ticket.number).fullmatch(reminder.body)
    assert found is not None, reminder.body
    assert found["hours"] == "2.5", reminder.body
    assert await bot_messages(client, ADMIN_ID, admin_reminder) == []
    assert await bot_messages(client, member, staff_reminder) == []
    assert bot.db.reminder(staff_key)["status"] == "sent"

    # 12:40: started again: nothing is sent a second time.
    await bot.restart_at(client, local("2026-11-30 12:40"))
    await bot.settle(client)
    assert len(await bot_messages(client, STAFF_CHAT_ID, staff_reminder)) == 1

    # Just before the second period ends, with the catch-all sweep far away (600 s): only the
    # scheduler's one-off job at the due instant can send it — on the travelled clock.
    await bot.restart_at(
        client, admin_due.astimezone(ZONE) - timedelta(seconds=8), REMINDER_POLL_SECONDS="600"
    )
    to_admin = await wait_for(client, ADMIN_ID, admin_reminder, within=30)
    assert labels(to_admin) == [t("zh", "fu_btn_assign")]
    assert to_admin.buttons[0].callback_data == f"ra:{ticket.id}"
    await bot.settle(client)  # the row is marked sent just after Telegram accepted the message
    sent_at = stored(bot.db.reminder(admin_key)["sent_at"])
    assert admin_due <= sent_at < admin_due + timedelta(seconds=10)

    # 14:45: after another restart, still one of each.
    await bot.restart_at(client, local("2026-11-30 14:45"))
    await bot.settle(client)
    assert len(await bot_messages(client, STAFF_CHAT_ID, staff_reminder)) == 1
    assert len(await bot_messages(client, ADMIN_ID, admin_reminder)) == 1
    assert await bot_messages(client, member, admin_reminder) == []

    # The admin assigns from the reminder: its button opens the roster.
    answered = await press(client, ADMIN_ID, to_admin, t("zh", "fu_btn_assign"))
    assert answered.text != t("zh", "stale_button")
    menu = await client.wait_for_edit(
        ADMIN_ID, to_admin.message_id, after_version=to_admin.version, timeout=10
    )
    assert any(label.startswith("张伟 · ") for label in labels(menu)), labels(menu)


# ------------------------------------------------------------------ 2. pointless reminders


async def test_a_claimed_ticket_gets_no_unclaimed_reminder(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-01 10:00"))  # Tuesday
    member = await new_member(client, "zh", "周")
    ticket = await open_ticket(client, bot, member, "zh", TRADEMARK_ZH)
    assert "专家：张伟" in ticket.card.body
    unclaimed = bot.db.reminders(ticket.id, "unclaimed")
    assert [r["status"] for r in unclaimed] == ["pending"]  # the expert has not claimed yet
    await claim(client, EXPERT_ZH, ticket)  # at about 10:00, long before 12:00

    # Past the staff group's moment (12:00) and the admins' (14:00).
    await bot.restart_at(client, local("2026-12-01 14:30"))
    await bot.settle(client)
    mentions = is_text("zh", "fu_unclaimed_staff", number=ticket.number)
    assert await bot_messages(client, STAFF_CHAT_ID, mentions) == []
    to_admin = is_text("zh", "fu_unclaimed_admin", number=ticket.number)
    assert await bot_messages(client, ADMIN_ID, to_admin) == []
    rows = bot.db.rows(
        "SELECT key, status FROM reminders WHERE ticket_id = ? AND kind LIKE 'unclaimed%'",
        ticket.id,
    )
    assert {r["key"] for r in rows} == {
        f"unclaimed:{ticket.id}:staff",
        f"unclaimed:{ticket.id}:admin:{ADMIN_ID}",
    }
    assert all(r["status"] == "cancelled" for r in rows), [dict(r) for r in rows]


# ------------------------------------------------------------------ 3. the expert is waited for


async def test_the_expert_is_reminded_in_their_language_when_the_member_waits(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-01 14:30"))
    member = await new_member(client, "zh", "吴")
    ticket = await open_ticket(client, bot, member, "zh", PATENT_ZH)
    assert "专家：林爱玛" in ticket.card.body
    await claim(client, EXPERT_EN, ticket)
    after = await latest_id(client, EXPERT_EN)
    await client.send_text(member, "补充：我们的外观设计去年已经申请了。")
    await wait_for(client, EXPERT_EN, lambda m: "去年已经申请" in m.body, after=after)

    last_message = stored(bot.db.ticket(ticket.number)["last_member_message_at"])

    def first_stage() -> list[sqlite3.Row]:
        return [
            r
            for r in bot.db.reminders(ticket.id, "expert_waiting")
            if r["status"] == "pending" and json.loads(r["payload"])["stage"] == 1
        ]

    def anchor_of(row: sqlite3.Row) -> datetime:
        return datetime.fromisoformat(json.loads(row["payload"])["anchor"])

    # Anchored at the member's last message (keys are by the second: a chain started in the
    # same second is kept). The handler plans it after handing the copy to the outbox, so the
    # copy can reach the expert first: wait for that chain rather than read the rows at once.
    deadline = time.monotonic() + 30
    while not any(
        timedelta(0) <= last_message - anchor_of(r) < timedelta(seconds=1) for r in first_stage()
    ):
        rows = [(r["key"], anchor_of(r).isoformat()) for r in first_stage()]
        assert time.monotonic() < deadline, f"no chain anchored at {last_message}: {rows}"
        await asyncio.sleep(0.05)
    [first] = first_stage()
    # Due one working day (8 working hours) later: Wednesday, same time.
    anchor = anchor_of(first)
    assert stored(first["due_at"]) == anchor + timedelta(days=1)

    waiting = is_text(
        "en", "fu_expert_waiting", number=ticket.number, expert="Emma Lin", question=PATENT_ZH
    )
    await bot.restart_at(client, local("2026-12-02 15:00"))  # Wednesday
    [reminder] = await bot_messages(client, EXPERT_EN, waiting)
    assert labels(reminder) == [t("en", "fu_btn_open_ticket")]
    await bot.settle(client)
    assert len(await bot_messages(client, EXPERT_EN, waiting)) == 1
    nowhere_else = is_text("zh", "fu_expert_waiting", number=ticket.number)
    for chat in (member, STAFF_CHAT_ID, EXPERT_ZH, ADMIN_ID):
        assert await bot_messages(client, chat, nowhere_else) == []
        assert await bot_messages(client, chat, waiting) == []

    # The expert opens the ticket from the reminder.
    after = await latest_id(client, EXPERT_EN)
    answered = await press(client, EXPERT_EN, reminder, t("en", "fu_btn_open_ticket"))
    assert answered.text != t("en", "stale_button")
    number = number_in(reminder)
    await wait_for(client, EXPERT_EN, lambda m: number in m.body, after=after, within=10)


# ------------------------------------------------------------------ 6. return visits


async def test_a_return_visit_pings_the_expert_and_tells_the_member(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-02 15:00"))
    member = await new_member(client, "en", "Amy")
    ticket = await open_ticket(client, bot, member, "en", PATENT_EN)
    await claim(client, EXPERT_EN, ticket)
    summary = "Advised to file a utility model first."
    await resolve_privately(client, EXPERT_EN, "en", ticket, summary)

    confirmation = await ask(
        client, EXPERT_EN, f"/followup {ticket.number} 2026-12-03 call back +member"
    )
    assert confirmation.body == t(
        "en",
        "fu_rv_scheduled",
        number=ticket.number,
        when="2026-12-03 09:00",
        member=CATALOG.raw("en", "fu_rv_member_included"),
    )
    visits = bot.db.reminders(ticket.id, "return_visit")
    assert [(r["recipient_id"], stored(r["due_at"])) for r in visits] == [
        (EXPERT_EN, local("2026-12-03 09:00"))
    ]

    ping = is_text(
        "en",
        "fu_return_visit",
        number=ticket.number,
        status=CATALOG.raw("en", "fu_status_resolved"),
        company=COMPANY["en"][2],
        question=PATENT_EN,
        summary=summary,
        note="call back",
    )
    notice = is_text("en", "fu_return_visit_member", number=ticket.number, expert="Emma Lin")
    await bot.restart_at(client, local("2026-12-03 09:30"))  # Thursday
    [to_expert] = await bot_messages(client, EXPERT_EN, ping)
    assert labels(to_expert) == [t("en", "fu_btn_open_ticket")]
    assert len(await bot_messages(client, member, notice)) == 1
    await bot.settle(client)
    assert len(await bot_messages(client, EXPERT_EN, ping)) == 1
    assert len(await bot_messages(client, member, notice)) == 1
    assert await bot_messages(client, member, ping) == []
    statuses = {r["kind"]: r["status"] for r in bot.db.reminders(ticket.id)}
    assert statuses["return_visit"] == statuses["return_visit_member"] == "sent"


# ------------------------------------------------------------------ 4. check-ins


async def test_checkins_in_the_members_language_rating_stored_and_not_solved_reopens(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-03 09:30"))
    zh_member = await new_member(client, "zh", "郑")
    en_member = await new_member(client, "en", "Tom")
    zh_ticket = await open_ticket(client, bot, zh_member, "zh", TRADEMARK_ZH)
    en_ticket = await open_ticket(client, bot, en_member, "en", TRADEMARK_EN)
    for ticket in (zh_ticket, en_ticket):  # the secretary resolves both in the staff group
        after = await latest_id(client, STAFF_CHAT_ID)
        await client.send_text(
            STAFF_1, f"/resolve {ticket.number} 已电话指导提出异议", chat_id=STAFF_CHAT_ID
        )
        done = is_text("zh", "tk_resolved_team", number=ticket.number)
        await wait_for(client, STAFF_CHAT_ID, done, after=after)
        resolved = stored(bot.db.ticket(ticket.number)["resolved_at"])
        checkin = bot.db.reminder(f"checkin:{ticket.id}:{int(resolved.timestamp())}")
        assert stored(checkin["due_at"]) == resolved + timedelta(days=3)
        assert checkin["recipient_id"] == ticket.member

    checkin_of = {
        ticket.member: is_text(
            ticket.lang,
            "fu_checkin",
            number=ticket.number,
            expert=EXPERT_NAME[EXPERT_ZH][ticket.lang],
            question=ticket.question,
        )
        for ticket in (zh_ticket, en_ticket)
    }
    await bot.restart_at(client, local("2026-12-06 10:00"))  # Sunday: members hear any day
    messages = {}
    for ticket in (zh_ticket, en_ticket):
        [message] = await bot_messages(client, ticket.member, checkin_of[ticket.member])
        stars = [f"{n} ⭐" for n in range(1, 6)]
        assert labels(message) == [*stars, t(ticket.lang, "fu_btn_not_solved")]
        assert [b.callback_data for b in message.buttons] == [
            *(f"rate:{ticket.id}.{n}" for n in range(1, 6)),
            f"unsolved:{ticket.id}",
        ]
        messages[ticket.member] = message
    # Each member got their own, in their language, and nobody else got one.
    other = {zh_member: en_member, en_member: zh_member}
    for member, pattern in checkin_of.items():
        assert await bot_messages(client, other[member], pattern) == []
        assert await bot_messages(client, STAFF_CHAT_ID, pattern) == []

    # 4 stars: thanks, the rating is stored, and the next message is the optional comment.
    thanks = await press_for_reply(client, zh_member, messages[zh_member], "4 ⭐")
    assert thanks.body == t("zh", "fu_checkin_thanks", rating=4)
    saved = await ask(client, zh_member, "专家很耐心，谢谢")
    assert saved.body == t("zh", "fu_comment_saved")
    row = bot.db.ticket(zh_ticket.number)
    assert (row["rating"], row["rating_comment"], row["status"]) == (
        4,
        "专家很耐心，谢谢",
        "resolved",
    )

    # Not solved: reopened to the same expert, who is told.
    expert_after = await latest_id(client, EXPERT_ZH)
    reopened = await press_for_reply(
        client, en_member, messages[en_member], t("en", "fu_btn_not_solved")
    )
    assert reopened.body == t("en", "fu_member_reopened", number=en_ticket.number)
    row = bot.db.ticket(en_ticket.number)
    assert (row["status"], row["reopen_count"], row["rating"]) == ("in_progress", 1, None)
    assert row["expert_id"] == bot.db.one("SELECT id FROM experts WHERE key = 'zhang-wei'")["id"]
    told = await wait_for(
        client,
        EXPERT_ZH,
        is_text("zh", "fu_reopened_expert", number=en_ticket.number, question=TRADEMARK_EN),
        after=expert_after,
    )
    assert labels(told) == [t("zh", "fu_btn_open_ticket")]

    await bot.settle(client)
    for member, pattern in checkin_of.items():
        assert len(await bot_messages(client, member, pattern)) == 1

    # The staff group's card shows the reopened ticket (edited through the outbox).
    deadline = time.monotonic() + 30
    while True:
        card = await client.message(STAFF_CHAT_ID, en_ticket.card.message_id)
        if "状态：处理中" in card.body:
            break
        assert time.monotonic() < deadline, card.body
        await asyncio.sleep(0.2)
    assert "✋ 认领" in labels(card) or "✅ 结案" in labels(card)


# ------------------------------------------------------------------ 7. the weekly report


async def test_the_weekly_report_arrives_with_its_chart_and_stats_on_demand(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    # The week's data: two tickets opened and resolved on Monday; on Thursday one member
    # rates 4 stars, the other says "not solved" (reopened).
    rated = await open_ticket(client, bot, await new_member(client, "zh", "卫"), "zh",
                              TRADEMARK_ZH)  # fmt: skip
    reopened = await open_ticket(client, bot, await new_member(client, "en", "Kim"), "en",
                                 TRADEMARK_EN)  # fmt: skip
    for ticket in (rated, reopened):
        await resolve_privately(client, EXPERT_ZH, "zh", ticket, "已书面答复")
    await bot.restart_at(client, local("2026-12-03 10:30"))  # Thursday: the check-ins
    for ticket, label in ((rated, "4 ⭐"), (reopened, t("en", "fu_btn_not_solved"))):
        expert = EXPERT_NAME[EXPERT_ZH][ticket.lang]
        asked = is_text(ticket.lang, "fu_checkin", number=ticket.number, expert=expert,
                        question=ticket.question)  # fmt: skip
        [checkin] = await bot_messages(client, ticket.member, asked)
        await press_for_reply(client, ticket.member, checkin, label)

    await bot.advance_to(client, local("2026-12-07 09:05"))  # Monday
    caption = t("zh", "stats_weekly_caption", start="2026-11-30", end="2026-12-06")
    [photo] = await bot_messages(client, STAFF_CHAT_ID, lambda m: m.body == caption)
    assert photo.photo, photo
    png = await client.file_content(photo.photo[-1]["file_id"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000
    body = await wait_for(
        client,
        STAFF_CHAT_ID,
        lambda m: m.body.startswith("📊 服务质量统计"),
        after=photo.message_id,
    )
    lines = body.body.split("\n")
    assert lines[0] == t(
        "zh", "stats_title", start="2026-11-30", end="2026-12-06", zone="Asia/Shanghai"
    )
    # The figures are those of the database for Monday 30 November … Sunday 6 December.
    week = (local("2026-11-30 00:00").astimezone(UTC), local("2026-12-07 00:00").astimezone(UTC))
    bounds = tuple(b.strftime("%Y-%m-%d %H:%M:%S") for b in week)
    opened = bot.db.one(
        "SELECT count(*) AS n FROM tickets WHERE created_at >= ? AND created_at < ?", *bounds
    )["n"]
    resolved = bot.db.one(
        "SELECT count(*) AS n FROM tickets WHERE resolved_at >= ? AND resolved_at < ?", *bounds
    )["n"]
    reopened = bot.db.one(
        "SELECT count(*) AS n FROM ticket_events WHERE kind = 'reopened' "
        "AND created_at >= ? AND created_at < ?",
        *bounds,
    )["n"]
    assert (opened, reopened) == (2, 1)
    assert resolved >= 1
    assert t("zh", "stats_tickets", opened=opened, resolved=resolved, reopened=reopened) in lines
    assert t("zh", "stats_satisfaction", avg="4.00", count=1) in lines
    await bot.settle(client)
    assert len(await bot_messages(client, STAFF_CHAT_ID, lambda m: m.body == caption)) == 1
    assert bot.db.reminder("weekly_report:2026-W50")["status"] == "sent"

    # On demand: /stats chart, and /stats 7d with the self-service figures.
    reader = await new_member(client, "zh", "冯")
    answer = await ask(client, reader, FAQ_ZH)
    thanked = await press(client, reader, answer, "已解决 👍")
    assert thanked.text == t("zh", "feedback_thanks")

    after = await latest_id(client, STAFF_CHAT_ID)
    await client.send_text(STAFF_1, "/stats chart", chat_id=STAFF_CHAT_ID)
    chart = await wait_for(client, STAFF_CHAT_ID, lambda m: m.photo is not None, after=after)
    assert chart.body == t("zh", "stats_chart_caption", weeks=8)
    chart_png = await client.file_content(chart.photo[-1]["file_id"])  # type: ignore[index]
    assert chart_png.startswith(b"\x89PNG")

    after = await latest_id(client, STAFF_CHAT_ID)
    await client.send_text(STAFF_1, "/stats 7d", chat_id=STAFF_CHAT_ID)
    report = await wait_for(client, STAFF_CHAT_ID, lambda m: m.body.startswith("📊"), after=after)
    since = (bot.now() - timedelta(days=7)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    questions = bot.db.one("SELECT count(*) AS n FROM questions WHERE created_at >= ?", since)["n"]
    found = shape("zh", "stats_questions", questions=questions).search(report.body)
    assert found is not None, report.body
    assert found["solved"] == "1", report.body
    rate = f"{100 / questions:.1f}%"
    assert t("zh", "stats_self_service", rate=rate) in report.body.split("\n")


# ------------------------------------------------------------------ 5. civil hours


async def test_a_checkin_waits_for_a_civil_hour(
    client: EmulatorClient, bot: TravellingBot
) -> None:
    await bot.advance_to(client, local("2026-12-07 21:30"))  # Monday evening
    member = await new_member(client, "zh", "钱")
    ticket = await open_ticket(client, bot, member, "zh", INFRINGEMENT_ZH)
    await resolve_privately(client, EXPERT_ZH, "zh", ticket, "已当面说明维权步骤")
    resolved = stored(bot.db.ticket(ticket.number)["resolved_at"])
    checkin = bot.db.reminder(f"checkin:{ticket.id}:{int(resolved.timestamp())}")
    # Three days later is Thursday 21:3x, after the civil hours: Friday 09:00 instead.
    assert stored(checkin["due_at"]) == local("2026-12-11 09:00")

    pattern = is_text(
        "zh", "fu_checkin", number=ticket.number, expert="张伟", question=INFRINGEMENT_ZH
    )
    # Friday 08:50: three days have passed, but it is too early in the morning.
    await bot.restart_at(client, local("2026-12-11 08:50"))
    await bot.settle(client)
    assert await bot_messages(client, member, pattern) == []
    assert bot.db.reminder(checkin["key"])["status"] == "pending"
    await bot.restart_at(client, local("2026-12-11 09:05"))
    [message] = await bot_messages(client, member, pattern)
    sent_at = stored(bot.db.reminder(checkin["key"])["sent_at"])
    assert local("2026-12-11 09:05") <= sent_at < local("2026-12-11 09:06")
    await bot.settle(client)
    assert await bot_messages(client, member, pattern) == [message]
