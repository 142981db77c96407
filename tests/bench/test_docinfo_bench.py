"""bench/docinfo.py keeps running in quick mode and prints its four rows; its correctness checks
(one answer per document and expression, anonymized UIDs equal to RAD-69's) run inside it. No timing
is asserted: speed depends on the machine."""

from __future__ import annotations

import pytest

from support.benches import quick_table


@pytest.mark.slow
def test_quick_run_prints_every_row():
    rows = quick_table("docinfo.py", timeout=600)
    assert len(rows) == 4 and all(float(cells[2]) > 0 for cells in rows)
