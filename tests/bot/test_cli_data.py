"""One database wherever you stand; backups and restores from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.botproc import ROOT

DATA = ROOT / "tests" / "data"


def ipdesk(cwd: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ipdesk` as the secretariat runs it: HOME set, no DATABASE_URL, any folder."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "PYTHONPATH": str(ROOT),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_same_database_from_any_folder_and_it_says_which(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = tmp_path / "a", tmp_path / "b" / "deeper"
    first.mkdir()
    second.mkdir(parents=True)
    expected = home / ".local" / "share" / "ipdesk" / "ipdesk.sqlite3"

    added = ipdesk(first, home, "experts", "import", str(DATA / "experts.example.yaml"))
    assert added.returncode == 0, added.stderr
    assert added.stderr.splitlines()[0] == f"ipdesk: database: SQLite {expected}"
    assert added.stdout.startswith("experts: 3 added")
    again = ipdesk(second, home, "experts", "import", str(DATA / "experts.example.yaml"))
    assert again.stderr.splitlines()[0] == f"ipdesk: database: SQLite {expected}"
    assert "3 added" not in again.stdout  # the same database: nothing new
    assert not (first / "var").exists()
    assert not (second / "var").exists()

    # IPDESK_HOME moves it, wherever you stand.
    elsewhere = tmp_path / "srv"
    moved = ipdesk(second, home, "db", "upgrade", IPDESK_HOME=str(elsewhere))
    assert moved.returncode == 0, moved.stderr
    assert moved.stderr.splitlines()[0] == (
        f"ipdesk: database: SQLite {elsewhere / 'ipdesk.sqlite3'}"
    )


def test_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"IPDESK_HOME": str(tmp_path / "data")}
    roster = str(DATA / "experts.example.yaml")
    assert ipdesk(tmp_path, home, "experts", "import", roster, **env).returncode == 0
    made = ipdesk(tmp_path, home, "db", "backup", **env)
    assert made.returncode == 0, made.stderr
    [written] = list((tmp_path / "data" / "backups").glob("ipdesk-*.sqlite3"))
    assert made.stdout.startswith(f"backup written: {written}")

    other = {"IPDESK_HOME": str(tmp_path / "other")}
    restored = ipdesk(tmp_path, home, "db", "restore", str(written), **other)
    assert restored.returncode == 0, restored.stderr
    check = ipdesk(
        tmp_path, home, "experts", "import", str(DATA / "experts.example.yaml"), **other
    )
    assert "3 added" not in check.stdout  # the roster came back with the restore

    refused = ipdesk(tmp_path, home, "db", "restore", str(written), **other)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    assert "--force" in refused.stderr
    forced = ipdesk(tmp_path, home, "db", "restore", "--force", str(written), **other)
    assert forced.returncode == 0, forced.stderr
