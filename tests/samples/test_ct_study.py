"""The benchmark CT study: one series, realistic slices, deterministic per seed."""

from __future__ import annotations

import pydicom
import pytest

from wadows.samples import generate_ct_study


def test_one_series_of_ordered_slices(tmp_path):
    paths = generate_ct_study(tmp_path, 5, 32, 48)
    datasets = [pydicom.dcmread(p) for p in paths]
    assert len(paths) == 5
    assert len({ds.StudyInstanceUID for ds in datasets}) == len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 5
    assert [ds.InstanceNumber for ds in datasets] == [1, 2, 3, 4, 5]
    z = [float(ds.ImagePositionPatient[2]) for ds in datasets]
    assert z == sorted(z, reverse=True) and z[0] - z[1] == pytest.approx(float(datasets[0].SliceThickness))
    assert all(ds.pixel_array.shape == (32, 48) for ds in datasets)
    assert all(ds.SOPClassUID.name == "CT Image Storage" for ds in datasets)


def test_full_size_slices_are_about_half_a_megabyte(tmp_path):
    (path,) = generate_ct_study(tmp_path, 1)
    assert 512 * 512 * 2 < path.stat().st_size < 512 * 512 * 2 + 16_384


def test_same_seed_same_bytes_other_seed_other_study(tmp_path):
    a = generate_ct_study(tmp_path / "a", 2, 16, 16, seed=3)
    b = generate_ct_study(tmp_path / "b", 2, 16, 16, seed=3)
    c = generate_ct_study(tmp_path / "c", 2, 16, 16, seed=4)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    first, other = pydicom.dcmread(a[0]), pydicom.dcmread(c[0])
    assert first.StudyInstanceUID != other.StudyInstanceUID
    assert first.SOPInstanceUID != other.SOPInstanceUID
    assert first.PatientID != other.PatientID


def test_rejects_nonsense_sizes(tmp_path):
    with pytest.raises(ValueError):
        generate_ct_study(tmp_path, 0)
