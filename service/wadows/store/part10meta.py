"""The Transfer Syntax UID of a Part-10 stream from its first bytes (PS3.10 §7.1: a 128-byte
preamble, "DICM", then group 0002 in Explicit VR Little Endian), for archives that announce it
nowhere else (Orthanc's QIDO-RS omits AvailableTransferSyntaxUID and its WADO-RS parts carry no
transfer-syntax parameter when asked for the stored syntax)."""

from __future__ import annotations

import struct
from typing import Callable

from ..dicom.vr import LONG_VR_CODES

_MAX_META = 64 << 10


class NotPart10(ValueError):
    pass


def read_meta(read: Callable[[int], bytes]) -> tuple[bytes, str]:
    """Read the preamble and file meta group through ``read``; returns (the bytes read, the
    Transfer Syntax UID). Reads nothing past the group, so the caller can hand the bytes on."""
    got = bytearray()

    def need(n: int, *, may_end: bool = False) -> bytes:
        while len(got) < n:
            piece = read(n - len(got))
            if not piece:
                if may_end:
                    return b""
                raise NotPart10("the object ends inside its file meta information")
            got.extend(piece)
        return bytes(got)

    head = need(132)
    if head[128:132] != b"DICM":
        raise NotPart10("no DICM prefix: not a Part-10 object")
    pos = 132
    syntax = None
    while pos + 8 <= _MAX_META:
        head = need(pos + 8, may_end=True)
        if not head:
            break  # nothing after the meta group: a header-only object
        group, element = struct.unpack_from("<HH", head, pos)
        if group != 0x0002:
            break
        vr = head[pos + 4:pos + 6]
        if vr in LONG_VR_CODES:
            head = need(pos + 12)
            (length,) = struct.unpack_from("<I", head, pos + 8)
            pos += 12
        else:
            (length,) = struct.unpack_from("<H", head, pos + 6)
            pos += 8
        if length == 0xFFFFFFFF or pos + length > _MAX_META:
            raise NotPart10("malformed file meta information")
        value = need(pos + length)[pos:pos + length]
        if element == 0x0010:
            syntax = value.rstrip(b"\x00 ").decode("ascii", "replace")
        pos += length
    if not syntax:
        raise NotPart10("the file meta information has no Transfer Syntax UID")
    # The peek at the next tag (8 bytes) belongs to the data set; everything read is returned.
    return bytes(got), syntax
