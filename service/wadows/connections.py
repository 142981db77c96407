"""waitress, taught to defend its connections: deadlines per connection, health checks on a thread of
their own, its own error answers as SOAP faults, and no traceback for a response we cut on purpose.

waitress 3 alone lets about a hundred idle or slow sockets lock everyone out: its connection limit is
fixed at 100, its only timeout (``channel_timeout``) is reset by every byte received, so a client
sending one header byte every few seconds is never cut, and a connection with a response pending is
never timed out at all, so clients that stop reading hold every worker thread for as long as they stay
connected. Its error answers (431, 413, 400) are text/plain pages, and any exception escaping the
application is logged with a traceback ("Exception while serving").

Small subclasses keep waitress's own logic and locking:

- ``GuardedServer.maintenance`` (waitress runs it from the event loop every ``cleanup_interval``)
  checks each channel's deadlines: request headers, request body, and sending;
- ``GuardedServer.add_task`` puts a GET/HEAD /healthz on a dispatcher with a thread of its own, so a
  health check never waits behind retrievals in the task queue;
- ``GuardedChannel`` records when the request it is reading started and when its headers ended, and
  cuts itself (from the event loop thread, so no lock is held) when a deadline passes;
- ``SoapErrorTask`` answers waitress's own errors (and the body timeout) with a SOAP 1.2 fault;
- ``GuardedTask`` catches the app's ResponseAborted: the cause was logged already, the connection
  is closed after what was queued (so the client sees a truncated body), and nothing else is logged.

They rely on these waitress 3 details, which tests/test_connections.py exercises: the channel's
``request`` (the parser of the request being read, with ``headers_finished``), ``requests`` (the
queue of complete ones), ``total_outbufs_len`` and ``last_activity`` (set by waitress on each
successful send and at the end of each task), and the server calling ``add_task(channel)`` with
``channel.requests[0]`` the request to serve next.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import (BadRequest, Error, RequestEntityTooLarge, RequestHeaderFieldsTooLarge,
                                ServerNotImplemented)

from . import sendfile
from .app import ResponseAborted
from .gate import Gate, holds_turn, outside
from .soap import faults
from .soap.faults import SOAP12_CONTENT_TYPE, SoapFault

log = logging.getLogger("wadows")

HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class Deadlines:
    header_seconds: float  # from the first byte of a request to the end of its headers
    body_seconds: float  # from the end of the headers to the end of the body
    send_seconds: float  # a response pending without a byte accepted by the client


class RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


# waitress's own error texts that quote nothing from the request (others quote a header line or a
# method, which may carry anything): passed on to the client, the rest get a fixed text.
_FIXED_WAITRESS_TEXTS = frozenset({
    "HTTP message header invalid", "Bare CR or LF found in HTTP message", "Invalid header",
    "Start line is invalid", "Content-Length is invalid", "Bad URI", "Chunk not properly terminated",
    "Invalid chunk extension", "Invalid chunk size",
})


def fault_for(error: Error) -> SoapFault:
    """The SOAP 1.2 fault (SOAP 1.2 Part 2 §7.5.1: HTTP status with the fault) for a waitress error."""
    status = f"{error.code} {error.reason}"
    if isinstance(error, RequestHeaderFieldsTooLarge):
        reason = "The request's header section is larger than this server accepts"
    elif isinstance(error, RequestEntityTooLarge):
        reason = "The request is larger than this server accepts"
    elif isinstance(error, RequestTimeout):
        reason = "The request body did not arrive in the time allowed"
    elif isinstance(error, ServerNotImplemented):
        reason = "Unsupported Transfer-Encoding; send the body with Content-Length or chunked"
    elif isinstance(error, BadRequest):
        text = error.body if isinstance(error.body, str) else ""
        reason = "Malformed HTTP request" + (f": {text}" if text in _FIXED_WAITRESS_TEXTS else "")
    else:  # InternalServerError and anything new: the server's side
        return SoapFault(faults.RECEIVER, "Internal processing failure", http_status=status)
    return faults.sender(reason, http_status=status)


def _fault_response(task, fault: SoapFault) -> None:
    body = faults.fault_envelope(fault)
    task.status = fault.status
    task.response_headers = [("Content-Type", SOAP12_CONTENT_TYPE)]
    task.set_close_on_finish()
    task.content_length = len(body)
    task.complete = True
    task.write(body)


class SoapErrorTask(ErrorTask):
    """waitress's ErrorTask, answering with a SOAP 1.2 fault instead of a text/plain page."""

    def execute(self) -> None:
        _fault_response(self, fault_for(self.request.error))


