"""A bounded memory of the plain Native DICOM Models RetrieveImagingDocumentSetInformation built,
so that asking again about the same stored objects costs the XPath evaluation, not a header read
and a rendering (PS3.18 2016e §6.4.3 answers are about the object as stored; reading and rendering
its header is ~95% of the work).

What makes an entry valid: the key is the index's whole entry for the object (its UIDs, location,
size, and the file's identity: size, mtime, device, inode). The file store checks, on every open
(``check()``, which resolve.py runs for each document whose model is remembered), that the file is
the one indexed under that identity; a changed file fails that check or gets a new entry, so a
remembered model is never the model of another file. Backends without a file identity (DICOMweb)
are never remembered.

What never goes in: anything de-identified. Entries are built from the stored header only, on the
path where the document is not anonymized; with Anonymize the model is built from the de-identified
header every time (docinfo.py), so no anonymized answer can come from, or leave, this memory.

The bound is in bytes of the trees as lxml (libxml2) holds them, estimated per node: a CT header's
551-node model measured ~360 KB of resident memory (``NODE_BYTES`` rounds that up). The trees are
shared between threads read-only: evaluation only reads them, and answers are copies (xpath.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from lxml import etree

from ..store.base import StoredInstance

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


class NativeModelCache:
    """Least recently used first out, at most ``max_bytes`` (0 remembers nothing); thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self._items: OrderedDict[StoredInstance, CachedModel] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def remembers(instance: StoredInstance) -> bool:
        return instance.identity is not None

    def get(self, instance: StoredInstance) -> CachedModel | None:
        if not self.max_bytes or not self.remembers(instance):
            return None
        with self._lock:
            found = self._items.get(instance)
            if found is not None:
                self._items.move_to_end(instance)
            return found

    def put(self, instance: StoredInstance, model: CachedModel) -> None:
        if not self.remembers(instance) or model.size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(instance, None)
            if old is not None:
                self._bytes -= old.size
            self._items[instance] = model
            self._bytes += model.size
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.size

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes
