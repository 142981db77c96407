"""Headers up to the pixel data, with pixel data present as an empty marker: from a file and from
a non-seekable stream, the same answer."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from wadows.store.header import HeaderUnreadable, header_from_file, header_from_stream
from wadows.store.part10meta import NotPart10, read_meta


def _write(path: Path, ds: Dataset, syntax: str) -> Path:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = syntax
    ds.save_as(path, implicit_vr=syntax == ImplicitVRLittleEndian, little_endian=syntax != ExplicitVRBigEndian,
               enforce_file_format=True)
    return path


def _image(path: Path, syntax: str, *, big_header: int = 0, rows: int = 4) -> Path:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "Header^Test"
    if big_header:
        # Many elements rather than one long value, which an explicit syntax could not hold.
        ds.ReferencedImageSequence = [Dataset() for _ in range(big_header // 100)]
        for item in ds.ReferencedImageSequence:
            item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
            item.ReferencedSOPInstanceUID = "2.25." + "1" * 59
    ds.Rows = ds.Columns = rows
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = b"\x01\x00" * rows * rows
    ds.DataSetTrailingPadding = b"\x00\x00"  # after the pixel data: must not be read
    return _write(path, ds, syntax)


def _sr(path: Path) -> Path:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "Report^Only"
    return _write(path, ds, ExplicitVRLittleEndian)


class Dribble(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        out = self._f.read(min(n, 1000) if n and n > 0 else 1000)
        self.consumed += len(out)
        return out


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian])
def test_image_header_marks_pixel_data_from_file_and_stream(tmp_path, syntax):
    path = _image(tmp_path / "img.dcm", syntax)
    with open(path, "rb") as f:
        from_file = header_from_file(f)
    found = header_from_stream(Dribble(path.read_bytes()).read)
    from_stream, prefix = found.dataset, found.prefix
    for ds in (from_file, from_stream):
        assert ds.PatientName == "Header^Test"
        assert "PixelData" in ds and ds["PixelData"].value == b""
        assert "DataSetTrailingPadding" not in ds
        assert ds.file_meta.TransferSyntaxUID == syntax
    assert path.read_bytes().startswith(prefix)
    again = header_from_stream(io.BytesIO(prefix[:found.length]).read).dataset
    assert again == from_stream and "PixelData" in again


def test_object_without_pixel_data_has_no_marker(tmp_path):
    path = _sr(tmp_path / "sr.dcm")
    with open(path, "rb") as f:
        assert "PixelData" not in header_from_file(f)
    found = header_from_stream(Dribble(path.read_bytes()).read)
    assert "PixelData" not in found.dataset and found.ended and found.prefix == path.read_bytes()


def test_a_header_longer_than_the_first_read_is_read_whole(tmp_path):
    path = _image(tmp_path / "long.dcm", ExplicitVRLittleEndian, big_header=300_000, rows=1024)
    source = Dribble(path.read_bytes())
    found = header_from_stream(source.read)
    assert len(found.dataset.ReferencedImageSequence) == 3000 and "PixelData" in found.dataset and not found.ended
    assert source.consumed == len(found.prefix) < path.stat().st_size


def test_pixel_data_is_not_read_from_a_big_object(tmp_path):
    path = _image(tmp_path / "img.dcm", ExplicitVRLittleEndian)
    data = path.read_bytes() + b"\x00" * (8 << 20)  # as if the pixel data were large
    source = Dribble(data)
    header_from_stream(source.read)
    assert source.consumed <= 64 << 10


def test_not_dicom_is_unreadable():
    with pytest.raises(HeaderUnreadable):
        header_from_stream(io.BytesIO(b"<html>oops</html>").read)
    with pytest.raises(OSError):
        header_from_file(io.BytesIO(b"\x00" * 10))


def test_read_meta_gives_the_transfer_syntax_and_reads_no_further(tmp_path):
    path = _image(tmp_path / "img.dcm", ImplicitVRLittleEndian)
    data = path.read_bytes()
    source = io.BytesIO(data)
    prefix, syntax = read_meta(source.read)
    assert syntax == ImplicitVRLittleEndian
    meta_end = 132 + 12 + pydicom.dcmread(path).file_meta.FileMetaInformationGroupLength
    assert data.startswith(prefix) and meta_end <= len(prefix) <= meta_end + 8
    with pytest.raises(NotPart10):
        read_meta(io.BytesIO(b"\x00" * 128 + b"XXXX" + b"\x00" * 100).read)
    with pytest.raises(NotPart10):
        read_meta(io.BytesIO(data[:150]).read)
