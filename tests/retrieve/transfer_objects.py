"""Generated DICOM objects for the transfer syntax tests: small, odd-sized, every pixel layout we
convert (16-bit signed monochrome, 8-bit RGB, multi-frame), plus an SR without pixel data."""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    CTImageStorage,
    ComprehensiveSRStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    SecondaryCaptureImageStorage,
    UID,
)

from support.needs import unavailable
from wadows.dicom.tags import PIXEL_DATA

_UID_ROOT = "2.25.1234567890123456789"


def _base(sop_class: str, n: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = f"{_UID_ROOT}.{n}"
    ds.StudyInstanceUID = f"{_UID_ROOT}.100"
    ds.SeriesInstanceUID = f"{_UID_ROOT}.{100 + n}"
    ds.PatientName = "Müller^Jürgen=ミュラー^ユルゲン"  # multi-byte text must survive byte-exact
    ds.PatientID = "TS-TEST"
    ds.StudyDate = "20240102"
    ds.Modality = "OT"
    ds.ImageComments = "odd"  # odd length: padded on write
    ds.ReferencedImageSequence = Sequence([_ref(n)])
    ds.add_new(0x00090010, "LO", "WADOWS TEST")  # private creator and a private element
    ds.add_new(0x00091001, "OB", b"\x01\x02\x03\x04")
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = f"{_UID_ROOT}.999"
    ds.file_meta.SourceApplicationEntityTitle = "STORESCU"
    return ds


def _ref(n: int) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = CTImageStorage
    item.ReferencedSOPInstanceUID = f"{_UID_ROOT}.{n}.7"
    return item


def _image(ds: Dataset, arr: np.ndarray, *, photometric: str, bits_stored: int, signed: bool,
           frames: int = 1) -> Dataset:
    """``arr`` is shaped ([frames,] rows, columns[, samples])."""
    ds.SamplesPerPixel = 3 if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422") else 1
    ds.Rows, ds.Columns = arr.shape[1:3] if frames > 1 else arr.shape[:2]
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"
    return ds


def ct(rows: int = 37, cols: int = 33, n: int = 1) -> Dataset:
    """16-bit signed monochrome, 12 bits stored, odd rows and columns (at least 32: openjpeg's
    encoder uses 6 resolution levels)."""
    rng = np.random.default_rng(n)
    arr = rng.integers(-2048, 2047, (rows, cols), dtype=np.int16)
    ds = _image(_base(CTImageStorage, n), arr, photometric="MONOCHROME2", bits_stored=12, signed=True)
    ds.Modality = "CT"
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.SmallestImagePixelValue = int(arr.min())  # 'US or SS': must come out SS
    return ds


def smooth_ct(rows: int = 64, cols: int = 48) -> Dataset:
    """What lossy coding is for: a smooth image (noise does not compress, lossy or not)."""
    ds = ct(rows, cols)
    yy, xx = np.mgrid[0:rows, 0:cols]
    ds.PixelData = (xx * 20 + yy * 10 - 1000).astype("<i2").tobytes()
    return ds


def rgb(rows: int = 35, cols: int = 41, n: int = 2) -> Dataset:
    """8-bit RGB, odd sizes (the pixel data value itself is odd: padded)."""
    arr = np.random.default_rng(n).integers(0, 255, (rows, cols, 3), dtype=np.uint8)
    return _image(_base(SecondaryCaptureImageStorage, n), arr, photometric="RGB", bits_stored=8, signed=False)


def multiframe(frames: int = 3, rows: int = 33, cols: int = 35, n: int = 3, dtype=np.uint16) -> Dataset:
    info = np.iinfo(dtype)
    arr = np.random.default_rng(n).integers(0, min(info.max, 4095), (frames, rows, cols), dtype=dtype)
    return _image(_base(SecondaryCaptureImageStorage, n), arr, photometric="MONOCHROME2",
                  bits_stored=min(12, info.bits), signed=False, frames=frames)


def big(megabytes: int, n: int = 4) -> Dataset:
    """A multi-frame object of about ``megabytes`` MB of 16-bit pixels, cheap to make."""
    rows = cols = 512
    frames = max(1, megabytes * 1024 * 1024 // (rows * cols * 2))
    ds = _base(SecondaryCaptureImageStorage, n)
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.NumberOfFrames = frames
    ds.PixelData = (np.arange(rows * cols * frames, dtype="<u4") % 65521).astype("<u2").tobytes()
    ds["PixelData"].VR = "OW"
    ds.add_new(0xFFFCFFFC, "OB", b"\0" * 8)  # Data Set Trailing Padding: an element after Pixel Data
    return ds


def sr(n: int = 5) -> Dataset:
    ds = _base(ComprehensiveSRStorage, n)
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    item = Dataset()
    item.ValueType = "TEXT"
    item.TextValue = "Findings: none"
    item.RelationshipType = "CONTAINS"
    ds.ContentSequence = Sequence([item])
    return ds


def encode(ds: Dataset, ts: str) -> bytes:
    """Part-10 bytes of ``ds`` in ``ts`` as pydicom (not the code under test) writes them."""
    ts = UID(ts)
    if ts == ExplicitVRBigEndian:
        # pydicom converts numbers but not OW bytes (dcmwrite's warning), and only for a data set
        # not read from a file
        ds = copy.deepcopy(ds)
        if has_pixel_data(ds) and ds.BitsAllocated > 8:
            size = ds.BitsAllocated // 8
            ds.PixelData = np.frombuffer(ds.PixelData, f"<u{size}").astype(f">u{size}").tobytes()
        ds.file_meta.TransferSyntaxUID = ts
        return _save(ds)
    ds = pydicom.dcmread(io.BytesIO(_save(ds)))  # a copy whose pixel data may be re-encoded
    if ts.is_compressed and has_pixel_data(ds):
        ds.compress(ts, generate_instance_uid=False, **({"j2k_cr": [5]} if ts == "1.2.840.10008.1.2.4.91" else {}))
    ds.file_meta.TransferSyntaxUID = ts
    return _save(ds)


def _save(ds: Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def jpeg_baseline_ybr422(rows: int = 48, cols: int = 40, n: int = 6) -> bytes:
    """A JPEG Baseline object as cameras and PACS send it: YBR_FULL_422, made with Pillow's encoder
    (pydicom has none for this syntax)."""
    from PIL import Image
    from pydicom.encaps import encapsulate

    arr = jpeg_source_rgb(rows, cols)
    jpg = io.BytesIO()
    Image.fromarray(arr, "RGB").save(jpg, "JPEG", quality=95, subsampling=1)  # 4:2:2
    ds = _image(_base(SecondaryCaptureImageStorage, n), arr, photometric="YBR_FULL_422", bits_stored=8,
                signed=False)
    ds.PixelData = encapsulate([jpg.getvalue()])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    return _save(ds)


def dcmtk_encode(data: bytes, tool: str, option: str, tmp: Path) -> bytes:
    """Compressed objects pydicom cannot write (JPEG Lossless, JPEG-LS), made by dcmtk."""
    require_tool(tool)
    src, dst = tmp / f"in-{tool}{option}.dcm", tmp / f"out-{tool}{option}.dcm"
    src.write_bytes(data)
    subprocess.run([tool, option, str(src), str(dst)], check=True, capture_output=True)
    return dst.read_bytes()


def require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        unavailable(f"{tool} not installed (Debian package dcmtk)")
    return path


def dcmdump_ok(data: bytes, tmp: Path) -> str:
    """dcmdump's reading of ``data``; fails the test on any error or warning it reports."""
    tool = require_tool("dcmdump")
    path = tmp / "check.dcm"
    path.write_bytes(data)
    done = subprocess.run([tool, "-dc", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "E: " not in done.stderr and "W: " not in done.stderr, done.stderr
    return done.stdout


def pixels(data: bytes) -> np.ndarray:
    return pydicom.dcmread(io.BytesIO(data)).pixel_array


def joined(chunks) -> bytes:
    return b"".join(chunks)


def has_pixel_data(ds: Dataset) -> bool:
    return PIXEL_DATA in ds._dict


def jpeg_source_rgb(rows: int = 48, cols: int = 40) -> np.ndarray:
    """The RGB image jpeg_baseline_ybr422() compressed."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    return np.stack([(xx * 10) % 256, (yy * 15) % 256, ((xx + yy) * 5) % 256], axis=-1).astype(np.uint8)
