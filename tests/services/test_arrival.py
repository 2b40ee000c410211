"""The one read every update starts with (bot/services/arrival.py), and the one write of a
question (QuestionLog.record), on SQLite and PostgreSQL: they must see what the slower
paths they replace saw, including changes made through other services (another process)."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.services.arrival import ArrivalService
from bot.services.members import MemberService, TelegramIdentity
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionLog
from bot.services.tickets import TicketService
from db.models import FaqState, FaqView, Question, User
from db.session import SessionFactory
from faq.engine import Decision

ALICE = TelegramIdentity(id=2001, first_name="Alice", username="alice", language_code="en")


def _answer(text: str = "how long does a trademark last") -> Decision:
    return Decision(
        text=text,
        lang="en",
        category="trademark",
        action="answer",
        faq_id="tm-term-renewal",
        score=91.0,
        answer="Ten years.",
        suggestions=(),
        reasons=(),
    )


async def test_a_stranger_has_no_profile_yet_and_nothing_else(sessions: SessionFactory) -> None:
    arrival = await ArrivalService(sessions).arrive(ALICE)
    assert arrival.user_id == ALICE.id
    assert arrival.profile is None  # first contact: the upsert creates the row
    assert not arrival.blocked
    assert not arrival.open_tickets
    assert arrival.phrasings_version == 0


async def test_a_known_member_arrives_with_the_profile_touch_would_give(
    sessions: SessionFactory,
) -> None:
    members = MemberService(sessions)
    touched = await members.touch(ALICE, detected="zh")
    arrival = await ArrivalService(sessions).arrive(ALICE)
    assert arrival.profile == touched
    assert arrival.profile is not None
    assert arrival.profile.lang == "zh"


async def test_a_renamed_member_or_one_who_had_blocked_the_bot_is_written_first(
    sessions: SessionFactory,
) -> None:
    members, arrivals = MemberService(sessions), ArrivalService(sessions)
    await members.touch(ALICE)
    assert (await arrivals.arrive(replace(ALICE, first_name="Alicia"))).profile is None
    assert (await arrivals.arrive(replace(ALICE, language_code="zh"))).profile is None
    await members.mark_blocked(ALICE.id)
    assert (await arrivals.arrive(ALICE)).profile is None
    await members.touch(ALICE)  # talking again clears blocked_bot_at
    assert (await arrivals.arrive(ALICE)).profile is not None


async def test_blocks_tickets_and_phrasings_made_elsewhere_are_seen_by_the_next_update(
    sessions: SessionFactory,
) -> None:
    members, arrivals = MemberService(sessions), ArrivalService(sessions)
    profile = await members.touch(ALICE)
    await PrivacyService(sessions).block(admin_id=1, user_id=ALICE.id)
    assert (await arrivals.arrive(ALICE)).blocked
    await PrivacyService(sessions).unblock(ALICE.id)
    assert not (await arrivals.arrive(ALICE)).blocked

    tickets = TicketService(sessions, ZoneInfo("Asia/Shanghai"))
    ref = await tickets.open(
        profile.id,
        lang="en",
        category="trademark",
        question="my mark was copied",
        faq_id=None,
        question_id=None,
    )
    assert (await arrivals.arrive(ALICE)).open_tickets
    await tickets.close(ref.id, profile.id)
    assert not (await arrivals.arrive(ALICE)).open_tickets

    async with sessions() as s, s.begin():
        await s.execute(update(FaqState).values(phrasings_version=7))
    assert (await arrivals.arrive(ALICE)).phrasings_version == 7
    async with sessions() as s, s.begin():
        await s.execute(update(FaqState).values(phrasings_version=8))
    assert (await arrivals.arrive(ALICE)).phrasings_version == 8


async def test_a_question_its_answer_and_the_language_are_one_write(
    sessions: SessionFactory,
) -> None:
    profile = await MemberService(sessions).touch(ALICE)
    log = QuestionLog(sessions)
    logged = await log.record(profile.id, ALICE.id, 5, _answer(), detected_lang="zh")
    assert logged.view_id is not None
    async with sessions() as s:
        question = await s.get(Question, logged.question_id)
        view = await s.get(FaqView, logged.view_id)
        detected = await s.scalar(select(User.detected_lang).where(User.id == ALICE.id))
    assert question is not None
    assert question.text == _answer().text
    assert question.message_id == 5
    assert view is not None
    assert view.question_id == logged.question_id
    assert view.faq_id == "tm-term-renewal"
    assert view.source == "answer"
    assert detected == "zh"

    unsure = replace(_answer("hmm"), action="fallback", faq_id=None, answer=None)
    logged = await log.record(profile.id, ALICE.id, 6, unsure)
    assert logged.view_id is None  # nothing was shown
    async with sessions() as s:
        assert await s.get(Question, logged.question_id) is not None
