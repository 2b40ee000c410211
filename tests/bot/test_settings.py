"""Settings: defaults, parsing, and one clear line naming a bad variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

VARS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_API_FILE_URL",
    "DATABASE_URL",
    "STAFF_CHAT_ID",
    "ADMIN_USER_IDS",
    "TIMEZONE",
    "MATCH_ANSWER_THRESHOLD",
    "MATCH_SUGGEST_THRESHOLD",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "IPDESK_HOME",
    "XDG_DATA_HOME",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_need_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = load_settings()
    default = tmp_path / "home" / ".local" / "share" / "ipdesk" / "ipdesk.sqlite3"
    assert settings.database_url == f"sqlite+aiosqlite:///{default}"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.telegram_bot_token is None
    assert settings.file_base_url is None
    assert settings.admin_user_ids == []


def test_file_url_derived_from_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot")
    assert load_settings().file_base_url == "http://127.0.0.1:8081/file/bot"
    monkeypatch.setenv("TELEGRAM_API_FILE_URL", "http://files.local/file/bot")
    assert load_settings().file_base_url == "http://files.local/file/bot"


def test_admin_ids_accept_commas_and_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USER_IDS", "11, 22 33")
    assert load_settings().admin_user_ids == [11, 22, 33]


def test_token_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:SECRET")
    settings = load_settings()
    assert "SECRET" not in repr(settings)
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:SECRET"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STAFF_CHAT_ID=-100123\nTIMEZONE=Europe/Berlin\n")
    settings = load_settings()
    assert settings.staff_chat_id == -100123
    assert settings.timezone == "Europe/Berlin"


def test_empty_values_fall_back_to_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_CHAT_ID", "")
    assert load_settings().staff_chat_id is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("STAFF_CHAT_ID", "the staff group"),
        ("ADMIN_USER_IDS", "alice,bob"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("TELEGRAM_API_BASE_URL", "not a url"),
        ("MATCH_ANSWER_THRESHOLD", "150"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(name + ":")
    assert "\n" not in str(info.value)


def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TIMEZONE": "Nowhere/Land", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "faq", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


def test_default_database_follows_ipdesk_home_not_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "data"
    monkeypatch.setenv("IPDESK_HOME", str(home))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = load_settings()
    assert settings.sqlite_path() == home / "ipdesk.sqlite3"
    assert settings.backup_directory == home / "backups"
    # A relative SQLite path is made absolute once, at start-up.
    monkeypatch.setenv("DATABASE_URL", "sqlite:///rel/db.sqlite3")
    assert load_settings().sqlite_path() == tmp_path / "elsewhere" / "rel" / "db.sqlite3"


def test_env_file_in_ipdesk_home_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir()
    (home / ".env").write_text("STAFF_CHAT_ID=-100123\n", encoding="utf-8")
    monkeypatch.setenv("IPDESK_HOME", str(home))
    assert load_settings().staff_chat_id == -100123


def test_unset_office_details_are_named() -> None:
    assert load_settings(_env_file=None).unset_office_details() == [
        "OFFICE_PHONE",
        "OFFICE_EMAIL",
        "OFFICE_ADDRESS_ZH",
        "OFFICE_ADDRESS_EN",
    ]
    filled = load_settings(
        _env_file=None,
        office_phone="0574-1",
        office_email="a@b.c",
        office_address_zh="宁波",
        office_address_en="Ningbo",
    )
    assert filled.unset_office_details() == []
