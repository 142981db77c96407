"""The Native DICOM writer's fast path (values decoded from the bytes read, dicom/nativexml.py) gives
byte for byte the XML of the reference path (every element through pydicom's conversion), over every
file pydicom ships, its character-set files, a generated CT study, read whole and as the store reads
headers; and on values chosen to sit on each edge of what the fast path takes."""

from __future__ import annotations

import io
import os
import struct
import warnings

import pydicom
import pytest
from lxml import etree
from pydicom.data import get_charset_files, get_testdata_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pydicom.dataelem import DataElement

from wadows.dicom.nativexml import to_native_xml, to_native_xml_counted, to_native_xml_from_part10
from wadows.samples import generate_ct_study
from wadows.store.header import header_from_file


def _read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True, **kw)


def _both(read) -> tuple[bytes, bytes] | None:
    try:
        reference, fast = read(), read()  # two readings: conversion changes a data set in place
    except Exception:  # noqa: BLE001 - not a file pydicom reads: nothing to compare
        return None
    fast_root, nodes = to_native_xml_counted(fast, include_file_meta=True)
    assert nodes == sum(1 for _ in fast_root.iter())  # counted in the text written
    return (etree.tostring(to_native_xml(reference, include_file_meta=True, decode_raw=False)),
            etree.tostring(fast_root))


def _files():
    return sorted({p for p in [*get_testdata_files(), *get_charset_files()] if os.path.isfile(p)})


def test_every_pydicom_file_gives_the_same_xml_both_ways():
    compared = 0
    for path in _files():
        if os.path.getsize(path) > 8 << 20:
            continue  # the few large multi-frame files: their headers are like the smaller ones'
        for read in (lambda: _read(path), lambda: _read(path, stop_before_pixels=True)):
            pair = _both(read)
            if pair is not None:
                assert pair[0] == pair[1], path
                compared += 1
    assert compared > 200


def test_the_store_headers_of_a_generated_study_are_the_same_both_ways(tmp_path):
    for path in generate_ct_study(tmp_path / "ct", n_instances=3):
        def read(p=path):
            with open(p, "rb") as f:
                return header_from_file(f)
        reference, fast = _both(read)
        assert reference == fast


_LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def _encoded(elements: list[tuple[int, str, bytes]], syntax) -> bytes:
    """A Part-10 file holding these values exactly as given (odd lengths and all; PS3.5 §7.1),
    which pydicom's writer would not produce from values it cannot convert."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    for tag, vr, value in sorted(elements):
        buffer.write(_element(tag, vr, value, syntax))
    return buffer.getvalue()


def _element(tag: int, vr: str, value: bytes, syntax, length: int | None = None) -> bytes:
    """One element's bytes; ``length`` when it is not the value's (0xFFFFFFFF: undefined)."""
    order = ">" if syntax == ExplicitVRBigEndian else "<"
    length = len(value) if length is None else length
    head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
    if syntax == ImplicitVRLittleEndian or tag >> 16 == 0xFFFE:  # items carry no VR (PS3.5 §7.5)
        head += struct.pack(order + "L", length)
    elif vr in _LONG:
        head += vr.encode() + b"\0\0" + struct.pack(order + "L", length)
    else:
        head += vr.encode() + struct.pack(order + "H", length)
    return head + value


EDGES = [
    (0x00080060, "CS", b"MR\\ CT \\\x00"), (0x00080016, "UI", b"1.2.3\x00"), (0x00100020, "LO", b" A \\B\x00 "),
    (0x00181030, "LO", b"caf\xe9"), (0x00080080, "LO", b"\x1b$B"), (0x00200013, "IS", b" 12 "),
    (0x00200013, "IS", b"1.5 "), (0x00201041, "DS", b"1e5\\ \\-.5 "), (0x00201041, "DS", b"1.0000000000000001"),
    (0x00201041, "DS", b"abc "), (0x00280030, "DS", b"0.5\\0.5"), (0x00080020, "DA", b"20240102"),
    (0x00080030, "TM", b"101010.5 "), (0x00081010, "SH", b"ST\x01ATION"), (0x00080054, "AE", b" AE1 \\AE2\x00"),
    (0x00104000, "LT", b"  text  \x00"), (0x00081190, "UR", b"http://x/ "), (0x00280010, "US", b"\x00\x01"),
    (0x00280010, "US", b"\x00\x01\x02"), (0x00189219, "FD", b"\x00" * 8), (0x00189306, "FD", b"\x7f\xf8" + b"\x00" * 6),
    (0x00209165, "AT", b"\x10\x00\x10\x00"), (0x00131010, "LO", b"private"), (0x00130010, "LO", b"CREATOR"),
    (0x00189087, "FD", b""), (0x00082218, "SQ", b""), (0x7FE00010, "OW", b"\x01\x02\x03\x04"),
]


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian])
def test_edges_of_the_fast_path_give_the_same_xml(syntax):
    elements = list({tag: (tag, vr, value) for tag, vr, value in EDGES}.values())
    # each value alone too: two elements of one tag cannot share a data set
    for chosen in [elements, *[[e] for e in EDGES]]:
        data = _encoded(chosen, syntax)
        reference, fast = _both(lambda d=data: _read(io.BytesIO(d)))
        assert reference == fast, chosen


def _items(syntax, *bodies: bytes, undefined: bool = False) -> bytes:
    """A Sequence value of these item data sets (PS3.5 §7.5), items of defined or undefined length."""
    if not undefined:
        return b"".join(_element(0xFFFEE000, "", b, syntax) for b in bodies)
    return b"".join(_element(0xFFFEE000, "", b, syntax, 0xFFFFFFFF) + _element(0xFFFEE00D, "", b"", syntax)
                    for b in bodies)


def _body(syntax, *elements: tuple[int, str, bytes]) -> bytes:
    return b"".join(_element(tag, vr, value, syntax) for tag, vr, value in elements)


def _sequences(syntax) -> list[bytes]:
    """Sequence values the bytes-level reading takes, and ones it must leave to pydicom."""
    e = lambda *elements: _body(syntax, *elements)  # noqa: E731
    code = e((0x00080100, "SH", b"T-D0050 "), (0x00080102, "SH", b"SRT "), (0x00080104, "LO", b"Tissue "))
    nested = _items(syntax, code, code)
    open_nested = _element(0x00082228, "SQ", _items(syntax, code, undefined=True), syntax, 0xFFFFFFFF) + \
        _element(0xFFFEE0DD, "", b"", syntax)
    private = e((0x00090010, "LO", b" ACME 1.0 \x00"), (0x00091001, "DS", b"1.5 "), (0x00111001, "US", b"\x01\x00"))
    return [
        _items(syntax, code, e((0x00080000, "UL", b"\0\0\0\0"), (0x00081150, "UI", b"1.2.3\0"),
                               (0x00100010, "PN", b"Doe^John=^\\X^Y ")), b""),
        _items(syntax, e((0x00082218, "SQ", nested), (0x00200032, "DS", b"-1\\2.5\\3 "))),
        _items(syntax, code + open_nested, undefined=True),
        _items(syntax, code + open_nested),
        _items(syntax, private, e((0x00080005, "CS", b"ISO_IR 100"), (0x00081010, "SH", b"AB "))),
        _items(syntax, e((0x00100010, "PN", b"M\xfcller^Hans"), (0x00080060, "CS", b"CT"))),  # pydicom's
        _items(syntax, code)[:-3],                                        # truncated
        _items(syntax, code) + _element(0x00080060, "CS", b"CT", syntax),  # not an item
        _items(syntax, code + code),                                       # a duplicated element
        _element(0xFFFEE000, "", code, syntax, 0xFFFFFFFF),               # no Item Delimitation
        _items(syntax, code, e((0x00082218, "SQ", _items(syntax, code)[:-1]))),
    ]


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian])
def test_sequences_read_from_their_bytes_give_the_same_xml(syntax):
    for value in _sequences(syntax):
        data = _encoded([(0x00081115, "SQ", value), (0x00080060, "CS", b"MR")], syntax)
        for read in (lambda d=data: _read(io.BytesIO(d)), lambda d=data: _read(io.BytesIO(d), stop_before_pixels=True)):
            reference, fast = _both(read)
            assert reference == fast, value


def test_remembered_fragments_follow_each_element_not_the_last_one_written():
    """Top-level fragments are remembered by their inputs (dicom/nativexml.py _fragment): the same
    value bytes under another private creator, another encoding or another pydicom option must
    still give that element's own XML."""
    from pydicom import config as pydicom_config

    value = (0x00131010, "LO", b"same value")
    runs = [([(0x00130010, "LO", b"CREATOR A"), value], ExplicitVRLittleEndian),
            ([(0x00130010, "LO", b"CREATOR B"), value], ExplicitVRLittleEndian),
            ([(0x00280010, "US", b"\x00\x01")], ExplicitVRLittleEndian),
            ([(0x00280010, "US", b"\x00\x01")], ExplicitVRBigEndian),
            ([(0x00280010, "US", b"\x00\x01")], ImplicitVRLittleEndian)]
    seen = set()
    for elements, syntax in runs:
        reference, fast = _both(lambda d=_encoded(elements, syntax): _read(io.BytesIO(d)))
        assert reference == fast, (elements, syntax)
        seen.add(etree.tostring(etree.fromstring(fast)[-1]))  # the element's DicomAttribute
    assert len(seen) == len(runs) - 1  # creator B and Big Endian changed the XML; Implicit VR did not
    dated = _encoded([(0x00080020, "DA", b"20240102")], ExplicitVRLittleEndian)
    before = _both(lambda: _read(io.BytesIO(dated)))
    pydicom_config.datetime_conversion = True
    try:
        after = _both(lambda: _read(io.BytesIO(dated)))
    finally:
        pydicom_config.datetime_conversion = False
    assert before[0] == before[1] and after[0] == after[1]


def test_a_header_written_from_its_bytes_is_the_header_read_back(tmp_path):
    """to_native_xml_from_part10 (no data set built) against reading the same bytes with the store's
    reader and writing that, pixel data marker included, over every pydicom file and a generated
    CT study: each header cut where the store's read stops (its pixel data element)."""
    from wadows.store.header import header_and_offset

    paths = [p for p in _files() if os.path.getsize(p) <= 8 << 20]
    paths += generate_ct_study(tmp_path / "ct", n_instances=2)
    taken = compared = 0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stored, end = header_and_offset(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - not a file the store reads
            continue
        markers = {tag: stored[tag].VR for tag in (0x7FE00008, 0x7FE00009, 0x7FE00010) if tag in stored}
        head = data[:end]
        written = to_native_xml_from_part10(head, markers)
        compared += 1
        if written is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = header_from_file(io.BytesIO(head))
        for tag, vr in markers.items():
            again[tag] = DataElement(tag, vr, b"")
        reference = to_native_xml_counted(again, bulk_markers=frozenset(markers))
        assert etree.tostring(written[0]) == etree.tostring(reference[0]), path
        assert written[1] == reference[1]
        taken += 1
    assert compared > 100 and taken > compared // 2, (taken, compared)
