"""A Grayscale Softcopy Presentation State applied to the image it references (PresentationUID,
PS3.18 §6.2.x; PS3.4 N.2 "Pipeline"; PS3.3 A.33.1).

Order, as PS3.4 N.2 draws it: the state's Modality LUT (C.11.1), its Softcopy VOI LUT (C.11.8), its
Presentation LUT (C.11.6), then in the image's own pixel coordinates the Display Shutter (C.7.6.11),
then the Displayed Area (C.10.4, given in pre-transformation coordinates) and the Spatial
Transformation (C.10.6: rotation clockwise, then the horizontal flip). The state replaces the image's
own windows and its MONOCHROME1 inversion: a state for a MONOCHROME1 image says INVERSE itself.
Overlays, graphic annotations and bitmap shutters (which are overlay planes) are never drawn: their
content is free text and may carry identifying information (issue 15).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset

from ..dicom.errors import ErrorCode
from .errors import RenderError
from .voi import Window, Y_MAX, apply_lut, apply_window, lut_values, min_max_window, modality_values, object_window, \
    to_uint8

GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"


@dataclass(frozen=True)
class Presented:
    image: np.ndarray          # uint8 (rows, columns) after the whole pipeline
    window: Window | None      # the state's window, when it used one
    aspect: float              # physical height / width of one displayed pixel


def _refs_image(items: Any, sop_uid: str, frame: int) -> bool:
    """An image reference (PS3.3 10.3 Image SOP Instance Reference Macro) naming this instance and,
    when it lists frames, this frame."""
    for ref in items or ():
        if str(ref.get("ReferencedSOPInstanceUID", "")) != sop_uid:
            continue
        frames = ref.get("ReferencedFrameNumber")
        if frames is None or frames == "":
            return True
        listed = [int(f) for f in (frames if not isinstance(frames, (int, str)) else [frames])]
        if frame in listed:
            return True
    return False


def _applies(item: Dataset, sop_uid: str, frame: int) -> bool:
    """A VOI or Displayed Area item without Referenced Image Sequence applies to every referenced image."""
    return "ReferencedImageSequence" not in item or _refs_image(item.ReferencedImageSequence, sop_uid, frame)


def check_state(state: Dataset, ds: Dataset, frame: int) -> None:
    """PS3.3 C.11.11 Presentation State Relationship: the state must list the image
    (Referenced Series Sequence > Referenced Image Sequence); otherwise urn:dicom:wado:0012."""
    sop_class = str(state.get("SOPClassUID", GSPS_SOP_CLASS))
    if sop_class != GSPS_SOP_CLASS:
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "PresentationUID is not a Grayscale Softcopy Presentation State")
    sop_uid = str(ds.get("SOPInstanceUID", ""))
    series_uid = str(ds.get("SeriesInstanceUID", ""))
    for series in state.get("ReferencedSeriesSequence") or ():
        if series_uid and str(series.get("SeriesInstanceUID", series_uid)) != series_uid:
            continue
        if _refs_image(series.get("ReferencedImageSequence"), sop_uid, frame):
            return
    raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "the presentation state does not reference this image")


def _voi(values: np.ndarray, state: Dataset, sop_uid: str, frame: int) -> tuple[np.ndarray, Window | None]:
    for item in state.get("SoftcopyVOILUTSequence") or ():
        if not _applies(item, sop_uid, frame):
            continue
        window = object_window(item)
        if window is not None:
            return apply_window(values, window), window
        if item.get("VOILUTSequence"):
            return apply_lut(values, item.VOILUTSequence[0]), None
    # No VOI for this image: PS3.4 N.2.1.2 identity, i.e. the whole range onto the display range.
    window = min_max_window(values)
    return apply_window(values, window), window


def _presentation_lut(display: np.ndarray, state: Dataset) -> np.ndarray:
    """PS3.3 C.11.6.1: the VOI output range is scaled onto the Presentation LUT's input entries."""
    seq = state.get("PresentationLUTSequence")
    if seq:
        values, _first, bits = lut_values(seq[0])
        index = np.clip(np.floor(display / Y_MAX * (values.size - 1) + 0.5).astype(np.int64), 0, values.size - 1)
        return values[index] * (Y_MAX / float((1 << bits) - 1))
    shape = str(state.get("PresentationLUTShape", "IDENTITY")).strip().upper()
    return Y_MAX - display if shape == "INVERSE" else display


