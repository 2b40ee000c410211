"""The bot's connection pool holds a connection for every update slot (bot/app.py): a busy
bot must not open and close a database connection per message."""

from __future__ import annotations

from pathlib import Path

from bot.app import POOL_SPARE, pool_options
from bot.settings import load_settings
from db.session import make_engine


async def test_every_update_slot_keeps_its_pooled_connection(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}",
        concurrent_updates=12,
    )
    engine = make_engine(settings.database_url, **pool_options(settings))
    try:
        assert engine.pool.size() == 12 + POOL_SPARE  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


def test_an_in_memory_database_keeps_its_single_connection() -> None:
    settings = load_settings(_env_file=None, database_url="sqlite+aiosqlite:///:memory:")
    assert pool_options(settings) == {}
