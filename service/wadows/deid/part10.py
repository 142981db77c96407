"""Part-10 serialization of a de-identified header, faster than pydicom's dcmwrite for the common case.

Most elements of a de-identified object are kept unchanged and are still pydicom RawDataElements:
their bytes can go out exactly as they came in, which is what pydicom itself does for them, minus
its per-element buffers and checks. Changed elements and sequences go through pydicom's own
write_data_element. The result is byte-identical to ``Dataset.save_as(enforce_file_format=True)``
for the transfer syntaxes streamed (Implicit and Explicit VR Little Endian, and the encapsulated
ones, all little endian); tests/deid/test_stream.py holds it to that.
"""

from __future__ import annotations

import io

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.uid import UID

from ..dicom.elementheader import EXPLICIT_LONG, EXPLICIT_SHORT, TAG_LENGTH
from ..dicom.vr import LONG_VRS

# Bound here, not imported: CPython (3.12+) calls a method of an imported name through a bound method
# made per call, which costs a header written ~25% more.
_HEAD_IMPLICIT, _HEAD_SHORT, _HEAD_LONG = TAG_LENGTH, EXPLICIT_SHORT, EXPLICIT_LONG


def header_bytes(ds: Dataset) -> bytes:
    """Preamble, 'DICM', file meta and the data set of ``ds`` (which holds no pixel data)."""
    ts = UID(ds.file_meta.TransferSyntaxUID)
    implicit = ts.is_implicit_VR
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    fp.write(getattr(ds, "preamble", None) or b"\0" * 128)
    fp.write(b"DICM")
    write_file_meta_info(fp, ds.file_meta, enforce_standard=True)
    fp.is_implicit_VR = implicit
    encodings = ds.get("SpecificCharacterSet", "iso8859")
    raw_dict = ds._dict
    write = fp.write
    for tag in sorted(raw_dict):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue  # group lengths are not written (PS3.5 §7.2)
        elem = raw_dict[tag]
        value = elem.value if elem.is_raw else None
        if value is not None and elem.length != 0xFFFFFFFF and (implicit or elem.VR):
            group, element = tag >> 16, tag & 0xFFFF
            if implicit:
                write(_HEAD_IMPLICIT.pack(group, element, len(value)))
            elif elem.VR in LONG_VRS:
                write(_HEAD_LONG.pack(group, element, elem.VR.encode(), len(value)))
            else:
                write(_HEAD_SHORT.pack(group, element, elem.VR.encode(), len(value)))
            write(value)
        else:
            write_data_element(fp, ds[tag], encodings)
    return fp.getvalue()


def write_bytes(ds: Dataset) -> bytes:
    """The whole object (pixel data included) as pydicom writes it: the path for the cases that read
    everything (stream.py)."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()
