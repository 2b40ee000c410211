"""The /mydata and /forget flow and blocking end to end on PostgreSQL (production's
database): the same tests as tests/e2e/test_privacy.py, run against a bot of this module."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN_ID, STAFF_CHAT_ID, wait_until_polling
from tests.e2e.test_escalation import build_world, import_roster_and_members
from tests.e2e.test_privacy import (
    test_mydata_then_forget_closes_tickets_and_tells_the_expert as test_forget_on_postgresql,
)
from tests.e2e.test_privacy import (
    test_nothing_is_collected_before_the_member_agrees as test_consent_on_postgresql,
)
from tests.support.botproc import BotProcess, Emulator
from tests.support.postgres import create_database

pytestmark = pytest.mark.postgres

__all__ = ["test_consent_on_postgresql", "test_forget_on_postgresql"]


@pytest.fixture(scope="module")
def bot(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> Iterator[BotProcess]:
    url = asyncio.run(create_database(postgres_admin_url, f"e2e_privacy_{os.getpid()}"))
    proc = BotProcess.configure(
        tmp_path_factory.mktemp("privacy-pg"),
        emulator,
        DATABASE_URL=url,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        FLOOD_MAX_MESSAGES="60",
        FLOOD_WINDOW_SECONDS="10",
    )
    import_roster_and_members(proc)
    proc.start()
    wait_until_polling(emulator)
    asyncio.run(build_world(emulator.base_url))
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]
    log = proc.log()
    assert "Traceback" not in log, log[-5000:]
    assert "13900001111" not in log
