"""The real-data corpus: every Part-10 file pydicom ships plus the pydicom-data package, with the
identifiers each one carries, read before anything touches it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_files

# Every reason `wadows anonymize` may give; a refusal outside this set fails the suite.
REASONS = (
    "refused: the file is truncated",
    "refused: the file meta information has no Transfer Syntax UID",
    "refused: a DICOMDIR",
    "refused: the object has no SOP Class UID or SOP Instance UID",
    "refused: ",                       # burned-in text and option refusals (pixels.py), fixed sentences
    "not a DICOM Part-10 file",
    "cannot be de-identified: the object is malformed",
)


@dataclass(frozen=True)
class Sample:
    path: Path
    uids: tuple[str, ...]     # the object's own Study, Series and SOP Instance UIDs
    names: tuple[str, ...]    # patient name components worth scanning for


def _is_part10(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(132)[128:] == b"DICM"


@cache
def samples() -> tuple[Sample, ...]:
    out = []
    for name in sorted(set(get_testdata_files())):
        path = Path(name)
        if not path.is_file() or not _is_part10(path):
            continue
        uids, names = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
                for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                    value = str(ds.get(kw, "") or "").strip("\0 ")
                    if len(value) >= 8:
                        uids.append(value)
                meta = str(getattr(ds, "file_meta", {}).get("MediaStorageSOPInstanceUID", "") or "").strip("\0 ")
                if len(meta) >= 8:
                    uids.append(meta)
                pn = str(ds.get("PatientName", "") or "")
                names = [p for p in pn.replace("=", "^").split("^") if len(p.strip()) >= 4]
            except Exception:  # noqa: BLE001 - unreadable here: the tool must refuse it, checked by the suite
                pass
        out.append(Sample(path, tuple(dict.fromkeys(uids)), tuple(names)))
    return tuple(out)
