"""A database error while saving a member's profile shows the statement, never the values."""

from __future__ import annotations

import logging
import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.companies import CompanyService
from db.session import SessionFactory
from tests.services import add_user

NAME = "王小明"
PHONE = "13812345678"


async def _break_user_updates(engine: AsyncEngine) -> None:
    """Every UPDATE of users fails inside the database, as a full disk or a lost lock would."""
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(
                text(
                    "CREATE TRIGGER users_broken BEFORE UPDATE ON users "
                    "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION users_broken() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'simulated failure'; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER users_broken BEFORE UPDATE ON users "
                    "FOR EACH ROW EXECUTE FUNCTION users_broken()"
                )
            )


async def test_profile_save_failure_logs_no_name_or_phone(
    engine: AsyncEngine, sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await add_user(sessions, 4242)
    await _break_user_updates(engine)
    companies = CompanyService(sessions)
    with pytest.raises(SQLAlchemyError) as caught:
        await companies.save_profile(4242, NAME, PHONE)
    # What the error handler does with an unexpected exception: log it with its traceback.
    with caplog.at_level(logging.ERROR):
        logging.getLogger("handlers.errors").error("update failed", exc_info=caught.value)
    logged = caplog.text + "".join(traceback.format_exception(caught.value))
    assert "simulated failure" in logged
    assert "UPDATE users" in logged  # the statement is there to debug with ...
    assert "parameters hidden" in logged.lower()  # ... its values are not
    assert NAME not in logged
    assert PHONE not in logged
