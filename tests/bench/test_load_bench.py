"""bench/load.py (the W3 mix with wrk) keeps running in quick mode: every row printed, requests
served, none failed. No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.needs import unavailable

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.tools
def test_quick_load_prints_a_row_per_client_count_with_no_errors():
    import shutil

    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (Debian package wrk; make sysdeps)")
    out = subprocess.run([sys.executable, str(REPO / "bench" / "load.py"), "--quick", "--clients", "4", "16",
                          "--workers", "1", "2"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| workers")]
    assert [(r[0], r[1]) for r in rows] == [("1", "4"), ("1", "16"), ("2", "4"), ("2", "16")]
    for row in rows:
        failed, total = row[6].split(" of ")
        assert int(failed) == 0 and int(total) > 0, row
        # One RSS per process: the server alone, or the parent and its two workers.
        assert len(row[7].split(" / ")) == (1 if row[0] == "1" else 3), row
        assert "failed" not in row[8], row
