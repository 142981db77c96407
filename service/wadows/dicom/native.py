"""One frame of native (uncompressed, little endian) Pixel Data read straight into a numpy array.

A thumbnail of a 512 x 512 CT costs about as much to render as pydicom's decoder framework costs to
set up for the same frame (its option gathering, validation and runner), although for a native
value the work is a slice of bytes. This module does that slice for the common case and nothing
else: Pixel Data (7FE0,0010) in Implicit or Explicit VR Little Endian, Bits Allocated 8, 16 or 32,
one or three samples per pixel, a photometric interpretation stored pixel by pixel (not the
subsampled YBR_FULL_422 of PS3.3 C.7.6.3.1.2), and a value holding the whole frame. Anything else
is answered None, and dicom/frames.py asks pydicom, so odd cases keep pydicom's behaviour.

What it gives is what pydicom 3 gives for the same frame with ``raw=True`` (tests/dicom/
test_native.py holds that over every native image of the render corpus): the bytes as the dtype
PS3.5 §8.1.1 describes (Pixel Representation: 2's complement or not, Bits Allocated wide, little
endian), shaped (rows, columns) or (rows, columns, samples) whatever the Planar Configuration
(PS3.3 C.7.6.3.1.3), and the bits above Bits Stored cleared or sign-extended, as pydicom's
unused-bits correction does (their values "cannot be assumed", PS3.5 §8.1.1).
"""

from __future__ import annotations

from typing import BinaryIO, Callable

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from .tags import PIXEL_DATA

# Deflated: the data set is inflated before it is parsed (PS3.5 §A.5), so the value read is plain bytes.
LITTLE_ENDIAN_NATIVE = frozenset({ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian})
_PIXEL_BY_PIXEL = frozenset({"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "PALETTE COLOR"})
_SAMPLES = 0x00280002
_PHOTOMETRIC = 0x00280004
_PLANAR = 0x00280006
_FRAMES = 0x00280008
_ROWS = 0x00280010
_COLUMNS = 0x00280011
_BITS_ALLOCATED = 0x00280100
_BITS_STORED = 0x00280101
_REPRESENTATION = 0x00280103


def _value(ds: Dataset, tag: int) -> object:
    return ds[tag].value if tag in ds._dict else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def native_frame(ds: Dataset, index: int, count: int, ts: UID,
                 open_value: Callable[[], BinaryIO] | None = None) -> tuple[np.ndarray, str] | None:
    """Frame ``index`` of ``count`` as pydicom would decode it raw, with its photometric
    interpretation; None when this is not the simple case (the caller then asks pydicom)."""
    if ts not in LITTLE_ENDIAN_NATIVE or PIXEL_DATA not in ds._dict:
        return None
    if _FRAMES in ds._dict:
        # pydicom refuses a negative or unreadable Number of Frames where frame_count() says 1.
        try:
            if int(ds[_FRAMES].value or 1) < 1:
                return None
        except (TypeError, ValueError):
            return None
    samples = _int(_value(ds, _SAMPLES))
    rows, columns = _int(_value(ds, _ROWS)), _int(_value(ds, _COLUMNS))
    allocated, stored = _int(_value(ds, _BITS_ALLOCATED)), _int(_value(ds, _BITS_STORED))
    representation = _int(_value(ds, _REPRESENTATION))
    photometric = _value(ds, _PHOTOMETRIC)
    photometric = photometric.strip() if isinstance(photometric, str) else None
    if (rows is None or columns is None or allocated not in (8, 16, 32) or stored is None
            or representation not in (0, 1) or photometric not in _PIXEL_BY_PIXEL):
        return None
    if not (0 < rows <= 0xFFFF and 0 < columns <= 0xFFFF and 1 <= stored <= allocated):
        return None
    if samples == 1:
        planar = 0
    elif samples == 3:
        planar = _int(_value(ds, _PLANAR))
        if planar not in (0, 1):
            return None
    else:
        return None
    dtype = np.dtype(f"<{'ui'[representation]}{allocated // 8}")
    length = rows * columns * samples * dtype.itemsize
    start = index * length
    if open_value is None:
        data = ds.PixelData
        if not isinstance(data, (bytes, bytearray)) or len(data) < count * length:
            return None
        buffer = bytearray(memoryview(data)[start:start + length])
    else:
        buffer = bytearray(length)
        fp = open_value()
        if start:
            fp.seek(start, 1)
        view, got = memoryview(buffer), 0
        while got < length:
            n = fp.readinto(view[got:])
            if not n:
                return None   # the value ends inside this frame: pydicom's error, not ours
            got += n
    arr = np.frombuffer(buffer, dtype=dtype)
    if samples == 1:
        arr = arr.reshape(rows, columns)
    elif planar == 0:
        arr = arr.reshape(rows, columns, samples)
    else:
        arr = arr.reshape(samples, rows, columns).transpose(1, 2, 0)
    if stored < allocated:
        shift = allocated - stored
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    return arr, photometric
