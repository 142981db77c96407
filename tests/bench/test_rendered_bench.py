"""bench/rendered.py keeps running (quick mode: 20 instances, one repetition): its untimed check of every
side's images passes and every row is printed. No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.needs import need_tool
from support.orthanc import require_orthanc

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.tools
def test_quick_run_prints_the_table():
    require_orthanc()
    need_tool("curl", "curl")
    out = subprocess.run([sys.executable, str(REPO / "bench" / "rendered.py"), "--quick", "--repeat", "1"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "images/s" not in line]
    assert len(rows) == 12
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and cells[2].endswith("x"), row
