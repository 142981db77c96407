"""The SOP Instance UID of a Part-10 object from its first bytes, read without pydicom.

Before any byte of an object goes out, the descriptor opened is checked to hold the object the
index (or the archive's query) named: a file replaced by another object of the same size must
answer urn:dicom:wado:0004, not Success with the other patient's data. This runs on every
retrieval, so it walks the element headers itself (about 10 us for the usual few hundred bytes
before (0008,0018)) instead of a pydicom parse (about 200 us); the rare layouts it does not walk
(a deflated data set, an undefined-length sequence before the UID) go to pydicom.
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import Callable

from ..dicom.vr import LONG_VR_CODES

_SOP_INSTANCE_UID = 0x00080018
_DEFLATED = {"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.8.1"}
_FIRST_READ = 4 << 10
_MAX_READ = 1 << 20  # a UID behind more than this is not worth looking for: the check fails


class _NeedMore(Exception):
    pass


class _Unwalked(Exception):
    pass


def sop_instance_uid(read_at: Callable[[int, int], bytes]) -> str | None:
    """``read_at(size, offset)`` reads the object (``os.pread`` on a file, a slice of a prefix);
    None when the object has no SOP Instance UID, is not Part-10, or hides it too deep."""
    want = _FIRST_READ
    while True:
        buf = read_at(want, 0)
        ended = len(buf) < want
        try:
            return _walk(buf, ended)
        except _NeedMore:
            if ended or want >= _MAX_READ:
                return None
            want *= 4
        except _Unwalked:
            return _with_pydicom(read_at)
        except (struct.error, ValueError):
            return None


def _walk(buf: bytes, ended: bool) -> str | None:
    def need(end: int) -> None:
        if end > len(buf):
            if ended:
                raise ValueError("object ends inside an element")
            raise _NeedMore

    need(132)
    if buf[128:132] != b"DICM":
        return None
    pos, syntax = 132, None
    while True:  # group 0002: Explicit VR Little Endian (PS3.10 §7.1)
        need(pos + 8)
        group, element = struct.unpack_from("<HH", buf, pos)
        if group != 0x0002:
            break
        vr = buf[pos + 4:pos + 6]
        if not vr.isalpha():
            raise _Unwalked  # an implicit-VR meta group (non-conformant, but pydicom reads it)
        if vr in LONG_VR_CODES:
            need(pos + 12)
            (length,) = struct.unpack_from("<I", buf, pos + 8)
            pos += 12
        else:
            (length,) = struct.unpack_from("<H", buf, pos + 6)
            pos += 8
        need(pos + length)
        if element == 0x0010:
            syntax = buf[pos:pos + length].rstrip(b"\x00 ").decode("ascii", "replace")
        pos += length
    if syntax is None or syntax in _DEFLATED:
        raise _Unwalked
    implicit = syntax == "1.2.840.10008.1.2"
    endian = ">" if syntax == "1.2.840.10008.1.2.2" else "<"
    while True:
        if pos == len(buf) and ended:
            return None
        need(pos + 8)
        group, element = struct.unpack_from(endian + "HH", buf, pos)
        tag = group << 16 | element
        if implicit:
            (length,) = struct.unpack_from(endian + "I", buf, pos + 4)
            pos += 8
        elif not buf[pos + 4:pos + 6].isalpha():
            raise _Unwalked  # implicit VR inside an explicit syntax (pydicom's fallback reads it)
        elif buf[pos + 4:pos + 6] in LONG_VR_CODES:
            need(pos + 12)
            (length,) = struct.unpack_from(endian + "I", buf, pos + 8)
            pos += 12
        else:
            (length,) = struct.unpack_from(endian + "H", buf, pos + 6)
            pos += 8
        if tag > _SOP_INSTANCE_UID:
            return None
        if length == 0xFFFFFFFF:
            raise _Unwalked  # an undefined-length sequence before the UID
        if tag == _SOP_INSTANCE_UID:
            need(pos + length)
            return buf[pos:pos + length].rstrip(b"\x00 ").decode("ascii", "replace") or None
        pos += length


def _with_pydicom(read_at: Callable[[int, int], bytes]) -> str | None:
    from pydicom.filereader import read_partial

    buf = read_at(_MAX_READ, 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = read_partial(io.BytesIO(buf), stop_when=lambda tag, vr, length: int(tag) > _SOP_INSTANCE_UID)
        value = ds.get("SOPInstanceUID")
    except Exception:  # pydicom raises many types on damaged input; the check then fails
        return None
    return str(value) if isinstance(value, str) and value else None
