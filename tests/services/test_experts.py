"""The expert roster: file validation, idempotent import, admin management."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.services.errors import NotAllowed, NotFound
from bot.services.experts import (
    ExpertConflict,
    ExpertService,
    RosterError,
    load_roster_file,
    parse_roster,
)
from bot.services.roles import RoleService
from db.models import Role
from db.session import SessionFactory
from tests.services import add_user, spec

EXAMPLE = Path(__file__).parents[1] / "data" / "experts.example.yaml"


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": "zhang-wei",
        "telegram_user_id": 700001,
        "name": {"zh": "张伟", "en": "Zhang Wei"},
        "categories": ["trademark"],
        "languages": ["zh"],
    }
    for name, value in changes.items():
        if value is None:
            entry.pop(name, None)
        else:
            entry[name] = value
    return entry


def test_the_example_roster_is_valid() -> None:
    specs = load_roster_file(EXAMPLE)
    assert [s.key for s in specs] == ["zhang-wei", "li-na", "chen-jie"]
    zhang = specs[0]
    assert (zhang.user_id, zhang.max_open, zhang.active) == (700001, 8, True)
    assert zhang.categories == ("trademark", "infringement")
    assert zhang.languages == ("zh", "en")
    assert zhang.title_en == "Attorney and trademark agent"
    assert specs[1].languages == ("zh",)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"key": "Zhang Wei"}, 'entry 1 (key "Zhang Wei"): key: required'),
        ({"telegram_user_id": None}, 'entry 1 (key "zhang-wei"): telegram_user_id: required'),
        ({"telegram_user_id": "@zhang"}, "telegram_user_id: required"),
        ({"name": {"zh": "张伟"}}, "name.en: missing"),
        ({"name": "张伟"}, "name: must be a mapping"),
        ({"categories": ["tradmark"]}, "categories: unknown value 'tradmark'"),
        ({"categories": []}, "categories: must be a non-empty list"),
        ({"languages": ["fr"]}, "languages: unknown value 'fr'"),
        ({"max_open_tickets": 0}, "max_open_tickets: a whole number from 1 to 100"),
        ({"max_open_tickets": "five"}, "max_open_tickets"),
        ({"active": "yes"}, "active: true or false"),
        ({"catagories": ["patent"]}, "unknown field catagories"),
        ({"title": {"zh": "律师", "fr": "avocat"}}, "title: unknown language fr"),
    ],
)
def test_bad_entries_are_named(changes: dict[str, Any], expected: str) -> None:
    good = _entry(key="li-na", telegram_user_id=2)
    with pytest.raises(RosterError) as refused:
        parse_roster({"experts": [_entry(**changes), good]}, "experts.yaml")
    problems = refused.value.problems
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("experts.yaml: entry 1") for p in problems), problems


def test_duplicates_in_the_file_are_reported() -> None:
    entries = [_entry(), _entry(telegram_user_id=5), _entry(key="li-na")]
    with pytest.raises(RosterError) as refused:
        parse_roster({"experts": entries}, "x.yaml")
    assert refused.value.problems == (
        'x.yaml: entry 2 (key "zhang-wei"): key already used by entry 1',
        'x.yaml: entry 3 (key "li-na"): telegram_user_id already used by entry 1',
    )


def test_unreadable_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("experts:\n  - key: [unclosed\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"broken\.yaml: not valid YAML at line"):
        load_roster_file(broken)
    empty = tmp_path / "empty.yaml"
    empty.write_text("experts: []\n", encoding="utf-8")
    with pytest.raises(RosterError, match="at least one entry"):
        load_roster_file(empty)


async def test_import_is_idempotent_and_updates_by_key(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    experts = ExpertService(sessions)
    first = await experts.import_roster(load_roster_file(EXAMPLE))
    assert first.created == ("zhang-wei", "li-na", "chen-jie")
    again = await experts.import_roster(load_roster_file(EXAMPLE))
    assert (again.created, again.updated) == ((), ())
    assert again.unchanged == ("zhang-wei", "li-na", "chen-jie")
    assert len(await experts.list()) == 3

    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["experts"][1]["max_open_tickets"] = 2
    del data["experts"][2]
    edited = tmp_path / "experts.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    third = await experts.import_roster(load_roster_file(edited))
    assert third.updated == ("li-na",)
    assert third.not_in_file == ("chen-jie",)
    assert (await experts.get("li-na")).max_open == 2
    assert (await experts.get("chen-jie")).active  # left as it was


async def test_import_gives_the_expert_role_without_demoting_staff(
    sessions: SessionFactory,
) -> None:
    await add_user(sessions, 700003, Role.STAFF)
    await ExpertService(sessions).import_roster(load_roster_file(EXAMPLE))
    roles = RoleService(sessions)
    assert await roles.role_of(700001) is Role.EXPERT
    assert await roles.role_of(700003) is Role.STAFF


async def test_a_telegram_id_cannot_belong_to_two_experts(sessions: SessionFactory) -> None:
    experts = ExpertService(sessions)
    await experts.import_roster([spec("wang", 10)])
    with pytest.raises(RosterError, match='already belongs to expert "wang"'):
        await experts.import_roster([spec("zhao", 10)])
    assert [e.key for e in await experts.list()] == ["wang"]
    # Moving an id between two keys in the same file is fine.
    await experts.import_roster([spec("wang", 11), spec("zhao", 10)])
    assert (await experts.get_by_user_id(10)) is not None
    assert (await experts.get("zhao")).user_id == 10
    assert (await experts.get("wang")).user_id == 11


async def test_admins_manage_the_roster(sessions: SessionFactory) -> None:
    experts = ExpertService(sessions)
    await RoleService(sessions).ensure_admins([1])
    await add_user(sessions, 2, Role.STAFF)
    with pytest.raises(NotAllowed):
        await experts.add(2, spec("wang", 10))
    added = await experts.add(1, spec("wang", 10, languages=("zh", "en")))
    assert added.name("en") == "Expert wang"
    assert added.title("zh") == "律师"
    with pytest.raises(ExpertConflict) as conflict:
        await experts.add(1, spec("wang", 11))
    assert conflict.value.reason == "key_taken"
    with pytest.raises(ExpertConflict) as conflict:
        await experts.add(1, spec("zhao", 10))
    assert conflict.value.reason == "user_taken"

    with pytest.raises(NotAllowed):
        await experts.deactivate(2, "wang")
    assert not (await experts.deactivate(1, "wang")).active
    assert await experts.list(active_only=True) == []
    assert (await experts.activate(1, str(added.id))).active  # by id as typed
    assert (await experts.deactivate(1, 10)).key == "wang"  # by Telegram id
    with pytest.raises(NotFound):
        await experts.deactivate(1, "nobody")
    assert await experts.get_by_user_id(10) is not None
    assert await experts.get_by_user_id(11) is None
    assert await experts.open_ticket_counts() == {added.id: 0}
