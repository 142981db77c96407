"""Compressed syntaxes: decode to native, encode from native, compressed to compressed, lossy
marking, objects without pixel data, the in-memory API, and readability by dcmtk."""

from __future__ import annotations

import io
import struct
import tracemalloc

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.pixels import decompress
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    UID,
)

import transfer_objects as T
from wadows.dicom.tags import PIXEL_DATA
from wadows.retrieve.transfer import TranscodeError, convert_dataset, stream_as, write_part10

ILE, ELE, DEFL = ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian
IMAGES = {"ct": T.ct, "rgb": T.rgb, "multiframe": T.multiframe}
LOSSLESS_ENCAPSULATED = (RLELossless, JPEG2000Lossless)


def convert(data: bytes, stored: str, target: str, **kwargs) -> bytes:
    return T.joined(stream_as(io.BytesIO(data), stored, target, chunk_size=4096, **kwargs))


def items(data: bytes) -> tuple[bytes, list[bytes]]:
    """The Basic Offset Table and the fragments of the encapsulated Pixel Data in ``data``."""
    ds = pydicom.dcmread(io.BytesIO(data))
    value = ds.PixelData
    found, at = [], 0
    while at < len(value):
        group, element, length = struct.unpack("<HHL", value[at:at + 8])
        assert (group, element) == (0xFFFE, 0xE000)
        found.append(value[at + 8:at + 8 + length])
        at += 8 + length
    return found[0], found[1:]


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("stored,target", [
    *((s, t) for s in (ELE, ILE, DEFL, ExplicitVRBigEndian) for t in LOSSLESS_ENCAPSULATED),
    *((s, t) for s in LOSSLESS_ENCAPSULATED for t in (ILE, ELE, DEFL)),
    (RLELossless, JPEG2000Lossless), (JPEG2000Lossless, RLELossless),
], ids=lambda u: UID(u).keyword)
def test_lossless_conversions_keep_every_pixel(name, stored, target):
    original = IMAGES[name]()
    data = T.encode(original, stored)
    out = convert(data, stored, target)
    ds = pydicom.dcmread(io.BytesIO(out))
    assert ds.file_meta.TransferSyntaxUID == target
    assert np.array_equal(ds.pixel_array, T.pixels(T.encode(original, ELE)))
    assert ds.SOPInstanceUID == original.SOPInstanceUID  # unlike pydicom's compress()/decompress() defaults
    assert ds.PhotometricInterpretation == original.PhotometricInterpretation
    assert ds.get("NumberOfFrames") == original.get("NumberOfFrames")
    assert "LossyImageCompression" not in ds


@pytest.mark.parametrize("name,vr", [("ct", "OW"), ("rgb", "OB"), ("multiframe", "OW")])
def test_decoded_pixel_data_is_native_with_the_vr_bits_allocated_asks_for(name, vr):
    out = convert(T.encode(IMAGES[name](), JPEG2000Lossless), JPEG2000Lossless, ELE)
    elem = pydicom.dcmread(io.BytesIO(out))._dict[PIXEL_DATA]
    assert elem.VR == vr and elem.length != 0xFFFFFFFF and elem.length % 2 == 0


def test_encapsulated_output_has_one_fragment_per_frame_and_a_basic_offset_table():
    data = T.encode(T.multiframe(frames=3), ELE)
    out = convert(data, ELE, RLELossless)
    table, fragments = items(out)
    assert len(fragments) == 3
    offsets = struct.unpack("<3L", table)
    assert offsets == (0, 8 + len(fragments[0]), 16 + len(fragments[0]) + len(fragments[1]))
    ds = pydicom.dcmread(io.BytesIO(out))
    frames = list(generate_frames(ds.PixelData, number_of_frames=3))
    assert len(frames) == 3


def test_jpeg_baseline_ybr_full_422_decodes_to_rgb_as_pydicom_decompress_does():
    data = T.jpeg_baseline_ybr422()
    out = pydicom.dcmread(io.BytesIO(convert(data, JPEGBaseline8Bit, ELE)))
    reference = decompress(pydicom.dcmread(io.BytesIO(data)), decoding_plugin="pylibjpeg")
    assert out.PhotometricInterpretation == "RGB" == reference.PhotometricInterpretation
    assert out.PlanarConfiguration == 0
    assert np.array_equal(out.pixel_array, reference.pixel_array)
    assert out.LossyImageCompression == "01"  # a DCT process was applied before we got the object
    source = pydicom.dcmread(io.BytesIO(data))
    source.PhotometricInterpretation = "RGB"  # what Pillow encoded, before its YCbCr conversion
    assert np.abs(out.pixel_array.astype(int) - T.jpeg_source_rgb()).mean() < 4


def test_jpeg_baseline_goes_to_a_lossless_syntax_still_marked_lossy():
    data = T.jpeg_baseline_ybr422()
    out = pydicom.dcmread(io.BytesIO(convert(data, JPEGBaseline8Bit, JPEG2000Lossless)))
    decoded = pydicom.dcmread(io.BytesIO(convert(data, JPEGBaseline8Bit, ELE)))
    assert out.PhotometricInterpretation == "RGB"
    assert np.array_equal(out.pixel_array, decoded.pixel_array)
    assert out.LossyImageCompression == "01"


