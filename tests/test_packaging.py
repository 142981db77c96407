"""`pip install .` (not only editable) must carry the WSDL, the XSDs and the bundled samples."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_wsdl_schemas_config_and_samples(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("wadows-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ["wsdl/ImagingDocumentSource.wsdl", *(f"wsdl/{p}" for p in _schema_paths()), "default-config.toml"]:
        assert f"wadows/{rel}" in names, rel
    samples = [n for n in names if n.startswith("wadows/data/samples/") and n.endswith(".dcm")]
    assert len(samples) == len(list((REPO / "samples" / "dicom").rglob("*.dcm")))
    assert "wadows/cli.py" in names and any(n.endswith("entry_points.txt") for n in names)


def _schema_paths() -> list[str]:
    from wadows.soap.wsdl import schema_paths

    return schema_paths()
