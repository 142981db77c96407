"""Running a bench from a test: its quick mode, one repetition, and the table it prints (tests/bench/).

The tests assert what a bench checks and prints, never how fast it was: speed depends on the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def quick_table(script: str, timeout: float) -> list[list[str]]:
    """Run ``bench/<script> --quick --repeat 1`` with this interpreter, fail with the end of its stderr
    unless it exits 0, and return the cells of each row of the Markdown table it prints, header left out."""
    out = subprocess.run([sys.executable, str(BENCH / script), "--quick", "--repeat", "1"],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]
