"""Header-only de-identification: read the data set up to the pixel data, de-identify it, and emit
the new header followed by the original pixel data element copied from the source in chunks.

Pixel data is neither decoded nor held in memory: the element (tag, VR, length and value, or for
encapsulated data every item up to and including the Sequence Delimitation Item) is copied byte
for byte, which is valid because the output keeps the source's transfer syntax, and yields the
same bytes pydicom would write for the whole object. With ``spans`` (a caller that can send file
runs itself, the RAD-69 response), a long value or fragment goes out as a FileSpan of the source
file instead of its bytes: the same bytes, not read through Python. Elements after the pixel data (Data Set
Trailing Padding, Digital Signatures, private groups above 7FE0) are dropped: none of them is
kept by the profile either.

Three cases read the whole object instead, documented in deid/README.md: a pixel rule applies
(blanking decodes, pixels.py), the transfer syntax is Deflated (the header cannot be found without
inflating everything), or Explicit VR Big Endian (retired; pydicom rewrites it whole).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRBigEndian

from ..dicom.reader import read_partial as fast_read_partial
from ..dicom.tags import PIXEL_TAGS, SEQUENCE_DELIMITER, UNDEFINED_LENGTH
from ..filespan import FileSpan
from . import checks
from .part10 import header_bytes, write_bytes
from .plan import ObjectPlan, Planner
from .rewrite import rewrite

# With spans asked for, pixel values (or fragments) this long go out as FileSpans of the source.
_SPAN_MIN = 64 << 10


def reads_whole_object(has_pixel_rule: bool, ts: UID) -> bool:
    """The three cases that read the whole object (see above). Their work (decoding, blanking, OCR
    verification, re-encoding) happens while the stream is produced and can still refuse or fail
    then, so a server produces such an object before it promises any byte (retrieve/rad69.py)."""
    return has_pixel_rule or ts.is_deflated or ts == ExplicitVRBigEndian or not ts.is_little_endian


class DeidentifiedStream:
    """The de-identified object as Part-10 bytes; iterate once. The identifying attributes are the
    NEW values, known before the first chunk (refusals have been raised by then)."""

    def __init__(self, chunks: Iterator[bytes | FileSpan], *, sop_instance_uid: str, study_instance_uid: str,
                 series_instance_uid: str, sop_class_uid: str, transfer_syntax_uid: str):
        self._chunks = chunks
        self.sop_instance_uid = sop_instance_uid
        self.study_instance_uid = study_instance_uid
        self.series_instance_uid = series_instance_uid
        self.sop_class_uid = sop_class_uid
        self.transfer_syntax_uid = transfer_syntax_uid

    def __iter__(self) -> Iterator[bytes | FileSpan]:
        return self._chunks


def _new(ds, chunks: Iterator[bytes]) -> DeidentifiedStream:
    return DeidentifiedStream(chunks, sop_instance_uid=str(ds.SOPInstanceUID),
                              study_instance_uid=str(ds.get("StudyInstanceUID", "")),
                              series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
                              sop_class_uid=str(ds.SOPClassUID), transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID))


def _read_exact(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise EOFError("the pixel data is truncated")
    return data


def _copy(src: BinaryIO, n: int, chunk_size: int, spans: bool = False) -> Iterator[bytes | FileSpan]:
    if spans and n >= _SPAN_MIN:
        start = src.tell()
        span = FileSpan.of_file(src, start, n)  # EOFError when the file is shorter, as below
        if span is not None:
            src.seek(start + n)
            yield span
            return
    while n > 0:
        data = src.read(min(n, chunk_size))
        if not data:
            raise EOFError("the pixel data is truncated")
        n -= len(data)
        yield data


def _pixel_elements(src: BinaryIO, implicit: bool, chunk_size: int, spans: bool) -> Iterator[bytes | FileSpan]:
    """Copy the pixel data element(s) at the current position, then stop."""
    last = 0
    while True:
        head = src.read(4)
        if len(head) < 4:
            return
        group, element = struct.unpack("<HH", head)
        tag = group << 16 | element
        if tag not in PIXEL_TAGS or tag <= last:
            return
        last = tag
        if implicit:
            rest = _read_exact(src, 4)
            length = struct.unpack("<L", rest)[0]
        else:
            rest = _read_exact(src, 8)  # VR, 2 reserved bytes, 32-bit length (PS3.5 Table 7.1-1)
            length = struct.unpack("<L", rest[4:])[0]
        yield head + rest
        if length != UNDEFINED_LENGTH:
            yield from _copy(src, length, chunk_size, spans)
            continue
        while True:  # encapsulated: items, then the sequence delimiter (PS3.5 §A.4)
            item = _read_exact(src, 8)
            item_tag = struct.unpack("<HH", item[:4])
            item_length = struct.unpack("<L", item[4:])[0]
            yield item
            if (item_tag[0] << 16 | item_tag[1]) == SEQUENCE_DELIMITER:
                break
            yield from _copy(src, item_length, chunk_size, spans)


def _check_pixels_complete(src: BinaryIO, pixel_at: int, implicit: bool) -> None:
    """Walk the pixel element headers as _pixel_elements will, seeking over values, and raise
    EOFError when the file ends before they do: a truncated object is refused before its first byte
    goes out instead of failing mid-stream."""
    size = src.seek(0, io.SEEK_END)
    pos, last = pixel_at, 0

    def take(n: int) -> bytes:
        nonlocal pos
        src.seek(pos)
        data = src.read(n)
        if len(data) != n:
            raise EOFError
        pos += n
        return data

    try:
        while pos + 4 <= size:
            group, element = struct.unpack("<HH", take(4))
            tag = group << 16 | element
            if tag not in PIXEL_TAGS or tag <= last:
                break
            last = tag
            length = struct.unpack("<L", take(4) if implicit else take(8)[4:])[0]
            if length != UNDEFINED_LENGTH:
                pos += length
                if pos > size:
                    raise EOFError
                continue
            while True:
                item = take(8)
                if (struct.unpack("<HH", item[:4])[0] << 16 | struct.unpack("<HH", item[:4])[1]) == SEQUENCE_DELIMITER:
                    break
                pos += struct.unpack("<L", item[4:])[0]
                if pos > size:
                    raise EOFError
    finally:
        src.seek(pixel_at)


def read_header(src: BinaryIO) -> Dataset:
    """dcmread(src, stop_before_pixels=True), the common case read from a buffer (dicom/reader.py,
    the same Dataset)."""
    return fast_read_partial(src, _at_pixels) or dcmread(src, stop_before_pixels=True)


def _at_pixels(tag, vr, length) -> bool:
    return tag in PIXEL_TAGS


def open_stream(deid: Planner, src: BinaryIO, chunk_size: int = 1 << 20, spans: bool = False) -> DeidentifiedStream:
    start = src.tell()
    ds = read_header(src)
    pixel_at = src.tell()
    checks.check_meta(ds)
    ts = UID(ds.file_meta.TransferSyntaxUID)
    plan = deid.plan_object(ds)  # refusals are raised here, before any byte
    if reads_whole_object(plan.pixel_rule is not None, ts):
        src.seek(start)
        whole = dcmread(src)
        checks.check_complete(whole)
        deid.deidentify(whole)
        data = write_bytes(whole)
        return _new(whole, (data[i:i + chunk_size] for i in range(0, len(data), chunk_size)))
    _refuse_truncated(src, pixel_at, ts.is_implicit_VR)
    # No pixel rule: the header alone changes, written from its bytes where rewrite.py can.
    fast = rewrite(ds, plan)
    if fast is not None:
        return DeidentifiedStream(_chunks(fast.header, src, pixel_at, ts.is_implicit_VR, chunk_size, spans),
                                  sop_instance_uid=fast.sop_instance_uid, study_instance_uid=fast.study_instance_uid,
                                  series_instance_uid=fast.series_instance_uid, sop_class_uid=fast.sop_class_uid,
                                  transfer_syntax_uid=fast.transfer_syntax_uid)
    plan.apply(ds)
    return _new(ds, _chunks(header_bytes(ds), src, pixel_at, ts.is_implicit_VR, chunk_size, spans))


def rewrite_header(ds: Dataset, plan: ObjectPlan) -> bytes:
    """The de-identified Part-10 header (preamble to the pixel data element) of a header read once
    and planned (engine.decide), for an object that reads_whole_object() does not claim: what
    open_stream would write first, without reading the file again. Pixel data markers
    (store/header.py) are dropped: the element is copied from the file by stream_rewritten()."""
    checks.check_meta(ds)
    fast = rewrite(ds, plan)
    return fast.header if fast is not None else reference_header(ds, plan)


def reference_header(ds: Dataset, plan: ObjectPlan) -> bytes:
    """rewrite_header by the walker and the pydicom-based writer: what rewrite.py must equal, and
    what runs where it declines. Changes ``ds`` in place."""
    checks.check_meta(ds)
    for tag in PIXEL_TAGS:
        if tag in ds:
            del ds[tag]
    plan.apply(ds)
    return header_bytes(ds)


def stream_rewritten(header: bytes, src: BinaryIO, pixel_at: int, implicit: bool, chunk_size: int = 1 << 20,
                     spans: bool = False) -> Iterator[bytes | FileSpan]:
    """rewrite_header()'s bytes, then the pixel data element(s) of ``src`` from ``pixel_at``; ``src``
    is the file the header was read from (the caller checks its identity), so the pair is one object.
    A file that ends inside its pixel data is refused before the header goes out, as in open_stream."""
    _refuse_truncated(src, pixel_at, implicit)
    return _chunks(header, src, pixel_at, implicit, chunk_size, spans)


def _refuse_truncated(src: BinaryIO, pixel_at: int, implicit: bool) -> None:
    try:
        _check_pixels_complete(src, pixel_at, implicit)
    except EOFError:
        raise checks.InputRefused(checks.TRUNCATED) from None


def _chunks(header: bytes, src: BinaryIO, pixel_at: int, implicit: bool, chunk_size: int,
            spans: bool) -> Iterator[bytes | FileSpan]:
    yield header
    src.seek(pixel_at)
    yield from _pixel_elements(src, implicit, chunk_size, spans)


def stream_bytes(stream: DeidentifiedStream) -> bytes:
    buf = io.BytesIO()
    for chunk in stream:
        buf.write(chunk)
    return buf.getvalue()
