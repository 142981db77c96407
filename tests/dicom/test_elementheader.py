"""dicom/elementheader.py, the element header reader every byte-level reader shares: each form of
PS3.5 §7.1 and §7.5 it reads, what it raises for a header cut short or a VR that is none, and the
headers of every little endian Part-10 file pydicom ships, read as pydicom's own element generator
reads them."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.filereader import data_element_generator

from wadows.dicom.elementheader import (TruncatedHeader, UnknownVR, header_reader, read_explicit,
                                        read_implicit)
from wadows.dicom.part10 import element_header, item_header, read_element_header
from wadows.dicom.tags import ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER, UNDEFINED_LENGTH
from wadows.dicom.vr import LONG_VRS, VRS

PATIENT_NAME = 0x00100010
PRIVATE = 0x00091010  # in no dictionary: an implicit VR reader cannot know its VR


@pytest.mark.parametrize("vr", sorted(VRS))
def test_explicit_each_vr(vr):
    """Every VR of Table 6.2-1: the 32-bit length and 12-byte header for those of Table 7.1-1, the
    16-bit one and 8 bytes for the others; read at an offset, the value's start is after it."""
    length = 0x12345 if vr in LONG_VRS else 0x1234
    head = element_header(PATIENT_NAME, vr, length, implicit=False)
    buf = b"\xAA" * 6 + head + b"\0" * 4
    size = 12 if vr in LONG_VRS else 8
    assert len(head) == size
    assert read_explicit(buf, 6, len(buf)) == (PATIENT_NAME, vr, length, 6 + size)


def test_implicit():
    """A tag, a 32-bit length, no VR: a private tag reads the same as a public one."""
    for tag in (PATIENT_NAME, PRIVATE):
        buf = element_header(tag, "PN", 0x10203, implicit=True)
        assert read_implicit(buf, 0, len(buf)) == (tag, None, 0x10203, 8)


def test_undefined_length():
    """0xFFFFFFFF is given as read, in both encodings, for the caller to decide on."""
    explicit = element_header(0x00081115, "SQ", UNDEFINED_LENGTH, implicit=False)
    implicit = element_header(0x00081115, "SQ", UNDEFINED_LENGTH, implicit=True)
    assert read_explicit(explicit, 0, 12) == (0x00081115, "SQ", UNDEFINED_LENGTH, 12)
    assert read_implicit(implicit, 0, 8) == (0x00081115, None, UNDEFINED_LENGTH, 8)
    undefined_un = element_header(PRIVATE, "UN", UNDEFINED_LENGTH, implicit=False)
    assert read_explicit(undefined_un, 0, 12) == (PRIVATE, "UN", UNDEFINED_LENGTH, 12)


@pytest.mark.parametrize("tag", [ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER])
@pytest.mark.parametrize("length", [0, UNDEFINED_LENGTH, 0x4955, 0x424F])  # the last two spell UI and OB
def test_items_have_no_vr_in_either_encoding(tag, length):
    """PS3.5 §7.5: an item's or delimiter's header is a tag and a 32-bit length in Explicit VR too,
    whatever its length's bytes spell."""
    buf = item_header(tag, length) + b"\0" * 8
    assert read_explicit(buf, 0, len(buf)) == (tag, None, length, 8)
    assert read_implicit(buf, 0, len(buf)) == (tag, None, length, 8)


@pytest.mark.parametrize("vr", ["PN", "OB", "SQ", "UT"])
@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_truncated(vr, implicit):
    """A header that does not fit before ``end`` raises TruncatedHeader: whether the bytes end or
    ``end`` (an item's length) does; a header that fits exactly reads."""
    head = element_header(PATIENT_NAME, vr, 4, implicit)
    read = header_reader(implicit)
    assert read(head, 0, len(head))[3] == len(head)
    for cut in range(len(head)):
        with pytest.raises(TruncatedHeader):
            read(head[:cut], 0, cut)
        with pytest.raises(TruncatedHeader):
            read(head + b"\0" * 16, 0, cut)
    assert issubclass(TruncatedHeader, ValueError)


