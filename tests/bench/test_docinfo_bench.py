"""bench/docinfo.py keeps running in quick mode and prints its four rows; its correctness checks
(one answer per document and expression, anonymized UIDs equal to RAD-69's) run inside it. No timing
is asserted: speed depends on the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.benches import quick_run, quick_table, table_rows


@pytest.mark.slow
def test_quick_run_prints_every_row():
    rows = quick_table("docinfo.py", timeout=600)
    assert len(rows) == 4 and all(float(cells[2]) > 0 for cells in rows)


@pytest.mark.slow
def test_a_baseline_is_timed_in_the_same_run():
    """--baseline: another server (here this checkout's own script again) answers every workload too."""
    stdout = quick_run("docinfo.py", 600, "--baseline", str(Path(sys.executable).parent / "wadows"))
    assert len(table_rows(stdout)) == 8 and "\nbaseline\n" in stdout
