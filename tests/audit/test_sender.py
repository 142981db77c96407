"""audit/sender.py: the queue never blocks, drops its oldest when full, retries with back-off."""

from __future__ import annotations

import threading
import time

from wadows.audit.sender import Sender
from wadows.audit.syslog import Refused, TooLarge


class Flaky:
    """Fails while ``down`` is set (as a repository that is down would), else records what it got."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.got: list[bytes] = []
        self.error: type[OSError] = ConnectionRefusedError

    def send(self, message: bytes) -> None:
        self.gate.wait()
        if self.down.is_set():
            raise self.error("down")
        if message == b"huge":
            raise TooLarge(10**6)
        self.got.append(message)

    def close(self) -> None:
        pass


def _until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_sends_in_order():
    t = Flaky()
    s = Sender(t, 10)
    for i in range(5):
        s.put(b"m%d" % i)
    _until(lambda: len(t.got) == 5)
    assert t.got == [b"m0", b"m1", b"m2", b"m3", b"m4"] and s.health()["sent"] == 5
    s.close()


def test_full_queue_drops_the_oldest_and_counts_it_without_blocking():
    t = Flaky()
    t.gate.clear()  # the sender thread is stuck in a send, as against a hung repository
    s = Sender(t, 3)
    started = time.monotonic()
    for i in range(10):
        s.put(b"m%d" % i)
    assert time.monotonic() - started < 0.5
    h = s.health()
    assert h["dropped_queue_full"] == 7 and h["queued"] == 3
    t.gate.set()
    _until(lambda: s.health()["queued"] == 0)
    assert t.got[-3:] == [b"m7", b"m8", b"m9"]
    s.close()


def test_repository_down_then_up_retries_with_backoff():
    t = Flaky()
    t.down.set()
    s = Sender(t, 10, min_backoff=0.05, max_backoff=0.2)
    s.put(b"a")
    s.put(b"b")
    _until(lambda: s.health()["send_failures"] >= 3)
    h = s.health()
    assert h["repository_reachable"] is False and h["last_error"] == "ConnectionRefusedError" and t.got == []
    t.down.clear()
    _until(lambda: t.got == [b"a", b"b"])
    assert s.health()["repository_reachable"] is True and s.health()["retries"] >= 3
    s.close()


def test_refused_credentials_are_counted_apart():
    t = Flaky()
    t.error = Refused
    t.down.set()
    s = Sender(t, 10, min_backoff=0.05, max_backoff=0.05)
    s.put(b"a")
    _until(lambda: s.health()["tls_refused"] >= 2)
    s.close(timeout=0.2)


def test_a_message_too_large_for_a_datagram_is_dropped_not_retried():
    t = Flaky()
    s = Sender(t, 10)
    s.put(b"huge")
    s.put(b"ok")
    _until(lambda: t.got == [b"ok"])
    assert s.health()["dropped_too_large"] == 1 and s.health()["send_failures"] == 0
    s.close()


def test_a_forked_worker_sends_with_its_own_thread_and_connection():
    """Pre-forked workers (workers.py) inherit the sender but not its thread: without a restart in
    the child, every record a worker queued would wait unsent and be dropped at its stop."""
    import os

    read_end, write_end = os.pipe()

    class PipeTransport:
        forgotten = 0

        def send(self, message: bytes) -> None:
            os.write(write_end, message + b"\n")

        def forget_connection(self) -> None:
            PipeTransport.forgotten += 1

        def close(self) -> None:
            pass

    sender = Sender(PipeTransport())
    pid = os.fork()
    if pid == 0:  # the worker
        code = 4
        try:
            sender.put(b"from the worker")
            sender.close(5.0)
            code = 0 if PipeTransport.forgotten == 1 and sender.health()["sent"] == 1 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    os.set_blocking(read_end, False)
    assert os.read(read_end, 100) == b"from the worker\n"
    assert sender.health()["sent"] == 0  # the parent sent nothing of the child's
    sender.close(1.0)
    os.close(read_end)
    os.close(write_end)


def test_a_fork_waits_for_the_send_in_progress():
    """A child forked while the sender thread is inside the transport (a TLS handshake: OpenSSL's
    locks held by a thread the child does not have) could hang on its own first connection; the
    fork waits for that send to end instead."""
    import os

    inside, finished = threading.Event(), []

    class SlowTransport:
        def send(self, message: bytes) -> None:
            inside.set()
            time.sleep(0.5)
            finished.append(time.monotonic())

        def close(self) -> None:
            pass

    sender = Sender(SlowTransport())
    sender.put(b"Application Start")
    assert inside.wait(5)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    forked_at = time.monotonic()
    os.waitpid(pid, 0)
    assert finished and forked_at >= finished[0]  # the fork came after the send, not in its middle
    sender.close(1.0)
