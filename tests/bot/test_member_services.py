"""Member, question-log and ticket services on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from bot.services.dialog import DialogState
from bot.services.inbox import handling
from bot.services.members import MemberService, TelegramIdentity
from bot.services.questions import Feedback, FeedbackResult, QuestionLog
from bot.services.tickets import TicketService
from db.session import SessionFactory
from faq.engine import Decision

ALICE = TelegramIdentity(id=1001, first_name="Alice", username="alice", language_code="en-US")
BO = TelegramIdentity(id=1002, first_name="波", username=None, language_code="zh-hans")


def _decision(
    text: str, action: str = "answer", faq_id: str | None = "tm-term-renewal"
) -> Decision:
    return Decision(
        text=text,
        lang="zh",
        category="trademark",
        action=action,  # type: ignore[arg-type]
        faq_id=faq_id,
        score=91.0,
        answer="答" if action == "answer" else None,
        suggestions=(),
        reasons=(),
    )


async def test_language_choice_beats_detection_and_telegram(sessions: SessionFactory) -> None:
    members = MemberService(sessions)
    assert (await members.touch(ALICE)).lang == "en"
    assert (await members.touch(ALICE, detected="zh")).lang == "zh"
    assert (await members.choose_lang(ALICE, "en")).lang == "en"
    assert (await members.touch(ALICE, detected="zh")).lang == "en"  # the choice stays
    assert await members.lang_of(ALICE.id) == "en"
    assert await members.lang_of(999, "zh-TW") == "zh"


async def test_dialog_state_survives_in_the_database(sessions: SessionFactory) -> None:
    members = MemberService(sessions)
    await members.touch(BO)
    await members.set_dialog(BO.id, DialogState.COMPANY, {"ticket": 3})
    fresh = MemberService(sessions)  # as after a restart
    profile = await fresh.touch(BO)
    assert profile.dialog_state is DialogState.COMPANY
    assert profile.dialog_data == {"ticket": 3}


async def test_feedback_only_on_own_views_and_once(sessions: SessionFactory) -> None:
    members, log = MemberService(sessions), QuestionLog(sessions)
    await members.touch(ALICE)
    await members.touch(BO)
    logged = await log.record(BO.id, BO.id, 5, _decision("商标续展"))
    assert logged.view_id is not None
    assert (
        await log.feedback(ALICE.id, logged.view_id, Feedback.SOLVED) is FeedbackResult.NOT_FOUND
    )
    assert await log.feedback(BO.id, logged.view_id, Feedback.SOLVED) is FeedbackResult.RECORDED
    assert await log.feedback(BO.id, logged.view_id, Feedback.SOLVED) is FeedbackResult.ALREADY
    # changing one's mind from "solved" to "ask an expert" is allowed
    assert await log.feedback(BO.id, logged.view_id, Feedback.EXPERT) is FeedbackResult.RECORDED
    assert await log.view(ALICE.id, logged.view_id) is None
    assert await log.question(ALICE.id, logged.question_id) is None
    assert await log.recent_faq_ids(BO.id) == ["tm-term-renewal"]


async def test_a_replayed_question_is_recorded_once(sessions: SessionFactory) -> None:
    """An update handled again after a stop (bot/services/inbox.py) finds its question."""
    members, log = MemberService(sessions), QuestionLog(sessions)
    await members.touch(BO)
    first = await log.record(BO.id, BO.id, 9, _decision("商标续展"))
    with handling(1, replayed=True):
        again = await log.record(BO.id, BO.id, 9, _decision("商标续展"))
        edited = await log.record(BO.id, BO.id, 9, _decision("商标续展费用"))
    assert again == first
    assert edited.question_id != first.question_id  # an edit is a new question
    assert (await log.record(BO.id, BO.id, 9, _decision("商标续展"))) != first  # not replaying


async def test_escalations_and_fallbacks_log_no_view(sessions: SessionFactory) -> None:
    members, log = MemberService(sessions), QuestionLog(sessions)
    await members.touch(BO)
    logged = await log.record(BO.id, BO.id, 6, _decision("律师函", "escalate"))
    assert logged.view_id is None
    assert (await log.question(BO.id, logged.question_id)) is not None


async def test_ticket_numbers_are_unique_under_concurrency(sessions: SessionFactory) -> None:
    members, log = MemberService(sessions), QuestionLog(sessions)
    tickets = TicketService(sessions, ZoneInfo("Asia/Shanghai"))
    await members.touch(BO)
    questions = [
        await log.record(BO.id, BO.id, i, _decision(f"q{i}", "escalate")) for i in range(8)
    ]
    refs = await asyncio.gather(
        *(
            tickets.open(
                BO.id,
                lang="zh",
                category="trademark",
                question=f"q{i}",
                faq_id=None,
                question_id=q.question_id,
            )
            for i, q in enumerate(questions)
        )
    )
    numbers = [r.number for r in refs]
    assert len(set(numbers)) == 8
    assert all(n.startswith("IP-20") and len(n) == len("IP-2026-0001") for n in numbers)
    again = await tickets.open(
        BO.id,
        lang="zh",
        category="trademark",
        question="q0",
        faq_id=None,
        question_id=questions[0].question_id,
    )
    assert again.created is False
    assert again.number == refs[0].number


async def test_first_contact_from_two_chats_at_once_is_no_error(
    sessions: SessionFactory, database_url: str
) -> None:
    """One person writes in two chats at once (two processes, too): both are served, one row."""
    from db.session import make_engine, make_session_factory

    other = make_engine(database_url)
    try:
        services = [MemberService(sessions), MemberService(make_session_factory(other))]
        new = TelegramIdentity(id=1003, first_name="新", username=None, language_code="zh")
        profiles = await asyncio.gather(*(m.touch(new) for m in services for _ in range(3)))
    finally:
        await other.dispose()
    assert {p.id for p in profiles} == {1003}
