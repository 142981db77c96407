"""An object's data set up to its pixel data, with the pixel data element kept as an empty marker.

Retrieval decides from the header alone whether an object has pixel data (an SR may go to any
syntax of the family, an image may not, PS3.5 §A.4), so "stopped before the pixel data" and
"there is no pixel data" must not look alike, as they do after pydicom's stop_before_pixels. Both
backends read the header here, from the object's own bytes: the file store from the file, the
DICOMweb backend from the start of the WADO-RS answer (an archive's JSON metadata is no substitute:
Orthanc 1.10 leaves encapsulated Pixel Data out of it and turns private elements into bulk data
URIs of VR UN).
"""

from __future__ import annotations

import errno
import io
import struct
from dataclasses import dataclass
from typing import BinaryIO, Callable

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial

from ..dicom.reader import read_partial as fast_read_partial

# Pixel Data, Float Pixel Data, Double Float Pixel Data (PS3.3 C.7.6.3) and the VR a marker gets when
# the encoding does not say (Implicit VR: Pixel Data is OW there, PS3.5 §A.1); an explicit VR is kept,
# so the marker describes the element as stored (a Native DICOM rendering shows it).
PIXEL_TAGS = {0x7FE00010: "OW", 0x7FE00008: "OF", 0x7FE00009: "OD"}
_FIRST_READ = 64 << 10
_MAX_HEADER = 64 << 20


class HeaderUnreadable(OSError):
    def __init__(self, message: str) -> None:
        super().__init__(errno.EIO, message)


_Pixel = tuple[int, str]  # the pixel data element's tag and VR


def _parse(fp: BinaryIO) -> tuple[Dataset, _Pixel | None]:
    """The data set read up to a pixel data element, and that element's tag and VR (None if none);
    ``fp`` is left at the start of that element."""
    stopped: list[_Pixel] = []

    def at_pixels(tag, vr, length) -> bool:
        if int(tag) in PIXEL_TAGS:
            known = vr.decode("ascii", "replace") if isinstance(vr, bytes) else vr
            stopped.append((int(tag), known if known in ("OB", "OW", "OF", "OD") else PIXEL_TAGS[int(tag)]))
            return True
        return False

    ds = fast_read_partial(fp, at_pixels)  # the common case, with pydicom's result (dicom/reader.py)
    if ds is None:
        stopped.clear()
        ds = read_partial(fp, stop_when=at_pixels)
    return ds, (stopped[0] if stopped else None)


def _marked(ds: Dataset, pixel: _Pixel | None) -> Dataset:
    if pixel is not None:
        ds[pixel[0]] = DataElement(pixel[0], pixel[1], b"")
    return ds


def header_from_file(fp: BinaryIO) -> Dataset:
    """From a seekable file positioned at byte 0."""
    return header_and_offset(fp)[0]


def header_and_offset(fp: BinaryIO) -> tuple[Dataset, int]:
    """header_from_file's data set and the offset where the pixel data element (or the object) ends it."""
    try:
        ds, pixel = _parse(fp)
    except (InvalidDicomError, EOFError, ValueError, struct.error, NotImplementedError) as exc:
        raise HeaderUnreadable(f"unreadable DICOM header ({type(exc).__name__})") from None
    return _marked(ds, pixel), fp.tell()


@dataclass(frozen=True)
class StreamHeader:
    dataset: Dataset
    prefix: bytes  # everything read from the stream, to hand the object on
    ended: bool    # the stream ended within the prefix
    length: int    # prefix[:length] parses to the same header again (pixel data element header included)


def header_from_stream(read: Callable[[int], bytes]) -> StreamHeader:
    """From a non-seekable stream: reads a growing prefix until the header is whole (the pixel
    data tag reached, or the end of the object)."""
    prefix = bytearray()
    want = _FIRST_READ
    ended = False
    while True:
        while len(prefix) < want and not ended:
            piece = read(want - len(prefix))
            if piece:
                prefix += piece
            else:
                ended = True
        fp = io.BytesIO(prefix)
        try:
            ds, pixel = _parse(fp)
        except (InvalidDicomError, EOFError, ValueError, struct.error, NotImplementedError) as exc:
            if ended:
                raise HeaderUnreadable(f"unreadable DICOM header ({type(exc).__name__})") from None
            ds, pixel = None, None
        if ds is not None and (pixel is not None or ended):
            # The element's tag, VR and length (12 bytes at most) make the marker on a re-read.
            length = min(fp.tell() + 12, len(prefix)) if pixel is not None else len(prefix)
            return StreamHeader(_marked(ds, pixel), bytes(prefix), ended, length)
        if want >= _MAX_HEADER:
            raise HeaderUnreadable("the DICOM header is larger than 64 MB")
        want *= 4
