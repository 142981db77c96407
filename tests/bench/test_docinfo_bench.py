"""bench/docinfo.py keeps running in quick mode and prints its four rows; its correctness checks
(one answer per document and expression, anonymized UIDs equal to RAD-69's) run inside it. No timing
is asserted: speed depends on the machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_run_prints_every_row():
    out = subprocess.run([sys.executable, str(REPO / "bench" / "docinfo.py"), "--quick", "--repeat", "1"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "workload" not in line]
    assert len(rows) == 4 and all(float(r.strip("|").split("|")[2]) > 0 for r in rows)


@pytest.mark.slow
def test_a_baseline_is_timed_in_the_same_run():
    """--baseline: another server (here this checkout's own script again) answers every workload too."""
    out = subprocess.run([sys.executable, str(REPO / "bench" / "docinfo.py"), "--quick", "--repeat", "1",
                          "--baseline", str(Path(sys.executable).parent / "wadows")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "workload" not in line]
    assert len(rows) == 8 and "\nbaseline\n" in out.stdout
