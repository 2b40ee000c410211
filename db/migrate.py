"""Apply Alembic migrations programmatically (used by `ipdesk db upgrade` and at start-up)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The value goes through configparser interpolation: a %-escaped password (%40 for @)
    # must reach Alembic as %%40.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Blocking upgrade for the command line (owns its event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade inside a running event loop, on a connection of `engine`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def _go(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_go)


async def upgrade_url(url: str, revision: str = "head") -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


def main(url: str) -> None:
    asyncio.run(upgrade_url(url))
