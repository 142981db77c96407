"""A run of bytes in an open file, passed down the response instead of the bytes themselves.

When a stored object goes out exactly as it lies on disk (the common RAD-69 case), copying it
through Python costs most of the transfer: read into a bytes object, append to the server's output
buffer (which spills to a temporary file past a few MB), read back, send. A ``FileSpan`` lets the
HTTP server hand the kernel the file and the socket instead (``os.sendfile``, see sendfile.py),
which is what nginx does.

Ownership: a span holds its own duplicate of the file descriptor, so whoever produced it may close
their file as soon as the span is yielded; the consumer (the server's output buffer, or
``materialize``) closes the span. A span dropped without being closed closes on garbage
collection, as a file object would.

A WSGI server that does not know spans never sees one: the app turns them into bytes
(``materialize``) unless the server says it takes them (``ENVIRON_KEY`` in the WSGI environ).
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO, Iterable, Iterator

# Set (to True) in the WSGI environ by a server whose response writer accepts FileSpan chunks.
ENVIRON_KEY = "wadows.file_spans"


class FileSpan:
    """``length`` bytes of a regular file from ``offset``; ``len()`` is what is left to send."""

    __slots__ = ("_file", "offset", "remaining")

    def __init__(self, fd: int, offset: int, length: int) -> None:
        # FileIO closes the descriptor when the span is closed or collected.
        self._file = os.fdopen(os.dup(fd), "rb", buffering=0)
        self.offset = offset
        self.remaining = length

    @classmethod
    def of_file(cls, f: BinaryIO, offset: int = 0, length: int | None = None) -> FileSpan | None:
        """``length`` bytes of ``f`` from ``offset`` (by default all of it from byte 0, wherever
        ``f`` stands) when ``f`` is a regular file with a descriptor; None for anything else (a pipe,
        an archive's network stream, an in-memory buffer), which the caller then reads as usual,
        and for an empty run. Raises EOFError when the file is shorter than the run asked for."""
        try:
            fd = f.fileno()
            st = os.fstat(fd)
        except (AttributeError, OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        if length is None:
            length = st.st_size - offset
        if offset + length > st.st_size:
            raise EOFError("file shorter than the span asked for")
        return cls(fd, offset, length) if length > 0 else None

    @property
    def fd(self) -> int:
        return self._file.fileno()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __len__(self) -> int:
        return self.remaining

    def advance(self, n: int) -> None:
        """``n`` more bytes have been sent."""
        if not 0 <= n <= self.remaining:
            raise ValueError("cannot advance a file span past its end")
        self.offset += n
        self.remaining -= n

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes at the current offset, advancing past them. Raises EOFError when the
        file ends before the span does (it was truncated after the span was taken): the response
        can then only be cut short, never padded or shifted."""
        data = os.pread(self.fd, min(n, self.remaining), self.offset)
        if not data and self.remaining:
            raise EOFError("file shorter than its span")
        self.advance(len(data))
        return data

    def close(self) -> None:
        self._file.close()

    def __repr__(self) -> str:  # never a path: paths in the store can name patients
        return f"<FileSpan fd={self._file.fileno() if not self.closed else -1} offset={self.offset} remaining={self.remaining}>"


def materialize(chunks: Iterable[bytes | FileSpan], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """``chunks`` with every span read out as bytes of at most ``chunk_size``, for consumers that
    only take bytes (any WSGI server but ours, tests joining a document). Spans are closed here,
    also when the consumer stops early."""
    for chunk in chunks:
        if isinstance(chunk, FileSpan):
            with chunk._file:
                while chunk.remaining:
                    yield chunk.read(chunk_size)
        else:
            yield chunk
