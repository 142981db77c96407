"""Helpers that make DICOM files for the store tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom


def sop_uid(path: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID


def rewrite(src: Path, dst: Path, **changes: object) -> Path:
    """A copy of ``src`` with some top-level attributes changed (or removed when None)."""
    ds = pydicom.dcmread(src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid values are the point of some tests
        for keyword, value in changes.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        if isinstance(changes.get("SOPInstanceUID"), str):
            ds.file_meta.MediaStorageSOPInstanceUID = changes["SOPInstanceUID"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(dst, enforce_file_format=True)
    return dst


def snapshot(root: Path) -> dict[str, tuple]:
    """Everything about a tree that a write could change: names, types, modes, sizes,
    modification times (of folders too: creating a lock file changes its folder's) and contents."""
    import hashlib
    import os

    state = {}
    for folder, dirs, names in os.walk(root):
        for name in [".", *dirs, *names]:
            path = Path(folder) / name
            st = os.lstat(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else None
            state[os.path.relpath(path, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return state
