"""Opening a stored Part-10 file for transcoding without reading its bulk values into memory.

The header is parsed by pydicom with ``defer_size``: anything larger stays on disk and is copied later
by offset (``value_chunks``). A Deflated data set has no offsets to seek to, so it is first inflated
into a spooled temporary file (memory up to a few MB, disk beyond), and read from there as the
Explicit VR Little Endian stream it inflates to (PS3.5 §A.5).
"""

from __future__ import annotations

import shutil
import tempfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

from pydicom.dataelem import RawDataElement
from pydicom.dataset import FileDataset
from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble
from pydicom.uid import UID, ExplicitVRLittleEndian

from ...dicom.part10 import swap_bytes

DEFER_SIZE = 64 * 1024
SPOOL_IN_MEMORY = 8 << 20


class SourceError(Exception):
    """The stored file is not a Part-10 file pydicom can parse."""


@dataclass
class Source:
    ds: FileDataset
    fp: BinaryIO          # where deferred values live (the file itself, or its inflated copy)
    file_ts: UID          # the transfer syntax the file's own meta declares
    body_ts: UID          # how the data set at fp is encoded (Explicit VR LE for a deflated file)
    original: BinaryIO    # the file's own bytes, seekable (a spooled copy if the caller's stream was not)
    spools: list[BinaryIO]
    chunk_size: int = 1 << 20

    def value_chunks(self, raw: RawDataElement, word: int = 1) -> Iterator[bytes]:
        """A deferred value, ``chunk_size`` at a time (a multiple of 8, so swapped words never straddle
        two chunks)."""
        step = max(8, self.chunk_size - self.chunk_size % 8)
        remaining = raw.length
        self.fp.seek(raw.value_tell)
        while remaining:
            data = self.fp.read(min(step, remaining))
            if not data:
                raise SourceError("the file ends inside a value")
            remaining -= len(data)
            yield swap_bytes(data, word)

    def value_opener(self, tag: int) -> Callable[[], BinaryIO] | None:
        """For a value left on disk, a function returning ``fp`` positioned at its first byte (where a
        decoder reads one frame from, dicom.frames.decode_frame); None when pydicom read it."""
        raw = self.ds._dict.get(tag)
        if not (isinstance(raw, RawDataElement) and raw.value is None):
            return None
        fp, tell = self.fp, raw.value_tell

        def open_value() -> BinaryIO:
            fp.seek(tell)
            return fp
        return open_value

    def close(self) -> None:
        for spool in self.spools:
            spool.close()


def open_source(src: BinaryIO, *, chunk_size: int = 1 << 20) -> Source:
    spools: list[BinaryIO] = []
    try:
        if not _seekable(src):
            copy = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY)
            spools.append(copy)
            shutil.copyfileobj(src, copy, chunk_size)
            copy.seek(0)
            src = copy
        preamble = read_preamble(src, False)
        meta = _read_file_meta_info(src)
        file_ts = UID(meta.TransferSyntaxUID)
        if not file_ts.is_transfer_syntax:
            raise SourceError("the file meta names no known transfer syntax")
        fp, body_ts = src, file_ts
        if file_ts.is_deflated:
            fp, body_ts = _inflate(src, chunk_size), ExplicitVRLittleEndian
            spools.append(fp)
        body = read_dataset(fp, body_ts.is_implicit_VR, body_ts.is_little_endian, defer_size=DEFER_SIZE)
        ds = FileDataset(fp, body, preamble, meta, body_ts.is_implicit_VR, body_ts.is_little_endian)
        ds.buffer = fp  # deferred reads (pydicom's own, for large sequences) come back here
    except BaseException as exc:
        for spool in spools:
            spool.close()
        if isinstance(exc, (SourceError, KeyboardInterrupt, SystemExit)):
            raise
        raise SourceError(f"the stored object cannot be parsed ({type(exc).__name__})") from None
    return Source(ds, fp, file_ts, body_ts, src, spools, chunk_size)


def _inflate(src: BinaryIO, chunk_size: int) -> BinaryIO:
    out = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY)
    z = zlib.decompressobj(-15)
    while data := src.read(chunk_size):
        out.write(z.decompress(data, chunk_size))
        while z.unconsumed_tail:
            out.write(z.decompress(z.unconsumed_tail, chunk_size))
    out.write(z.flush())
    out.seek(0)
    return out


def _seekable(src: BinaryIO) -> bool:
    try:
        return bool(src.seekable())
    except (AttributeError, OSError, ValueError):
        return False
