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

from wadows.dicom.nativexml import to_native_xml
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
    return (etree.tostring(to_native_xml(reference, include_file_meta=True, decode_raw=False)),
            etree.tostring(to_native_xml(fast, include_file_meta=True)))


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
    order = ">" if syntax == ExplicitVRBigEndian else "<"
    for tag, vr, value in sorted(elements):
        head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
        if syntax == ImplicitVRLittleEndian:
            head += struct.pack("<L", len(value))
        elif vr in _LONG:
            head += vr.encode() + b"\0\0" + struct.pack(order + "L", len(value))
        else:
            head += vr.encode() + struct.pack(order + "H", len(value))
        buffer.write(head + value)
    return buffer.getvalue()


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
