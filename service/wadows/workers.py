"""`wadows serve` on every core: pre-forked worker processes sharing one listening socket.

One CPython process runs Python code on one core at a time (the GIL), and de-identification is Python
code (pydicom builds and writes each header), so one process leaves the other cores idle under load.

The parent does everything that can fail at start once, before forking, so it fails with the usual
one-line message: configuration, the de-identification key and rules, opening and refreshing the store
index. It binds the listening socket(s), then closes its own index and archive connections (a SQLite
connection must never be used on both sides of a fork: "How To Corrupt An SQLite Database File" §2.6;
a kept-alive archive socket shared by two processes would mix their answers), and forks. Each worker
builds its waitress server on the inherited socket (connections.py: deadlines, sendfile, /healthz on its
own thread), opens the index for itself, says it is ready on a pipe, and serves until told to stop.

A killed worker costs only the connections it had accepted; a client that retries on a new connection
succeeds (see Balance below).

Supervision: a worker that exits is started again at once. One that exits before it was ready, or within
``EARLY_SECONDS`` of it, counts as a failed start: the next attempt waits 0.5 s, 1 s, 2 s, 4 s ... (at
most ``MAX_BACKOFF_SECONDS``), and after ``MAX_FAILED_STARTS`` failed starts in a row of the same worker
the parent gives up: it stops the others (gracefully), logs one line naming the worker and its exit
status, and exits 1, so that an init system or orchestrator sees a failed service rather than one that
quietly runs short of workers or spins.

Stopping: SIGTERM or SIGINT to the parent closes its listening socket and the pipe each worker watches;
end of file on it is a worker's first stop signal (shutdown.py), so workers drain for the grace period
in parallel, as one process would. A second signal to the parent kills the workers. Workers also drain
when the parent dies (the pipe closes with it). The parent exits 0 when every worker exited 0.

Balance: one listening socket shared by all workers balances badly: the kernel wakes every worker
polling it and the first to call accept() wins, which under a burst is mostly the same one (32
connections opened at once went 32/0 or 29/3 between two workers), and kept-alive clients stay where they
landed. So the parent binds one socket per worker slot on the same port with SO_REUSEPORT, and the
kernel spreads new connections over them by a hash of the client's address and port. The parent keeps
every socket open, so a slot's listen queue outlives its worker, and every worker holds every slot's
socket but accepts from another's only while that slot is vacant (a flag per slot in memory shared
across fork, set by the parent from a worker's death until its replacement is ready): connections that
arrive while a worker is being replaced, or backing off, are served by the others within a poll turn
(at most 1 s), not left waiting or refused.

Logging: workers write to the stderr they inherit, each record with one write(2) call and the worker's
number and pid in it, so the log stays one stream of whole lines (Linux keeps a write to a regular file
whole, and one to a pipe whole up to PIPE_BUF, 4 KiB).

Per worker, not per server: [server] threads, connection_limit and the timeouts; the nonce replay
memory and the failed-login counts of security/; the DICOMweb lookup cache; the JPEG 2000 encoder lock
(codeclock.py), which is what the library needs: its heap corruption is within one process.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .app import WadoWsApp, log_failure
from .config import Config

log = logging.getLogger("wadows")

EARLY_SECONDS = 2.0
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
MAX_FAILED_STARTS = 5
# After the grace period the parent waits this much longer for workers to finish closing, then kills.
_STOP_MARGIN_SECONDS = 10.0
_READY = b"r"


def bind_sockets(host: str, port: int, backlog: int, *, reuse_port: bool = False) -> list[socket.socket]:
    """Every address ``host`` resolves to, on one port (the first one's, when ``port`` is 0), as waitress
    binds them itself; non-blocking, as waitress's accept loop expects. ``reuse_port``: SO_REUSEPORT, so
    that sockets of other slots can bind the same port (Linux: same user only)."""
    infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP,
                               socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    seen = set()
    try:
        for family, kind, proto, _, addr in infos:
            if (family, addr[:2]) in seen:
                continue
            seen.add((family, addr[:2]))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:
                addr = (addr[0], sockets[0].getsockname()[1], *addr[2:])
            sock.bind(addr)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@dataclass
class _Worker:
    slot: int
    pid: int
    started: float
    ready_r: int  # child -> parent: one byte once serving; end of file when it exits
    life_w: int  # parent -> child: closed by the parent to ask for a graceful stop
    ready_at: float | None = None


@dataclass
class _Slot:
    failed_starts: int = 0
    due: float = 0.0  # when to start its next worker (monotonic)
    worker: _Worker | None = None
    last_status: str = ""


@dataclass
class Supervisor:
    """Keeps ``count`` workers running ``serve_one(worker, stop_fd, ready, vacant)`` in forked children."""

    count: int
    serve_one: Callable[[int, int, Callable[[], None], object], int]
    grace_seconds: float
    close_in_child: list[int] = field(default_factory=list)  # descriptors a worker must not keep
    on_stop: Callable[[], None] = lambda: None  # the parent closes its listening sockets here

    def __post_init__(self) -> None:
        import multiprocessing.sharedctypes

        self.slots = [_Slot() for _ in range(self.count)]
        self._signals: list[int] = []
        # 1 while a slot has no ready worker: the others accept from its socket meanwhile.
        self.vacant = multiprocessing.sharedctypes.RawArray("b", [1] * self.count)

    # -- the parent's loop ---------------------------------------------------------------------
    def run(self) -> int:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        self.close_in_child += [wake_r, wake_w]
        previous_wakeup = signal.set_wakeup_fd(wake_w)
        handlers = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        handlers[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select
        code = 1
        try:
            code = self._supervise(wake_r)
        finally:
            signal.set_wakeup_fd(previous_wakeup)
            for s, handler in handlers.items():
                signal.signal(s, handler)
            os.close(wake_r)
            os.close(wake_w)
        return code

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def _supervise(self, wake_r: int) -> int:
        gave_up: str | None = None
        while not self._signals and gave_up is None:
            now = time.monotonic()
            for slot_no, slot in enumerate(self.slots):
                if slot.worker is None and now >= slot.due:
                    self._start(slot_no)
            self._wait(wake_r, self._next_due())
            gave_up = self._reap()
        if gave_up is None:
            log.info("stopping %d workers: no new connections; finishing requests in progress (at most %g s)",
                     self.count, self.grace_seconds)
        exits = self._stop()
        if gave_up is not None:
            log.error("%s", gave_up)
            return 1
        return 0 if all(status == 0 for status in exits) else 1

    def _next_due(self) -> float:
        pending = [s.due for s in self.slots if s.worker is None]
        return max(0.0, min(pending) - time.monotonic()) if pending else 1.0

    def _wait(self, wake_r: int, timeout: float) -> None:
        waiting = {w.ready_r: w for s in self.slots if (w := s.worker) is not None and w.ready_r >= 0}
        try:
            readable, _, _ = select.select([wake_r, *waiting], [], [], min(timeout, 1.0))
        except InterruptedError:
            return
        for fd in readable:
            if fd == wake_r:
                _drain(wake_r)
                continue
            worker = waiting[fd]
            if _read_once(fd) == _READY:
                worker.ready_at = time.monotonic()
                self.vacant[worker.slot] = 0
            # Either way this pipe has said all it will: ready, or end of file (the worker exits).
            os.close(fd)
            worker.ready_r = -1

    def _reap(self) -> str | None:
        """Collect exited workers and schedule their replacements; the give-up line, if it came to that."""
        now = time.monotonic()
        for slot_no, slot in enumerate(self.slots):
            w = slot.worker
            if w is None:
                continue
            if w.ready_at is not None and now - w.ready_at >= EARLY_SECONDS:
                slot.failed_starts = 0  # it has run: the next death is not a failed start
            try:
                pid, status = os.waitpid(w.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = w.pid, 0
            if pid == 0:
                continue
            self._forget(w)
            self.vacant[slot_no] = 1
            slot.worker = None
            slot.last_status = _describe(status)
            early = w.ready_at is None or now - w.ready_at < EARLY_SECONDS
            if not early:
                log.warning("worker %d (pid %d) %s after %.0f s; starting another", slot_no + 1, w.pid,
                            slot.last_status, now - w.started)
                slot.failed_starts = 0
                slot.due = now
                continue
            slot.failed_starts += 1
            if slot.failed_starts >= MAX_FAILED_STARTS:
                return (f"worker {slot_no + 1} {slot.last_status} within {EARLY_SECONDS:g} s of starting, "
                        f"{slot.failed_starts} times in a row; giving up (its own message is above)")
            wait = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (slot.failed_starts - 1))
            log.warning("worker %d (pid %d) %s %s; next attempt in %g s", slot_no + 1, w.pid, slot.last_status,
                        "before it was ready" if w.ready_at is None else "just after starting", wait)
            slot.due = now + wait
        return None

    def _start(self, slot_no: int) -> None:
        ready_r, ready_w = os.pipe()
        life_r, life_w = os.pipe()
        inherited = [fd for s in self.slots if (w := s.worker) is not None for fd in (w.ready_r, w.life_w) if fd >= 0]
        pid = os.fork()
        if pid == 0:  # the worker; never returns
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                for s in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                    signal.signal(s, signal.SIG_DFL)
                for fd in [ready_r, life_w, *inherited, *self.close_in_child]:
                    _close_quietly(fd)
                code = self._child(slot_no, life_r, ready_w)
            finally:
                os._exit(code)
        os.close(ready_w)
        os.close(life_r)
        self.slots[slot_no].worker = _Worker(slot_no, pid, time.monotonic(), ready_r, life_w)

    def _child(self, slot_no: int, life_r: int, ready_w: int) -> int:
        def ready() -> None:
            os.write(ready_w, _READY)
            os.close(ready_w)

        try:
            return self.serve_one(slot_no + 1, life_r, ready, self.vacant)
        except SystemExit as exc:  # a start-up check's message, as `wadows serve` prints it
            if isinstance(exc.code, str):
                write_line(2, f"{exc.code} (worker {slot_no + 1}, pid {os.getpid()})")
                return 1
            return exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log_failure(f"worker {slot_no + 1} failed")
            return 1

    def _forget(self, w: _Worker) -> None:
        for fd in (w.ready_r, w.life_w):
            if fd >= 0:
                _close_quietly(fd)
        w.ready_r = w.life_w = -1

    def _stop(self) -> list[int]:
        """Ask every worker to drain (close its pipe), wait for them, kill what is left."""
        self.on_stop()
        for slot in self.slots:
            if slot.worker is not None and slot.worker.life_w >= 0:
                os.close(slot.worker.life_w)
                slot.worker.life_w = -1
        deadline = time.monotonic() + self.grace_seconds + _STOP_MARGIN_SECONDS
        signals_seen = len(self._signals)
        statuses: list[int] = []
        while any(s.worker is not None for s in self.slots):
            hurry = len(self._signals) > signals_seen or time.monotonic() > deadline
            for slot in self.slots:
                w = slot.worker
                if w is None:
                    continue
                if hurry:
                    _kill(w.pid)
                try:
                    pid, status = os.waitpid(w.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status = w.pid, 0
                if pid:
                    self._forget(w)
                    slot.worker = None
                    statuses.append(os.waitstatus_to_exitcode(status))
            if any(s.worker is not None for s in self.slots):
                time.sleep(0.05)
        return statuses


def serve_forked(config: Config, app: WadoWsApp, announce: Callable[[int], None]) -> int:
    """`wadows serve` with [server] workers > 1: bind, fork, supervise; the exit code."""
    from .server import make_server
    from .shutdown import listeners_of, run_until_stopped

    count = config.server.effective_workers
    s = config.server
    slots: list[list[socket.socket]] = []
    try:
        for _ in range(count):
            port = slots[0][0].getsockname()[1] if slots else s.port
            slots.append(bind_sockets(s.host, port, s.backlog, reuse_port=True))
    except OSError as exc:
        for sockets in slots:
            for sock in sockets:
                sock.close()
        raise SystemExit(f"wadows: [server] host {s.host} port {s.port}: cannot listen: "
                         f"{exc.strerror or exc}") from None
    app.workers = count
    # Nothing of the parent's connections crosses the fork (see the module docstring).
    app.backend.close()
    if threading.active_count() > 1:
        log.warning("forking workers while %d threads run in the parent", threading.active_count() - 1)

    def serve_one(worker: int, stop_fd: int, ready: Callable[[], None], vacant) -> int:
        tag_log_lines(f"worker {worker} pid {os.getpid()}")
        everyone = [sock for sockets in slots for sock in sockets]
        server = make_server(config, app, sockets=everyone)
        slot_of = {sock.fileno(): n for n, sockets in enumerate(slots) for sock in sockets}
        for listener in listeners_of(server):
            n = slot_of[listener.socket.fileno()]
            if n != worker - 1:
                listener.accept_gate = lambda n=n: bool(vacant[n])
        verify = getattr(app.backend, "verify_index", None)  # the file store: open the index here
        if verify is not None:
            try:
                verify()
            except Exception as exc:
                where = getattr(app.backend, "index_path", "")
                raise SystemExit(f"wadows: store index {where}: cannot be read in a worker process "
                                 f"({type(exc).__name__}: {exc})") from None
        ready()
        run_until_stopped(server, s.shutdown_grace_seconds, stop_fd=stop_fd)
        app.backend.close()
        return 0

    def close_listeners() -> None:
        for sockets in slots:
            for sock in sockets:
                sock.close()  # the workers close theirs as they start draining

    announce(slots[0][0].getsockname()[1])
    supervisor = Supervisor(count, serve_one, s.shutdown_grace_seconds,
                            close_in_child=[], on_stop=close_listeners)
    return supervisor.run()


# -- logging in a worker ---------------------------------------------------------------------------
class WholeLineHandler(logging.Handler):
    """Each record in one write(2) to a descriptor shared with the parent and the other workers."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.fd, self.format(record))
        except Exception:
            self.handleError(record)


def write_line(fd: int, text: str) -> None:
    data = (text.rstrip("\n") + "\n").encode("utf-8", "backslashreplace")
    while data:
        try:
            n = os.write(fd, data)
        except InterruptedError:
            continue
        data = data[n:]


def tag_log_lines(tag: str) -> None:
    """Swap the root logger's stream handlers for whole-line ones whose lines name this worker
    (after the logger's name: "... INFO wadows.access [worker 2 pid 4242]: {...}")."""
    root = logging.getLogger()
    for old in list(root.handlers):
        stream = getattr(old, "stream", None)
        try:
            fd = stream.fileno() if stream is not None else None
        except (OSError, ValueError, AttributeError):
            fd = None
        if fd is None:
            continue
        if stream is not None:
            stream.flush()
        new = WholeLineHandler(fd)
        new.setLevel(old.level)
        for f in old.filters:
            new.addFilter(f)
        base = old.formatter or logging.Formatter()
        fmt = base._style._fmt  # the format configure_logging chose
        tagged = fmt.replace("%(name)s", f"%(name)s [{tag}]", 1) if "%(name)s" in fmt else f"[{tag}] {fmt}"
        new.setFormatter(logging.Formatter(tagged, base.datefmt))
        root.removeHandler(old)
        root.addHandler(new)


# -- small helpers ---------------------------------------------------------------------------------
def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _read_once(fd: int) -> bytes:
    try:
        return os.read(fd, 1)
    except OSError:
        return b""


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except (BlockingIOError, InterruptedError):
        pass


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except OSError as exc:  # not ours any more: nothing to do
        if exc.errno != errno.EPERM:
            raise
