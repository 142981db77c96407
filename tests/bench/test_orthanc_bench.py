"""bench/orthanc.py keeps running (quick mode: 20 instances, one repetition) and prints every row.
No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import pytest

from support.benches import quick_table
from support.orthanc import require_orthanc


@pytest.mark.slow
@pytest.mark.tools
def test_quick_run_prints_the_table():
    require_orthanc()
    rows = quick_table("orthanc.py", timeout=600)
    assert len(rows) == 5
    for cells in rows:
        assert float(cells[1]) > 0 and cells[3].endswith("x"), cells