@pytest.mark.tools
@pytest.mark.parametrize("tool,option,ts,lossless", [
    ("dcmcjpeg", "+e1", JPEGLosslessSV1, True),
    ("dcmcjpeg", "+ee", JPEGExtended12Bit, False),
    ("dcmcjpls", "+el", JPEGLSLossless, True),
    ("dcmcjpls", "+en", JPEGLSNearLossless, False),
], ids=["jpeg-lossless-sv1", "jpeg-extended-12bit", "jpeg-ls", "jpeg-ls-near"])
def test_syntaxes_only_dcmtk_can_write_are_read(tmp_path, tool, option, ts, lossless):
    original = T.multiframe(frames=2)  # unsigned 12-bit in 16: fits JPEG extended and JPEG-LS
    native = T.encode(original, ELE)
    data = T.dcmtk_encode(native, tool, option, tmp_path)
    assert pydicom.dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID == ts
    out = pydicom.dcmread(io.BytesIO(convert(data, ts, ILE)))
    assert out.NumberOfFrames == 2
    if lossless:
        assert np.array_equal(out.pixel_array, T.pixels(native))
    else:
        assert np.abs(out.pixel_array.astype(int) - T.pixels(native)).max() < 64
    rle = pydicom.dcmread(io.BytesIO(convert(data, ts, RLELossless)))
    assert np.array_equal(rle.pixel_array, out.pixel_array)


def test_lossy_jpeg_2000_is_marked_per_ps3_3():
    original = T.smooth_ct()
    out = pydicom.dcmread(io.BytesIO(convert(T.encode(original, ELE), ELE, JPEG2000, lossy_ratio=8)))
    assert out.file_meta.TransferSyntaxUID == JPEG2000
    assert out.LossyImageCompression == "01"
    assert out.LossyImageCompressionMethod == "ISO_15444_1"
    assert float(out.LossyImageCompressionRatio) > 4  # measured: bytes before / bytes after
    error = np.abs(out.pixel_array.astype(int) - original.pixel_array.astype(int))
    assert error.mean() < 20  # a linear ramp may even come back exact


def test_a_second_lossy_step_appends_to_the_history():
    original = T.rgb()
    original.LossyImageCompression = "01"
    original.LossyImageCompressionRatio = "12.5"
    original.LossyImageCompressionMethod = "ISO_10918_1"
    data = T.encode(original, RLELossless)
    out = pydicom.dcmread(io.BytesIO(convert(data, RLELossless, JPEG2000)))
    assert list(out.LossyImageCompressionMethod) == ["ISO_10918_1", "ISO_15444_1"]
    assert len(out.LossyImageCompressionRatio) == 2 and float(out.LossyImageCompressionRatio[0]) == 12.5


def test_object_without_pixel_data_under_an_encapsulated_syntax_is_explicit_vr_le():
    data = T.encode(T.sr(), ELE)
    out = convert(data, ELE, JPEGLSLossless)  # no JPEG-LS encoder here, none needed
    ds = pydicom.dcmread(io.BytesIO(out))
    assert ds.file_meta.TransferSyntaxUID == JPEGLSLossless
    assert ds.ContentSequence[0].TextValue == "Findings: none"
    explicit = convert(T.encode(T.sr(), ILE), ILE, ELE)
    assert out[-200:] == explicit[-200:]  # the same Explicit VR LE data set bytes


def test_float_pixel_data_cannot_be_encapsulated():
    ds = T.sr()
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated = 2, 2, 1, 32
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.FloatPixelData = np.arange(4, dtype="<f4").tobytes()
    with pytest.raises(TranscodeError):
        stream_as(io.BytesIO(T.encode(ds, ELE)), ELE, RLELossless)


def test_an_image_the_encoder_refuses_fails_before_the_first_byte():
    tiny = T.ct(rows=8, cols=8)  # openjpeg needs 32 pixels a side for its 6 resolution levels
    with pytest.raises(TranscodeError):
        stream_as(io.BytesIO(T.encode(tiny, ELE)), ELE, JPEG2000Lossless)
    ybr = T.rgb()
    ybr.PhotometricInterpretation = "YBR_FULL_422"  # no encoder profile takes it (PS3.5 §8.2)
    with pytest.raises(TranscodeError):
        stream_as(io.BytesIO(T.encode(ybr, ELE)), ELE, RLELossless)


def test_a_corrupt_codestream_is_a_transcode_error():
    data = bytearray(T.encode(T.ct(), JPEG2000Lossless))
    start = data.index(b"\xff\x4f\xff\x51")  # SOC + SIZ: the codestream
    data[start + 40:start + 400] = bytes(360)
    with pytest.raises(TranscodeError):
        T.joined(stream_as(io.BytesIO(bytes(data)), JPEG2000Lossless, ELE))


