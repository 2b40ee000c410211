"""The shipped service files are valid: the systemd unit passes `systemd-analyze verify`,
the compose file passes the Compose specification's JSON schema (check-jsonschema)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "ipdesk.service"
COMPOSE = ROOT / "deploy" / "compose.yaml"


def _verify_unit(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """systemd-analyze checks that the command exists: point the unit at this checkout."""
    env_file = tmp_path / "ipdesk.env"
    env_file.write_text("", encoding="utf-8")
    text = text.replace(
        "/opt/ipdesk/.venv/bin/ipdesk", str(Path(sys.executable).parent / "ipdesk")
    )
    text = text.replace("/etc/ipdesk/ipdesk.env", str(env_file)).replace("/opt/ipdesk", str(ROOT))
    unit = tmp_path / "ipdesk.service"
    unit.write_text(text, encoding="utf-8")
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    result = _verify_unit(text, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ipdesk.service" not in result.stderr, result.stderr  # no warning about the unit
    for line in ("Restart=on-failure", "RestartPreventExitStatus=2", "StateDirectory=ipdesk"):
        assert line in text
    # The check can fail: a unit whose command does not exist is refused.
    broken = _verify_unit(text.replace("bin/ipdesk run", "bin/no-such-ipdesk run"), tmp_path)
    assert broken.returncode != 0


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_matches_the_compose_specification(tmp_path: Path) -> None:
    result = _check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert data["services"]["bot"]["depends_on"]["db"]["condition"] == "service_healthy"
    # The check can fail: a misspelt key is refused.
    broken = tmp_path / "compose.yaml"
    data["services"]["bot"]["restartt"] = "always"
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert _check_compose(broken).returncode != 0


def test_compose_database_url_is_understood_by_the_bot() -> None:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    url = data["services"]["bot"]["environment"]["DATABASE_URL"]
    password = "Zq3_x-8Kp"  # what `ipdesk secret` prints: URL-safe characters
    settings = load_settings(database_url=url.replace("${POSTGRES_PASSWORD}", password))
    assert settings.database_url == f"postgresql+asyncpg://ipdesk:{password}@db:5432/ipdesk"
