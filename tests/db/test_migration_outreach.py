"""Migration 0004 upgrades a database that already holds members, tickets and reminders:
the users table gains the editor role (SQLite rebuilds it) and every row and reference
survives."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from db.migrate import upgrade
from db.session import make_engine

ROWS = (
    "INSERT INTO companies (id, name, name_key, is_member, created_at)"
    " VALUES (1, '甲', '甲', TRUE, CURRENT_TIMESTAMP)",
    "INSERT INTO users (id, first_name, role, company_id, dialog_data, created_at, updated_at)"
    " VALUES (5, 'a', 'member', 1, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO questions (id, user_id, chat_id, text, lang, action, score, created_at)"
    " VALUES (1, 5, 5, '商标', 'zh', 'fallback', 0, CURRENT_TIMESTAMP)",
    "INSERT INTO faq_views (user_id, faq_id, question_id, source, lang, created_at)"
    " VALUES (5, 'tm-register', 1, 'answer', 'zh', CURRENT_TIMESTAMP)",
    "INSERT INTO tickets (id, number, year, seq, user_id, company_id, lang, category, question,"
    " status, priority, reopen_count, created_at) VALUES (1, 'IP-2026-0001', 2026, 1, 5, 1,"
    " 'zh', 'trademark', '商标', 'new', 'normal', 0, CURRENT_TIMESTAMP)",
    "INSERT INTO consents (user_id, version, lang, accepted_at)"
    " VALUES (5, '1', 'zh', CURRENT_TIMESTAMP)",
)


async def test_upgrade_keeps_members_and_their_references(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            for statement in ROWS:
                await conn.execute(text(statement))
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE users SET role = 'editor' WHERE id = 5"))
            users = (await conn.execute(text("SELECT id, role, company_id FROM users"))).all()
            tickets = (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar()
            views = (await conn.execute(text("SELECT count(*) FROM faq_views"))).scalar()
            if database_url.startswith("sqlite"):
                broken = (await conn.execute(text("PRAGMA foreign_key_check"))).all()
                assert broken == []
                assert (await conn.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
        assert [tuple(u) for u in users] == [(5, "editor", 1)]
        assert (tickets, views) == (1, 1)
        with pytest.raises(IntegrityError):  # the CHECK constraint still holds
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE users SET role = 'wizard' WHERE id = 5"))
    finally:
        await engine.dispose()


async def test_upgrade_from_the_first_schema_in_one_run(database_url: str) -> None:
    """0002 … 0005 in one transaction (foreign keys cannot be switched off inside it)."""
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            for statement in ROWS[:5]:
                await conn.execute(text(statement))
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE users SET role = 'editor' WHERE id = 5"))
            tickets = (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar()
            if database_url.startswith("sqlite"):
                assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
        assert tickets == 1
    finally:
        await engine.dispose()
