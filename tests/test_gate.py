"""gate.py: turns are handed on in arrival order, never taken back ahead of the queue, and given up
around waits that need no interpreter."""

from __future__ import annotations

import threading
import time

import pytest

from wadows.gate import Gate, holds_turn, outside


def _wait_until(predicate, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_turns_go_in_arrival_order():
    gate = Gate(1)
    order: list[int] = []
    gate.acquire()
    threads = []
    for n in range(6):
        def run(n=n) -> None:
            with gate.turn():
                order.append(n)
        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
        _wait_until(lambda: gate.waiting == n + 1)  # each queued before the next one starts
    gate.release()
    for t in threads:
        t.join(5)
    assert order == list(range(6))


def test_a_thread_that_gives_its_turn_up_queues_behind_the_waiting_ones():
    gate = Gate(1)
    order: list[str] = []
    gate.acquire()
    waiter = threading.Thread(target=lambda: (gate.acquire(), order.append("waiter"), gate.release()))
    waiter.start()
    _wait_until(lambda: gate.waiting == 1)
    with outside():  # the turn goes straight to the waiter; taking it back means waiting for it
        pass
    order.append("first")
    gate.release()
    waiter.join(5)
    assert order == ["waiter", "first"]


def test_at_most_the_configured_number_run_at_once():
    gate = Gate(2)
    running = 0
    most = 0
    lock = threading.Lock()

    def run() -> None:
        nonlocal running, most
        with gate.turn():
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.01)
            with lock:
                running -= 1

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert most == 2


def test_turns_do_not_nest_and_outside_without_a_turn_is_a_no_op():
    gate = Gate(1)
    assert not holds_turn()
    with outside():
        assert not holds_turn()
    with gate.turn():
        with gate.turn():  # would deadlock with one turn if it queued again
            assert holds_turn()
        assert holds_turn()
        with outside():
            assert not holds_turn()
        assert holds_turn()
    assert not holds_turn()
    assert gate.waiting == 0


def test_a_gate_needs_a_turn():
    with pytest.raises(ValueError):
        Gate(0)
