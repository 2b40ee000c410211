"""`ipdesk run` picks its event loop from EVENT_LOOP (bot/runner.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.runner import use_event_loop
from bot.settings import load_settings


@pytest.fixture
def restore_loop() -> Iterator[None]:
    yield
    loop = asyncio.get_event_loop_policy().get_event_loop()
    asyncio.set_event_loop(None)
    loop.close()


def test_uvloop_is_the_default_and_is_used(restore_loop: None) -> None:
    uvloop = pytest.importorskip("uvloop")
    assert load_settings(_env_file=None).event_loop == "uvloop"
    assert use_event_loop("uvloop") == "uvloop"
    assert isinstance(asyncio.get_event_loop_policy().get_event_loop(), uvloop.Loop)


def test_the_standard_loop_on_request(restore_loop: None) -> None:
    assert use_event_loop("asyncio") == "asyncio"
    loop = asyncio.get_event_loop_policy().get_event_loop()
    assert type(loop).__module__.startswith("asyncio")
