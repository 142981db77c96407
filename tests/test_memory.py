"""release_free_memory hands freed heap back to the system on glibc, and is harmless elsewhere."""

from __future__ import annotations

import psutil
import pytest

from wadows import memory


def test_harmless_to_call():
    memory.release_free_memory()


@pytest.mark.skipif(memory._TRIM is None, reason="not glibc: malloc_trim does not exist")
def test_freed_small_blocks_go_back_to_the_system():
    rss = lambda: psutil.Process().memory_info().rss  # noqa: E731
    # Many small blocks (below the mmap threshold) stay in the heap after free until trimmed.
    blocks = [bytearray(64 << 10) for _ in range(1500)]  # ~96 MB
    pin = bytearray(64 << 10)  # above them in the heap, so glibc cannot shrink the heap by itself
    held = rss()
    del blocks
    kept = rss()
    memory.release_free_memory()
    assert kept > held - (16 << 20), "freed memory went back without trimming: the test proves nothing"
    assert rss() < kept - (48 << 20)
    del pin
