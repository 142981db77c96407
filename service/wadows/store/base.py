"""The seam between retrieval and wherever the DICOM objects live.

Retrieval, de-identification and the SOAP edge only see this interface, so the embedded
file store and a DICOMweb archive can be swapped without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol


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


class Backend(Protocol):
    def lookup(self, sop_instance_uid: str) -> StoredInstance | None:
        """The instance with this SOP Instance UID, or None. The UID is already validated."""

    def open(self, instance: StoredInstance) -> BinaryIO:
        """A binary stream of the Part-10 file, positioned at byte 0, opened read-only."""

    def health(self) -> dict[str, object]:
        """Backend reachability for /healthz (``{"ok": bool, ...}``)."""
