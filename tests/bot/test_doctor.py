"""`ipdesk doctor` against the emulator: what is right, what to fix, exit status."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator.client import EmulatorClient
from tests.support.botproc import BOT_TOKEN, ROOT, Emulator

GROUP = -1003000000001
BOT_NOT_ADMIN = -1003000000002
ADMIN = 930001


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator.start(tmp_path_factory.mktemp("emu"))
    yield emu
    emu.stop()


async def _groups(base_url: str) -> None:
    async with EmulatorClient(base_url) as client:
        await client.create_user(ADMIN, "管理员", language_code="zh-hans")
        await client.create_group(
            "协会秘书处", chat_id=GROUP, member_ids=[ADMIN], creator_id=ADMIN
        )
        await client.add_bot_to_group(GROUP, ADMIN, as_admin=True)
        await client.create_group(
            "另一个群", chat_id=BOT_NOT_ADMIN, member_ids=[ADMIN], creator_id=ADMIN
        )
        await client.add_bot_to_group(BOT_NOT_ADMIN, ADMIN)


@pytest.fixture(scope="module")
def groups(emulator: Emulator) -> None:
    asyncio.run(_groups(emulator.base_url))


def doctor(tmp_path: Path, emulator: Emulator, *args: str, **env: str) -> tuple[int, str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": f"{emulator.base_url}/bot",
        "IPDESK_HOME": str(tmp_path / "data"),
        "STAFF_CHAT_ID": str(GROUP),
        "ADMIN_USER_IDS": str(ADMIN),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.usefixtures("groups")
def test_doctor_passes_a_good_configuration_and_warns_about_placeholders(
    tmp_path: Path, emulator: Emulator
) -> None:
    assert doctor(tmp_path, emulator, "db", "upgrade")[0] == 0
    code, out = doctor(tmp_path, emulator, "doctor")
    assert code == 0, out
    for line in (
        "✔ token: accepted: the bot is @ipdesk_test_bot",
        "✔ staff group: «协会秘书处», the bot is an administrator",
        f"✔ admins: {ADMIN}",
        "✔ migrations: up to date",
        f"✔ backups: {tmp_path / 'data' / 'backups'} is writable",
        "! office details: OFFICE_PHONE, OFFICE_EMAIL, OFFICE_ADDRESS_ZH, OFFICE_ADDRESS_EN",
    ):
        assert line in out, out
    assert "SQLite" in out
    assert "E2E-TEST-TOKEN" not in out
    filled = doctor(
        tmp_path,
        emulator,
        "doctor",
        OFFICE_PHONE="0574-87000000",
        OFFICE_EMAIL="ip@example.org",
        OFFICE_ADDRESS_ZH="宁波市",
        OFFICE_ADDRESS_EN="Ningbo",
    )
    assert "✔ office details: set" in filled[1]
    assert "\nall checks passed\n" in filled[1]


@pytest.mark.usefixtures("groups")
def test_doctor_says_what_to_fix(tmp_path: Path, emulator: Emulator) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    code, out = doctor(
        tmp_path,
        emulator,
        "doctor",
        STAFF_CHAT_ID=str(BOT_NOT_ADMIN),
        ADMIN_USER_IDS="",
        BACKUP_DIR=str(blocker / "backups"),
    )
    assert code == 1, out
    for line in (
        "✘ staff group: the bot is in «另一个群» but not an administrator: make it one",
        "! admins: ADMIN_USER_IDS is empty",
        "✘ migrations: at none, code expects",
        "run `ipdesk db upgrade`",
        "✘ backups:",
    ):
        assert line in out, out
    code, out = doctor(tmp_path, emulator, "doctor", STAFF_CHAT_ID="-1009999")
    assert "✘ staff group: -1009999 cannot be reached" in out
    code, out = doctor(
        tmp_path, emulator, "doctor", TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot"
    )
    assert code == 1
    assert "✘ telegram: unreachable" in out
    assert "TELEGRAM_PROXY" in out
