"""End-to-end fixtures: one emulator and one real bot process per test module."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.emulator.client import EmulatorClient
from tests.support.botproc import BotProcess, Emulator, wait_for_call

STAFF_CHAT_ID = -1002000000001
ADMIN_ID = 900001
_user_ids = itertools.count(700001)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator.start(tmp_path_factory.mktemp("emu"))
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def bot(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The real bot, started like production: `ipdesk run` with settings from its environment."""
    workdir = tmp_path_factory.mktemp("bot")
    proc = BotProcess.configure(
        workdir,
        emulator,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        ADMIN_USER_IDS=str(ADMIN_ID),
        FLOOD_MAX_MESSAGES="8",
        FLOOD_WINDOW_SECONDS="10",
    )
    proc.start()
    wait_until_polling(emulator)
    yield proc
    code = proc.stop()
    assert code == 0, proc.log()[-3000:]
    assert "Traceback" not in proc.log(), proc.log()[-3000:]


def wait_until_polling(emulator: Emulator, timeout: float = 60) -> None:
    """The bot is ready once it has set its command menu and asked for updates."""
    wait_for_call(emulator, "getUpdates", deadline=time.monotonic() + timeout)


@pytest.fixture
async def client(emulator: Emulator, bot: BotProcess) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.base_url) as c:
        yield c


@pytest.fixture
def new_user_id() -> int:
    return next(_user_ids)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent.name == "e2e":
            item.add_marker(pytest.mark.e2e)
