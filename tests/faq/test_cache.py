from __future__ import annotations

from pathlib import Path

from bot.knowledge import build_engine
from bot.settings import Settings
from faq.cache import cache_key, load_or_build


class Builds:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> dict[str, int]:
        self.count += 1
        return {"built": self.count}


def test_second_load_reads_the_file(tmp_path: Path) -> None:
    build = Builds()
    assert load_or_build(tmp_path, "k1", build) == {"built": 1}
    assert load_or_build(tmp_path, "k1", build) == {"built": 1}
    assert build.count == 1


def test_a_new_key_rebuilds_and_replaces_the_old_file(tmp_path: Path) -> None:
    build = Builds()
    load_or_build(tmp_path, "k1", build)
    assert load_or_build(tmp_path, "k2", build) == {"built": 2}
    assert [p.name for p in tmp_path.glob("engine-*")] == ["engine-k2.pickle"]


def test_an_unreadable_file_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "engine-k1.pickle").write_bytes(b"not a pickle")
    build = Builds()
    assert load_or_build(tmp_path, "k1", build) == {"built": 1}
    assert load_or_build(tmp_path, "k1", build) == {"built": 1}


def test_a_read_only_home_works_without_the_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")  # a file where the cache directory should be
    build = Builds()
    assert load_or_build(blocked / "cache", "k1", build) == {"built": 1}
    assert load_or_build(blocked / "cache", "k1", build) == {"built": 2}


def test_the_key_follows_every_source_file_and_setting(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    rules = tmp_path / "rules" / "signals.yaml"
    rules.write_text("a: 1\n")
    first = cache_key("limits", directories=(tmp_path,))
    assert cache_key("limits", directories=(tmp_path,)) == first
    assert cache_key("other limits", directories=(tmp_path,)) != first
    rules.write_text("a: 2\n")
    assert cache_key("limits", directories=(tmp_path,)) != first


def test_a_cached_engine_decides_as_a_built_one(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, ipdesk_home=tmp_path)  # type: ignore[call-arg]
    built = build_engine(settings)
    assert list((tmp_path / "cache").glob("engine-*.pickle"))
    loaded = build_engine(settings)
    assert loaded is not built
    for text in ("商标注册后能用多少年", "we got sued by a competitor", "你好"):
        assert loaded.triage(text) == built.triage(text)


def test_changed_office_details_are_not_served_from_an_old_cache(tmp_path: Path) -> None:
    first = Settings(_env_file=None, ipdesk_home=tmp_path, office_phone="0574-1111")  # type: ignore[call-arg]
    second = Settings(_env_file=None, ipdesk_home=tmp_path, office_phone="0574-2222")  # type: ignore[call-arg]
    build_engine(first)
    engine = build_engine(second)
    assert "0574-2222" in engine.render_answer("gen-contact", "en")