@pytest.mark.parametrize("code", [b"ZZ", b"\0\0", b"ob", b"\xe9\xff"])
def test_unknown_vr(code):
    """Two characters that are no VR raise UnknownVR, whose header is the 16-bit form with the
    characters as latin-1; Implicit VR never looks at those bytes."""
    buf = struct.pack("<HH2sH", 0x0010, 0x0010, code, 6) + b"\0" * 8
    with pytest.raises(UnknownVR) as raised:
        read_explicit(buf, 0, len(buf))
    assert raised.value.header == (PATIENT_NAME, code.decode("latin-1"), 6, 8)
    assert isinstance(raised.value, ValueError)
    assert read_implicit(buf, 0, len(buf))[1] is None


def test_big_endian():
    """Explicit VR Big Endian (retired, PS3.5 §A.3), for sequences pydicom left as bytes: the same
    forms, the numbers the other way round."""
    read = header_reader(False, little_endian=False)
    assert read(struct.pack(">HH2sH", 0x0010, 0x0010, b"PN", 0x0102), 0, 8) == (PATIENT_NAME, "PN", 0x0102, 8)
    assert read(struct.pack(">HH2s2xL", 0x0008, 0x1115, b"SQ", UNDEFINED_LENGTH), 0, 12) == \
        (0x00081115, "SQ", UNDEFINED_LENGTH, 12)
    assert read(struct.pack(">HHL", 0xFFFE, 0xE000, 0x4F42), 0, 8) == (ITEM, None, 0x4F42, 8)
    assert header_reader(True, False)(struct.pack(">HHL", 0x0009, 0x1010, 7), 0, 8) == (PRIVATE, None, 7, 8)
    with pytest.raises(TruncatedHeader):
        read(struct.pack(">HH2s2xL", 0x0008, 0x1115, b"SQ", 0), 0, 11)


def test_read_element_header():
    """part10's reader of the element after a header (retrieve/rendered.py): None when the bytes are too
    short, an unknown VR taken as it comes, the header's own length last."""
    assert read_element_header(element_header(0x7FE00010, "OW", 512, False), False) == (0x7FE00010, "OW", 512, 12)
    assert read_element_header(element_header(0x7FE00010, "OW", 512, True), True) == (0x7FE00010, None, 512, 8)
    assert read_element_header(element_header(0x7FE00010, "OW", 512, False)[:11], False) is None
    assert read_element_header(b"\x10\x00\x10\x00", True) is None
    assert read_element_header(struct.pack("<HH2sH", 0x7FE0, 0x0010, b"ZZ", 4), False) == (0x7FE00010, "ZZ", 4, 8)


def _little_endian_files() -> list[tuple[Path, bool, int]]:
    """pydicom's Part-10 files whose data set is little endian and read as is: path, implicit, and
    where the data set starts."""
    out = []
    for name in sorted(set(get_testdata_files())):
        path = Path(name)
        if not path.is_file() or path.read_bytes()[128:132] != b"DICM":
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            ts = ds.file_meta.TransferSyntaxUID
        except Exception:  # noqa: BLE001 - not a file to compare on
            continue
        if ts.is_little_endian and not ts.is_deflated and ts.is_transfer_syntax:
            with open(path, "rb") as f:
                f.seek(132)
                pydicom.filereader._read_file_meta_info(f)
                out.append((path, ts.is_implicit_VR, f.tell()))
    return out


def test_headers_as_pydicom_reads_them():
    """The top-level headers of each file, read in turn, are pydicom's elements: the same tag, VR
    (Explicit VR), length and value position, up to the first undefined length (a sequence that
    only an item reader can step over) or a header pydicom reads otherwise."""
    files = _little_endian_files()
    assert len(files) > 50
    compared = 0
    for path, implicit, start in files:
        data = path.read_bytes()
        read = header_reader(implicit)
        pos = start
        elements = data_element_generator(io.BytesIO(data[start:]), implicit, True, defer_size=16)
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    elem = next(elements)
            except Exception:  # noqa: BLE001 - the end, or where pydicom gives up on a broken file
                break
            try:
                tag, vr, length, value_at = read(data, pos, len(data))
            except (UnknownVR, TruncatedHeader):
                break  # pydicom guesses (or pads) there
            assert tag == elem.tag, path.name
            if length == UNDEFINED_LENGTH:
                break
            assert (vr, length, value_at) == ((None if implicit else elem.VR), elem.length,
                                              start + elem.value_tell), (path.name, hex(tag))
            pos = value_at + length
            compared += 1
    print(f"\n{len(files)} files, {compared} headers compared")
    assert compared > 5000
