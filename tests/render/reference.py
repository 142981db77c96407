"""Independent numpy versions of what the renderer computes, written from the standard's text
(PS3.3 C.11.1, C.11.2.1.2.1, C.11.2.1.3, C.7.6.3.1.5, C.7.6.3.1.2), not from render/'s code: the
tests compare the renderer's pixels with these."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def rescaled(stored: np.ndarray, ds) -> np.ndarray:
    """Modality LUT by Rescale Slope/Intercept (C.11.1.1.2), defaults 1 and 0."""
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    return stored.astype(np.float64) * slope + intercept


def lut_lookup(values: np.ndarray, descriptor, data) -> np.ndarray:
    """A LUT (C.11.1.1.1): values below the first mapped one take entry 0, above the last the last."""
    entries = int(descriptor[0]) or 65536
    first = int(descriptor[1])
    table = np.array([int(v) for v in data][:entries], dtype=np.float64)
    out = np.empty(values.shape, dtype=np.float64)
    flat = values.reshape(-1)
    res = out.reshape(-1)
    for i, v in enumerate(flat):
        k = int(np.floor(v)) - first
        res[i] = table[min(max(k, 0), entries - 1)]
    return out


def linear(x: np.ndarray, center: float, width: float) -> np.ndarray:
    """C.11.2.1.2.1 with y in 0..255."""
    lower = center - 0.5 - (width - 1) / 2
    upper = center - 0.5 + (width - 1) / 2
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255
    y = np.where(x <= lower, 0, y)
    return np.where(x > upper, 255, y)


def linear_exact(x: np.ndarray, center: float, width: float) -> np.ndarray:
    y = ((x - center) / width + 0.5) * 255
    y = np.where(x <= center - width / 2, 0, y)
    return np.where(x > center + width / 2, 255, y)


def sigmoid(x: np.ndarray, center: float, width: float) -> np.ndarray:
    return 255 / (1 + np.exp(-4 * (x - center) / width))


def eight_bit(y: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)


def min_max(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(), x.max()
    return eight_bit((x - lo) / (hi - lo) * 255)


def ybr_full_to_rgb(ybr: np.ndarray) -> np.ndarray:
    """C.7.6.3.1.2 YBR_FULL, inverted: R = Y + 1.402 (Cr-128) etc."""
    y, cb, cr = (ybr[..., i].astype(np.float64) for i in range(3))
    r = y + 1.402 * (cr - 128)
    g = y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)
    b = y + 1.772 * (cb - 128)
    return np.clip(np.stack([r, g, b], axis=-1).round(), 0, 255).astype(np.uint8)
