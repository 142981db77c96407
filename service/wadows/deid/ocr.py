"""Verify blanking with OCR: after a pixel rule blanked an object, Tesseract reads the frames and the
object is refused when it still shows one of the object's own identifying values.

Why: a rule describes a device layout, and a device update or a different preset moves the text.
Tesseract (Debian tesseract-ocr) runs as a subprocess reading a PNG from stdin and writing text to
stdout: no temporary file, stderr captured and dropped (it may describe the image), a timeout.
Cine and multi-frame objects are sampled: first, middle and last frame (text overlays in cine loops
are static, and OCR of every frame would cost seconds per object).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

TIMEOUT_SECONDS = 20.0
_WORD_KEYWORDS = ("PatientName", "PatientID", "OtherPatientIDs", "AccessionNumber", "InstitutionName",
                  "ReferringPhysicianName", "PatientBirthName", "PatientMotherBirthName", "OperatorsName",
                  "PerformingPhysicianName", "StationName", "InstitutionAddress")
_DATE_KEYWORDS = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "PatientBirthDate")


def available() -> bool:
    return shutil.which("tesseract") is not None


def _norm(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def identifying_words(ds: Dataset) -> frozenset[str]:
    """Normalised words (upper-case letters and digits) of the object's identifying values and its
    dates in common written forms; read before de-identification changes them."""
    words: set[str] = set()
    for keyword in _WORD_KEYWORDS:
        value = ds.get(keyword)
        if value is None:
            continue
        values = list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]
        for v in values:
            for part in re.split(r"[\s^=,.\-/]+", str(v)):
                n = _norm(part)
                if len(n) >= 3:
                    words.add(n)
            n = _norm(str(v))
            if len(n) >= 3:
                words.add(n)
    for keyword in _DATE_KEYWORDS:
        v = str(ds.get(keyword, "") or "").strip()
        if re.fullmatch(r"\d{8}", v):
            y, m, d = v[:4], v[4:6], v[6:]
            words.update({y + m + d, d + m + y, m + d + y, d + m + y[2:], m + d + y[2:]})
    return frozenset(words)


def _sample(frames: int) -> list[int]:
    return sorted({0, frames // 2, frames - 1}) if frames > 1 else [0]


def _png(frame) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    arr = np.asarray(frame)
    if arr.ndim == 3:
        arr = arr.astype(np.float64).mean(axis=2)
    arr = arr.astype(np.float64)
    lo, hi = float(arr.min()), float(arr.max())
    scaled = ((arr - lo) * (255.0 / (hi - lo)) if hi > lo else arr * 0).astype(np.uint8)
    img = Image.fromarray(scaled, "L")
    if img.width < 1000:  # Tesseract reads small type better enlarged
        f = max(1, 1000 // max(1, img.width))
        img = img.resize((img.width * f, img.height * f), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def read_text(frame, timeout: float = TIMEOUT_SECONDS) -> str:
    """Tesseract's reading of one frame; raises subprocess.TimeoutExpired, CalledProcessError (a
    non-zero exit or a signal: its empty output would read as "no text" and pass the object
    unverified) or OSError. Its stderr is captured and dropped, never in the exception's text."""
    done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "11"], input=_png(frame),
                          capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, "tesseract")
    return done.stdout.decode("utf-8", "replace")


def found(text: str, words: Iterable[str]) -> bool:
    tokens = {_norm(t) for t in re.split(r"[\s^=,/]+", text)}
    joined = _norm(text)
    for w in words:
        if w in tokens or (len(w) >= 6 and w in joined):
            return True
    return False


def frames_of(arr, frames: int) -> Sequence:
    return arr if frames > 1 else [arr]


def shows_identity(arr, frames: int, words: frozenset[str]) -> bool:
    """True when OCR of the sampled frames reads an identifying word, or cannot run (fail closed)."""
    if not words:
        return False
    seq = frames_of(arr, frames)
    for i in _sample(frames):
        try:
            text = read_text(seq[i])
        except (OSError, subprocess.SubprocessError):
            return True
        if found(text, words):
            return True
    return False
