"""`ipdesk faq export`: stored phrasings into a copy of faq/data/, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.services.faq_export import ExportFailed, export_phrasings, export_to_files
from bot.services.phrasings import PhrasingService, StoredPhrasing
from db.models import Role
from db.session import SessionFactory
from faq.loader import DEFAULT_DIRECTORY, check_knowledge_base, load_knowledge_base
from tests.services import add_user

ADMIN = 1
KB = load_knowledge_base()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


async def test_export_writes_checks_and_then_removes(
    sessions: SessionFactory, database_url: str, data: Path
) -> None:
    await add_user(sessions, ADMIN, Role.ADMIN)
    phrasings = PhrasingService(sessions)
    await phrasings.add(ADMIN, KB, "tm-register", "zh", "咱们那个牌子的事儿到底咋整才好")
    await phrasings.add(ADMIN, KB, "tm-register", "en", "brand thing: how do we sort it out?")
    await phrasings.add(ADMIN, KB, "gen-fees", "zh", "入会要花多少钱呀")
    before = (data / "trademark.yaml").read_text(encoding="utf-8")

    report = await export_phrasings(database_url, data, remove=False)
    assert len(report.written) == 3
    assert report.removed == 0
    assert check_knowledge_base(data) == []
    entry = load_knowledge_base(data).get("tm-register")
    assert entry is not None
    assert entry.questions["zh"][-1] == "咱们那个牌子的事儿到底咋整才好"
    assert entry.questions["en"][-1] == "brand thing: how do we sort it out?"
    after = (data / "trademark.yaml").read_text(encoding="utf-8")
    assert after.count("\n") == before.count("\n") + 2  # two lines added, nothing rewritten
    assert len(await phrasings.all()) == 3  # still served from the database meanwhile

    again = await export_phrasings(database_url, data, remove=True)
    assert (len(again.written), again.present, again.removed) == (0, 3, 3)
    assert (data / "trademark.yaml").read_text(encoding="utf-8") == after
    assert await phrasings.all() == []


def _stored(faq_id: str, text: str, pid: int = 1) -> StoredPhrasing:
    return StoredPhrasing(pid, faq_id, "zh", text, ADMIN, datetime.now(UTC))


def test_phrasings_of_entries_gone_from_the_files_are_reported(data: Path) -> None:
    report, exported = export_to_files(
        [_stored("tm-renamed", "牌子的事儿咋整", 7), _stored("pt-process", "专利咋整呢", 8)], data
    )
    assert exported == [8]
    assert [p.faq_id for p in report.unknown] == ["tm-renamed"]
    assert (
        "not exported: entry 'tm-renamed' no longer exists: [zh] 牌子的事儿咋整" in report.lines()
    )


def test_nothing_is_written_into_a_broken_knowledge_base(data: Path) -> None:
    (data / "general.yaml").write_text("category: general\nentries: [", encoding="utf-8")
    before = (data / "patent.yaml").read_text(encoding="utf-8")
    with pytest.raises(ExportFailed, match="fix them first"):
        export_to_files([_stored("pt-process", "专利咋整呢")], data)
    assert (data / "patent.yaml").read_text(encoding="utf-8") == before


def test_the_command_line(tmp_path: Path, data: Path) -> None:
    db = tmp_path / "db.sqlite3"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
    }

    def ipdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert ipdesk("db", "upgrade").returncode == 0
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "INSERT INTO faq_phrasings (faq_id, lang, text, text_key, added_by)"
            " VALUES ('pt-process', 'zh', '专利那档子事儿咋弄', '专利那档子事儿咋弄', 1)"
        )
    done = ipdesk("faq", "export", "--dir", str(data), "--remove")
    assert done.returncode == 0, done.stderr
    assert "patent.yaml: + pt-process [zh] 专利那档子事儿咋弄" in done.stdout
    assert "1 phrasing(s) written, 0 already in the files" in done.stdout
    assert "1 removed from the database" in done.stdout
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM faq_phrasings").fetchone() == (0,)
        assert conn.execute("SELECT phrasings_version FROM faq_state").fetchone() == (1,)
    assert ipdesk("faq", "check", "--dir", str(data)).returncode == 0
