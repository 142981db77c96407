"""bench/request_cost.py keeps running (small: 5 instances, one round, both kinds, with the profile) and
prints its line. No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "request_cost.py"


@pytest.mark.parametrize("extra", [[], ["--anonymize", "--profile"]])
def test_prints_the_cost_per_request(extra):
    out = subprocess.run([sys.executable, str(SCRIPT), "--instances", "5", "--rounds", "1", *extra],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ms in the app" in out.stdout
    assert ("with Anonymize" in out.stdout) == bool(extra)
    if extra:
        assert "cumulative" in out.stdout  # the profile table
