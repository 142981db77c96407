"""Grayscale: stored values -> Modality LUT -> VOI LUT -> 8-bit display values (PS3.3 C.11, PS3.4 N.2).

The VOI functions are written from the formulas of PS3.3 C.11.2.1.2.1 (LINEAR) and C.11.2.1.3
(LINEAR_EXACT, SIGMOID) with the output range 0-255, so the result is the display value before
rounding, and one rounding step follows (``to_uint8``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
Y_MAX = 255.0

# Per-frame values of enhanced objects (PS3.3 C.7.6.16): which functional group macro carries the
# attributes the rendering needs, and which attributes.
_GROUPS = {
    "PixelValueTransformationSequence": ("RescaleSlope", "RescaleIntercept", "RescaleType"),
    "FrameVOILUTSequence": ("WindowCenter", "WindowWidth", "VOILUTFunction", "WindowCenterWidthExplanation"),
    "PixelMeasuresSequence": ("PixelSpacing", "SliceThickness"),
}
_TOP_LEVEL = ("RescaleSlope", "RescaleIntercept", "RescaleType", "ModalityLUTSequence", "WindowCenter",
              "WindowWidth", "VOILUTFunction", "VOILUTSequence", "PixelSpacing", "PixelAspectRatio",
              "SliceThickness", "PixelPaddingValue", "PixelPaddingRangeLimit", "PixelRepresentation",
              "BitsStored", "PhotometricInterpretation")
_TOP_LEVEL_TAGS = tuple(int(tag_for_keyword(k)) for k in _TOP_LEVEL)
_CONTAINERS = tuple((k, int(tag_for_keyword(k))) for k in ("SharedFunctionalGroupsSequence",
                                                           "PerFrameFunctionalGroupsSequence"))


@dataclass(frozen=True)
class Window:
    """A VOI window (PS3.3 C.11.2.1.2) and the function applying it."""
    center: float
    width: float
    function: str = "LINEAR"


@dataclass(frozen=True)
class VOIResult:
    display: np.ndarray        # float64, 0.0-255.0
    window: Window | None      # None when a VOI LUT was used
    source: str                # "request", "object window", "VOI LUT" or "min/max"


def frame_view(ds: Dataset, index: int) -> Dataset:
    """The attributes that apply to frame ``index``: top level, then the Shared Functional Groups,
    then that frame's Per-frame Functional Groups, each overriding the one before (PS3.3 C.7.6.16:
    a macro is in one or the other, never both, but top-level copies of it are common)."""
    view = Dataset()
    present = ds._dict   # by tag number: pydicom's keyword lookups cost more than the copy itself
    for tag in _TOP_LEVEL_TAGS:
        if tag in present:
            view[tag] = ds[tag]
    for container, tag in _CONTAINERS:
        items = ds[tag].value if tag in present else None
        if not items:
            continue
        item = items[0] if container.startswith("Shared") else (items[index] if index < len(items) else None)
        if item is None:
            continue
        for group, keywords in _GROUPS.items():
            seq = item.get(group)
            if not seq:
                continue
            for keyword in keywords:
                if keyword in seq[0]:
                    view[keyword] = seq[0][keyword]
    return view


def modality_values(stored: np.ndarray, view: Dataset) -> np.ndarray:
    """PS3.3 C.11.1: Rescale Slope/Intercept or the Modality LUT Sequence, as float64."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = apply_modality_lut(stored, view)
    return np.asarray(out, dtype=np.float64)


def _first(value: Any) -> float | None:
    if value is None:
        return None
    try:
        items = list(value) if not isinstance(value, (str, bytes, int, float)) else [value]
        return float(items[0]) if items else None
    except (TypeError, ValueError, IndexError):
        return None


def object_window(view: Dataset) -> Window | None:
    """The first window of the object (PS3.3 C.11.2: "the first ... shall be the default"), with its
    VOI LUT Function (C.11.2.1.3); None if absent or unusable under its function's own limits."""
    center, width = _first(view.get("WindowCenter")), _first(view.get("WindowWidth"))
    if center is None or width is None or not (np.isfinite(center) and np.isfinite(width)):
        return None
    function = str(view.get("VOILUTFunction", "") or "LINEAR").strip().upper() or "LINEAR"
    if function not in FUNCTIONS:
        function = "LINEAR"
    if (function == "LINEAR" and width < 1) or width <= 0:
        return None
    return Window(center, width, function)


