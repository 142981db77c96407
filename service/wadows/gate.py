"""How many of a worker's request threads run the app at once, the others waiting in arrival order.

Why: the request mix is CPU-bound Python, so a worker's threads take turns on one interpreter lock. With
eight threads all runnable, CPython hands the lock to any of them every switch interval, so every request
advances at an eighth of the speed and the slowest kind (twenty anonymized documents) finishes last, behind
requests that came after it, and a health check or the connection loop waits behind seven others for each
step. With one thread running the app and the rest queued first in, first out, a request runs at full
speed once its turn comes: the same throughput, latency spread by arrival order instead of by luck, and the
lock contended only by the health check and the loop.

A thread gives its turn up where it waits for something other than the interpreter: for its client to read
(`outside()` around a send that would block, connections.py) and for a DICOMweb origin to answer
(store/http.py). The turn goes straight to the longest waiting thread, so no thread that just gave its
turn up can take it back ahead of the queue.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

_held = threading.local()  # .gate: the Gate whose turn this thread holds


class Gate:
    def __init__(self, turns: int) -> None:
        if turns < 1:
            raise ValueError("a gate needs at least one turn")
        self._lock = threading.Lock()
        self._free = turns
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                _held.gate = self
                return
            baton = threading.Lock()
            baton.acquire()
            self._waiting.append(baton)
        baton.acquire()  # released by the release() that hands this thread its turn
        _held.gate = self

    def release(self) -> None:
        _held.gate = None
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the turn passes on without ever being free
            else:
                self._free += 1

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold a turn for the block (at once if this thread holds one already: turns do not nest)."""
        if getattr(_held, "gate", None) is not None:
            yield
            return
        self.acquire()
        try:
            yield
        finally:
            self.release()


def holds_turn() -> bool:
    return getattr(_held, "gate", None) is not None


@contextmanager
def outside() -> Iterator[None]:
    """Give this thread's turn up for a wait that needs no interpreter; a no-op for a thread without one."""
    gate = getattr(_held, "gate", None)
    if gate is None:
        yield
        return
    gate.release()
    try:
        yield
    finally:
        gate.acquire()