def test_a_corrupt_later_frame_fails_during_iteration_with_a_transcode_error():
    data = bytearray(T.encode(T.multiframe(frames=3), JPEG2000Lossless))
    last = data.rindex(b"\xff\x4f\xff\x51")
    data[last + 40:last + 300] = bytes(260)
    chunks = stream_as(io.BytesIO(bytes(data)), JPEG2000Lossless, ELE, chunk_size=256)
    with pytest.raises(TranscodeError):
        T.joined(chunks)


def test_decoding_holds_one_frame_not_the_object():
    frames, side = 40, 256
    data = T.encode(T.multiframe(frames=frames, rows=side, cols=side), RLELossless)
    decoded = frames * side * side * 2
    tracemalloc.start()
    try:
        total = sum(len(c) for c in stream_as(io.BytesIO(data), RLELossless, ELE, chunk_size=64 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > decoded
    assert peak < decoded / 4, f"peak {peak} for {decoded} bytes of pixels"


# --- in memory --------------------------------------------------------------------------------------

def test_convert_dataset_works_in_place_and_keeps_the_sop_instance_uid():
    ds = T.ct()
    expected = ds.pixel_array.copy()
    assert convert_dataset(ds, RLELossless) is ds
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    assert ds["PixelData"].is_undefined_length and ds["PixelData"].VR == "OB"
    assert ds.SOPInstanceUID == T.ct().SOPInstanceUID
    assert np.array_equal(ds.pixel_array, expected)
    convert_dataset(ds, ILE)
    assert not ds["PixelData"].is_undefined_length
    assert np.array_equal(ds.pixel_array, expected)


@pytest.mark.parametrize("target", [ILE, DEFL, RLELossless, JPEG2000Lossless], ids=lambda u: UID(u).keyword)
def test_write_part10_serialises_any_target(target):
    ds = pydicom.dcmread(io.BytesIO(T.encode(T.multiframe(), ExplicitVRBigEndian)))
    expected = ds.pixel_array.copy()
    chunks = list(write_part10(ds, target, chunk_size=1000))
    assert max(map(len, chunks)) <= 1000
    out = pydicom.dcmread(io.BytesIO(b"".join(chunks)))
    assert out.file_meta.TransferSyntaxUID == target
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert np.array_equal(out.pixel_array, expected)


def test_write_part10_of_a_deidentified_header_copy():
    ds = T.ct()
    ds.PatientName = "ANON"
    out = pydicom.dcmread(io.BytesIO(T.joined(write_part10(ds, ELE))))
    assert out.PatientName == "ANON" and np.array_equal(out.pixel_array, T.ct().pixel_array)


# --- dcmtk reads what we write -----------------------------------------------------------------------

@pytest.mark.tools
@pytest.mark.parametrize("name,stored,target", [
    ("ct", ELE, ILE), ("ct", ILE, ELE), ("rgb", ELE, DEFL), ("multiframe", ExplicitVRBigEndian, ELE),
    ("ct", ELE, RLELossless), ("multiframe", RLELossless, JPEG2000Lossless), ("rgb", JPEG2000Lossless, ELE),
    ("ct", ELE, JPEG2000), ("sr", ELE, JPEGLSLossless), ("sr", ILE, DEFL),
], ids=lambda v: UID(v).keyword if isinstance(v, str) and v.startswith("1.") else v)
def test_dcmdump_reads_the_output(tmp_path, name, stored, target):
    make = {**IMAGES, "sr": T.sr}[name]
    out = convert(T.encode(make(), stored), stored, target)
    dump = T.dcmdump_ok(out, tmp_path)
    assert "(0008,0018)" in dump and "(0010,0010)" in dump


def test_an_encapsulated_icon_is_dropped_when_going_native():
    from pydicom.dataset import Dataset
    from pydicom.encaps import encapsulate
    from pydicom.sequence import Sequence

    data = T.encode(T.rgb(), RLELossless)
    ds = pydicom.dcmread(io.BytesIO(data))
    icon = Dataset()
    icon.Rows, icon.Columns, icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, 2, 1, "MONOCHROME2"
    icon.BitsAllocated, icon.BitsStored, icon.HighBit, icon.PixelRepresentation = 8, 8, 7, 0
    icon.PixelData = encapsulate([b"\x00\x00\x00\x00"])
    icon["PixelData"].VR, icon["PixelData"].is_undefined_length = "OB", True
    ds.IconImageSequence = Sequence([icon])
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    out = pydicom.dcmread(io.BytesIO(convert(buf.getvalue(), RLELossless, ELE)))
    assert "IconImageSequence" not in out
    assert np.array_equal(out.pixel_array, T.rgb().pixel_array)


def test_write_part10_without_sop_identifiers_is_a_transcode_error():
    ds = T.ct()
    del ds.file_meta
    del ds.SOPClassUID
    with pytest.raises(TranscodeError):
        write_part10(ds, ELE)
