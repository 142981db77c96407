"""dicom/native.py against pydicom's own decoder: for every native image of the render corpus (every
Part-10 file pydicom and pydicom-data ship, the bundled samples, a generated CT and multi-frame
object) and every frame kind the fast path takes, the array it reads, from the data set and from
the file, is pydicom's raw array (values, dtype, shape) with the same photometric interpretation;
where pydicom refuses the object, the fast path declines it too (None, so pydicom answers)."""

from __future__ import annotations

import collections
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.pixels import get_decoder
from pydicom.uid import ExplicitVRLittleEndian

from wadows.dicom.frames import decode_frame, frame_count, transfer_syntax
from wadows.dicom.native import LITTLE_ENDIAN_NATIVE, native_frame
from wadows.samples.ct_study import generate_ct_study
from wadows.samples.large import generate_large_multiframe

import wadows

from support.needs import unavailable

BUNDLED = Path(wadows.__file__).parent / "data" / "samples"


def _part10(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(132)[128:] == b"DICM"


def _corpus(tmp: Path) -> list[Path]:
    files = [Path(p) for p in sorted(set(get_testdata_files())) if Path(p).is_file()]
    files += sorted(BUNDLED.rglob("*.dcm"))
    files += generate_ct_study(tmp / "ct", n_instances=1)
    files.append(generate_large_multiframe(tmp / "multi.dcm", 12 * 64 * 64 * 2, rows=64, cols=64))
    return [p for p in files if _part10(p)]


def _read(path: Path, **kw) -> pydicom.Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, **kw)
        except Exception:  # noqa: BLE001 - pydicom cannot read it: not a case for either decoder
            return None


def _pydicom(ds: pydicom.Dataset, index: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return get_decoder(transfer_syntax(ds)).as_array(ds, index=index, raw=True)
        except Exception:  # noqa: BLE001 - pydicom refuses: the fast path must decline as well
            return None


def _same(ours: tuple[np.ndarray, str], theirs) -> bool:
    arr, photometric = ours
    ref, props = theirs
    return (arr.dtype == ref.dtype and arr.shape == ref.shape and np.array_equal(arr, ref)
            and photometric == str(props["photometric_interpretation"]).strip())


@pytest.mark.slow
def test_native_frames_equal_pydicoms_over_the_corpus(tmp_path):
    files = _corpus(tmp_path)
    if len(files) < 200:
        unavailable("pydicom-data is not installed (fewer than 200 test files)")
    seen: collections.Counter[str] = collections.Counter()
    kinds: set[tuple] = set()
    wrong = []
    for path in files:
        ds = _read(path)
        if ds is None or "PixelData" not in ds or "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
            continue
        ts = transfer_syntax(ds)
        if ts not in LITTLE_ENDIAN_NATIVE:
            continue
        try:
            count = frame_count(ds)
        except Exception:  # noqa: BLE001 - decode_frame refuses it before either decoder runs
            continue
        on_disk = _read(path, defer_size=256)
        raw = on_disk._dict.get(0x7FE00010)
        for index in sorted({0, count - 1}):
            theirs = _pydicom(ds, index)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = native_frame(ds, index, count, ts)
            if ours is None:
                seen["declined"] += 1
                continue
            if theirs is None or not _same(ours, theirs):
                wrong.append(f"{path.name} frame {index + 1}")
                continue
            seen["equal"] += 1
            arr = ours[0]
            kinds.add((arr.dtype.str, arr.ndim, int(ds.get("PlanarConfiguration", 0) or 0),
                       int(ds.BitsStored) < int(ds.BitsAllocated)))
            # From the file, as retrieve/ reads stored objects (the value left on disk; a deflated
            # file's offsets are in its inflated copy, transfer/source.py).
            if raw is not None and getattr(raw, "value", b"") is None and not ts.is_deflated:
                with path.open("rb") as f:
                    def open_value():
                        f.seek(raw.value_tell)
                        return f
                    from_file = native_frame(on_disk, index, count, ts, open_value)
                    frame = decode_frame(on_disk, index, open_value=open_value)  # the caller hands it on
                if from_file is None or not _same(from_file, theirs) or not np.array_equal(frame.pixels, theirs[0]):
                    wrong.append(f"{path.name} frame {index + 1} from the file")
                seen["equal from the file"] += 1
    print(f"\nnative corpus: {dict(seen)}; kinds {sorted(kinds)}")
    assert wrong == []
    assert seen["equal"] >= 60 and seen["equal from the file"] >= 40, seen
    # The kinds the fast path exists for were all met: 8/16/32 bits, signed and unsigned, colour in
    # both planar configurations, Bits Stored below Bits Allocated.
    dtypes = {k[0] for k in kinds}
    assert {"|u1", "<u2", "<i2", "<u4"} <= dtypes, dtypes
    assert any(k[1] == 3 and k[2] == 1 for k in kinds) and any(k[1] == 3 and k[2] == 0 for k in kinds)
    assert any(k[3] for k in kinds)


def _ct(tmp_path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(generate_ct_study(tmp_path / "ct", n_instances=1)[0])


@pytest.mark.parametrize("bits_stored, signed", [(12, 0), (12, 1), (10, 1)])
def test_unused_bits_are_cleared_or_sign_extended_as_pydicom_does(tmp_path, bits_stored, signed):
    ds = _ct(tmp_path)
    rng = np.random.default_rng(bits_stored + signed)
    noise = rng.integers(0, 1 << 16, size=(ds.Rows, ds.Columns), dtype=np.uint16)  # high bits set too
    ds.PixelRepresentation, ds.BitsStored, ds.HighBit = signed, bits_stored, bits_stored - 1
    ds.PixelData = noise.tobytes()
    ours = native_frame(ds, 0, 1, ExplicitVRLittleEndian)
    assert ours is not None and _same(ours, _pydicom(ds, 0))
    assert int(ours[0].max()) < (1 << (bits_stored - signed))


@pytest.mark.parametrize("change", ["short value", "ybr 422", "bits allocated 1", "no planar configuration",
                                    "negative frames", "float pixel data"])
def test_what_it_declines_goes_to_pydicom(tmp_path, change):
    ds = _ct(tmp_path)
    if change == "short value":
        ds.PixelData = ds.PixelData[:-2]
    elif change == "ybr 422":
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL_422", 0
    elif change == "bits allocated 1":
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 1, 0
    elif change == "no planar configuration":
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 3, "RGB"
    elif change == "negative frames":
        ds.NumberOfFrames = -1
    else:
        ds.FloatPixelData = ds.PixelData
        del ds.PixelData
    assert native_frame(ds, 0, 1, ds.file_meta.TransferSyntaxUID) is None
