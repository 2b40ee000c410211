"""Upgrades of a database in use: 0003 and every later migration keep its rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db.migrate import upgrade
from db.session import make_engine

USER = (
    "INSERT INTO users (id, first_name, role, dialog_data, created_at, updated_at)"
    " VALUES (5, 'a', 'member', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
QUESTION = (
    "INSERT INTO questions (id, user_id, chat_id, text, lang, action, score, created_at)"
    " VALUES (1, 5, 5, '商标', 'zh', 'fallback', 0, CURRENT_TIMESTAMP)"
)


async def test_upgrade_keeps_existing_questions(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, first_name, role, dialog_data, created_at,"
                    " updated_at) VALUES (5, 'a', 'member', '{}', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO questions (id, user_id, chat_id, text, lang, action, score,"
                    " created_at) VALUES (1, 5, 5, '商标', 'zh', 'fallback', 0,"
                    " CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO faq_views (user_id, faq_id, question_id, source, lang,"
                    " created_at) VALUES (5, 'tm-register', 1, 'answer', 'zh',"
                    " CURRENT_TIMESTAMP)"
                )
            )
        await upgrade(engine, "0003")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, flagged FROM questions"))).all()
            state = (await conn.execute(text("SELECT id, phrasings_version FROM faq_state"))).all()
            views = (await conn.execute(text("SELECT count(*) FROM faq_views"))).scalar()
        assert [(i, bool(f)) for i, f in rows] == [(1, False)]
        assert [tuple(r) for r in state] == [(1, 0)]
        assert views == 1
    finally:
        await engine.dispose()


async def test_a_populated_sqlite_database_upgrades_to_head(tmp_path: Path) -> None:
    """The whole chain after 0003 works on a database in use: SQLite cannot drop a table
    (as Alembic's batch copies do) while rows refer to it, and foreign keys stay enforced."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(text(USER))
            await conn.execute(text(QUESTION))
        await upgrade(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM questions"))).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text(QUESTION.replace("(1, 5,", "(2, 99,")))
    finally:
        await engine.dispose()
