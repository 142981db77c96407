"""Header-only streaming: byte-identical to the in-memory path, pixel data copied in bounded memory."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pydicom
import pytest

from wadows.deid.checks import InputRefused
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from wadows.deid import DeidentificationRefused, Deidentifier
from wadows.filespan import FileSpan, materialize

from .objects import KEY, make_ct, to_bytes


def _in_memory(data: bytes, deid: Deidentifier) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    deid.deidentify(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _streamed(data: bytes, deid: Deidentifier, chunk_size: int = 1 << 20) -> bytes:
    return b"".join(deid.stream(io.BytesIO(data), chunk_size=chunk_size))


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless])
@pytest.mark.parametrize("options", [(), ("RetainSafePrivateOption", "CleanDescriptorsOption")])
def test_stream_equals_in_memory_path(ts, options):
    ds = make_ct(transfer_syntax=ExplicitVRLittleEndian)
    if ts == RLELossless:
        ds.compress(RLELossless, generate_instance_uid=False)
    else:
        ds.file_meta.TransferSyntaxUID = ts
    data = to_bytes(ds)
    deid = Deidentifier(KEY, options)
    streamed = _streamed(data, deid, chunk_size=7)  # odd, tiny chunks: boundaries anywhere
    assert streamed == _in_memory(data, deid)
    out = pydicom.dcmread(io.BytesIO(streamed))
    assert out.file_meta.TransferSyntaxUID == ts
    assert np.array_equal(out.pixel_array, pydicom.dcmread(io.BytesIO(data)).pixel_array)


def test_stream_attributes_are_the_new_values():
    data = to_bytes(make_ct())
    stream = Deidentifier(KEY).stream(io.BytesIO(data))
    out = pydicom.dcmread(io.BytesIO(b"".join(stream)))
    assert (stream.sop_instance_uid, stream.study_instance_uid, stream.series_instance_uid) == \
           (out.SOPInstanceUID, out.StudyInstanceUID, out.SeriesInstanceUID)
    assert stream.sop_class_uid == out.SOPClassUID and stream.transfer_syntax_uid == ExplicitVRLittleEndian


def test_elements_after_pixel_data_are_dropped():
    ds = make_ct()
    ds.add_new(0xFFFCFFFC, "OB", b"Doe Jane padding")
    data = to_bytes(ds)
    out = _streamed(data, Deidentifier(KEY))
    assert b"Doe Jane" not in out and out == _in_memory(data, Deidentifier(KEY))


def test_pixel_data_streams_in_bounded_memory(tmp_path):
    frames, rows, cols = 16, 1024, 1024  # 32 MiB of pixel data
    ds = make_ct(rows=rows, cols=cols)
    ds.NumberOfFrames = frames
    ds.PixelData = np.zeros(frames * rows * cols, dtype=np.uint16).tobytes()
    path = tmp_path / "big.dcm"
    path.write_bytes(to_bytes(ds))
    del ds
    deid = Deidentifier(KEY)
    total = 0
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            for chunk in deid.stream(f, chunk_size=1 << 20):
                total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > frames * rows * cols * 2
    assert peak < 6 * 2**20, f"peak {peak} bytes"


def test_refusal_comes_before_the_first_byte():
    ds = make_ct()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(DeidentificationRefused):
        Deidentifier(KEY).stream(io.BytesIO(to_bytes(ds)))  # raised by the call, not by iteration


def test_deidentify_file_paths_and_refuses_to_overwrite(tmp_path):
    src = tmp_path / "in.dcm"
    src.write_bytes(to_bytes(make_ct()))
    deid = Deidentifier(KEY)
    uid = deid.deidentify_file(src, tmp_path / "out.dcm")
    assert pydicom.dcmread(tmp_path / "out.dcm").SOPInstanceUID == uid
    with pytest.raises(ValueError):
        deid.deidentify_file(src, src)


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless])
def test_spans_carry_the_same_pixel_bytes_from_a_stored_file(ts, tmp_path):
    ds = make_ct(rows=512, cols=512, transfer_syntax=ExplicitVRLittleEndian)
    ds.PixelData = np.random.default_rng(1).integers(0, 4000, 512 * 512, dtype=np.uint16).tobytes()
    if ts == RLELossless:
        ds.compress(RLELossless, generate_instance_uid=False)
    else:
        ds.file_meta.TransferSyntaxUID = ts
    ds.add_new(0xFFFCFFFC, "OB", b"Doe Jane padding")  # after the pixel data: must not ride along
    path = tmp_path / "in.dcm"
    path.write_bytes(to_bytes(ds))
    deid = Deidentifier(KEY)
    with path.open("rb") as f:
        chunks = list(deid.stream(f, spans=True))
    spans = [c for c in chunks if isinstance(c, FileSpan)]
    assert spans, "a 512 KiB pixel value (or its fragment) should go as a span"
    assert all(len(s) >= 64 << 10 for s in spans)
    out = b"".join(materialize(chunks))
    assert out == _in_memory(path.read_bytes(), deid)
    assert b"Doe Jane" not in out


def test_no_spans_unless_asked_or_without_a_real_file(tmp_path):
    data = to_bytes(make_ct(rows=512, cols=512))
    path = tmp_path / "in.dcm"
    path.write_bytes(data)
    with path.open("rb") as f:
        assert all(isinstance(c, bytes) for c in Deidentifier(KEY).stream(f))
    assert all(isinstance(c, bytes) for c in Deidentifier(KEY).stream(io.BytesIO(data), spans=True))


def test_a_stored_file_shorter_than_its_pixel_data_is_refused_before_any_byte(tmp_path):
    data = to_bytes(make_ct(rows=512, cols=512))
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:-1000])
    with path.open("rb") as f, pytest.raises(InputRefused, match="truncated"):
        Deidentifier(KEY).stream(f, spans=True)
