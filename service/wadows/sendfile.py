"""waitress, taught to send FileSpan chunks with os.sendfile.

waitress copies every byte of a response through Python: the task thread appends each chunk to the
connection's output buffer (spilling to a temporary file past ``outbuf_overflow``), and the send
loop reads it back and calls socket.send. For a 500 MB object that gave under a third of the rate
nginx reaches with sendfile on the same file (bench/run.py, W2). WSGI's ``wsgi.file_wrapper`` cannot help: it must be the whole
response body, and ours is a multipart/related body with the file in the middle of it.

Three small subclasses, each keeping waitress's own logic and locking:

- ``SpanTask`` (the WSGI task) advertises spans in the environ and queues a FileSpan the app yields
  as its own output buffer, framed for chunked transfer coding when the response uses it; it also
  keeps HTTP/1.1 connections open after chunked responses, which waitress closes;
- ``SpanBuffer`` is that output buffer: waitress's flush loop asks it for data to send and gets a
  ``_SpanChunk`` placeholder instead of bytes;
- ``SpanChannel.send`` turns that placeholder into one os.sendfile call; bytes go to socket.send as
  before. The flush loop, the high-water mark that makes the task wait, and closing buffers on
  disconnect are waitress's, untouched.

They lean on two waitress 3 details, which tests/test_sendfile.py pins down: the channel queues any
ReadOnlyFileBasedBuffer instance as a buffer of its own, and its flush loop sends ``buffer.get()``
through ``self.send``.
"""

from __future__ import annotations

import errno
import os

from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.task import WSGITask

from .filespan import ENVIRON_KEY, FileSpan

# One sendfile call may move this much; the kernel sends what the socket buffer takes anyway.
_MAX_SENDFILE = 16 << 20
# Each queued span holds a file descriptor until sent. A response of many small objects (or many
# fragments) could otherwise queue hundreds per connection before the high-water mark stops the app;
# past this many, a span is written as bytes instead, which the high-water mark bounds in memory.
MAX_QUEUED_SPANS = 8
_DISCONNECTED = frozenset({errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.ECONNABORTED,
                           errno.EPIPE, errno.EBADF})


class _SpanChunk:
    """What SpanBuffer.get returns: "send from this span", understood only by SpanChannel.send."""

    __slots__ = ("span", "count")

    def __init__(self, span: FileSpan, count: int) -> None:
        self.span = span
        self.count = count

    def __len__(self) -> int:
        return self.count


class SpanBuffer(ReadOnlyFileBasedBuffer):
    """An output buffer over a FileSpan. Subclassing waitress's file_wrapper buffer is what makes
    the channel queue it as a buffer of its own instead of appending it to the current one."""

    def __init__(self, span: FileSpan) -> None:  # no super().__init__: there is no file object to wrap
        self.span = span
        self.remain = len(span)

    def prepare(self, size: int | None = None) -> int:
        return self.remain

    def get(self, numbytes: int = -1, skip: bool = False) -> _SpanChunk:  # type: ignore[override]
        count = self.remain if numbytes < 0 else min(max(numbytes, _MAX_SENDFILE), self.remain)
        if skip:
            self.skip(count)
        return _SpanChunk(self.span, count)

    def skip(self, numbytes: int, allow_prune: int = 0) -> None:
        self.span.advance(numbytes)
        self.remain = len(self.span)

    def close(self) -> None:
        self.span.close()


class SpanTask(WSGITask):
    _keeping_alive = False

    def build_response_header(self) -> bytes:
        # waitress closes every HTTP/1.1 connection after a response without Content-Length, chunked or
        # not. A chunked body ends with its last-chunk marker (RFC 9112 §7.1), so the connection can
        # carry the client's next request; streamed RAD-69 responses are all chunked, and reconnecting
        # for each one doubled the time of a one-instance request. A client asking to close still gets
        # it, and a response cut short by an error still closes (waitress sets close_on_finish then).
        self._keeping_alive = self.version == "1.1" and self.request.headers.get("CONNECTION", "").lower() != "close"
        try:
            return super().build_response_header()
        finally:
            self._keeping_alive = False

    def set_close_on_finish(self) -> None:
        # Called with chunked_response already set only by waitress's "no Content-Length" rule.
        if self._keeping_alive and self.chunked_response:
            return
        super().set_close_on_finish()

    def get_environment(self) -> dict:
        environ = super().get_environment()
        environ[ENVIRON_KEY] = True
        return environ

    def write(self, data) -> None:  # type: ignore[override]
        if not isinstance(data, FileSpan):
            return super().write(data)
        ours = True  # until the channel has queued it; then closing it is the channel's job
        try:
            super().write(b"")  # the status line and headers, once
            if not data or not self.has_body:
                return None
            if self.content_length is not None or self._queued_spans() >= MAX_QUEUED_SPANS:
                # A declared length caps what may be written (waitress truncates bytes, not spans);
                # too many spans in flight would hold too many descriptors.
                while data.remaining:
                    super().write(data.read(1 << 20))
                return None
            chunked = self.chunked_response
            if chunked:
                self.channel.write_soon(b"%X\r\n" % len(data))
            self.channel.write_soon(SpanBuffer(data))
            ours = False
            if chunked:
                self.channel.write_soon(b"\r\n")
        finally:
            if ours:
                data.close()
        return None


    def _queued_spans(self) -> int:
        # A snapshot is enough: the send loop only ever removes buffers, so the count can only be high.
        return sum(isinstance(b, SpanBuffer) for b in list(self.channel.outbufs))


class SpanChannel(HTTPChannel):
    task_class = SpanTask

    def send(self, data, do_close: bool = True) -> int:  # type: ignore[override]
        if not isinstance(data, _SpanChunk):
            return super().send(data, do_close=do_close)
        span = data.span
        try:
            sent = os.sendfile(self.socket.fileno(), span.fd, span.offset, data.count)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno not in _DISCONNECTED:
                raise
            if do_close:
                self.handle_close()
            return 0
        if sent == 0:
            # The file ended before its span (truncated while being served). Padding or shifting
            # would hand the client a corrupt object under a valid-looking frame: cut instead.
            # From the task thread (do_close False) the send loop's next turn does the closing.
            if do_close:
                self.handle_close()
            return 0
        return sent


def install(server: BaseWSGIServer | MultiSocketServer) -> bool:
    """Make ``server`` (from waitress.create_server) build SpanChannels for new connections.
    False, and nothing changed, where the platform has no os.sendfile: the app then sends bytes."""
    if not hasattr(os, "sendfile"):
        return False
    listeners = [server] if isinstance(server, BaseWSGIServer) else [
        s for s in server.map.values() if isinstance(s, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = SpanChannel
    return True
