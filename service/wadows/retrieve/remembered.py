"""A bounded, least-recently-used memory of what was computed from stored objects, keyed by their
index entries: the Native DICOM Models of RetrieveImagingDocumentSetInformation (modelcache.py) and
the headers the rendered operation read (rendered.py).

Why an index entry is a safe key: it holds the object's UIDs, location, size and the file's identity
(size, mtime, device, inode), and the file store checks on every open that the file is the one
indexed under that identity (store/filestore.py ``open``; resolve.py's ``check``). A changed file
fails that check or is indexed again under a new entry, so what is remembered for an entry is never
answered for another file. Backends without a file identity (DICOMweb) are never remembered: nothing
there says an object is still what it was.

Whoever puts a value in says what it costs in bytes; the bound is the sum of those costs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from ..store.base import StoredInstance

V = TypeVar("V")


class Remembered(Generic[V]):
    """At most ``max_bytes`` (0 remembers nothing), least recently used first out; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self._items: OrderedDict[StoredInstance, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def remembers(instance: StoredInstance) -> bool:
        return instance.identity is not None

    def get(self, instance: StoredInstance) -> V | None:
        if not self.max_bytes or not self.remembers(instance):
            return None
        with self._lock:
            found = self._items.get(instance)
            if found is None:
                return None
            self._items.move_to_end(instance)
            return found[0]

    def put(self, instance: StoredInstance, value: V, size: int) -> None:
        if not self.remembers(instance) or size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(instance, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[instance] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes
