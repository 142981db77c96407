"""Lookup cache: entries expire, the least recently used go first."""

from __future__ import annotations

from support.clock import Clock
from wadows.ttlcache import TTLCache


def test_entries_expire_after_the_ttl():
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10, ttl=5, clock=clock)
    cache.put("a", 1)
    clock.now = 4.9
    assert cache.get("a") == 1 and cache.age("a") == 4.9
    clock.now = 5.1
    assert cache.get("a") is None and cache.age("a") is None


def test_least_recently_used_is_evicted():
    cache: TTLCache[str, int] = TTLCache(2, ttl=60)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_zero_size_or_ttl_caches_nothing():
    for cache in (TTLCache(0, 60), TTLCache(10, 0)):
        cache.put("a", 1)
        assert cache.get("a") is None and len(cache) == 0
