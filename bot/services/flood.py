"""Per-user rate limit: a sliding window kept in memory (it protects this process only)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

SWEEP_EVERY = 1000


class FloodGuard:
    def __init__(
        self,
        max_messages: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_messages
        self._window = window_seconds
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._checks = 0

    def check(self, user_id: int) -> tuple[bool, bool]:
        """Return (allowed, warn): warn is True once per burst so the notice isn't spammed."""
        self._checks += 1
        if self._checks % SWEEP_EVERY == 0:
            self.forget_idle()  # otherwise every member ever seen stays in memory
        now = self._clock()
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] > self._window:
            stamps.popleft()
        if len(stamps) < self._max:
            stamps.append(now)
            self._warned.pop(user_id, None)
            return True, False
        warned_at = self._warned.get(user_id)
        if warned_at is None or now - warned_at > self._window:
            self._warned[user_id] = now
            return False, True
        return False, False

    def forget_idle(self) -> None:
        """Drop users with no recent messages so the dict doesn't grow without bound."""
        now = self._clock()
        idle = [u for u, s in self._seen.items() if not s or now - s[-1] > self._window]
        for user_id in idle:
            self._seen.pop(user_id, None)
            self._warned.pop(user_id, None)
