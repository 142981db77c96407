"""The plain Native DICOM Models RetrieveImagingDocumentSetInformation built, remembered
(remembered.py) so that asking again about the same stored objects costs the XPath evaluation, not a
header read and a rendering (PS3.18 2016e §6.4.3 answers are about the object as stored; reading and
rendering its header is ~95% of the work).

What never goes in: anything de-identified. Entries are built from the stored header only, on the
path where the document is not anonymized; with Anonymize the model is built from the de-identified
header every time (docinfo.py), so no anonymized answer can come from, or leave, this memory.

The cost is in bytes of the trees as lxml (libxml2) holds them, estimated per node: a CT header's
551-node model measured ~360 KB of resident memory (``NODE_BYTES`` rounds that up). The trees are
shared between threads read-only: evaluation only reads them, and answers are copies (xpath.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree


NODE_BYTES = 700  # resident bytes per node of an lxml tree, measured (module docstring), rounded up


@dataclass(frozen=True, slots=True)
class CachedModel:
    root: etree._Element     # never modified once remembered
    nodes: int               # its node count, the XPath cost estimate's N (xpath.py)
    frames: int | None       # Number of Frames as frame_count() gives it; None: not an integer
    patient_id: str          # for the audit trail only (PS3.15 A.5.3.7), as rad69._provenance reads them
    patient_name: str

    @property
    def size(self) -> int:
        return self.nodes * NODE_BYTES

