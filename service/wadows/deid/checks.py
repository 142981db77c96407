"""Input that is refused before anything is de-identified, each with a reason in words (never an
exception class name, never a value from the object).

pydicom reads what it can: a file cut inside an element gives that element the bytes that are there
(a value cut in half, which the writer then pads), a File Meta Information without (0002,0010)
leaves the reader guessing, and a DICOMDIR reads like any data set. None of these may be written
out as a de-identified object.
"""

from __future__ import annotations

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .pixels import DeidentificationRefused

_UNDEFINED = 0xFFFFFFFF
_MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # PS3.3 F.1 (Basic Directory IOD)

# The fixed reasons; tests check every refusal against them.
TRUNCATED = "the file is truncated (it ends inside an element)"
NO_TRANSFER_SYNTAX = "the file meta information has no Transfer Syntax UID"
DICOMDIR = "a DICOMDIR (media directory) is not an object to de-identify"
NO_SOP = "the object has no SOP Class UID or SOP Instance UID"


class InputRefused(DeidentificationRefused):
    """The input is not a complete, well-formed composite object."""


def check_meta(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    if meta is None or not str(meta.get("TransferSyntaxUID", "") or "").strip("\0 "):
        raise InputRefused(NO_TRANSFER_SYNTAX)


def check_object(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None)
    media_class = str(meta.get("MediaStorageSOPClassUID", "") or "") if meta is not None else ""
    if media_class.strip("\0 ") == _MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        raise InputRefused(DICOMDIR)
    if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
        raise InputRefused(NO_SOP)
    check_complete(ds)


def check_complete(ds: Dataset) -> None:
    """Every element read whole: a raw element's value as long as its declared length (a file cut
    inside a defined-length sequence is caught by the sequence's own length)."""
    for elem in ds._dict.values():
        if isinstance(elem, RawDataElement):
            if elem.length != _UNDEFINED and elem.value is not None and len(elem.value) < elem.length:
                raise InputRefused(TRUNCATED)
        elif isinstance(elem.value, Sequence):
            for item in elem.value:
                check_complete(item)
