"""The seam between retrieval and wherever the DICOM objects live.

Retrieval, de-identification and the SOAP edge only see this interface, so the embedded
file store and a DICOMweb archive can be swapped without touching them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


@dataclass(frozen=True, slots=True)
class StoredInstance:
    """What the index knows about one SOP instance; enough to answer without opening it."""

    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    size: int
    location: str  # backend-specific (a path for the file store); never sent to clients
    # The file store's (size, mtime_ns, device, inode) when indexed: the file opened must match.
    identity: tuple[int, int, int, int] | None = None


FileIdentity = tuple[int, int, int, int]  # (size, mtime_ns, device, inode)


def file_identity(fd: int) -> FileIdentity:
    """What tells one file from another: `mv other.dcm a.dcm` keeps size and mtime but not the
    inode, an in-place rewrite keeps the inode but not mtime."""
    st = os.fstat(fd)
    return st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino


@dataclass(frozen=True, slots=True)
class HeaderRead:
    """A header read from a file, with where its pixel data element starts and which file it was:
    enough to stream the rest of the object later without parsing the header again, once the file
    opened then is shown to be the same one (retrieve/rad69.py)."""

    dataset: Dataset
    pixel_at: int  # offset of the first pixel data element, or of the end of the object
    # None: read from the very file object it is used with (retrieve/rendered.py), nothing to compare;
    # a comparison with a file's identity then fails, so RAD-69 reads such a header again.
    identity: FileIdentity | None


class Backend(Protocol):
    def lookup(self, sop_instance_uid: str) -> StoredInstance | None:
        """The instance with this SOP Instance UID, or None. The UID is already validated."""

    def open(self, instance: StoredInstance) -> BinaryIO:
        """A binary stream of the Part-10 file, positioned at byte 0, opened read-only. May be
        non-seekable (the DICOMweb backend's is); reading it may raise OSError mid-way."""

    def check(self, instance: StoredInstance) -> None:
        """Raise OSError if the object cannot be served now. Called for every document before the
        response starts, so it must be cheap (the file store opens and closes the file)."""

    def header(self, instance: StoredInstance) -> Dataset:
        """The object's data set up to its pixel data, file meta included; a Pixel Data (or Float/
        Double Float Pixel Data) element the object has is present with an empty value, so
        "no pixel data" can be told from "not read" (see store/header.py). Raises OSError when it
        cannot be read. Read when a decision needs the content: Anonymize, and objects without
        pixel data asked in a syntax only they can be given in."""

    def health(self) -> dict[str, object]:
        """Backend reachability for /healthz (``{"ok": bool, ...}``)."""
