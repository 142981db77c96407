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
    out = subprocess.run([sys.executable, str(REPO / "bench" / "load.py"), "--quick", "--clients", "4", "16"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| clients")]
    assert [r[0] for r in rows] == ["4", "16"]
    for row in rows:
        failed, total = row[5].split(" of ")
        assert int(failed) == 0 and int(total) > 0, row
        assert "failed" not in row[7], row
