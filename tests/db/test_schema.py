"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Base, Question, Role, User
from db.session import SessionFactory


async def test_migrations_create_every_model_table(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(sync_conn: object) -> list[object]:
        ctx = MigrationContext.configure(sync_conn)  # type: ignore[arg-type]
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_datetimes_come_back_aware_utc(sessions: SessionFactory) -> None:
    shanghai = timezone(timedelta(hours=8))
    asked = datetime(2026, 11, 27, 9, 30, tzinfo=shanghai)
    async with sessions() as s, s.begin():
        s.add(User(id=42, first_name="李", telegram_lang="zh-hans"))
        await s.flush()
        s.add(
            Question(
                user_id=42,
                chat_id=42,
                text="商标续展",
                lang="zh",
                action="answer",
                created_at=asked,
            )
        )
    async with sessions() as s:
        question = (await s.execute(select(Question))).scalar_one()
        user = await s.get(User, 42)
    assert question.created_at == asked
    assert question.created_at.tzinfo is not None
    assert question.created_at.utcoffset() == timedelta(0)
    assert user is not None
    assert user.role is Role.MEMBER
    assert user.dialog_data == {}


async def test_naive_datetimes_are_refused(sessions: SessionFactory) -> None:
    with pytest.raises(StatementError):
        async with sessions() as s, s.begin():
            s.add(User(id=7, blocked_bot_at=datetime(2026, 1, 1)))


async def test_foreign_keys_are_enforced(sessions: SessionFactory) -> None:
    with pytest.raises(IntegrityError):
        async with sessions() as s, s.begin():
            s.add(
                Question(
                    user_id=999,
                    chat_id=1,
                    text="x",
                    lang="en",
                    action="fallback",
                    created_at=datetime.now(UTC),
                )
            )


async def test_control_characters_are_stripped_before_storage(sessions: SessionFactory) -> None:
    async with sessions() as s, s.begin():
        s.add(User(id=8, first_name="A\x00B"))
        await s.flush()
        s.add(
            Question(
                user_id=8,
                chat_id=8,
                text="商标\x00续展\x07\n第二行\t!",
                lang="zh",
                action="answer",
            )
        )
    async with sessions() as s:
        question = (await s.execute(select(Question))).scalar_one()
        user = await s.get(User, 8)
    assert question.text == "商标续展\n第二行\t!"
    assert user is not None
    assert user.first_name == "AB"