def _shutter_mask(state: Dataset, rows: int, cols: int) -> np.ndarray | None:
    """True where the image shows through every shutter (C.7.6.11: shutters combine by intersection).
    Coordinates are 1-based pixel (row, column) / column edges as the module defines them."""
    value = state.get("ShutterShape")
    listed = [value] if isinstance(value, str) else list(value or ())
    shapes = {str(v).strip().upper() for v in listed}
    if not shapes:
        return None
    shown = np.ones((rows, cols), dtype=bool)
    if "RECTANGULAR" in shapes:
        left, right = int(state.ShutterLeftVerticalEdge), int(state.ShutterRightVerticalEdge)
        upper, lower = int(state.ShutterUpperHorizontalEdge), int(state.ShutterLowerHorizontalEdge)
        rect = np.zeros_like(shown)
        rect[max(upper - 1, 0):max(lower, 0), max(left - 1, 0):max(right, 0)] = True
        shown &= rect
    if "CIRCULAR" in shapes:
        center_row, center_col = (float(v) for v in state.CenterOfCircularShutter)
        radius = float(state.RadiusOfCircularShutter)
        yy, xx = np.mgrid[1:rows + 1, 1:cols + 1]
        shown &= (yy - center_row) ** 2 + (xx - center_col) ** 2 <= radius ** 2
    if "POLYGONAL" in shapes:
        vertices = [float(v) for v in state.VerticesOfThePolygonalShutter]
        # (row, column) pairs, 1-based -> Pillow's (x, y) with 0-based pixel centres.
        points = [(vertices[i + 1] - 1, vertices[i] - 1) for i in range(0, len(vertices) - 1, 2)]
        canvas = Image.new("1", (cols, rows), 0)
        ImageDraw.Draw(canvas).polygon(points, fill=1, outline=1)
        shown &= np.asarray(canvas, dtype=bool)
    return shown


def _shutter_value(state: Dataset) -> int:
    """Shutter Presentation Value (0018,1622) is a P-value 0-FFFFH; absent means black."""
    value = state.get("ShutterPresentationValue")
    return int(round(int(value) / 65535 * 255)) if value is not None else 0


def _displayed_area(img: np.ndarray, state: Dataset, sop_uid: str, frame: int,
                    aspect: float) -> tuple[np.ndarray, float]:
    for item in state.get("DisplayedAreaSelectionSequence") or ():
        if not _applies(item, sop_uid, frame):
            continue
        (c1, r1), (c2, r2) = ((int(v) for v in item.DisplayedAreaTopLeftHandCorner),
                              (int(v) for v in item.DisplayedAreaBottomRightHandCorner))
        left, right = min(c1, c2), max(c1, c2)
        top, bottom = min(r1, r2), max(r1, r2)
        # The area may reach outside the image (C.10.4): the outside is shown black.
        out = np.zeros((bottom - top + 1, right - left + 1), dtype=img.dtype)
        src_top, src_left = max(top - 1, 0), max(left - 1, 0)
        src_bottom, src_right = min(bottom, img.shape[0]), min(right, img.shape[1])
        if src_bottom > src_top and src_right > src_left:
            out[src_top - (top - 1):src_bottom - (top - 1), src_left - (left - 1):src_right - (left - 1)] = \
                img[src_top:src_bottom, src_left:src_right]
        ratio = item.get("PresentationPixelAspectRatio")
        spacing = item.get("PresentationPixelSpacing")
        for pair in (ratio, spacing):
            try:
                a, b = (float(v) for v in pair)  # type: ignore[union-attr]
                if a > 0 and b > 0 and math.isfinite(a / b):
                    aspect = a / b
                    break
            except (TypeError, ValueError):
                continue
        return out, aspect
    return img, aspect


def _spatial(img: np.ndarray, state: Dataset, aspect: float) -> tuple[np.ndarray, float]:
    """C.10.6.1: Image Rotation clockwise (0, 90, 180, 270), then Image Horizontal Flip."""
    rotation = int(state.get("ImageRotation", 0) or 0) % 360
    if rotation not in (0, 90, 180, 270):
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "the presentation state's Image Rotation is not a right angle")
    img = np.rot90(img, k=-(rotation // 90))
    if rotation in (90, 270):
        aspect = 1 / aspect
    if str(state.get("ImageHorizontalFlip", "N")).strip().upper() == "Y":
        img = img[:, ::-1]
    return np.ascontiguousarray(img), aspect


def present(stored: np.ndarray, ds: Dataset, state: Dataset, frame: int, aspect: float) -> Presented:
    """Run the GSPS pipeline over one grayscale frame of stored values (``frame`` 1-based)."""
    check_state(state, ds, frame)
    sop_uid = str(ds.get("SOPInstanceUID", ""))
    try:
        if "ModalityLUTSequence" in state or "RescaleSlope" in state:
            values = modality_values(stored, state)
        else:
            values = stored.astype(np.float64)  # C.11.1: absent in the state means identity
        display, window = _voi(values, state, sop_uid, frame)
        img = to_uint8(_presentation_lut(display, state))
        mask = _shutter_mask(state, img.shape[0], img.shape[1])
        if mask is not None:
            img = np.where(mask, img, np.uint8(_shutter_value(state)))
        img, aspect = _displayed_area(img, state, sop_uid, frame, aspect)
        img, aspect = _spatial(img, state, aspect)
    except RenderError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "the presentation state is malformed") from None
    return Presented(img, window, aspect)
