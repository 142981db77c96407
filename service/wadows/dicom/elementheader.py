"""The header of one data element, read from bytes (PS3.5 §7.1): its tag, VR, value length and where
its value starts. Every byte-level reader of headers (reader.py, part10.py read_element_header,
nativexml.py, deid/rewrite.py) reads them through ``read_explicit`` / ``read_implicit`` (little endian)
or ``header_reader``, so the encoding's facts and corner cases are decided here, once:

- Explicit VR (§7.1.2): the VR's two characters, then a 16-bit length, or, for the VRs of Table 7.1-1
  (vr.LONG_VRS), two reserved bytes and a 32-bit length. Two characters that are no VR of Table
  6.2-1 raise UnknownVR: most readers decline such a header, the others take UnknownVR.header.
- Implicit VR (§7.1.3): a 32-bit length, no VR (None), whatever the tag (a private one too).
- The Item, Item Delimitation and Sequence Delimitation Items (FFFE,E000 / E00D / E0DD, §7.5) have no
  VR in either encoding: a 32-bit length, VR None.
- The undefined length 0xFFFFFFFF (§7.1.1) is given as read: where it may stand (a sequence, an
  item) is the caller's to decide.
- A header that does not fit before ``end`` raises TruncatedHeader, whichever its form.

These run once per element of every header the server reads, so each is a plain function of one
encoding (header_reader picks it once per data set), the short form found by one dict lookup;
bench/element_headers.py times the paths that call them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from .tags import ITEM_GROUP
from .vr import LONG_VR_CODES, VR_OF_CODE


def _forms(order: str) -> tuple[struct.Struct, struct.Struct, struct.Struct]:
    """The header forms in one byte order: Implicit VR (and any item or delimitation item header),
    Explicit VR with a 16-bit length, Explicit VR with a 32-bit length (reserved bytes skipped)."""
    return struct.Struct(order + "HHL"), struct.Struct(order + "HH2sH"), struct.Struct(order + "HH2s2xL")


# Little endian, for the writers of the same headers too.
TAG_LENGTH, EXPLICIT_SHORT, EXPLICIT_LONG = _forms("<")
# VR codes by form, the 16-bit one first: most elements of a header have it, one lookup finds them.
_SHORT_VR_OF = {code: vr for code, vr in VR_OF_CODE.items() if code not in LONG_VR_CODES}
_LONG_VR_OF = {code: vr for code, vr in VR_OF_CODE.items() if code in LONG_VR_CODES}

Header = tuple[int, "str | None", int, int]  # tag, VR, value length, where the value starts
HeaderReader = Callable[[bytes, int, int], Header]


class TruncatedHeader(ValueError):
    """The bytes end inside an element header."""


class UnknownVR(ValueError):
    """An Explicit VR header whose two VR characters are no VR of PS3.5 Table 6.2-1. ``header`` is
    what it reads as, a 16-bit length (the only form such a header can have been written with) and
    the characters as latin-1, for a reader that takes it as it comes."""

    def __init__(self, header: Header) -> None:
        super().__init__(f"no VR {header[1]!r} at ({header[0] >> 16:04X},{header[0] & 0xFFFF:04X})")
        self.header = header


def _readers(order: str) -> tuple[HeaderReader, HeaderReader]:
    """read_explicit and read_implicit for one byte order ("<" little endian, ">" big endian)."""
    tag_length, explicit_short, _ = _forms(order)
    ul = struct.Struct(order + "L")

    def read_explicit(buf: bytes, pos: int, end: int) -> Header:
        """The Explicit VR element header at ``pos`` of ``buf``, which holds data up to ``end``:
        (tag, VR, value length, where the value starts); see the module docstring for its forms."""
        if pos + 8 > end:
            raise TruncatedHeader(pos)
        group, element, code, length = explicit_short.unpack_from(buf, pos)
        vr = _SHORT_VR_OF.get(code)
        if vr is not None and group != ITEM_GROUP:  # the group first: an item's length could spell a VR
            return group << 16 | element, vr, length, pos + 8
        if group == ITEM_GROUP:
            return group << 16 | element, None, ul.unpack_from(buf, pos + 4)[0], pos + 8
        vr = _LONG_VR_OF.get(code)
        if vr is not None:
            if pos + 12 > end:
                raise TruncatedHeader(pos)
            return group << 16 | element, vr, ul.unpack_from(buf, pos + 8)[0], pos + 12
        raise UnknownVR((group << 16 | element, code.decode("latin-1"), length, pos + 8))

    def read_implicit(buf: bytes, pos: int, end: int) -> Header:
        """The Implicit VR element header at ``pos``, as read_explicit gives it (VR None); also an
        Item's or a delimitation item's header in either encoding, which has this form (§7.5)."""
        if pos + 8 > end:
            raise TruncatedHeader(pos)
        group, element, length = tag_length.unpack_from(buf, pos)
        return group << 16 | element, None, length, pos + 8

    return read_explicit, read_implicit


read_explicit, read_implicit = _readers("<")
# Explicit VR Big Endian (retired, PS3.5 §A.3): sequences of such an object that pydicom left as bytes.
_BIG_ENDIAN = _readers(">")


def header_reader(implicit: bool, little_endian: bool = True) -> HeaderReader:
    """The reader of one encoding's headers: chosen once per data set, each call the cheaper for it."""
    if little_endian:
        return read_implicit if implicit else read_explicit
    return _BIG_ENDIAN[implicit]
