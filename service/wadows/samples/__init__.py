"""Synthetic DICOM: deterministic files with fake but realistic headers.

Everything here is reproducible: UIDs are name-based under "2.25." (identifiers.py), pixels come
from integer hashing, not a random generator (pixels.py), and the File Meta Information names
this generator rather than the pydicom release. The bundled set is committed twice, as
``samples/dicom/`` for people and ``wadows/data/samples/`` as package data for ``wadows serve``
(git stores identical files once); regenerate both with::

    python -m wadows.samples samples/dicom service/wadows/data/samples
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .bundled import generate_samples
from .cli import register
from .ct_study import generate_ct_study
from .large import generate_large_multiframe

__all__ = ["bundled_samples_dir", "generate_ct_study", "generate_large_multiframe", "generate_samples",
           "register"]


def bundled_samples_dir() -> Path:
    """The folder of sample files installed with the package (read-only in a system install)."""
    return Path(str(files("wadows") / "data" / "samples"))
