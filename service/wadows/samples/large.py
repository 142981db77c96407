"""One very large multi-frame object, written frame by frame with constant memory.

Large objects are what break naive services (a 500 MB cine read into memory per request); the
benchmark needs one without the generator itself holding it in memory. pydicom writes the header,
then the Pixel Data element header is written by hand with its final length (native pixel data
has a defined length, PS3.5 §A.4 applies only to encapsulated data) and frames are appended.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from pydicom.uid import ExplicitVRLittleEndian

from . import pixels
from .headers import Series, Study, file_meta
from .identifiers import sample_uid
from .images import multiframe_secondary_capture
from .people import SPRINGFIELD, numbered_patient

_MAX_NATIVE_PIXEL_LENGTH = 0xFFFFFFFE  # 32-bit length field; 0xFFFFFFFF means "undefined"


def generate_large_multiframe(path: Path, target_bytes: int = 500 * 2**20, *, rows: int = 512,
                              cols: int = 512) -> Path:
    """A Multi-frame Grayscale Word SC file of about ``target_bytes`` at ``path``.

    Peak memory is a few frames (about 1 MB at 512 x 512), whatever the target.
    """
    frame_bytes = rows * cols * 2
    number_of_frames = max(1, round(target_bytes / frame_bytes))
    length = number_of_frames * frame_bytes
    if length > _MAX_NATIVE_PIXEL_LENGTH:
        raise ValueError("native Pixel Data cannot exceed 4 GiB; ask for a smaller target")
    key = f"large-{target_bytes}-{rows}x{cols}"
    study = Study(sample_uid(key, "study"), "20240701", "091500", "7001", "ACC-FAKE-L0001",
                  "ANGIO CINE EXPORT", ("36200", "C4", "Aortography"),
                  ("CINE-EXPORT", "99FAKEVENDOR", "Cine export"), "Large object benchmark (fake)")
    series = Series(sample_uid(key, "series"), 1, "OT", "Cine export", "091700", "CINE EXPORT", "CHEST",
                    sample_uid(key, "frame-of-reference"))
    ds = multiframe_secondary_capture(numbered_patient(9999), SPRINGFIELD, study, series,
                                      sop_instance_uid=sample_uid(key, "instance"), instance_number=1,
                                      content_time="091701", number_of_frames=number_of_frames,
                                      rows=rows, columns=cols)
    ds.file_meta = file_meta(ds, ExplicitVRLittleEndian)
    base = pixels.ct_slice(rows, cols, 0.0, key=0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fp:
        ds.save_as(fp, enforce_file_format=True)
        # (7FE0,0010) OW, 2 reserved bytes, 32-bit length: Explicit VR Little Endian (PS3.5 §7.1.2).
        fp.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, length))
        for k in range(number_of_frames):
            fp.write(_frame(base, k).data)
    return path


def _frame(base: np.ndarray, k: int) -> np.ndarray:
    """Frame ``k``: the base image brightened and shifted a little, so frames differ."""
    shifted = np.roll(base, k % base.shape[1], axis=1)
    return np.minimum(shifted + np.uint16(k % 64), np.uint16(4095)).astype("<u2", copy=False)
