"""Slowing down password guessing, per user name.

Each password check costs the server a deliberate ~50 ms of scrypt, and an online guesser gets one guess
per request. After ``free_attempts`` consecutive failures for a name, further attempts for that name are
refused without checking anything, for a wait that doubles with each further failure (1 s, 2 s, 4 s ...)
up to ``max_wait``. A success clears the name; so does ``forget_after`` seconds without a failure.

Keyed by the name and not by the client address: behind the reverse proxy of a typical deployment every
request comes from the same address, and a guesser can change addresses more easily than it can change
the account it wants. The price is that a guesser can keep one account waiting (never longer than
``max_wait`` after its last failure); the account's owner sees HTTP 429 with Retry-After, not a wrong
password. Unknown names are throttled like known ones, so the answers do not tell which names exist.
Memory is bounded (least recently failed names go first) and per process, like the nonce memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

MAX_NAMES = 10_000


@dataclass
class _Record:
    failures: int
    last_failure: float
    blocked_until: float


class LoginThrottle:
    def __init__(self, free_attempts: int = 5, max_wait: float = 300.0, forget_after: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, max_names: int = MAX_NAMES) -> None:
        self.free_attempts = free_attempts
        self.max_wait = max_wait
        self.forget_after = forget_after
        self._clock = clock
        self._max_names = max_names
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, name: str) -> int:
        """Whole seconds ``name`` must wait before its next attempt is checked; 0 when it may go now."""
        now = self._clock()
        with self._lock:
            record = self._current(name, now)
            if record is None or record.blocked_until <= now:
                return 0
            return max(1, math.ceil(record.blocked_until - now))

    def failed(self, name: str) -> None:
        now = self._clock()
        with self._lock:
            record = self._current(name, now) or _Record(0, now, now)
            record.failures += 1
            record.last_failure = now
            beyond = record.failures - self.free_attempts
            if beyond >= 0:
                record.blocked_until = now + min(self.max_wait, 2.0 ** min(beyond, 32))
            self._records[name] = record
            self._records.move_to_end(name)
            while len(self._records) > self._max_names:
                self._records.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._records.pop(name, None)

    def _current(self, name: str, now: float) -> _Record | None:
        record = self._records.get(name)
        if record is not None and now - record.last_failure > self.forget_after and record.blocked_until <= now:
            del self._records[name]
            return None
        return record
