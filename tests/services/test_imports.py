"""The command-line import entry points, against a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.imports import (
    ImportFailed,
    import_experts,
    import_experts_file,
    import_members,
    import_members_file,
)
from bot.settings import Settings

DATA = Path(__file__).parents[1] / "data"


async def test_imports_on_each_backend(database_url: str) -> None:
    report = await import_experts(database_url, DATA / "experts.example.yaml")
    assert report == "experts: 3 added, 0 updated, 0 unchanged"
    again = await import_experts(database_url, DATA / "experts.example.yaml")
    assert again == "experts: 0 added, 0 updated, 3 unchanged"
    members = await import_members(database_url, DATA / "members.example.csv")
    assert members == "companies: 4 added, 0 updated, 0 unchanged, 0 bad row(s)"


def test_command_line_entry_points(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    assert import_experts_file(settings, DATA / "experts.example.yaml").startswith(
        "experts: 3 added"
    )
    bad_roster = tmp_path / "experts.yaml"
    bad_roster.write_text(
        "experts:\n  - key: x1\n    telegram_user_id: 5\n    name: {zh: 甲}\n"
        "    categories: [trademark]\n    languages: [zh]\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed, match=r'experts.yaml: entry 1 \(key "x1"\): name.en'):
        import_experts_file(settings, bad_roster)

    members = tmp_path / "members.csv"
    members.write_text("name,member_no\n甬兴电器,A1\n,A2\n", encoding="utf-8")
    report = import_members_file(settings, members)
    assert report.splitlines() == [
        "companies: 1 added, 0 updated, 0 unchanged, 1 bad row(s)",
        "line 3: the company name is empty",
    ]
    headerless = tmp_path / "bad.csv"
    headerless.write_text("甬兴电器,A1\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="member_no"):
        import_members_file(settings, headerless)
    with pytest.raises(ImportFailed, match="cannot read"):
        import_members_file(settings, tmp_path / "missing.csv")
