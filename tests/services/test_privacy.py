"""Personal data: consent, export, erasure, retention and blocking (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.services.companies import CompanyService
from bot.services.errors import NotAllowed
from bot.services.privacy import ERASED, NOTICE_VERSION, PrivacyService, months_before
from bot.services.relay import RelayService
from bot.services.tickets import TicketService
from db.models import (
    Consent,
    FaqView,
    Question,
    Reminder,
    Role,
    Ticket,
    TicketMessage,
    TicketStatus,
    User,
)
from db.session import SessionFactory
from tests.services import ZONE, Clock, add_experts, add_user, spec

MEMBER = 5001
OTHER = 5002
EXPERT = 6001
ADMIN = 6002
NAME = "王经理"
PHONE = "13812345678"
SECRET_TEXT = "我们的商标被宁波某公司抢注了"


async def _setup(sessions: SessionFactory) -> tuple[TicketService, RelayService, Clock]:
    await add_user(sessions, MEMBER)
    await add_user(sessions, OTHER)
    await add_user(sessions, ADMIN, Role.ADMIN)
    await add_experts(sessions, spec("a", EXPERT))
    companies = CompanyService(sessions)
    await companies.link_user(MEMBER, "宁波甲乙丙科技有限公司")
    await companies.save_profile(MEMBER, NAME, PHONE)
    clock = Clock()
    return (
        TicketService(sessions, ZONE, clock=clock),
        RelayService(sessions, ZONE, clock=clock),
        clock,
    )


async def _ask(sessions: SessionFactory, user_id: int, text: str, at: datetime) -> int:
    async with sessions() as s, s.begin():
        q = Question(
            user_id=user_id, chat_id=user_id, text=text, lang="zh", action="escalate",
            created_at=at,
        )  # fmt: skip
        s.add(q)
        await s.flush()
        s.add(FaqView(user_id=user_id, faq_id="tm-term", source="answer", lang="zh"))
        return q.id


async def _ticket(tickets: TicketService, relay: RelayService, question_id: int) -> int:
    ref = await tickets.open(
        MEMBER, lang="zh", category="trademark", question=SECRET_TEXT, faq_id=None,
        question_id=question_id,
    )  # fmt: skip
    await tickets.assign_initial(ref.id)
    await relay.record_member_message(
        MEMBER, ref.id, text="附件是注册证 " + PHONE, source_chat_id=MEMBER, source_message_id=3
    )
    return ref.id


async def test_consent_is_recorded_once_per_version(sessions: SessionFactory) -> None:
    clock = Clock()
    privacy = PrivacyService(sessions, clock=clock)
    await add_user(sessions, MEMBER)
    assert not await privacy.has_consent(MEMBER)
    first = await privacy.record_consent(MEMBER, "zh")
    clock.advance(days=1)
    assert await privacy.record_consent(MEMBER, "zh") == first
    assert await privacy.has_consent(MEMBER)
    assert not await privacy.has_consent(MEMBER, "2099-01")
    async with sessions() as s:
        rows = (await s.scalars(select(Consent))).all()
    assert [(c.version, c.accepted_at) for c in rows] == [(NOTICE_VERSION, first)]


async def test_export_holds_everything_stored_about_the_member(sessions: SessionFactory) -> None:
    tickets, relay, clock = await _setup(sessions)
    privacy = PrivacyService(sessions, clock=clock)
    await privacy.record_consent(MEMBER, "zh")
    ticket_id = await _ticket(tickets, relay, await _ask(sessions, MEMBER, SECRET_TEXT, clock()))
    await relay.record_expert_message(EXPERT, ticket_id, text="请提供注册证号")
    await _ask(sessions, OTHER, "别人的问题", clock())

    data = await privacy.export(MEMBER)
    text = json.dumps(data, ensure_ascii=False)
    assert data["profile"]["contact_name"] == NAME
    assert data["profile"]["phone"] == PHONE
    assert data["profile"]["company"]["name"] == "宁波甲乙丙科技有限公司"
    assert [c["version"] for c in data["consents"]] == [NOTICE_VERSION]
    assert [q["text"] for q in data["questions"]] == [SECRET_TEXT]
    assert len(data["faq_reads"]) == 1
    [ticket] = data["tickets"]
    assert ticket["question"] == SECRET_TEXT
    assert [(m["from"], m["text"]) for m in ticket["messages"]] == [
        ("you", "附件是注册证 " + PHONE),
        ("expert", "请提供注册证号"),
    ]
    assert "别人的问题" not in text
    assert str(EXPERT) not in text  # the team's accounts are not the member's data


async def test_forget_erases_the_person_and_keeps_the_statistics(
    sessions: SessionFactory,
) -> None:
    tickets, relay, clock = await _setup(sessions)
    privacy = PrivacyService(sessions, clock=clock)
    await privacy.record_consent(MEMBER, "zh")
    ticket_id = await _ticket(tickets, relay, await _ask(sessions, MEMBER, SECRET_TEXT, clock()))
    await tickets.close(ticket_id, MEMBER, "member asked to be forgotten")
    await _ask(sessions, OTHER, "别人的问题", clock())

    erasure = await privacy.forget(MEMBER)

    assert erasure.stand_in < 0
    assert (erasure.tickets, erasure.questions, erasure.messages) == (1, 1, 1)
    async with sessions() as s:
        assert await s.get(User, MEMBER) is None
        assert (await s.scalars(select(Consent))).all() == []
        ticket = await s.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.user_id == erasure.stand_in
        assert ticket.question == ERASED
        assert ticket.status is TicketStatus.CLOSED  # the statistics survive
        stand_in = await s.get(User, erasure.stand_in)
        assert stand_in is not None
        assert (stand_in.contact_name, stand_in.phone, stand_in.first_name) == (None, None, "")
        texts = (await s.scalars(select(TicketMessage.text))).all()
        assert all(t is None for t in texts)
        other = (await s.scalars(select(Question.text).where(Question.user_id == OTHER))).all()
        assert other == ["别人的问题"]
        count = await s.scalar(select(func.count()).select_from(Question))
    assert count == 2  # questions are counted still, without their text or asker
    gone = await privacy.export(MEMBER)
    assert (gone["profile"], gone["questions"], gone["tickets"]) == (None, [], [])
    again = await privacy.forget(MEMBER)
    assert (again.tickets, again.questions) == (0, 0)


async def test_team_members_are_not_forgotten_or_blocked(sessions: SessionFactory) -> None:
    privacy = PrivacyService(sessions)
    await add_user(sessions, ADMIN, Role.ADMIN)
    with pytest.raises(NotAllowed):
        await privacy.forget(ADMIN)
    with pytest.raises(NotAllowed):
        await privacy.block(ADMIN, ADMIN)


async def test_retention_anonymises_old_closed_tickets_and_idle_profiles(
    sessions: SessionFactory,
) -> None:
    tickets, relay, clock = await _setup(sessions)
    privacy = PrivacyService(sessions, clock=clock)
    old_question = await _ask(sessions, MEMBER, SECRET_TEXT, clock())
    old_ticket = await _ticket(tickets, relay, old_question)
    await tickets.close(old_ticket, EXPERT, "done")
    nothing = await privacy.anonymise_expired(24)
    assert (nothing.tickets, nothing.questions, nothing.profiles) == (0, 0, 0)
    clock.advance(days=365 * 2 + 30)
    await _ask(sessions, OTHER, "最近的问题", clock())

    expiry = await privacy.anonymise_expired(24)

    assert (expiry.tickets, expiry.questions, expiry.profiles) == (1, 1, 1)
    async with sessions() as s:
        ticket = await s.get(Ticket, old_ticket)
        assert ticket is not None
        assert ticket.question == ERASED
        member = await s.get(User, MEMBER)
        assert member is not None
        assert (member.contact_name, member.phone) == (None, None)
        recent = (await s.scalars(select(Question.text).where(Question.user_id == OTHER))).all()
        assert recent == ["最近的问题"]
    again = await privacy.anonymise_expired(24)
    assert (again.tickets, again.questions, again.profiles) == (0, 0, 0)


async def test_retention_keeps_open_tickets_and_their_questions(sessions: SessionFactory) -> None:
    tickets, relay, clock = await _setup(sessions)
    privacy = PrivacyService(sessions, clock=clock)
    question = await _ask(sessions, MEMBER, SECRET_TEXT, clock())
    await _ticket(tickets, relay, question)
    clock.advance(days=365 * 3)
    expiry = await privacy.anonymise_expired(24)
    assert (expiry.tickets, expiry.questions, expiry.profiles) == (0, 0, 0)


async def test_a_blocked_user_gets_one_notice_then_silence_and_a_counter(
    sessions: SessionFactory,
) -> None:
    privacy = PrivacyService(sessions)
    await add_user(sessions, MEMBER)
    assert not (await privacy.check_blocked(MEMBER)).blocked
    assert await privacy.block(ADMIN, MEMBER)
    assert not await privacy.block(ADMIN, MEMBER)
    first = await privacy.check_blocked(MEMBER)
    assert (first.blocked, first.notify) == (True, True)
    for _ in range(3):
        later = await privacy.check_blocked(MEMBER)
        assert (later.blocked, later.notify) == (True, False)
    assert (await privacy.export(MEMBER))["blocked"]["messages_dropped"] == 4
    assert await privacy.unblock(MEMBER)
    assert not await privacy.unblock(MEMBER)
    assert not (await privacy.check_blocked(MEMBER)).blocked


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 12, 5, tzinfo=UTC), 24, datetime(2024, 12, 5, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    ],
)
def test_months_before(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


async def test_forget_leaves_no_telegram_id_in_outbox_keys(sessions: SessionFactory) -> None:
    await add_user(sessions, MEMBER)
    async with sessions() as s, s.begin():
        s.add(
            Reminder(
                kind="announcement",
                key=f"ann:7:{MEMBER}",
                recipient_id=MEMBER,
                due_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        )
    erasure = await PrivacyService(sessions).forget(MEMBER)
    async with sessions() as s:
        [row] = (await s.scalars(select(Reminder))).all()
    assert row.key == f"ann:7:{erasure.stand_in}"
    assert row.recipient_id is None
    assert row.status.value == "cancelled"
