"""pydicom's ``read_partial`` for the common case, element headers parsed from a buffer instead of
one file read per element: the same Dataset (the same RawDataElements in the same order, the same
encodings, the same FileDataset around them) in a fraction of the time, for a little endian Part-10
file whose data set is encoded as its transfer syntax says and holds no element of undefined length
before where reading stops.

Everything else, the File Meta Information included, is pydicom's own work: the preamble and the
meta group are read by pydicom, and any file this does not recognise as the common case (a command
set, a deflated or big endian or private syntax, an encoding other than the one declared, an
undefined length, an item or delimiter out of place, a VR pydicom would have to guess, a header cut
short) is handed back untouched (None) for pydicom to read; element headers are read by
elementheader.py. tests/dicom/test_reader.py holds it to read_partial over the planted-PHI corpus, the samples
and every Part-10 file pydicom ships.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import BinaryIO

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import RawDataElement, convert_raw_data_element, empty_value_for_VR
from pydicom.dataset import Dataset, FileDataset
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.tag import BaseTag

from .elementheader import header_reader
from .tags import ITEM_GROUP, UNDEFINED_LENGTH

_IMPLICIT_LE, _EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
_CHUNK = 64 << 10
_ITEMS = ITEM_GROUP << 16  # the first tag of items and delimiters; no element's tag is as high

_new_raw = tuple.__new__
StopWhen = Callable[[BaseTag, "str | None", int], bool]


def _syntax(file_meta) -> bool | None:
    """Whether the data set is Implicit VR (read_partial's choice), None when it is not little endian
    or not read as is (deflated, big endian, private syntaxes pydicom knows, no syntax at all)."""
    elem = file_meta._dict.get(0x00020010)
    if elem is None:
        return None
    uid = str(file_meta.TransferSyntaxUID)
    if uid == _IMPLICIT_LE:
        return True
    if uid == _EXPLICIT_LE:
        return False
    from pydicom.uid import UID, PrivateTransferSyntaxes

    ts = UID(uid)
    if ts in PrivateTransferSyntaxes or not ts.is_transfer_syntax or ts.is_deflated or not ts.is_little_endian:
        return None
    return False  # compressed: the data set is Explicit VR Little Endian (PS3.5 §A.4)


def read_partial(fp: BinaryIO, stop_when: StopWhen) -> FileDataset | None:
    """pydicom.filereader.read_partial(fp, stop_when) for the common case; None (``fp`` back where
    it was) for pydicom to read."""
    start = fp.tell()
    try:
        got = _read(fp, stop_when)
    except (struct.error, ValueError, EOFError):
        got = None
    if got is None:
        fp.seek(start)
    return got


def _read(fp: BinaryIO, stop_when: StopWhen) -> FileDataset | None:
    head = fp.read(132)
    if len(head) < 132 or head[128:] != b"DICM":
        return None
    fp.seek(-132, 1)
    preamble = read_preamble(fp, False)
    file_meta = _read_file_meta_info(fp)
    implicit = _syntax(file_meta)
    if implicit is None:
        return None
    base = fp.tell()
    buf = fp.read(_CHUNK)
    if len(buf) >= 2 and buf[0:2] == b"\0\0":
        return None  # a command set (group 0000): pydicom reads it apart
    if len(buf) < 8:
        return None  # an empty data set, or the file ends: pydicom's peeks decide
    # read_dataset's check of the first element's encoding (_is_implicit_vr).
    found_implicit = not (0x40 < buf[4] < 0x5B and 0x40 < buf[5] < 0x5B)
    if found_implicit != implicit:
        return None
    elements: dict[BaseTag, RawDataElement] = {}
    pos = 0  # in buf; buf starts at file offset ``base``
    size = len(buf)  # kept with buf: the loop asks it three times per element
    read_head = header_reader(implicit)
    while True:
        if size - pos < 12:
            more = fp.read(_CHUNK)
            if more:
                buf = buf[pos:] + more
                base += pos
                pos = 0
                size = len(buf)
                continue
            if size - pos < 8:
                ended_at = base + size  # the end of the file (a few stray bytes are read and left, as pydicom does)
                break
        # A header cut short or a VR that is none raise a ValueError: read_partial leaves the file to
        # pydicom (whose element generator guesses at the latter).
        number, vr, length, value_at = read_head(buf, pos, size)
        if number >= _ITEMS or length == UNDEFINED_LENGTH:  # compared as an int: BaseTag's == is Python's
            return None  # an item or delimiter out of place, or a sequence pydicom reads apart
        tag = BaseTag(number)
        if stop_when(tag, vr, length):
            ended_at = base + pos
            break
        while size - value_at < length:
            more = fp.read(max(_CHUNK, length - (size - value_at)))
            if not more:
                return None  # the file ends inside the value: pydicom's short read is left to it
            buf = buf[pos:] + more
            base += pos
            value_at -= pos
            pos = 0
            size = len(buf)
        if length:
            value = buf[value_at:value_at + length]
        else:
            value = empty_value_for_VR(vr, raw=True)
        # tuple.__new__: RawDataElement's own constructor (a NamedTuple with defaults) costs more than the rest
        elements[tag] = _new_raw(RawDataElement, (tag, vr, length, value, base + value_at, implicit, True, True, False))
        pos = value_at + length
    fp.seek(ended_at)
    dataset = Dataset(elements, parent_encoding=default_encoding)
    encoding = default_encoding
    if 0x00080005 in elements:
        encoding = convert_encodings(convert_raw_data_element(elements[BaseTag(0x00080005)]).value)
    dataset.set_original_encoding(implicit, True, encoding)
    ds = FileDataset(fp, dataset, preamble, file_meta, implicit, True)
    ds.set_original_encoding(implicit, True, dataset._character_set)
    return ds
