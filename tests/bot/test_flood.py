from __future__ import annotations

from bot.services.flood import SWEEP_EVERY, FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_limit_then_warns_once() -> None:
    clock = Clock()
    guard = FloodGuard(3, 10.0, clock)
    assert [guard.check(1) for _ in range(3)] == [(True, False)] * 3
    assert guard.check(1) == (False, True)
    assert guard.check(1) == (False, False)
    assert guard.check(2) == (True, False)  # others are unaffected


def test_window_slides() -> None:
    clock = Clock()
    guard = FloodGuard(2, 5.0, clock)
    guard.check(1)
    guard.check(1)
    assert guard.check(1)[0] is False
    clock.now = 5.5
    assert guard.check(1) == (True, False)


def test_forget_idle_drops_quiet_users() -> None:
    clock = Clock()
    guard = FloodGuard(2, 5.0, clock)
    guard.check(1)
    clock.now = 100
    guard.forget_idle()
    assert guard._seen == {}


def test_idle_users_are_swept_as_checks_go_by() -> None:
    clock = Clock()
    guard = FloodGuard(2, 5.0, clock)
    for user_id in range(SWEEP_EVERY - 1):
        guard.check(user_id)
    clock.now = 100
    guard.check(-1)  # the SWEEP_EVERY-th check sweeps before recording this one
    assert set(guard._seen) == {-1}
