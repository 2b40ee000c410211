"""The log of questions, the FAQ answers shown and the members' feedback on them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.arrival import table
from bot.services.inbox import replaying
from db.models import FaqView, Question, User
from db.session import SessionFactory
from faq.engine import Decision
from faq.models import Lang


class Feedback(enum.StrEnum):
    SOLVED = "solved"
    EXPERT = "expert"


class FeedbackResult(enum.Enum):
    RECORDED = "recorded"
    ALREADY = "already"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    question_id: int
    view_id: int | None  # set when an FAQ answer was shown


@dataclass(frozen=True, slots=True)
class ViewRef:
    id: int
    faq_id: str
    question_id: int | None
    lang: Lang


_QUESTIONS, _VIEWS, _USERS = table(Question), table(FaqView), table(User)
# Built once: the statements every question runs.
_INSERT_QUESTION = insert(_QUESTIONS).returning(_QUESTIONS.c.id)
_INSERT_VIEW = insert(_VIEWS).returning(_VIEWS.c.id)
_LANG = bindparam("detected", type_=_USERS.c.detected_lang.type)
_REMEMBER_LANG = (
    update(_USERS)
    .where(
        _USERS.c.id == bindparam("uid"),
        _USERS.c.detected_lang.is_distinct_from(_LANG),
    )
    .values(detected_lang=_LANG)
)


class QuestionLog:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def record(
        self,
        user_id: int,
        chat_id: int,
        message_id: int | None,
        decision: Decision,
        *,
        detected_lang: Lang | None = None,
    ) -> LoggedDecision:
        """Log the question (and the answer shown) in one transaction; ``detected_lang``:
        the language the member wrote in, remembered on their row in the same transaction.

        Core statements, not the ORM's unit of work: this runs for every question.
        """
        answered = decision.action in ("answer", "tentative") and decision.faq_id
        async with self._sessions() as s, s.begin():
            if replaying():  # handled before a stop, perhaps recorded then
                again = await _recorded(s, chat_id, message_id, decision.text)
                if again is not None:
                    return again
            conn = await s.connection()
            question = {
                "user_id": user_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "text": decision.text,
                "lang": decision.lang,
                "category": decision.category,
                "action": decision.action,
                "faq_id": decision.faq_id,
                "score": round(decision.score, 2),
                "flagged": decision.flagged,
            }
            question_id = (await conn.execute(_INSERT_QUESTION, question)).scalar_one()
            view_id = None
            if answered:
                view = {
                    "user_id": user_id,
                    "faq_id": decision.faq_id,
                    "question_id": question_id,
                    "source": "answer",
                    "lang": decision.lang,
                }
                view_id = (await conn.execute(_INSERT_VIEW, view)).scalar_one()
            if detected_lang is not None:
                await conn.execute(_REMEMBER_LANG, {"uid": user_id, "detected": detected_lang})
            return LoggedDecision(question_id, view_id)

    async def record_view(
        self, user_id: int, faq_id: str, source: str, lang: Lang, question_id: int | None = None
    ) -> int:
        async with self._sessions() as s, s.begin():
            view = FaqView(
                user_id=user_id, faq_id=faq_id, source=source, lang=lang, question_id=question_id
            )
            s.add(view)
            await s.flush()
            return view.id

    async def feedback(self, user_id: int, view_id: int, kind: Feedback) -> FeedbackResult:
        """Store a member's verdict on an answer they were shown (only their own)."""
        async with self._sessions() as s, s.begin():
            view = await s.get(FaqView, view_id, with_for_update=True)
            if view is None or view.user_id != user_id:
                return FeedbackResult.NOT_FOUND
            if view.feedback is not None and not (
                view.feedback == Feedback.SOLVED and kind is Feedback.EXPERT
            ):
                return FeedbackResult.ALREADY
            view.feedback = kind.value
            view.feedback_at = datetime.now(UTC)
            return FeedbackResult.RECORDED

    async def view(self, user_id: int, view_id: int) -> ViewRef | None:
        async with self._sessions() as s:
            view = await s.get(FaqView, view_id)
            if view is None or view.user_id != user_id:
                return None
            lang: Lang = "en" if view.lang == "en" else "zh"
            return ViewRef(view.id, view.faq_id, view.question_id, lang)

    async def question(self, user_id: int, question_id: int) -> Question | None:
        async with self._sessions() as s:
            row = await s.get(Question, question_id)
            return row if row is not None and row.user_id == user_id else None

    async def recent_faq_ids(self, user_id: int, limit: int = 5) -> list[str]:
        async with self._sessions() as s:
            rows = await s.execute(
                select(FaqView.faq_id)
                .where(FaqView.user_id == user_id)
                .order_by(FaqView.created_at.desc(), FaqView.id.desc())
                .limit(limit)
            )
            return list(rows.scalars())


async def _recorded(
    s: AsyncSession, chat_id: int, message_id: int | None, text: str
) -> LoggedDecision | None:
    """The question recorded for this message (and text: an edit is a new one), if any."""
    if message_id is None:
        return None
    question_id = await s.scalar(
        select(Question.id)
        .where(
            Question.chat_id == chat_id, Question.message_id == message_id, Question.text == text
        )
        .order_by(Question.id)
        .limit(1)
    )
    if question_id is None:
        return None
    view_id = await s.scalar(
        select(FaqView.id)
        .where(FaqView.question_id == question_id, FaqView.source == "answer")
        .limit(1)
    )
    return LoggedDecision(question_id, view_id)
