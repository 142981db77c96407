"""FileSpan: a run of a stored file handed down the response instead of its bytes."""

from __future__ import annotations

import io
import os

import pytest

from wadows.filespan import FileSpan, materialize


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "Doe^Jane" / "object.dcm"  # a path that names a patient, as stores do
    path.parent.mkdir()
    data = os.urandom(300_001)
    path.write_bytes(data)
    return path, data


def test_a_regular_file_gives_a_span_over_all_of_it(data_file):
    path, data = data_file
    with open(path, "rb") as f:
        f.read(10)  # where the file object stands does not matter: spans start at byte 0
        span = FileSpan.of_file(f)
    assert span is not None and len(span) == len(data) and span.offset == 0
    # The producer's file is closed already; the span has its own descriptor.
    assert b"".join(materialize([span], chunk_size=65536)) == data
    assert span.closed


@pytest.mark.parametrize("make", [
    lambda tmp: io.BytesIO(b"DICM"),
    lambda tmp: os.fdopen(os.pipe()[0], "rb"),
    lambda tmp: open(_empty(tmp), "rb"),
])
def test_anything_but_a_non_empty_regular_file_gives_none(make, tmp_path):
    f = make(tmp_path)
    try:
        assert FileSpan.of_file(f) is None
    finally:
        f.close()


def _empty(tmp):
    p = tmp / "empty"
    p.write_bytes(b"")
    return p


def test_materialize_keeps_bytes_and_spans_in_order_within_chunk_size(data_file):
    path, data = data_file
    with open(path, "rb") as f:
        span = FileSpan.of_file(f)
    out = list(materialize([b"head", span, b"", b"tail"], chunk_size=100_000))
    assert all(isinstance(c, bytes) for c in out)
    assert max(len(c) for c in out) <= 100_000
    assert b"".join(out) == b"head" + data + b"tail"


def test_a_consumer_stopping_early_closes_the_span(data_file):
    path, _ = data_file
    with open(path, "rb") as f:
        span = FileSpan.of_file(f)
    gen = materialize([span], chunk_size=1000)
    next(gen)
    gen.close()
    assert span.closed


def test_a_file_truncated_under_its_span_is_an_error_not_short_data(data_file):
    path, data = data_file
    with open(path, "rb") as f:
        span = FileSpan.of_file(f)
    os.truncate(path, 1000)
    with pytest.raises(EOFError):
        b"".join(materialize([span], chunk_size=4096))
    assert span.closed


def test_advance_cannot_pass_the_end(data_file):
    path, data = data_file
    with open(path, "rb") as f:
        span = FileSpan.of_file(f)
    span.advance(len(data) - 1)
    assert (span.offset, len(span)) == (len(data) - 1, 1)
    with pytest.raises(ValueError):
        span.advance(2)
    span.close()


def test_repr_names_no_path(data_file):
    path, _ = data_file
    with open(path, "rb") as f:
        span = FileSpan.of_file(f)
    assert "Doe" not in repr(span) and str(path) not in repr(span)
    span.close()
