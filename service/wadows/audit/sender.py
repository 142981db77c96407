"""A bounded queue in memory and one thread that empties it into the Audit Record Repository.

Nothing that produces a message waits for the repository: ``put`` appends and returns. When the
queue is full the oldest message goes (the newest events are the ones a security officer is still
likely to ask about) and is counted. A message that cannot be sent stays at the head of the queue
and is retried after a back-off that doubles up to ``max_backoff`` seconds; every failed attempt
is counted, refused TLS credentials separately. Failures are logged by kind only, never with a
message's content (the application log's no-PHI rule, README).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
import time
from collections import deque
from typing import Callable, Protocol

from .syslog import Refused, TooLarge

log = logging.getLogger("wadows.audit")


class Transport(Protocol):
    def send(self, message: bytes) -> None: ...

    def close(self) -> None: ...


class Sender:
    def __init__(self, transport: Transport, queue_size: int = 1000, *, min_backoff: float = 0.5,
                 max_backoff: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._transport = transport
        self._queue: deque[bytes] = deque()
        self._size = queue_size
        self._min_backoff, self._max_backoff = min_backoff, max_backoff
        self._clock = clock
        self._cond = threading.Condition()
        self._stopping = False
        self.counters = {"queued": 0, "sent": 0, "dropped_queue_full": 0, "dropped_too_large": 0,
                         "send_failures": 0, "tls_refused": 0, "retries": 0}
        self.last_error: str | None = None
        self._failing = False
        # Held while the transport works (connect, TLS handshake, send), and taken by a fork: a child
        # forked while this thread is inside OpenSSL inherits its locks held by a thread it does not
        # have, and its own first handshake can then hang (seen with workers forked right after
        # Application Start was queued). The fork waits for the send in progress instead.
        self._sending = threading.Lock()
        self._fork_holds = False
        self._start_thread()
        # Pre-forked workers (workers.py) inherit this object but not its thread: each child starts
        # its own sender and its own connection; what the parent had queued is the parent's to send.
        ref = weakref.ref(self)
        os.register_at_fork(before=lambda: (s := ref()) is not None and s._before_fork(),
                            after_in_parent=lambda: (s := ref()) is not None and s._after_fork_in_parent(),
                            after_in_child=lambda: (s := ref()) is not None and s._after_fork())

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wadows-audit", daemon=True)
        self._thread.start()

    def _before_fork(self) -> None:
        # Bounded: a repository that stalls a send (up to the transport's timeout) delays the fork,
        # it does not stop it.
        self._fork_holds = self._sending.acquire(timeout=15.0)

    def _after_fork_in_parent(self) -> None:
        if self._fork_holds:
            self._fork_holds = False
            self._sending.release()

    def _after_fork(self) -> None:
        self._sending, self._fork_holds = threading.Lock(), False
        self._cond = threading.Condition()
        self._queue.clear()
        self.counters = dict.fromkeys(self.counters, 0)
        self._failing, self.last_error = False, None
        if self._stopping:
            return
        forget = getattr(self._transport, "forget_connection", None)
        if forget is not None:
            forget()
        self._start_thread()

    def put(self, message: bytes) -> None:
        with self._cond:
            if self._stopping:
                return
            if len(self._queue) >= self._size:
                self._queue.popleft()
                self.counters["dropped_queue_full"] += 1
            self._queue.append(message)
            self.counters["queued"] = len(self._queue)
            self._cond.notify()

    def health(self) -> dict[str, object]:
        with self._cond:
            return {**self.counters, "queue_size": self._size, "repository_reachable": not self._failing,
                    "last_error": self.last_error}

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued for at most ``timeout`` seconds, then stop; what is left is counted
        as dropped (the process is going away)."""
        deadline = self._clock() + timeout
        with self._cond:
            while self._queue and not self._failing and self._clock() < deadline:
                self._cond.wait(0.05)
            self._stopping = True
            self.counters["dropped_queue_full"] += len(self._queue)
            self._queue.clear()
            self.counters["queued"] = 0
            self._cond.notify_all()
        self._thread.join(max(0.0, deadline - self._clock()) + 1.0)
        self._transport.close()

    def _run(self) -> None:
        backoff = self._min_backoff
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                message = self._queue[0]
            try:
                with self._sending:
                    self._transport.send(message)
            except TooLarge:
                self._done(message, "dropped_too_large")
                continue
            except Exception as exc:  # the repository is down, refused us, or the network failed
                with self._cond:
                    self.counters["send_failures"] += 1
                    if isinstance(exc, Refused):
                        self.counters["tls_refused"] += 1
                    self.last_error = type(exc).__name__
                    if not self._failing:
                        log.warning("audit record repository not reachable (%s); retrying with back-off",
                                    type(exc).__name__)
                    self._failing = True
                    self._cond.wait(backoff)  # woken early only by close()
                    backoff = min(self._max_backoff, backoff * 2)
                    self.counters["retries"] += 1
                continue
            if self._failing:
                log.info("audit record repository reachable again")
            backoff = self._min_backoff
            self._done(message, "sent")

    def _done(self, message: bytes, counter: str) -> None:
        with self._cond:
            self._failing = counter != "sent" and self._failing
            if self._queue and self._queue[0] is message:
                self._queue.popleft()
            self.counters[counter] += 1
            self.counters["queued"] = len(self._queue)
            self._cond.notify_all()
