"""`wadows anonymize` against dicognito on the same 200-slice 512 x 512 CT study, same machine: at
least twice the files per second. Runs only where dicognito is installed (it is no dependency of
wadows: `pip install dicognito` to compare)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_ANONYMIZE = ("import argparse, sys\n"
              "from wadows.deid import cli\n"
              "p = argparse.ArgumentParser(); cli.register(p.add_subparsers(dest='c', required=True))\n"
              "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n")


def _best_of(runs: int, command: list[str], out: Path) -> float:
    best = float("inf")
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=600)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.skipif(importlib.util.find_spec("dicognito") is None, reason="dicognito not installed (pip install dicognito)")
def test_twice_as_fast_as_dicognito(tmp_path):
    from wadows.samples.ct_study import generate_ct_study

    files = generate_ct_study(tmp_path / "ct", n_instances=200)
    key = tmp_path / "deid.key"
    key.write_text("ab" * 32)
    jobs = str(os.cpu_count() or 1)
    wadows = _best_of(3, [sys.executable, "-c", _ANONYMIZE, "anonymize", str(tmp_path / "ct"), "-o",
                          str(tmp_path / "w"), "--key-file", str(key), "--jobs", jobs], tmp_path / "w")
    dicognito = _best_of(3, [sys.executable, "-m", "dicognito", "--quiet", "-o", str(tmp_path / "d"),
                             str(tmp_path / "ct")], tmp_path / "d")
    assert len(list((tmp_path / "w").rglob("*.dcm"))) == len(files)
    print(f"\n200 CT files: wadows {len(files) / wadows:.0f} files/s ({wadows:.2f} s, --jobs {jobs}), "
          f"dicognito {len(files) / dicognito:.0f} files/s ({dicognito:.2f} s)")
    assert dicognito / wadows >= 2.0
