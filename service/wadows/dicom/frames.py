"""One frame of Pixel Data, decoded on its own.

A rendered image or a thumbnail needs one frame (PS3.18 §6.4.2.1 FrameNumber); decoding every frame
of a 1000-frame ultrasound loop to show one of them is the cost this module avoids. pydicom 3's
decoders take an ``index`` and decode only that frame: from a native value they slice one frame's
bytes, from an encapsulated one they find its fragments (Basic or Extended Offset Table, else by
walking the items, PS3.5 §A.4), so only that frame's codestream is decompressed. The common native
case (little endian, 8/16/32 bits) is sliced by native.py without pydicom's decoder set-up, which
costs more than the slice; it gives the same array (tests/dicom/test_native.py).

The frame comes back *raw* in pydicom's sense: colour is left in the space it was decoded to and
that space is reported, because the decoder may already have converted it (a JPEG Baseline codec
turns YBR_FULL_422 into RGB) and converting it twice would be wrong. Callers convert with pydicom's
``convert_color_space`` when the reported space is still YBR.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import UID

from .native import native_frame

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


class FrameError(Exception):
    """The frame cannot be decoded: no decoder for the transfer syntax, an incomplete Image Pixel
    module, or a codestream the decoder refuses. The message never quotes data-set values."""


class UnsupportedFrame(FrameError):
    """Nothing installed can decode this transfer syntax (as opposed to a damaged codestream)."""


@dataclass(frozen=True)
class Frame:
    pixels: np.ndarray            # (rows, columns) or (rows, columns, samples), native byte order
    photometric: str              # the colour space ``pixels`` is in, as the decoder reports it
    bits_stored: int
    pixel_representation: int


def pixel_keyword(ds: Dataset) -> str | None:
    """Which of the three pixel data elements (PS3.3 C.7.6.3) the object carries, if any."""
    return next((kw for kw in PIXEL_KEYWORDS if kw in ds), None)


def frame_count(ds: Dataset) -> int:
    """Number of Frames (0028,0008), 1 when absent (PS3.3 C.7.6.6: single-frame objects omit it)."""
    try:
        value = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        raise FrameError("Number of Frames is not an integer") from None
    return max(value, 1)


def transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if not ts:
        raise FrameError("the file meta information names no transfer syntax")
    return UID(str(ts))


def decode_frame(ds: Dataset, index: int, *, open_value: Callable[[], BinaryIO] | None = None) -> Frame:
    """Decode frame ``index`` (0-based) of ``ds``.

    ``open_value``, when given, returns a file positioned at the start of the pixel data element's
    value (the header having been read with ``defer_size``, as retrieve/ reads stored files); the
    decoder then reads only that frame's bytes from it. Without it the value is taken from ``ds``.
    """
    keyword = pixel_keyword(ds)
    if keyword is None:
        raise UnsupportedFrame("the object has no pixel data")
    count = frame_count(ds)
    if not 0 <= index < count:
        raise FrameError(f"frame {index + 1} is outside 1..{count}")
    ts = transfer_syntax(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            native = native_frame(ds, index, count, ts, open_value)
        except Exception as exc:  # noqa: BLE001 - as pydicom's failures below: one typed error
            raise FrameError(f"frame {index + 1} cannot be read ({type(exc).__name__})") from None
    if native is not None:
        arr, photometric = native
        return Frame(pixels=arr, photometric=photometric, bits_stored=int(ds.BitsStored),
                     pixel_representation=int(ds.PixelRepresentation))
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise UnsupportedFrame(f"no decoder for {ts.name}") from None
    if not decoder.is_available:
        raise UnsupportedFrame(f"no installed plugin decodes {ts.name}")
    with warnings.catch_warnings():
        # pydicom's warnings quote element values (a PHI channel when anonymizing): never let them out.
        warnings.simplefilter("ignore")
        try:
            if open_value is None:
                arr, props = decoder.as_array(ds, index=index, raw=True)
            else:
                opts: dict[str, Any] = as_pixel_options(ds)
                opts["number_of_frames"] = count   # as_pixel_options leaves the IS string
                opts["pixel_keyword"] = keyword
                opts["transfer_syntax_uid"] = ts
                arr, props = decoder.as_array(open_value(), index=index, raw=True, **opts)
        except Exception as exc:  # noqa: BLE001 - every decoder failure becomes one typed error
            raise FrameError(f"frame {index + 1} cannot be decoded as {ts.name} ({type(exc).__name__})") from None
    if arr.dtype.byteorder == ">":
        arr = arr.byteswap().view(arr.dtype.newbyteorder("<"))
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return Frame(
        pixels=arr,
        photometric=str(props.get("photometric_interpretation", ds.get("PhotometricInterpretation", ""))).strip(),
        bits_stored=int(props.get("bits_stored", ds.get("BitsStored", arr.dtype.itemsize * 8)) or 8),
        pixel_representation=int(props.get("pixel_representation", ds.get("PixelRepresentation", 0)) or 0),
    )
