"""Transfer syntax negotiation, the untouched stream, and the uncompressed family (Implicit, Explicit,
Deflated, Big Endian) with bounded memory."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.pixels import get_encoder
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    UID,
)

import transfer_objects as T
from wadows.retrieve import transfer
from wadows.implementation import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from wadows.dicom.tags import PIXEL_DATA
from wadows.retrieve.transfer import TranscodeError, can_produce, choose_transfer_syntax, stream_as

ILE, ELE, DEFL, BE = ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian
MiB = 1 << 20
OBJECTS = {"ct": T.ct, "rgb": T.rgb, "multiframe": T.multiframe, "sr": T.sr}


def convert(data: bytes, stored: str, target: str, chunk_size: int = 4096) -> bytes:
    return T.joined(stream_as(io.BytesIO(data), stored, target, chunk_size=chunk_size))


def values(ds: pydicom.Dataset) -> dict:
    """Element values by tag, sequences recursed, VRs ignored (implicit VR cannot keep private ones)."""
    out = {}
    for elem in ds:
        if elem.tag == PIXEL_DATA or elem.tag.element == 0:
            continue
        out[int(elem.tag)] = [values(item) for item in elem.value] if elem.VR == "SQ" else elem.value
    return out


def meta_end(data: bytes) -> int:
    assert data[128:132] == b"DICM"
    group_length = struct.unpack("<L", data[140:144])[0]  # (0002,0000) UL, explicit VR
    return 144 + group_length


# --- negotiation ---------------------------------------------------------------------------------

def test_first_producible_listed_syntax_wins_in_list_order():
    assert choose_transfer_syntax(ELE, [JPEGLSLossless, JPEG2000Lossless, ILE]) == JPEG2000Lossless
    assert choose_transfer_syntax(ELE, [ILE, JPEG2000Lossless]) == ILE
    assert choose_transfer_syntax(RLELossless, [JPEGBaseline8Bit, ELE]) == ELE


def test_unknown_and_blank_uids_are_skipped_not_errors():
    assert choose_transfer_syntax(ELE, ["1.2.3.4.5", "", " 1.2.840.10008.1.2 "]) == ILE


def test_nothing_producible_gives_none_not_a_fallback():
    # IHE: 0007 for the document; PS3.18's fallback to Explicit VR LE would have answered ELE here.
    assert choose_transfer_syntax(ELE, ["1.2.3.4.5", JPEGBaseline8Bit, BE]) is None
    assert choose_transfer_syntax(ELE, []) is None


def test_the_stored_syntax_is_always_producible_even_when_unknown():
    assert choose_transfer_syntax("1.2.3.999", [ELE, "1.2.3.999"]) == "1.2.3.999"
    assert not can_produce("1.2.3.999", ELE)


def test_big_endian_is_read_only():
    assert can_produce(BE, ILE) and can_produce(BE, JPEG2000Lossless)
    assert not can_produce(ELE, BE)
    assert can_produce(BE, BE)


def test_objects_without_pixel_data_take_any_known_encapsulated_syntax():
    assert not can_produce(ELE, JPEGLSLossless)
    assert can_produce(ELE, JPEGLSLossless, has_pixel_data=False)
    assert choose_transfer_syntax(ELE, [JPEGBaseline8Bit, ELE], has_pixel_data=False) == JPEGBaseline8Bit
    assert not can_produce(ELE, "1.2.3.4.5", has_pixel_data=False)
    assert not can_produce(ELE, BE, has_pixel_data=False)


def test_supported_table_says_what_this_installation_does():
    rows = {row.uid: row for row in transfer.SUPPORTED}
    assert len(rows) == len(transfer.SUPPORTED)
    for uid in (ILE, ELE, DEFL):
        assert rows[uid].can_read and rows[uid].can_write
    assert rows[BE].can_read and not rows[BE].can_write
    for uid, row in rows.items():
        assert row.name == UID(uid).name
        if UID(uid).is_compressed:
            try:
                available = get_encoder(uid).is_available
            except NotImplementedError:
                available = False
            assert row.can_write == available, uid
    assert rows[RLELossless].can_write and rows[JPEG2000Lossless].can_write
    assert rows[JPEG2000].lossy_when_written and not rows[JPEG2000Lossless].lossy_when_written
    assert all(row.can_read for row in transfer.SUPPORTED)  # every plugin the project installs is present


# --- the stored syntax: untouched, chunked --------------------------------------------------------

@pytest.fixture(scope="module")
def file_20mb(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "20mb.dcm"
    path.write_bytes(T.encode(T.big(20), ELE))
    return path


def test_same_syntax_streams_the_file_byte_identical_in_bounded_chunks(file_20mb):
    data = file_20mb.read_bytes()
    assert len(data) > 20 * 10**6
    with open(file_20mb, "rb") as src:
        chunks = list(stream_as(src, ELE, ELE, chunk_size=MiB))
    assert max(map(len, chunks)) == MiB
    assert len(chunks) == -(-len(data) // MiB)
    assert b"".join(chunks) == data


def test_same_syntax_never_parses():
    garbage = bytes(range(256)) * 50
    assert T.joined(stream_as(io.BytesIO(garbage), ELE, ELE, chunk_size=1000)) == garbage


def test_converted_output_respects_chunk_size_too(file_20mb):
    with open(file_20mb, "rb") as src:
        sizes = [len(c) for c in stream_as(src, ELE, ILE, chunk_size=MiB)]
    assert max(sizes) <= MiB
    assert abs(sum(sizes) - file_20mb.stat().st_size) < 100  # headers differ, the 20 MB of pixels do not


def test_a_wrong_stored_syntax_is_corrected_by_the_file_meta():
    data = T.encode(T.ct(), ELE)
    assert convert(data, ILE, ELE) == data  # the index said Implicit; the file says Explicit = target


# --- the uncompressed family ------------------------------------------------------------------------

@pytest.mark.parametrize("name", OBJECTS)
@pytest.mark.parametrize("stored,target", [(s, t) for s in (ILE, ELE, DEFL, BE) for t in (ILE, ELE, DEFL) if s != t],
                         ids=lambda u: UID(u).keyword)
def test_uncompressed_family_converts_losslessly(name, stored, target):
    data = T.encode(OBJECTS[name](), stored)
    out = convert(data, stored, target)
    before, after = pydicom.dcmread(io.BytesIO(data)), pydicom.dcmread(io.BytesIO(out))
    assert after.file_meta.TransferSyntaxUID == target
    assert values(after) == values(before)
    if "PixelData" in before:
        assert np.array_equal(after.pixel_array, before.pixel_array)
        assert after.pixel_array.dtype.str[1:] == before.pixel_array.dtype.str[1:]


@pytest.mark.parametrize("stored", [ILE, BE], ids=lambda u: UID(u).keyword)
def test_explicit_output_gets_the_vrs_pydicom_would_pick(stored):
    out = convert(T.encode(T.ct(), stored), stored, ELE)
    ds = pydicom.dcmread(io.BytesIO(out))
    raw = ds._dict
    assert raw[PIXEL_DATA].VR == "OW"
    assert raw[0x00280106].VR == "SS"  # Smallest Image Pixel Value, 'US or SS' by Pixel Representation 1
    assert raw[0x00090010].VR == "LO"  # private creator
    assert raw[0x00091001].VR == ("UN" if stored == ILE else "OB")  # implicit VR cannot tell a private VR
    assert ds.SmallestImagePixelValue < 0
    rgb = pydicom.dcmread(io.BytesIO(convert(T.encode(T.rgb(), stored), stored, ELE)))
    assert rgb._dict[PIXEL_DATA].VR == "OB"


@pytest.mark.parametrize("target", [ILE, DEFL], ids=lambda u: UID(u).keyword)
def test_text_in_a_multibyte_character_set_goes_out_byte_exact(target):
    data = T.encode(T.ct(), ELE)
    before = pydicom.dcmread(io.BytesIO(data))._dict[0x00100010].value
    after = pydicom.dcmread(io.BytesIO(convert(data, ELE, target)))
    assert after._dict[0x00100010].value == before
    assert str(after.PatientName) == "Müller^Jürgen=ミュラー^ユルゲン"


def test_elements_after_pixel_data_are_kept():
    out = convert(T.encode(T.big(1), ELE), ELE, ILE)
    ds = pydicom.dcmread(io.BytesIO(out))
    assert ds[0xFFFCFFFC].value == b"\0" * 8


def test_every_value_has_even_length():
    out = convert(T.encode(T.rgb(), ILE), ILE, ELE)  # 35 x 41 x 3 bytes of pixels: odd
    ds = pydicom.dcmread(io.BytesIO(out))
    lengths = {int(tag): elem.length for tag, elem in ds._dict.items() if isinstance(elem, RawDataElement)}
    assert lengths[PIXEL_DATA] == 35 * 41 * 3 + 1
    assert all(length % 2 == 0 for length in lengths.values())


def test_group_lengths_are_dropped_not_left_wrong():
    data = T.encode(T.ct(), ELE)
    end = meta_end(data)
    # pydicom never writes one, so put a (0008,0000) Group Length in by hand
    data = data[:end] + struct.pack("<HH2sHL", 8, 0, b"UL", 4, 1234) + data[end:]
    assert 0x00080000 in pydicom.dcmread(io.BytesIO(data))._dict
    out = pydicom.dcmread(io.BytesIO(convert(data, ELE, ILE)))
    assert 0x00080000 not in out._dict
    assert out.SOPInstanceUID == T.ct().SOPInstanceUID


def test_file_meta_is_rebuilt_for_wadows():
    data = T.encode(T.ct(), ELE)
    out = convert(data, ELE, ILE)
    assert out[:128] == b"\0" * 128
    meta = pydicom.dcmread(io.BytesIO(out)).file_meta
    source = pydicom.dcmread(io.BytesIO(data)).file_meta
    assert meta.TransferSyntaxUID == ILE
    assert meta.MediaStorageSOPClassUID == source.MediaStorageSOPClassUID
    assert meta.MediaStorageSOPInstanceUID == source.MediaStorageSOPInstanceUID
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert meta.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    assert "SourceApplicationEntityTitle" not in meta
    assert meta.FileMetaInformationVersion == b"\x00\x01"
    end = meta_end(out)
    assert out[end:end + 4] == b"\x08\x00\x05\x00"  # the data set starts right where the group length says


def test_deflated_output_is_raw_deflate_of_the_explicit_encoding():
    data = T.encode(T.big(2), ILE)
    deflated = convert(data, ILE, DEFL, chunk_size=MiB)
    explicit = convert(data, ILE, ELE, chunk_size=MiB)
    body, plain = deflated[meta_end(deflated):], explicit[meta_end(explicit):]
    assert zlib.decompress(body, -15) == plain
    with pytest.raises(zlib.error):
        zlib.decompress(body)  # no zlib header (PS3.5 §A.5)
    assert len(body) < len(plain)
    assert np.array_equal(pydicom.dcmread(io.BytesIO(deflated)).pixel_array, T.pixels(data))


def test_a_deflated_source_is_read_without_pydicom_inflating_it_in_memory():
    data = T.encode(T.multiframe(), DEFL)
    out = convert(data, DEFL, ILE)
    assert np.array_equal(T.pixels(out), T.pixels(data))


# --- bounded memory ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files_50mb(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fifty")
    big = T.big(50)
    paths = {}
    for ts in (ELE, ILE, BE):
        paths[ts] = folder / f"{UID(ts).keyword}.dcm"
        paths[ts].write_bytes(T.encode(big, ts))
    return paths


@pytest.mark.parametrize("stored,target", [(ELE, ILE), (ILE, ELE), (BE, ELE)],
                         ids=["explicit-implicit", "implicit-explicit", "bigendian-explicit"])
def test_uncompressed_conversion_memory_is_bounded_by_the_chunk_not_the_object(files_50mb, stored, target):
    path = files_50mb[stored]
    assert path.stat().st_size > 50 * 10**6
    total = 0
    tracemalloc.start()
    try:
        with open(path, "rb") as src:
            for chunk in stream_as(src, stored, target, chunk_size=MiB):
                total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > 50 * 10**6
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


# --- errors -------------------------------------------------------------------------------------------

def test_not_a_dicom_file_is_a_transcode_error():
    with pytest.raises(TranscodeError):
        stream_as(io.BytesIO(b"\0" * 128 + b"NOPE" + b"x" * 100), ELE, ILE)


def test_a_truncated_file_is_a_transcode_error():
    data = T.encode(T.big(1), ELE)
    with pytest.raises(TranscodeError):
        T.joined(stream_as(io.BytesIO(data[:-300_000]), ELE, ILE))


@pytest.mark.parametrize("target", [BE, JPEGLSLossless, JPEGBaseline8Bit, "1.2.3.4.5"])
def test_a_syntax_that_cannot_be_written_is_refused_before_any_byte(target):
    with pytest.raises(TranscodeError):
        stream_as(io.BytesIO(T.encode(T.ct(), ELE)), ELE, target)


def test_a_stored_syntax_that_cannot_be_read_is_refused():
    data = bytearray(T.encode(T.ct(), ELE))
    uid = ELE.encode()
    at = data.index(uid)
    data[at:at + len(uid)] = b"1.2.3.4.5.6.7.8.9"[:len(uid)].ljust(len(uid), b"1")
    with pytest.raises(TranscodeError):
        stream_as(io.BytesIO(bytes(data)), "1.2.3.4.5.6.7.8.9", ILE)


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like a socket or a pipe."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._data.read(len(b))
        b[:len(chunk)] = chunk
        return len(chunk)


def test_a_source_that_cannot_seek_is_spooled_first():
    data = T.encode(T.multiframe(), DEFL)
    out = T.joined(stream_as(_Pipe(data), DEFL, ILE))
    assert np.array_equal(T.pixels(out), T.pixels(data))
    assert T.joined(stream_as(_Pipe(data), ILE, DEFL)) == data  # wrong index entry: raw bytes after all


def test_big_endian_words_inside_sequences_are_swapped():
    ds = T.ct()
    item = ds.ReferencedImageSequence[0]
    words = np.array([1, 2, 0x1234, 0xFFFE], dtype="<u2")
    # Red Palette Color Lookup Table Data, in big endian order: pydicom writes OW bytes as given
    item.add_new(0x00281201, "OW", words.astype(">u2").tobytes())
    out = pydicom.dcmread(io.BytesIO(convert(T.encode(ds, BE), BE, ELE)))
    assert out.ReferencedImageSequence[0][0x00281201].value == words.tobytes()
