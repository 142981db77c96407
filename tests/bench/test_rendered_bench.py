"""bench/rendered.py keeps running (quick mode: 20 instances, one repetition): its untimed check of every
side's images passes and every row is printed. No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import pytest

from support.benches import quick_table
from support.needs import need_tool
from support.orthanc import require_orthanc


@pytest.mark.slow
@pytest.mark.tools
def test_quick_run_prints_the_table():
    require_orthanc()
    need_tool("curl", "curl")
    rows = quick_table("rendered.py", timeout=900)
    assert len(rows) == 16
    for cells in rows:
        assert float(cells[1]) > 0 and cells[2].endswith("x"), cells
