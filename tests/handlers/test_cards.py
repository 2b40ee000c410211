"""The pure parts of the ticket handlers: rendering, splitting, error texts, parsing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Chat, Document, Message, PhotoSize

from bot.i18n import load_catalog
from bot.services.companies import CompanyInfo, ProfileError
from bot.services.conversation import Content
from bot.services.dossier import Dossier, FaqRead, PastTicket
from bot.services.errors import DomainError, NotAllowed, NotFound, StaleAction
from bot.services.experts import ExpertConflict, ExpertInfo, RosterError
from bot.services.relay import RelayRefused
from bot.services.roles import RoleError
from bot.services.tickets import (
    AssignOutcome,
    EventView,
    Holder,
    MemberBrief,
    MessageView,
    TicketHistory,
    TicketRefused,
    TicketView,
)
from db.models import Priority, TicketStatus
from faq.loader import load_knowledge_base
from handlers import cards, keyboards
from handlers.callbacks import MAX_BYTES, decode
from handlers.common import command_args
from handlers.errors import explain
from handlers.relay import content_of

CATALOG = load_catalog()
ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC)  # 14:30 in Ningbo

EXPERT = ExpertInfo(
    id=3,
    key="zhang-wei",
    user_id=810001,
    name_zh="张伟",
    name_en="Zhang Wei",
    title_zh="律师",
    title_en="Attorney",
    org_zh="宁波甬知律师事务所",
    org_en="Ningbo Yongzhi Law Firm",
    categories=("trademark",),
    languages=("zh", "en"),
    max_open=8,
    active=True,
    last_assigned_at=None,
)
COMPANY = CompanyInfo(7, "宁波市甬兴电器有限公司", "NBIP-0001", True, None)


def view(**changes: object) -> TicketView:
    base = TicketView(
        id=42,
        number="IP-2026-0042",
        status=TicketStatus.ASSIGNED,
        priority=Priority.NORMAL,
        category="trademark",
        lang="zh",
        question="我们的商标被抢注了 <b>怎么办</b>",
        faq_id=None,
        question_id=None,
        member=MemberBrief(700001, "Li", "li_private", "李明", "13812345678"),
        company=COMPANY,
        expert=EXPERT,
        claimed_by=None,
        deadline_at=None,
        created_at=NOW,
        claimed_at=None,
        first_response_at=None,
        resolved_at=None,
        closed_at=None,
        last_member_message_at=None,
        last_expert_message_at=None,
        summary=None,
        rating=None,
        reopen_count=0,
        card_chat_id=None,
        card_message_id=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def plain(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text).replace("&lt;", "<").replace("&gt;", ">")


# ------------------------------------------------------------------ card


def test_group_card_keeps_contact_name_and_phone_for_those_who_need_them() -> None:
    group = plain(cards.card_text(CATALOG, "zh", ZONE, view()))
    assert "李明" not in group
    assert "13812345678" not in group
    assert "👤 联系人和电话：仅承办专家和管理员可见" in group.splitlines()
    header = cards.member_header(CATALOG, "zh", view(), personal=False)
    assert "李明" not in header
    assert "李明" in cards.member_header(CATALOG, "zh", view())


def test_card_shows_everything_staff_need() -> None:
    text = cards.card_text(CATALOG, "zh", ZONE, view(), personal=True)
    assert plain(text).splitlines() == [
        "🎫 IP-2026-0042 · 商标",
        "🏢 宁波市甬兴电器有限公司 · ✅ 会员 NBIP-0001",
        "👤 李明 · ☎️ 13812345678",
        "❓ 我们的商标被抢注了 <b>怎么办</b>",
        "🧑‍⚖️ 专家：张伟（律师 · 宁波甬知律师事务所）",
        "📌 状态：已分配",
    ]
    assert "&lt;b&gt;怎么办" in text  # the member's text is escaped
    assert "li_private" not in text


def test_card_urgent_deadline_claimed_and_resolved() -> None:
    holder = Holder(820001, "王秘书", None)
    text = plain(
        cards.card_text(
            CATALOG,
            "en",
            ZONE,
            view(
                priority=Priority.URGENT,
                deadline_at=dt.datetime(2026, 3, 4, 15, 59, tzinfo=dt.UTC),
                claimed_by=holder,
                status=TicketStatus.RESOLVED,
                summary="Filed the renewal.",
                company=replace(COMPANY, is_member=False, member_no=None),
            ),
        )
    )
    assert text.splitlines()[0] == "🎫 IP-2026-0042 · Trademarks · 🔴 URGENT"
    assert "⚠️ not a member" in text
    assert "⏰ Deadline: 4 Mar 2026" in text
    assert "✋ Claimed by: 王秘书" in text
    assert "📝 Conclusion: Filed the renewal." in text


def test_card_without_expert_says_why() -> None:
    text = plain(
        cards.card_text(
            CATALOG, "zh", ZONE, view(expert=None, company=None), reason=AssignOutcome.NO_EXPERT
        )
    )
    assert "🏢 未填写公司 · 未填写公司" in text
    assert "专家：待指派 （专家库中没有负责该类别的专家）" in text


def test_card_keyboard_only_while_open() -> None:
    markup = keyboards.card(CATALOG, "zh", 42, True)
    assert markup is not None
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == [
        "cl:42",
        "ra:42",
        "rs:42",
    ]
    assert keyboards.card(CATALOG, "zh", 42, False) is None


def test_callback_data_stays_small_and_decodable() -> None:
    big = 10**15
    markups = [
        keyboards.reassign_menu(CATALOG, "zh", big, [(big, "张伟 · 3/8")]),
        keyboards.company_choices(CATALOG, "en", [(big, "X" * 300, True)], "typed"),
        keyboards.my_tickets(CATALOG, "zh", [(big, "IP-2026-0042")]),
        keyboards.member_ticket(CATALOG, "en", big),
        keyboards.reopen(CATALOG, "zh", big),
    ]
    for markup in markups:
        for row in markup.inline_keyboard:
            for button in row:
                data = button.callback_data
                assert isinstance(data, str)
                assert len(data.encode()) <= MAX_BYTES
                assert decode(data) is not None
                assert len(button.text) <= keyboards.BUTTON_TEXT_MAX


# ------------------------------------------------------------------ headers and views


def test_relay_headers_name_people_never_accounts() -> None:
    assert plain(cards.member_header(CATALOG, "zh", view())) == (
        "📨 IP-2026-0042 · 宁波市甬兴电器有限公司 · 李明"
    )
    assert plain(cards.team_header(CATALOG, "en", "IP-2026-0042", EXPERT)) == (
        "💬 Zhang Wei · IP-2026-0042"
    )
    assert plain(cards.team_header(CATALOG, "zh", "IP-2026-0042", None)) == (
        "💬 协会秘书处 · IP-2026-0042"
    )


def test_member_view_shows_relayed_messages_but_never_notes() -> None:
    messages = [
        MessageView(
            1, "member", 700001, "附件如下", "f1", "document", "letter.pdf", None, NOW, NOW
        ),
        MessageView(2, "note", 820001, "内部：注意期限", None, None, None, None, NOW, None),
        MessageView(3, "expert", 810001, "收到", None, None, None, None, NOW, NOW),
    ]
    text = plain("\n".join(cards.member_ticket_text(CATALOG, "zh", ZONE, view(), messages)))
    assert "您：[文件 letter.pdf] 附件如下" in text
    assert "🧑‍⚖️ 专家：收到" in text
    assert "内部" not in text


def test_history_merges_events_and_messages_in_time_order() -> None:
    later = NOW + dt.timedelta(minutes=5)
    history = TicketHistory(
        view(),
        (
            EventView(
                1, "opened", 700001, None, "new",
                "priority=normal deadline=2026-12-12T08:00:00+00:00", NOW,
            ),
            EventView(3, "priority", None, None, None, "normal → urgent: summons", later),
        ),
        (MessageView(2, "note", 820001, "内部备注", None, None, None, None, later, None),),
    )  # fmt: skip
    text = plain("\n".join(cards.history_text(CATALOG, "zh", ZONE, history)))
    assert "提交 · 新提交 · 普通优先级 期限 2026年12月12日 16:00" in text
    assert text.index("提交") < text.index("📝 内部备注：内部备注")
    assert "2026年3月2日 14:30" in text
    assert "优先级 · 普通优先级 → 紧急: summons" in text
    for dump in ("priority=", "deadline=", "→ new", "+00:00", "T08:00"):
        assert dump not in text, dump


def test_dossier_lists_history_outcomes_ratings_and_reading() -> None:
    kb = load_knowledge_base()
    entry = next(iter(kb))
    dossier = Dossier(
        ticket=view(),
        company=COMPANY,
        colleagues=2,
        member_since=NOW,
        previous_tickets=(
            PastTicket(
                "IP-2025-0007", TicketStatus.CLOSED, "patent", "专利被仿", "已发律师函", 5, NOW,
                NOW, False,
            ),
        ),
        previous_total=1,
        average_rating=5.0,
        recent_faq=(FaqRead(entry.id, "answer", "solved", NOW),),
        show_contact=True,
    )  # fmt: skip
    text = plain("\n".join(cards.dossier_text(CATALOG, "zh", ZONE, dossier, kb)))
    assert "👤 李明 · ☎️ 13812345678" in text
    hidden = dataclasses.replace(dossier, show_contact=False)
    assert "13812345678" not in "\n".join(cards.dossier_text(CATALOG, "zh", ZONE, hidden, kb))
    assert "👥 同公司另有 2 位联系人使用过本服务" in text
    assert "以往咨询（共 1 件，平均满意度 5.0/5）" in text
    assert "• IP-2025-0007 · 已关闭 · 专利（同事）：专利被仿" in text
    assert "结论：已发律师函 · 评分：5/5" in text
    assert f"• {entry.title['zh']}（2026年3月2日）👍 已解决" in text


def test_chunk_lines_keeps_lines_whole() -> None:
    lines = [f"<b>{i}</b> " + "字" * 300 for i in range(40)]
    chunks = cards.chunk_lines(lines, limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (NotFound("x"), "tk_err_not_found"),
        (NotAllowed("x"), "tk_err_not_allowed"),
        (StaleAction("x"), "tk_err_stale"),
        (TicketRefused("summary_required"), "tk_refused_summary_required"),
        (TicketRefused("something_new"), "tk_err_refused"),
        (ProfileError("phone", "bad_format"), "tk_profile_phone_bad_format"),
        (RelayRefused("too_long"), "tk_relay_too_long"),
        (RoleError("last_admin", "x"), "tk_role_last_admin"),
        (ExpertConflict("key_taken", "x"), "tk_expert_key_taken"),
        (DomainError("x"), "tk_err_refused"),
    ],
)
def test_every_refusal_has_catalog_text(error: DomainError, key: str) -> None:
    for lang in ("zh", "en"):
        assert explain(CATALOG, lang, error) == CATALOG.raw(lang, key)


def test_roster_problems_are_listed() -> None:
    text = explain(CATALOG, "en", RosterError(["key: required", "name: <missing>"]))
    assert text.endswith("key: required\nname: &lt;missing&gt;")


def test_every_ticket_key_used_by_the_handlers_exists_in_both_languages() -> None:
    used: set[str] = set()
    for path in Path("handlers").glob("*.py"):
        used |= set(re.findall(r'"(tk_[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used
    for lang in ("zh", "en"):
        assert used <= CATALOG.keys(lang), used - CATALOG.keys(lang)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/note IP-2026-0042 called them", ("IP-2026-0042", "called them")),
        (
            "/note@ipdesk_bot  IP-2026-0042\nline one\nline two",
            ("IP-2026-0042", "line one\nline two"),
        ),
        ("/ticket IP-2026-0042", ("IP-2026-0042", "")),
        ("/ticket", ("", "")),
    ],
)
def test_command_args(text: str, expected: tuple[str, str]) -> None:
    message = Message(1, NOW, Chat(1, "private"), text=text)
    assert command_args(message) == expected


def test_content_of_takes_the_largest_photo_and_the_document_name() -> None:
    chat = Chat(1, "private")
    photo = Message(
        1,
        NOW,
        chat,
        photo=(PhotoSize("small", "u1", 90, 90, 1_000), PhotoSize("big", "u2", 900, 900, 90_000)),
        caption="证据",
        media_group_id="g1",
    )
    assert content_of(photo) == Content("证据", "big", "photo", None, 90_000, "g1")
    document = Message(
        2, NOW, chat, document=Document("doc", "u3", file_name="letter.pdf", file_size=25 << 20)
    )
    found = content_of(document)
    assert found == Content(None, "doc", "document", "letter.pdf", 25 << 20, None)
    assert found.too_big_to_download
    assert not Content(None, "doc", "document", None, 20 << 20).too_big_to_download
    assert not Content("hi").too_big_to_download
    assert content_of(Message(3, NOW, chat, text="hi")) == Content("hi")
    assert content_of(Message(4, NOW, chat)) is None
