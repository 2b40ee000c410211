"""Start-up failures: one line naming the cause and the variable, exit 2, no secret shown.

Each case runs `ipdesk` as a person would: a fresh process configured by its environment.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.settings import SettingsError, load_settings
from bot.startup import RedactingFormatter, redact
from tests.support.botproc import ROOT, free_port

TOKEN = "123456:SECRETtokenSECRETtokenSECRET"


def ipdesk(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_failure_line(result: subprocess.CompletedProcess[str]) -> str:
    """The process failed with status 2 and told why in exactly one `ipdesk:` line."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    assert "SECRETtoken" not in output, output
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("ipdesk: ") and not line.startswith("ipdesk: database: ")
    ]
    assert len(lines) == 1, output
    return lines[0]


@pytest.fixture(scope="module")
def emulator_with_other_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator that accepts one token only: ours is then rejected like Telegram does."""
    port = free_port()
    log = (tmp_path_factory.mktemp("emu") / "emu.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.emulator", "--port", str(port), "--token", "9:other"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    assert process.stdout is not None
    process.stdout.readline()  # the first line is printed once it serves
    yield f"http://127.0.0.1:{port}/bot"
    process.terminate()
    process.wait(10)
    process.stdout.close()
    log.close()


def test_rejected_token_is_one_line_without_the_token(
    tmp_path: Path, emulator_with_other_token: str
) -> None:
    line = one_failure_line(
        ipdesk(tmp_path, "run", TELEGRAM_API_BASE_URL=emulator_with_other_token)
    )
    assert "TELEGRAM_BOT_TOKEN" in line
    assert "rejected" in line


def test_unreachable_telegram_is_one_line_naming_the_proxy_setting(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/bot"
    line = one_failure_line(ipdesk(tmp_path, "run", TELEGRAM_API_BASE_URL=closed))
    assert "Telegram is unreachable" in line
    assert "TELEGRAM_PROXY" in line


def test_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://ipdesk:pa%40ss@127.0.0.1:{free_port()}/ipdesk"
    line = one_failure_line(ipdesk(tmp_path, "run", DATABASE_URL=url))
    assert "DATABASE_URL" in line
    assert "unreachable" in line
    assert "pa@ss" not in line
    assert "pa%40ss" not in line


def test_unwritable_data_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = ipdesk(tmp_path, "run", DATABASE_URL=f"sqlite:///{blocker}/sub/ipdesk.sqlite3")
    assert "data folder" in one_failure_line(result)


@pytest.mark.postgres
def test_missing_database_and_unknown_role_are_named(
    tmp_path: Path, postgres_admin_url: str
) -> None:
    admin = make_url(postgres_admin_url)
    missing = admin.set(database="no_such_db").render_as_string(hide_password=False)
    line = one_failure_line(ipdesk(tmp_path, "run", DATABASE_URL=missing))
    assert "'no_such_db' does not exist" in line
    stranger = admin.set(username="nobody_here", password="pw-secret-1").render_as_string(
        hide_password=False
    )
    line = one_failure_line(ipdesk(tmp_path, "db", "upgrade", DATABASE_URL=stranger))
    assert "DATABASE_URL" in line
    assert "pw-secret-1" not in line


@pytest.mark.postgres
def test_postgresql_url_with_percent_escaped_password_migrates(
    tmp_path: Path, postgres_admin_url: str
) -> None:
    """`postgresql://` (no driver) and `%40` in the password both work (trust auth here)."""
    admin = make_url(postgres_admin_url)
    url = f"postgresql://{admin.username}:p%40ss%25w@{admin.host}:{admin.port}/{admin.database}"
    result = ipdesk(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    assert f"ipdesk: database: PostgreSQL postgresql://{admin.username}:***@" in result.stderr


def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    result = ipdesk(tmp_path, "run", WEBHOOK_URL="https://bot.example.org/hook")
    line = one_failure_line(result)
    assert "WEBHOOK_SECRET" in line
    weak = ipdesk(tmp_path, "run", WEBHOOK_URL="https://x.org/h", WEBHOOK_SECRET="short")
    assert "WEBHOOK_SECRET" in one_failure_line(weak)


def test_secret_command_prints_an_acceptable_webhook_secret(tmp_path: Path) -> None:
    result = ipdesk(tmp_path, "secret")
    assert result.returncode == 0
    secret = result.stdout.strip()
    assert load_settings(webhook_url="https://x.org/h", webhook_secret=secret).webhook_secret


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u:p%40x@h:5433/db", "postgresql+asyncpg://u:p%40x@h:5433/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:////srv/ipdesk/db.sqlite3", "sqlite+aiosqlite:////srv/ipdesk/db.sqlite3"),
    ],
)
def test_database_urls_people_paste_are_mapped_to_async_drivers(given: str, expected: str) -> None:
    assert load_settings(database_url=given).database_url == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "not a url", "postgresql://u@h:port/db"])
def test_bad_database_url_names_the_variable(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: "):
        load_settings(database_url=bad)


def test_formatter_masks_secrets_in_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", [TOKEN, "dbpassword"])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "crash with %s", ("dbpassword",), sys.exc_info()
        )
    text = formatter.format(record)
    assert "SECRETtoken" not in text
    assert "dbpassword" not in text
    assert text.count("***") >= 2
    # Any token-shaped string is masked even if it is not the configured one.
    assert redact("bot987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/x", []) == "bot***/x"


def test_requests_go_through_telegram_proxy(tmp_path: Path) -> None:
    """A bare HTTP proxy that records the request line and hangs up: the bot's getMe went
    through it, and the failure names TELEGRAM_PROXY without its password."""
    seen: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                seen.append(conn.recv(65536).split(b"\r\n", 1)[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    result = ipdesk(
        tmp_path,
        "run",
        TELEGRAM_API_BASE_URL="http://telegram.invalid/bot",
        TELEGRAM_PROXY=f"http://proxyuser:proxy-pass-9@127.0.0.1:{port}",
    )
    thread.join(10)
    line = one_failure_line(result)
    assert "TELEGRAM_PROXY" in line
    assert "proxy-pass-9" not in result.stdout + result.stderr
    assert seen
    assert seen[0].startswith(b"POST http://telegram.invalid/bot")
    assert seen[0].endswith(b"/getMe HTTP/1.1")


def test_a_crash_is_logged_with_its_traceback_and_without_the_token(tmp_path: Path) -> None:
    """An unexpected error while serving: the traceback is logged (to find the bug), every
    secret in it masked, exit status 1."""
    script = (
        "import sys\n"
        "import bot.runner as runner\n"
        "from bot.settings import load_settings\n"
        "def boom(settings):\n"
        "    token = settings.telegram_bot_token.get_secret_value()\n"
        "    raise RuntimeError(f'POST https://api.telegram.org/bot{token}/getMe exploded')\n"
        "runner._serve = boom\n"
        "sys.exit(runner.run(load_settings()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "ipdesk stopped after an unexpected error" in output
    assert "Traceback" in output
    assert "RuntimeError: POST https://api.telegram.org/bot***/getMe exploded" in output
    assert "SECRETtoken" not in output
