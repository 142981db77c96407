"""Streaming multipart/related reader: parts and bodies exactly as sent, whatever the read sizes,
truncation detected, memory bounded."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wadows.store.errors import ArchiveAnswerError
from wadows.store.multipart import MultipartError, MultipartReader, TruncatedMultipart, boundary_of

BOUNDARY = b"b0und4ry"


def body(*parts: bytes, preamble: bytes = b"", epilogue: bytes = b"", headers: bytes = b"Content-Type: application/dicom\r\n") -> bytes:
    out = preamble
    for p in parts:
        out += b"--" + BOUNDARY + b"\r\n" + headers + b"\r\n" + p + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n" + epilogue


class Dribble:
    """A source that returns at most ``step`` bytes per read, like a socket does."""

    def __init__(self, data: bytes, step: int) -> None:
        self._f = io.BytesIO(data)
        self.step = step
        self.largest_request = 0

    def read(self, n: int) -> bytes:
        self.largest_request = max(self.largest_request, n)
        return self._f.read(min(n, self.step))


def read_all(data: bytes, step: int = 7, read_size: int = 5, chunk: int = 64) -> list[tuple[str, bytes]]:
    reader = MultipartReader(Dribble(data, step).read, BOUNDARY, chunk_size=chunk)
    out = []
    while (headers := reader.next_part()) is not None:
        got = bytearray()
        while piece := reader.read(read_size):
            assert len(piece) <= read_size
            got += piece
        out.append((headers.get_content_type(), bytes(got)))
    return out


def test_parts_come_back_exactly():
    a, b = b"DICM" + bytes(range(256)) * 3, b"\r\n--b0und4r not quite\r\n--b0und4"
    assert read_all(body(a, b, preamble=b"ignored preamble\r\n", epilogue=b"ignored")) == [
        ("application/dicom", a), ("application/dicom", b)]


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.binary(max_size=300), min_size=1, max_size=4), step=st.integers(1, 50),
       read_size=st.integers(1, 80), chunk=st.integers(1, 100))
def test_any_split_of_the_stream_gives_the_same_parts(parts, step, read_size, chunk):
    # Bodies that contain pieces of the delimiter must not end early or lose bytes.
    parts = [p.replace(b"--" + BOUNDARY, b"--" + BOUNDARY[:-1]) for p in parts]
    got = read_all(body(*parts), step=step, read_size=read_size, chunk=chunk)
    assert [g[1] for g in got] == parts


def test_part_without_headers_and_padding_after_boundary():
    data = b"--" + BOUNDARY + b"  \t\r\n\r\nxyz\r\n--" + BOUNDARY + b"--"
    assert read_all(data) == [("text/plain", b"xyz")]  # RFC 2045 default type


def test_cut_inside_a_body_is_an_error_not_a_short_object():
    data = body(os.urandom(1000))[:500]
    with pytest.raises(TruncatedMultipart):
        read_all(data)


@pytest.mark.parametrize("cut", [0, 5, 30, -3])
def test_cut_anywhere_else_is_an_error(cut):
    data = body(b"abc")
    data = data[:cut] if cut >= 0 else data[:cut - len(b"--\r\n")]
    with pytest.raises(TruncatedMultipart):
        read_all(data)


def test_truncation_is_an_archive_answer_error_and_an_oserror():
    assert issubclass(TruncatedMultipart, ArchiveAnswerError) and issubclass(TruncatedMultipart, OSError)


def test_memory_stays_bounded_by_the_read_size():
    big = os.urandom(4 << 20)
    source = Dribble(body(big), step=1 << 20)
    reader = MultipartReader(source.read, BOUNDARY, chunk_size=64 << 10)
    reader.next_part()
    peak = 0
    total = 0
    while piece := reader.read(64 << 10):
        total += len(piece)
        peak = max(peak, len(reader._buf))
    assert total == len(big)
    assert source.largest_request <= 64 << 10
    assert peak < 2 * (64 << 10) + 64


def test_drain_reads_to_the_end():
    src = io.BytesIO(body(b"one", b"two", epilogue=b"tail"))
    reader = MultipartReader(src.read, BOUNDARY)
    reader.next_part()
    reader.drain()
    assert reader.finished and src.read() == b""


def test_boundary_from_content_type():
    assert boundary_of('multipart/related; type="application/dicom"; boundary="a b:c"') == b"a b:c"
    with pytest.raises(MultipartError):
        boundary_of("application/dicom")
    with pytest.raises(MultipartError):
        boundary_of("multipart/related")


def test_oversized_part_headers_are_refused():
    data = b"--" + BOUNDARY + b"\r\nX: " + b"a" * (70 << 10)
    with pytest.raises(MultipartError):
        read_all(data, step=4096, chunk=4096)
