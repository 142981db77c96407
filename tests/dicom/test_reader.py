"""dicom/reader.py against pydicom's read_partial, the reader it stands in for: the same data set,
element for element (raw values and their file offsets), the same File Meta Information, encodings
and position left in the file, over the planted-PHI corpus, the samples and every Part-10 file pydicom
ships, stopping at the pixel data as store/header.py does, or reading to the end."""

from __future__ import annotations

import collections
import io
from pathlib import Path

import pydicom
import pydicom.data
from pydicom.data import get_testdata_files
import pytest
from pydicom.filereader import read_partial

from wadows.dicom.reader import read_partial as fast_read_partial

from phi.corpus import corpus_for_tests

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]
PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


@pytest.fixture(scope="module")
def files(tmp_path_factory, sample_store) -> list[Path]:
    root = tmp_path_factory.mktemp("reader")
    corpus_for_tests(root / "phi", seed=0)
    paths = sorted((root / "phi").rglob("*.dcm")) + sorted(Path(sample_store).rglob("*.dcm"))
    # Every file pydicom ships, and the pydicom-data package's where it is installed.
    paths += sorted({Path(p) for p in get_testdata_files() if Path(p).is_file()})
    return paths


def _state(ds) -> tuple:
    return (list(ds._dict.items()), list(ds.file_meta._dict.items()), ds.preamble, ds.original_encoding,
            ds.original_character_set, ds._character_set, ds.filename, type(ds))


@pytest.mark.parametrize("stop", ["pixels", "never"])
def test_same_dataset_as_pydicom(files, stop):
    def stop_when(tag, vr, length):
        return stop == "pixels" and int(tag) in PIXEL_TAGS

    outcomes: collections.Counter[str] = collections.Counter()
    for path in files:
        data = path.read_bytes()
        theirs_fp = io.BytesIO(data)
        try:
            theirs = read_partial(theirs_fp, stop_when=stop_when)
        except Exception:
            theirs = None
        ours_fp = io.BytesIO(data)
        ours = fast_read_partial(ours_fp, stop_when)
        if ours is None:
            assert ours_fp.tell() == 0, path.name  # handed back untouched
            outcomes["pydicom's"] += 1
            continue
        assert theirs is not None, path.name
        assert _state(ours) == _state(theirs), path.name
        assert ours_fp.tell() == theirs_fp.tell(), path.name
        outcomes["ours"] += 1
    print(f"\nstop at {stop}: {dict(outcomes)}")
    assert outcomes["ours"] > 100


def test_an_undefined_length_goes_to_pydicom():
    """pydicom parses a sequence of undefined length into Datasets as it reads: left to it."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.5"
    ds.ReferencedImageSequence = [item]
    ds["ReferencedImageSequence"].is_undefined_length = True
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    fp = io.BytesIO(buf.getvalue())
    assert fast_read_partial(fp, lambda tag, vr, length: False) is None and fp.tell() == 0
    fp.seek(0)
    assert read_partial(fp).ReferencedImageSequence[0].ReferencedSOPInstanceUID == "1.2.3.5"
