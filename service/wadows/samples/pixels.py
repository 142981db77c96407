"""Synthetic pixel data built from ellipsoid phantoms and hash noise, identical on every machine.

No random generator is used: NumPy documents that ``Generator`` streams may change between
releases, which would change the committed sample files. Only integer hashing and IEEE
+, -, *, / (correctly rounded everywhere) are involved, so the same inputs give the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid in patient millimetres: centre (x, y, z), semi-axes (a, b, c), and the value
    every voxel inside takes (later ellipsoids paint over earlier ones)."""

    x: float
    y: float
    z: float
    a: float
    b: float
    c: float
    value: int


# An abdomen in Hounsfield units, z = 0 at the kidneys: fat, soft tissue, liver, stomach gas,
# vertebra with its canal, aorta with contrast, two kidneys, and the patient table below.
ABDOMEN_HU = (
    Ellipsoid(0, 0, 0, 165, 115, 1e6, -90),
    Ellipsoid(0, 0, 0, 150, 100, 1e6, 40),
    Ellipsoid(-65, -10, 40, 75, 60, 110, 60),
    Ellipsoid(60, -25, 60, 35, 28, 45, -900),
    Ellipsoid(0, 65, 0, 20, 20, 1e6, 700),
    Ellipsoid(0, 78, 0, 7, 7, 1e6, 15),
    Ellipsoid(12, 40, 0, 11, 11, 1e6, 190),
    Ellipsoid(-70, 45, -20, 24, 32, 55, 35),
    Ellipsoid(70, 45, -25, 24, 32, 55, 35),
    Ellipsoid(0, 160, 0, 220, 12, 1e6, 300),
)

# A head for T2-weighted MR, in arbitrary signal units: scalp, skull (dark), white matter,
# two bright ventricles.
HEAD_T2 = (
    Ellipsoid(0, 0, 0, 92, 115, 1e6, 900),
    Ellipsoid(0, 0, 0, 86, 109, 1e6, 80),
    Ellipsoid(0, 0, 0, 80, 103, 1e6, 1300),
    Ellipsoid(0, 5, 0, 62, 85, 1e6, 1050),
    Ellipsoid(-14, -5, 10, 7, 30, 35, 2600),
    Ellipsoid(14, -5, 10, 7, 30, 35, 2600),
)

_MASK64 = (1 << 64) - 1


def hash_noise(shape: tuple[int, ...], key: int, amplitude: int) -> np.ndarray:
    """Integers in [-amplitude, amplitude], a function of (shape, key) only (splitmix64 finaliser)."""
    z = np.arange(int(np.prod(shape)), dtype=np.uint64)
    z += np.uint64((key * 0x9E3779B97F4A7C15) & _MASK64)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z % np.uint64(2 * amplitude + 1)).astype(np.int32).reshape(shape) - amplitude


def phantom_slice(shapes: tuple[Ellipsoid, ...], rows: int, cols: int, field_of_view_mm: float,
                  z_mm: float, background: int) -> np.ndarray:
    """One axial cross-section (int32, rows x cols) of the phantom at height ``z_mm``."""
    spacing = field_of_view_mm / cols
    x = (np.arange(cols, dtype=np.float64) - (cols - 1) / 2) * spacing
    y = (np.arange(rows, dtype=np.float64) - (rows - 1) / 2) * (field_of_view_mm / rows)
    image = np.full((rows, cols), background, dtype=np.int32)
    for e in shapes:
        dz = (z_mm - e.z) / e.c
        remaining = 1.0 - dz * dz
        if remaining <= 0:
            continue
        inside = ((x[np.newaxis, :] - e.x) / e.a) ** 2 + ((y[:, np.newaxis] - e.y) / e.b) ** 2 <= remaining
        image[inside] = e.value
    return image


def ct_slice(rows: int, cols: int, z_mm: float, *, key: int, field_of_view_mm: float = 380.0) -> np.ndarray:
    """Stored CT values (uint16, 12 bits used) for Rescale Intercept -1024, slope 1."""
    hu = phantom_slice(ABDOMEN_HU, rows, cols, field_of_view_mm, z_mm, background=-1000)
    hu += hash_noise((rows, cols), key, 12)
    return np.clip(hu + 1024, 0, 4095).astype("<u2")


def mr_slice(rows: int, cols: int, z_mm: float, *, key: int, field_of_view_mm: float = 240.0) -> np.ndarray:
    """Stored MR signal (uint16, 12 bits used)."""
    signal = phantom_slice(HEAD_T2, rows, cols, field_of_view_mm, z_mm, background=0)
    signal += hash_noise((rows, cols), key, 20) + 20
    return np.clip(signal, 0, 4095).astype("<u2")


def coronal_ct(rows: int, cols: int, *, key: int, field_of_view_mm: float = 380.0) -> np.ndarray:
    """A coronal reformat (or a topogram-like projection plane) through the abdomen phantom."""
    # Swap axes: the phantom's z runs down the image rows, x across, sampled at y = 0.
    spacing = field_of_view_mm / rows
    z = ((rows - 1) / 2 - np.arange(rows, dtype=np.float64)) * spacing
    x = (np.arange(cols, dtype=np.float64) - (cols - 1) / 2) * (field_of_view_mm / cols)
    hu = np.full((rows, cols), -1000, dtype=np.int32)
    for e in ABDOMEN_HU:
        if abs(e.y) >= e.b:
            continue
        remaining = 1.0 - (e.y / e.b) ** 2
        inside = ((x[np.newaxis, :] - e.x) / e.a) ** 2 + ((z[:, np.newaxis] - e.z) / e.c) ** 2 <= remaining
        hu[inside] = e.value
    hu += hash_noise((rows, cols), key, 12)
    return np.clip(hu + 1024, 0, 4095).astype("<u2")
