"""Test-only: start a time-machine travel when the interpreter starts.

Python imports ``sitecustomize`` from ``sys.path`` at start-up. The end-to-end tests of the
follow-ups put this directory on the bot process's PYTHONPATH and set

    IPDESK_TEST_TRAVEL_TO=2026-11-30T10:00:00+08:00

so the whole process — ``datetime.now``, ``time.time`` and everything built on them
(services, SQLAlchemy defaults, APScheduler and PTB's JobQueue, log timestamps) — believes
it is that instant, and the clock ticks on from there in real time. ``time.monotonic`` (the
asyncio loop's timers, rate limiters, HTTP timeouts) is deliberately left alone.

Nothing happens without the variable, and nothing of this is in production code.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

VARIABLE = "IPDESK_TEST_TRAVEL_TO"


def _travel(value: str) -> None:
    destination = datetime.fromisoformat(value)
    if destination.tzinfo is None or destination.utcoffset() is None:
        raise SystemExit(f"{VARIABLE}={value!r}: give an offset, e.g. 2026-11-30T10:00:00+08:00")
    import time_machine

    time_machine.travel(destination, tick=True).start()
    print(f"[clock] {VARIABLE}: travelled to {destination.isoformat()}", file=sys.stderr)


_value = os.environ.get(VARIABLE, "").strip()
if _value:
    _travel(_value)
