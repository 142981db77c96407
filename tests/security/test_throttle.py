"""LoginThrottle: free attempts, then a doubling wait per user name, cleared by success or time."""

from __future__ import annotations

from support.clock import Clock
from wadows.security.throttle import LoginThrottle


def test_free_attempts_then_a_doubling_wait_up_to_the_cap():
    clock = Clock()
    t = LoginThrottle(free_attempts=3, max_wait=10, clock=clock)
    waits = []
    for _ in range(8):
        waits.append(t.wait("radiology"))
        t.failed("radiology")
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == [1, 2, 4, 8, 10]


def test_the_wait_runs_out_and_the_next_failure_waits_longer():
    clock = Clock()
    t = LoginThrottle(free_attempts=1, max_wait=300, clock=clock)
    t.failed("a")
    assert t.wait("a") == 1
    clock.now += 1.5
    assert t.wait("a") == 0
    t.failed("a")
    assert t.wait("a") == 2


def test_success_clears_the_count_and_names_are_independent():
    clock = Clock()
    t = LoginThrottle(free_attempts=2, clock=clock)
    for _ in range(2):
        t.failed("a")
    assert t.wait("a") > 0 and t.wait("b") == 0
    t.succeeded("a")
    assert t.wait("a") == 0
    t.failed("a")
    assert t.wait("a") == 0  # counting starts again from nothing


def test_a_quiet_name_is_forgotten():
    clock = Clock()
    t = LoginThrottle(free_attempts=2, max_wait=5, forget_after=60, clock=clock)
    t.failed("a")
    clock.now += 61
    t.failed("a")  # the first failure is forgotten: this is the first again
    assert t.wait("a") == 0


def test_memory_is_bounded_by_names():
    t = LoginThrottle(free_attempts=1, clock=Clock(), max_names=100)
    for n in range(1000):
        t.failed(f"guess-{n}")
    assert len(t._records) == 100
    assert t.wait("guess-999") > 0 and t.wait("guess-0") == 0
