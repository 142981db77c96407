"""A streaming reader of multipart/related bodies (RFC 2046 §5.1, RFC 2387), as WADO-RS answers
(PS3.18 §8.6.1.2): one part at a time, each body read in pieces, memory bounded by the read size
whatever the size of the part. Email parsers hold a whole part in memory; a 500 MB instance rules
that out.
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesHeaderParser
from typing import Callable

from .errors import ArchiveAnswerError

_MAX_HEADER_BYTES = 64 << 10


class MultipartError(ArchiveAnswerError):
    """The body does not follow multipart/related syntax."""


class TruncatedMultipart(MultipartError):
    """The body ended before the closing delimiter: the last part may be incomplete."""


def boundary_of(content_type: str) -> bytes:
    """The boundary parameter of a multipart Content-Type header value."""
    msg = Message()
    msg["Content-Type"] = content_type
    if msg.get_content_maintype() != "multipart":
        raise MultipartError("the answer is not multipart")
    boundary = msg.get_param("boundary")
    if not isinstance(boundary, str) or not 0 < len(boundary) <= 200:
        raise MultipartError("multipart answer without a usable boundary")
    return boundary.encode("ascii", "strict")


class MultipartReader:
    """Parts of a multipart body read through ``read(n) -> bytes`` (``b""`` at the end)."""

    def __init__(self, read: Callable[[int], bytes], boundary: bytes, *, chunk_size: int = 1 << 20) -> None:
        self._read = read
        self._chunk = chunk_size
        # The delimiter is CRLF "--" boundary (RFC 2046 §5.1.1); the first one may open the body
        # without the CRLF, which is handled by starting the buffer with one.
        self._delimiter = b"\r\n--" + boundary
        self._buf = bytearray(b"\r\n")
        self._eof = False
        self._finished = False  # closing delimiter seen
        self._in_part = False
        self._clean = 0

    @property
    def finished(self) -> bool:
        return self._finished

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._read(self._chunk)
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def _skip_to_delimiter(self) -> None:
        """Drop bytes up to and including the next delimiter and its line ending."""
        while True:
            at = self._buf.find(self._delimiter)
            if at >= 0:
                del self._buf[:at + len(self._delimiter)]
                break
            keep = len(self._delimiter) - 1
            if len(self._buf) > keep:
                del self._buf[:len(self._buf) - keep]
            if not self._fill():
                raise TruncatedMultipart("multipart answer ended before its next boundary")
        while len(self._buf) < 2 and self._fill():
            pass
        if self._buf[:2] == b"--":
            self._finished = True
            del self._buf[:2]
            return
        # Transport padding (spaces, tabs) may precede the line ending.
        while True:
            end = self._buf.find(b"\r\n")
            if end >= 0:
                if self._buf[:end].strip(b" \t"):
                    raise MultipartError("unexpected text after a multipart boundary")
                del self._buf[:end + 2]
                return
            if len(self._buf) > 1024 or not self._fill():
                raise TruncatedMultipart("multipart answer ended inside a boundary line")

    def next_part(self) -> Message | None:
        """Headers of the next part (its body is then read with :meth:`read`), or None after the
        closing delimiter. Whatever was left of the previous part's body is skipped."""
        if self._finished:
            return None
        self._in_part = False
        self._clean = 0
        self._skip_to_delimiter()
        if self._finished:
            return None
        while True:
            if self._buf.startswith(b"\r\n"):
                raw, cut = b"", 2  # a part with no header lines
                break
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                raw, cut = bytes(self._buf[:end + 2]), end + 4
                break
            if len(self._buf) > _MAX_HEADER_BYTES:
                raise MultipartError("multipart part headers are too long")
            if not self._fill():
                raise TruncatedMultipart("multipart answer ended inside part headers")
        del self._buf[:cut]
        # The delimiter search needs the CRLF that precedes it, so it stays part of the body scan.
        self._in_part = True
        return BytesHeaderParser().parsebytes(raw)

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the current part's body (``b""`` at its end); never returns bytes
        that might begin the delimiter, so at most ``n`` plus a delimiter is held."""
        if not self._in_part:
            return b""
        if n is None or n < 0:
            n = self._chunk
        # _clean bytes at the front are known to hold no delimiter: small reads do not rescan.
        while self._clean == 0:
            at = self._buf.find(self._delimiter)
            if at == 0:
                self._in_part = False
                return b""
            if at > 0:
                self._clean = at
                break
            safe = len(self._buf) - (len(self._delimiter) - 1)
            if safe >= min(n, self._chunk):
                self._clean = safe
                break
            if not self._fill():
                if safe <= 0:
                    raise TruncatedMultipart("multipart answer ended inside a part")
                self._clean = safe
        take = min(self._clean, n)
        with memoryview(self._buf) as view:
            out = bytes(view[:take])
        del self._buf[:take]
        self._clean -= take
        return out

    def drain(self) -> None:
        """Read to the end of the body (the closing delimiter and any epilogue)."""
        while self.next_part() is not None:
            pass
        self._buf.clear()
        while self._fill():
            self._buf.clear()
