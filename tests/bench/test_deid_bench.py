"""bench/deid.py keeps running (quick mode, wadows and gdcmanon only: no PyPI, no Orthanc) and keeps
refusing to time a tool that did nothing. No timing is asserted: speed depends on the machine."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "deid.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_deid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _rows(stdout: str) -> dict[str, list[str]]:
    """tool -> cells of the printed Markdown table."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("| ") and not line.startswith("| tool "):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def test_quick_run_with_wadows_and_gdcmanon(tmp_path):
    if shutil.which("gdcmanon") is None and os.environ.get("CI") == "true":
        pytest.fail("gdcmanon (Debian package libgdcm-tools) is required in CI")
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--tools", "wadows,gdcmanon"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _rows(done.stdout)
    cores = os.cpu_count() or 1
    for jobs in sorted({1, cores}):
        row = rows[f"wadows --jobs {jobs}"]
        assert float(row[2].replace(",", "")) > 0
        # wadows' own output must not carry any searched input value
        assert row[-1].endswith("values left: none found"), row[-1]
        assert "basic profile (E.1-1 2025b)" in row[-1]
    gdcm = rows["gdcmanon"]
    if shutil.which("gdcmanon") and shutil.which("openssl"):
        assert gdcm[1].startswith("gdcm ") and float(gdcm[2].replace(",", "")) > 0
        assert "marked YES" in gdcm[-1]
    else:
        assert gdcm[2] == "-" and "NOT MEASURED" in gdcm[-1]
    assert "20 CT instances" in done.stdout
    assert list(tmp_path.iterdir()) == [], "the bench removes its temporary folder"


def test_unknown_tool_is_a_usage_error():
    done = subprocess.run([sys.executable, str(SCRIPT), "--tools", "wadows,ctp"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "ctp" in done.stderr


def test_a_tool_that_copies_its_input_is_not_timed(tmp_path):
    from wadows.samples import generate_ct_study

    bench = _bench_module()
    files = generate_ct_study(tmp_path / "ct", n_instances=3, rows=8, cols=8)
    original = pydicom.dcmread(files[0], stop_before_pixels=True)
    out = tmp_path / "out"
    out.mkdir()
    for p in files:
        shutil.copy2(p, out / p.name)
    failure, _ = bench.check_outputs(out, 3, original)
    assert failure == "PatientName unchanged"
    (out / files[0].name).unlink()
    failure, _ = bench.check_outputs(out, 3, original)
    assert failure == "2 outputs for 3 inputs"


def test_leaks_are_named_in_the_notes(tmp_path):
    from wadows.samples import generate_ct_study

    bench = _bench_module()
    files = generate_ct_study(tmp_path / "ct", n_instances=1, rows=8, cols=8)
    original = pydicom.dcmread(files[0])
    ds = pydicom.dcmread(files[0])
    ds.PatientName, ds.PatientID, ds.SOPInstanceUID = "X", "Y", "1.2.3"
    out = tmp_path / "out"
    out.mkdir()
    ds.save_as(out / "1.dcm")
    failure, observed = bench.check_outputs(out, 1, original)
    assert failure is None
    assert "StudyDate kept" in observed
    left = observed.split("values left: ")[1].split(", ")
    assert {"AccessionNumber", "StudyInstanceUID", "private"} <= set(left)
    assert "PatientName" not in left


def test_failed_tools_get_a_row_without_numbers():
    bench = _bench_module()
    lines = bench.table([bench.Result("wadows --jobs 1", "0", "n", seconds=2.0, files=100),
                         bench.Result("gdcmanon", "-", "", failure="not installed")])
    rows = _rows("\n".join(lines))
    assert rows["wadows --jobs 1"][2] == "50.0"
    assert rows["gdcmanon"][2:4] == ["-", "-"] and rows["gdcmanon"][4] == "NOT MEASURED: not installed"