class _AbortQuietly:
    """Task mixin: a response the app cut on purpose (ResponseAborted) closes the connection after
    what was queued, without waitress's "Exception while serving" traceback: the app logged why."""

    def service(self) -> None:
        try:
            super().service()  # type: ignore[misc]
        except ResponseAborted:
            if not self.wrote_header:  # type: ignore[attr-defined]
                # Nothing sent yet: an honest answer is still possible.
                _fault_response(self, SoapFault(faults.RECEIVER, "Internal processing failure"))
            self.close_on_finish = True


class _Turn:
    """Task mixin: the app runs in one of the worker's turns (gate.py); a health check needs none."""

    def service(self) -> None:
        gate: Gate | None = getattr(self.channel.server, "gate", None)  # type: ignore[attr-defined]
        if gate is None or is_health_check(self.request):  # type: ignore[attr-defined]
            super().service()  # type: ignore[misc]
            return
        with gate.turn():
            super().service()  # type: ignore[misc]


class GuardedTask(_Turn, _AbortQuietly, WSGITask):
    pass


class GuardedSpanTask(_Turn, _AbortQuietly, sendfile.SpanTask):
    pass


class _Guard:
    """Channel mixin: the deadlines. All state is touched from the event loop thread only."""

    error_task_class = SoapErrorTask
    _request_started: float | None = None  # first byte of the request being read
    _headers_done: float | None = None  # its headers complete
    _task_started = 0.0
    _output_seen: float | None = None  # wall time output was first seen pending (send deadline)

    def received(self, data: bytes) -> bool:
        now = time.monotonic()
        if self.request is None and data and self._request_started is None:  # type: ignore[attr-defined]
            self._request_started = now
        try:
            return super().received(data)  # type: ignore[misc]
        finally:
            request = self.request  # type: ignore[attr-defined]
            if request is None:
                self._request_started = self._headers_done = None
            else:
                if self._request_started is None:
                    self._request_started = now
                if request.headers_finished and self._headers_done is None:
                    self._headers_done = now

    def service(self) -> None:
        self._task_started = time.time()
        super().service()  # type: ignore[misc]

    def write_soon(self, data) -> int:
        # waitress makes the task thread wait here while more than the high-water mark is queued for a
        # client (the same unlocked test it makes itself): a wait for the client, not for the interpreter.
        if holds_turn() and self.total_outbufs_len > self.adj.outbuf_high_watermark:  # type: ignore[attr-defined]
            with outside():
                return super().write_soon(data)  # type: ignore[misc]
        return super().write_soon(data)  # type: ignore[misc]

    def _cut(self) -> None:
        if self.connected:  # type: ignore[attr-defined]
            self.handle_close()  # type: ignore[attr-defined]

    def enforce_deadlines(self, deadlines: Deadlines, now: float, wall: float) -> None:
        if self.total_outbufs_len:  # type: ignore[attr-defined]
            if self._output_seen is None:
                # First sight of pending output: the clock starts now, not at the task's start, so a
                # response whose conversion ran longer than the send timeout is not cut at once.
                self._output_seen = wall
            # waitress sets last_activity at each successful send and at the end of each task.
            progress = max(self.last_activity, self._task_started, self._output_seen)  # type: ignore[attr-defined]
            if wall - progress > deadlines.send_seconds:
                # Closing wakes a task thread waiting for the client to read (it then gets
                # ClientDisconnected and its worker is free); a span being sent is closed too.
                log.info("connection cut: the client read nothing for %g s", deadlines.send_seconds)
                # Not closed here: this runs inside the poll loop while it collects descriptors for
                # select(), and a socket closed mid-collection makes select() fail with EBADF, which
                # ends the loop and the server. The trigger runs the close between two polls.
                self.server.trigger.pull_trigger(self._cut)  # type: ignore[attr-defined]
            return
        self._output_seen = None
        request = self.request  # type: ignore[attr-defined]
        if request is None or self.requests or self.will_close or self.close_when_flushed:  # type: ignore[attr-defined]
            return  # nothing being read, or reading paused while a response is produced
        started = self._request_started
        if not request.headers_finished:
            if started is not None and now - started > deadlines.header_seconds:
                log.info("connection cut: request headers not received within %g s", deadlines.header_seconds)
                self.will_close = True
            return
        if self._headers_done is not None and now - self._headers_done > deadlines.body_seconds:
            # A body shorter than its Content-Length would otherwise wait forever: answer, then close.
            request.error = RequestTimeout("body not received in time")
            request.completed = True
            with self.requests_lock:  # type: ignore[attr-defined]
                self.request = None
                self._request_started = self._headers_done = None
                self.requests.append(request)  # type: ignore[attr-defined]
                if len(self.requests) == 1:  # type: ignore[attr-defined]
                    self.server.add_task(self)  # type: ignore[attr-defined]


