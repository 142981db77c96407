"""Colour frames to 8-bit RGB (PS3.3 C.7.6.3.1.2 Photometric Interpretation).

VOI windows do not apply to colour (PS3.3 C.11.2 is a grayscale transform), so a colour frame
goes straight to RGB: YBR_FULL and YBR_FULL_422 through pydicom's ``convert_color_space`` (the
decoder has already undone the 4:2:2 subsampling), PALETTE COLOR through pydicom's
``apply_color_lut`` (C.7.6.3.1.5, segmented tables included), RGB as it is. Sample values wider
than 8 bits are scaled from their own range.
"""

from __future__ import annotations

import warnings

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, convert_color_space

from ..dicom.errors import ErrorCode
from ..dicom.frames import Frame
from .errors import RenderError

GRAYSCALE = ("MONOCHROME1", "MONOCHROME2")
_YBR = ("YBR_FULL", "YBR_FULL_422")
# JPEG 2000's component transforms: the decoder inverts them, so what comes out is RGB.
_DECODED_AS_RGB = ("YBR_ICT", "YBR_RCT")


def _scale(arr: np.ndarray, bits: int) -> np.ndarray:
    if arr.dtype == np.uint8 and bits <= 8:
        return arr
    top = float((1 << max(1, min(bits, 16))) - 1)
    return np.clip(np.floor(arr.astype(np.float64) * (255.0 / top) + 0.5), 0, 255).astype(np.uint8)


def to_rgb(frame: Frame, ds: Dataset) -> np.ndarray:
    """(rows, columns, 3) uint8."""
    arr, space = frame.pixels, frame.photometric.upper()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if space == "PALETTE COLOR":
            try:
                rgb = apply_color_lut(arr, ds)
                bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
            except Exception:  # noqa: BLE001 - a broken palette is the object's fault, one error for all
                raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "the palette colour lookup tables are unusable") from None
            return _scale(np.asarray(rgb), bits if bits in (8, 16) else 16)
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "a colour image without three samples per pixel")
        if space in _YBR:
            arr = convert_color_space(arr, space, "RGB")
        elif space not in ("RGB", *_DECODED_AS_RGB):
            raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "the photometric interpretation cannot be rendered")
    return _scale(np.asarray(arr), frame.bits_stored)