def apply_window(x: np.ndarray, window: Window) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT), C.11.2.1.3.1 (SIGMOID), y in 0-255."""
    c, w = window.center, window.width
    if window.function == "SIGMOID":
        with np.errstate(over="ignore"):
            return Y_MAX / (1.0 + np.exp(-4.0 * (x - c) / w))
    if window.function == "LINEAR_EXACT":
        low, high, mid, span = c - w / 2, c + w / 2, c, w
    else:
        low, high, mid, span = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2, c - 0.5, w - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ramp = ((x - mid) / span + 0.5) * Y_MAX if span > 0 else np.zeros_like(x)
    return np.where(x <= low, 0.0, np.where(x > high, Y_MAX, ramp))


def lut_values(item: Dataset) -> tuple[np.ndarray, int, int]:
    """A LUT's entries with its first mapped value and bit depth (PS3.3 C.11.2.1.1 LUT Descriptor:
    0 entries means 65536; the first mapped value is signed when the input is)."""
    descriptor = [int(v) for v in item.LUTDescriptor]
    entries = descriptor[0] or 65536
    first, bits = descriptor[1], descriptor[2]
    data = item.LUTData
    if isinstance(data, (bytes, bytearray)):
        dtype = "<u1" if bits <= 8 and len(data) == entries else "<u2"
        values = np.frombuffer(bytes(data), dtype=dtype).astype(np.float64)
    else:
        values = np.asarray(list(data) if not isinstance(data, int) else [data], dtype=np.float64)
    if values.size == 0:
        raise ValueError("empty LUT")
    return values[:entries], first, bits


def apply_lut(x: np.ndarray, item: Dataset) -> np.ndarray:
    """Input below the first mapped value takes the first entry, above the last the last
    (C.11.2.1.1); entries are scaled from their bit depth to 0-255."""
    values, first, bits = lut_values(item)
    index = np.clip(np.floor(x).astype(np.int64) - first, 0, values.size - 1)
    return values[index] * (Y_MAX / float((1 << bits) - 1))


def padding_mask(stored: np.ndarray, view: Dataset) -> np.ndarray | None:
    """Pixels holding Pixel Padding Value (to Pixel Padding Range Limit, PS3.3 C.7.5.1.1.2): not part
    of the image, so they do not stretch a min/max window."""
    pad = view.get("PixelPaddingValue")
    if pad is None:
        return None
    try:
        low = int(pad)
        limit = view.get("PixelPaddingRangeLimit")
        high = int(limit) if limit is not None else low
    except (TypeError, ValueError):
        return None
    low, high = min(low, high), max(low, high)
    return (stored >= low) & (stored <= high)


def min_max_window(values: np.ndarray, exclude: np.ndarray | None = None) -> Window:
    """A LINEAR_EXACT window spanning the values: min -> 0, max -> 255 exactly (C.11.2.1.3.2)."""
    picked = values[~exclude] if exclude is not None and (~exclude).any() else values
    lo, hi = float(np.min(picked)), float(np.max(picked))
    return Window((lo + hi) / 2, max(hi - lo, 1e-6), "LINEAR_EXACT")


def voi(values: np.ndarray | Callable[[], np.ndarray], view: Dataset, requested: Window | None,
        stored: np.ndarray, domain: np.ndarray | None = None) -> VOIResult:
    """The VOI transform PS3.18 §6.4.2.1 asks for: the request's window, else the object's first
    window, else its first VOI LUT, else the value range of the pixels (``values``). With ``domain``
    (the modality values of each stored value from the frame's minimum to its maximum) the transform
    is computed on that table, to be indexed by the caller, instead of on every pixel; ``values`` may
    then be a function giving them, called only for the min/max window."""
    if callable(values) and domain is None:
        values = values()
    target = values if domain is None else domain
    if requested is not None:
        return VOIResult(apply_window(target, requested), requested, "request")
    window = object_window(view)
    if window is not None:
        return VOIResult(apply_window(target, window), window, "object window")
    seq = view.get("VOILUTSequence")
    if seq:
        try:
            return VOIResult(apply_lut(target, seq[0]), None, "VOI LUT")
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            pass  # an unusable LUT: fall through to min/max as if absent
    window = min_max_window(values() if callable(values) else values, padding_mask(stored, view))
    return VOIResult(apply_window(target, window), window, "min/max")


def to_uint8(display: np.ndarray) -> np.ndarray:
    """The one rounding step: half up, clipped (PS3.3 defines y continuous; the display is 8-bit)."""
    return np.clip(np.floor(display + 0.5), 0, 255).astype(np.uint8)