class GuardedChannel(_Guard, HTTPChannel):
    task_class = GuardedTask


class GuardedSpanChannel(_Guard, sendfile.SpanChannel):
    task_class = GuardedSpanTask


class _RateLimitedWarning:
    """waitress warns "Task queue depth is N" on every request queued behind busy threads: thousands of
    lines a minute under load. One line per ``every`` seconds, saying how many were folded into it."""

    def __init__(self, logger: logging.Logger, every: float = 10.0) -> None:
        self.logger = logger
        self.every = every
        self._next = 0.0
        self._folded = 0
        self._lock = threading.Lock()

    def warning(self, msg: str, *args) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._folded += 1
                return
            folded, self._folded, self._next = self._folded, 0, now + self.every
        if folded:
            self.logger.warning(msg + " (%d similar warnings in the last %g s not shown)", *args, folded, self.every)
        else:
            self.logger.warning(msg, *args)


class Dispatcher(ThreadedTaskDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.queue_logger = _RateLimitedWarning(ThreadedTaskDispatcher.queue_logger)


class _Quiet:
    """A dispatcher's logger that drops the queue-depth warning: the health thread's queue is tiny."""

    def warning(self, *args) -> None:
        pass


def is_health_check(request) -> bool:
    return (request.error is None and request.command in ("GET", "HEAD")
            and request.path == HEALTH_PATH)


class GuardedServer(TcpWSGIServer):
    deadlines: Deadlines
    health_dispatcher: ThreadedTaskDispatcher
    gate: Gate | None = None
    # Set by workers.py, where a worker also holds other workers' listening sockets: whether to
    # accept from this one now (its own: always; another's: while that worker is being replaced).
    accept_gate: Callable[[], bool] | None = None

    def readable(self) -> bool:
        accepting = super().readable()  # also runs maintenance() every cleanup_interval
        return accepting and (self.accept_gate is None or self.accept_gate())

    def add_task(self, task) -> None:
        # ``task`` is the channel; its first queued request is the one this task will serve.
        requests = getattr(task, "requests", None)
        if requests and is_health_check(requests[0]):
            self.health_dispatcher.add_task(task)
        else:
            super().add_task(task)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle keep-alive connections (channel_timeout)
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            if isinstance(channel, _Guard):
                channel.enforce_deadlines(self.deadlines, mono, now)


def create_server(application, *, deadlines: Deadlines, active_threads: int = 0,
                  **adjustments) -> BaseWSGIServer | MultiSocketServer:
    """waitress.create_server for TCP listeners (``host``/``port``, or pre-bound ``sockets``), building GuardedServers (channels with deadlines,
    sendfile where the platform has it) and one extra dispatcher thread for health checks. With
    ``active_threads``, at most that many request threads run the app at once (gate.py); 0: no limit."""
    # The deadlines are checked once a second (waitress's poll loop wakes at least that often).
    adj = Adjustments(cleanup_interval=1, **adjustments)
    socket_map: dict = {}
    dispatcher = Dispatcher()
    dispatcher.set_thread_count(adj.threads)
    health = ThreadedTaskDispatcher()
    health.queue_logger = _Quiet()
    health.set_thread_count(1)
    gate = Gate(active_threads) if active_threads else None
    listeners = []
    # Either sockets bound here (host/port), or sockets bound by a parent process (workers.py) and
    # inherited across fork: waitress then only listens and accepts on them.
    # (With sockets, waitress still fills ``listen`` with its default host and port: not ours to bind.)
    bound = [dict(_sock=sock, bind_socket=False, sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))
             for sock in adj.sockets] or [dict(sockinfo=sockinfo) for sockinfo in adj.listen]
    for where in bound:
        listener = GuardedServer(application, socket_map, dispatcher=dispatcher, adj=adj, **where)
        listener.deadlines = deadlines
        listener.health_dispatcher = health
        listener.gate = gate
        listener.channel_class = GuardedSpanChannel if sendfile.install(listener) else GuardedChannel
        listeners.append(listener)
    if len(listeners) == 1:
        return listeners[0]
    return MultiSocketServer(socket_map, adj, [(s.effective_host, s.effective_port) for s in listeners],
                             dispatcher, listeners[-1].log_info)


def health_dispatchers(server: BaseWSGIServer | MultiSocketServer) -> list[ThreadedTaskDispatcher]:
    listeners = [server] if isinstance(server, BaseWSGIServer) else [
        s for s in server.map.values() if isinstance(s, BaseWSGIServer)]
    found = {id(d): d for s in listeners if (d := getattr(s, "health_dispatcher", None)) is not None}
    return list(found.values())


def channel_timeout(seconds: float) -> int:
    return max(1, math.ceil(seconds))

