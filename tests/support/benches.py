"""Running a bench from a test: its quick mode, one repetition, and the table it prints (tests/bench/).

The tests assert what a bench checks and prints, never how fast it was: speed depends on the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def quick_run(script: str, timeout: float, *extra: str) -> str:
    """Run ``bench/<script> --quick --repeat 1 [extra...]`` with this interpreter, fail with the end of
    its stderr unless it exits 0, and return what it printed."""
    out = subprocess.run([sys.executable, str(BENCH / script), "--quick", "--repeat", "1", *extra],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def table_rows(stdout: str) -> list[list[str]]:
    """The cells of every row of the Markdown tables in ``stdout``, their header rows left out (a
    header row's first cell names the column, no row's does)."""
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    headers = {lines[0]} if lines else set()
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines if line not in headers]


def quick_table(script: str, timeout: float, *extra: str) -> list[list[str]]:
    """quick_run's table rows."""
    return table_rows(quick_run(script, timeout, *extra))
