"""bench/run.py (W1, W2, with and without Anonymize, against nginx) keeps running in quick mode and
prints every row; its own correctness checks (byte-identical plain response, new UIDs when
anonymized) run inside it. No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_run_prints_every_row():
    out = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--repeat", "1"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = {cells[0]: cells[1:] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| workload")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}
    assert set(rows) == {"W1 study, 1 request", "W1 study, 1 request/instance", "W2 50 MB object",
                         "W2 server peak RSS", "W1 study, 1 request, Anonymize", "W2 50 MB object, Anonymize",
                         "W2 Anonymize peak RSS"}
    nginx = bool(shutil.which("nginx") or Path("/usr/sbin/nginx").exists())
    for name in ("W1 study, 1 request", "W2 50 MB object, Anonymize"):
        wadows, limit, ratio = rows[name]
        assert float(wadows.split()[0].replace(",", "")) > 0
        assert (ratio != "-") == nginx, rows[name]
