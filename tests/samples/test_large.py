"""The large multi-frame generator: valid output, memory that does not grow with the target."""

from __future__ import annotations

import subprocess
import tracemalloc

import numpy as np
import pydicom
import pytest

from wadows.samples import generate_large_multiframe
from wadows.samples.large import _frame
from wadows.samples.pixels import ct_slice

MiB = 2**20


def test_peak_memory_stays_small_whatever_the_size(tmp_path):
    tracemalloc.start()
    try:
        path = generate_large_multiframe(tmp_path / "big.dcm", 50 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert abs(path.stat().st_size - 50 * MiB) < 512 * 1024  # within one 512 x 512 frame
    assert peak < 12 * MiB  # a few frames' worth, not 50 MB


def test_output_is_a_valid_multiframe_object(tmp_path):
    path = generate_large_multiframe(tmp_path / "mf.dcm", 5 * MiB, rows=256, cols=128)
    ds = pydicom.dcmread(path)
    frame_bytes = 256 * 128 * 2
    assert ds.NumberOfFrames == round(5 * MiB / frame_bytes)
    assert len(ds.PixelData) == ds.NumberOfFrames * frame_bytes
    assert ds.SOPClassUID.name == "Multi-frame Grayscale Word Secondary Capture Image Storage"
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    frames = ds.pixel_array
    assert frames.shape == (ds.NumberOfFrames, 256, 128)
    assert np.array_equal(frames[7], _frame(ct_slice(256, 128, 0.0, key=0), 7))
    assert not np.array_equal(frames[0], frames[1])


def test_deterministic(tmp_path):
    a = generate_large_multiframe(tmp_path / "a.dcm", MiB, rows=64, cols=64)
    b = generate_large_multiframe(tmp_path / "b.dcm", MiB, rows=64, cols=64)
    assert a.read_bytes() == b.read_bytes()


def test_refuses_more_than_a_32_bit_length(tmp_path):
    with pytest.raises(ValueError, match="4 GiB"):
        generate_large_multiframe(tmp_path / "huge.dcm", 5 * 2**30)
    assert not (tmp_path / "huge.dcm").exists()


@pytest.mark.tools
def test_dicom_toolkits_accept_it(tmp_path, tool):
    path = generate_large_multiframe(tmp_path / "mf.dcm", 3 * MiB)
    result = subprocess.run([tool("dciodvfy"), str(path)], capture_output=True, text=True, timeout=120)
    assert [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")] == []
    result = subprocess.run([tool("dcmdump"), "-q", "+P", "7fe0,0010", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    assert f"# {3 * MiB}, 1 PixelData" in result.stdout
