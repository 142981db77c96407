"""Stopping `wadows serve` without cutting transfers short.

A rolling update (docker compose, a process manager) sends SIGTERM and waits. waitress's own run loop
ends on KeyboardInterrupt only and then drops every connection, so a 500 MB object half sent is lost and
the client must start over. Here SIGTERM (or Ctrl-C) stops the listening socket at once, so new
connections are refused and go to another replica; requests already received are answered to the end;
idle kept-alive connections are closed; after ``grace_seconds`` whatever is left is cut. A second signal
stops at once.

The signal handler only sets a flag and wakes the loop through waitress's trigger pipe: raising inside
the event loop could interrupt a send half way with a buffer lock held. The loop is waitress's own poll
loop, run one turn at a time so the flag is seen as soon as the poll returns.

A worker process (workers.py) is also asked to stop by its parent: the parent closes its end of a pipe
(or dies), and the end-of-file, seen by the same poll loop, counts as the first signal. It does not count
as a second one, so a worker that an init system signalled along with its parent (systemd's default
KillMode=control-group) still drains.
"""

from __future__ import annotations

import logging
import signal
import time

from waitress import wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer

log = logging.getLogger("wadows")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _StopOnEndOfFile(wasyncore.file_dispatcher):
    """The read end of a pipe whose writer asks for a stop by closing it."""

    def __init__(self, fd: int, socket_map: dict, on_stop) -> None:
        super().__init__(fd, socket_map)
        self._on_stop = on_stop

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        self.recv(64)  # b"" at end of file, and the dispatcher then calls handle_close

    def handle_close(self) -> None:
        self.close()
        self._on_stop()


def run_until_stopped(server: BaseWSGIServer | MultiSocketServer, grace_seconds: float,
                      stop_fd: int | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or end of file on ``stop_fd``), then drain for at most
    ``grace_seconds`` and return."""
    stopping = []

    def on_signal(signum: int, frame: object) -> None:
        if stopping:  # the second one: no more patience
            raise SystemExit(1)
        stopping.append(signum)
        listeners[0].trigger.pull_trigger()  # one byte on waitress's wake-up pipe: the poll returns now

    listeners = listeners_of(server)
    socket_map, adj = listeners[0]._map, listeners[0].adj
    if stop_fd is not None:
        _StopOnEndOfFile(stop_fd, socket_map, lambda: stopping or stopping.append("parent"))
    previous = {s: signal.signal(s, on_signal) for s in _SIGNALS}
    try:
        while not stopping:
            wasyncore.loop(timeout=adj.asyncore_loop_timeout, map=socket_map, use_poll=adj.asyncore_use_poll, count=1)
        log.info("stopping: no new connections; finishing requests in progress (at most %g s)", grace_seconds)
        for listener in listeners:
            listener.accepting = False
            listener.del_channel()
            listener.socket.close()
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            busy = 0
            for channel in _channels(listeners):
                if channel.requests or channel.total_outbufs_len:
                    busy += 1
                elif not channel.will_close:
                    channel.will_close = True  # idle kept-alive connection: closed on the next turn
            if not busy and not _channels(listeners):
                break
            wasyncore.loop(timeout=0.1, map=socket_map, use_poll=adj.asyncore_use_poll, count=1)
        left = _channels(listeners)
        if left:
            log.warning("stopping: %d connection(s) still busy after %g s are closed", len(left), grace_seconds)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        # handle_close, not close: it also wakes an app thread waiting for a slow client to read.
        for channel in _channels(listeners):
            channel.handle_close()
        listeners[0].task_dispatcher.shutdown(cancel_pending=True, timeout=5)  # one dispatcher for all
        from .connections import health_dispatchers

        for dispatcher in health_dispatchers(server):
            dispatcher.shutdown(cancel_pending=True, timeout=1)
        wasyncore.close_all(socket_map)


def _channels(listeners: list[BaseWSGIServer]) -> list:
    return [channel for listener in listeners for channel in list(listener.active_channels.values())]


def listeners_of(server: BaseWSGIServer | MultiSocketServer) -> list[BaseWSGIServer]:
    if isinstance(server, BaseWSGIServer):
        return [server]
    return [s for s in server.map.values() if isinstance(s, BaseWSGIServer)]
