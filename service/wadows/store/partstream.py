"""The object in a WADO-RS answer (the first part of its multipart/related body), as a
non-seekable binary stream; urllib3's failures mid-way become :mod:`.errors` exceptions."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from .errors import ArchiveAnswerError, ArchiveTimeout, ArchiveUnavailable, InstanceGone
from .multipart import MultipartReader

if TYPE_CHECKING:
    import requests


class PartStream(io.RawIOBase):
    """The body of the first part of a WADO-RS answer. Closing it returns the connection to the
    pool when the answer was read to its end, and drops the connection otherwise."""

    def __init__(self, resp: requests.Response, reader: MultipartReader) -> None:
        super().__init__()
        self._resp = resp
        self._reader = reader
        self._pending = b""
        self._done = False
        self.announced_syntax = ""

    def start(self) -> None:
        headers = self._guard(self._reader.next_part)
        if headers is None:
            self.close()
            raise InstanceGone("the archive answered with no object")
        if headers.get_content_type() != "application/dicom":
            self.close()
            raise ArchiveAnswerError("the archive's answer part is not application/dicom")
        syntax = headers.get_param("transfer-syntax")
        self.announced_syntax = syntax if isinstance(syntax, str) and syntax != "*" else ""

    def _guard(self, call, *args):
        try:
            return call(*args)
        except ReadTimeoutError:
            raise ArchiveTimeout("the archive stopped sending within the timeout") from None
        except ProtocolError:
            raise ArchiveAnswerError("the archive's answer broke off") from None
        except (Urllib3Error, ConnectionError):
            raise ArchiveUnavailable("the connection to the archive failed") from None

    def readable(self) -> bool:
        return True

    def unread(self, data: bytes) -> None:
        self._pending = data + self._pending

    def read(self, size: int = -1) -> bytes:
        if self._pending:
            n = len(self._pending) if size is None or size < 0 else size
            out, self._pending = self._pending[:n], self._pending[n:]
            return out
        if self._done:
            return b""
        data = self._guard(self._reader.read, size if size is not None and size >= 0 else -1)
        if not data:
            self._done = True
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def discard(self, *, drain_limit: int = 64 << 10) -> None:
        """Close without using the rest: read it first when little is left, which keeps the
        connection for the next request; otherwise a new connection is cheaper than the bytes."""
        length = self._resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) <= drain_limit:
            try:
                self._guard(self._reader.drain)
                self._done = True
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._done and self._reader.finished:
                self._resp.raw.release_conn()
            elif self._done:
                try:
                    self._guard(self._reader.drain)
                    self._resp.raw.release_conn()
                except OSError:
                    self._resp.close()
            else:
                self._resp.close()
        finally:
            super().close()
