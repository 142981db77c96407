"""A small thread-safe LRU map whose entries expire, for what is worth remembering for a while but
not forever: where an archive keeps an instance (it may move or delete it), which passwords were
verified lately (a changed password must stop working)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, max_size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_size = max(0, max_size)
        self.ttl = ttl
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            born, value = found
            if self._clock() - born > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def age(self, key: K) -> float | None:
        """Seconds since ``key`` was stored, or None when it is absent or expired."""
        with self._lock:
            found = self._items.get(key)
        if found is None:
            return None
        age = self._clock() - found[0]
        return age if age <= self.ttl else None

    def put(self, key: K, value: V) -> None:
        if self.max_size == 0 or self.ttl <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)
