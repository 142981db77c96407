"""Stores in odd layouts built from the generated samples; the cache never leaves tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from wadows.samples import generate_samples


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WADOWS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory) -> list[Path]:
    return generate_samples(tmp_path_factory.mktemp("samples"))


# Names no archive layout convention would predict: no extension, spaces, non-ASCII, deep nesting.
_ODD_NAMES = [
    "IM0001",
    "a/b/c/d/e/IMG.bin",
    "with space/file name",
    "ünïcødé/画像.dcm",
    "DICOM/0001/0002/00000003",
    "x.dcm.bak",
    "flat/slice-07.DCM",
    ".hidden/obj",
    "CT/1",
    "CT/2",
]


@pytest.fixture
def odd_store(tmp_path, sample_files) -> Path:
    """The samples under arbitrary names, mixed with files that are not DICOM instances."""
    root = tmp_path / "store"
    for name, src in zip(_ODD_NAMES, sample_files, strict=True):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, root / name)
    (root / "README.txt").write_text("not DICOM\n")
    (root / "empty").write_bytes(b"")
    (root / "a" / "thumbs.db").write_bytes(b"\x00" * 300)
    (root / "DICOM" / "DICOMDIR").write_bytes(_dicomdir_bytes())
    (root / "empty folder").mkdir()
    return root


def _dicomdir_bytes() -> bytes:
    from io import BytesIO

    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = pydicom.Dataset()
    ds.FileSetID = "FAKESET"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
