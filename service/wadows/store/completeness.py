"""Whether a Part-10 file holds its whole data set, checked from the element headers alone.

pydicom accepts a file cut short without a word (a value shorter than its length, an
undefined-length sequence that just stops), and the index reads headers with most values skipped,
so a cut would only show mid-response. Walking every element header to the end of the file is
cheap (values are skipped by their lengths, defined-length sequences in one step) and tells a
complete object from a cut one whatever it contains: an object without pixel data (SR, KOS, RT
Plan, presentation state, waveform, a header-only record) is complete when its last element ends
where the file does. What the walk cannot see, a cut exactly between two top-level elements, is
caught for images by the Image Pixel module (see :func:`check_complete`).
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from pydicom.uid import UID

from ..dicom.tags import ITEM as _ITEM
from ..dicom.tags import PIXEL_TAGS
from ..dicom.tags import SEQUENCE_DELIMITER as _SEQUENCE_DELIMITER
from ..dicom.tags import UNDEFINED_LENGTH as _UNDEFINED
from ..dicom.vr import LONG_VR_CODES as _LONG_VRS

_ITEM_DELIMITER = 0xFFFEE00D  # Item Delimitation Item (PS3.5 §7.5.2)
_MAX_DEPTH = 64  # nesting beyond this is not an object a modality wrote


class Incomplete(Exception):
    """The file is not a whole data set; the message says where it stops, in words."""


class _NoClaim(Exception):
    """A layout the walk does not follow (implicit VR where explicit is declared, which pydicom
    reads by guessing): no claim either way."""


class _Walker:
    def __init__(self, fp: BinaryIO, size: int) -> None:
        self.fp, self.size = fp, size

    def read(self, position: int, n: int) -> bytes:
        self.fp.seek(position)
        return self.fp.read(n)

    def elements(self, position: int, implicit: bool, endian: str, *, in_item: bool, depth: int,
                 pixels: list[int] | None = None) -> int:
        """Walk a data set from ``position``: the top level to the end of the file, an item of
        undefined length to its Item Delimitation Item (PS3.5 §7.5.2). Returns where it ends."""
        if depth > _MAX_DEPTH:
            raise Incomplete("damaged (sequences nested too deep)")
        while True:
            if position == self.size and not in_item:
                return position
            head = self.read(position, 12)
            if len(head) < 8:
                raise Incomplete("truncated (sequence item not terminated)" if in_item
                                 else "truncated (file ends inside an element header)")
            group, element = struct.unpack(endian + "HH", head[:4])
            tag = group << 16 | element
            if tag == _ITEM_DELIMITER and in_item:
                return position + 8
            vr = None
            if not implicit and not head[4:6].isalpha():
                raise _NoClaim
            if implicit:
                (length,) = struct.unpack(endian + "L", head[4:8])
                position += 8
            elif head[4:6] in _LONG_VRS:
                if len(head) < 12:
                    raise Incomplete("truncated (file ends inside an element header)")
                vr = head[4:6]
                (length,) = struct.unpack(endian + "L", head[8:12])
                position += 12
            else:
                (length,) = struct.unpack(endian + "H", head[6:8])
                position += 8
            is_pixels = tag in PIXEL_TAGS and not in_item and depth == 0
            if is_pixels and pixels is not None:
                pixels.append(tag)
            if length != _UNDEFINED:
                position += length
                if position > self.size:
                    raise Incomplete("truncated (Pixel Data shorter than its length)" if is_pixels
                                     else "truncated (file ends inside an element)")
            elif is_pixels:
                position = self.fragments(position)
            else:
                # SQ, or UN of undefined length, whose content is Implicit VR Little Endian
                # (PS3.5 §6.2.2); in an implicit syntax an undefined length always means a sequence.
                as_implicit = implicit or vr == b"UN"
                position = self.sequence(position, as_implicit, "<" if vr == b"UN" else endian, depth)

    def sequence(self, position: int, implicit: bool, endian: str, depth: int) -> int:
        while True:
            head = self.read(position, 8)
            if len(head) < 8:
                raise Incomplete("truncated (sequence not terminated)")
            group, element, length = struct.unpack(endian + "HHL", head)
            tag = group << 16 | element
            position += 8
            if tag == _SEQUENCE_DELIMITER:
                return position
            if tag != _ITEM:
                raise Incomplete("damaged (a sequence holds something other than items)")
            if length == _UNDEFINED:
                position = self.elements(position, implicit, endian, in_item=True, depth=depth + 1)
            else:
                position += length
                if position > self.size:
                    raise Incomplete("truncated (file ends inside a sequence item)")

    def fragments(self, position: int) -> int:
        """Encapsulated pixel data (PS3.5 §A.4): items of defined length up to the delimiter."""
        while True:
            head = self.read(position, 8)
            if len(head) < 8:
                raise Incomplete("truncated (encapsulated Pixel Data not terminated)")
            group, element, length = struct.unpack("<HHL", head)
            tag = group << 16 | element
            position += 8
            if tag == _SEQUENCE_DELIMITER:
                return position
            if tag != _ITEM or length == _UNDEFINED:
                raise Incomplete("damaged encapsulated Pixel Data")
            position += length
            if position > self.size:
                raise Incomplete("truncated (encapsulated Pixel Data fragment)")


def check_complete(fp: BinaryIO, size: int, ts: UID, needs_pixels: bool) -> None:
    """Raise Incomplete unless every element of the file (meta group and data set) ends within it.

    ``needs_pixels``: the data set has the Image Pixel module's Rows and Columns and no Pixel Data
    Provider URL, so a Pixel Data element is required (PS3.3 C.7.6.3, Type 1C); an image whose file
    ends before one was cut exactly at it.
    """
    if not ts.is_transfer_syntax or ts.is_deflated:
        return  # positions in a deflated stream are not file offsets; unknown syntaxes: no claim
    walker = _Walker(fp, size)
    position = 132
    pixels: list[int] = []
    try:
        while True:  # the meta group: Explicit VR Little Endian (PS3.10 §7.1)
            head = walker.read(position, 4)
            if len(head) < 4:
                raise Incomplete("truncated (file ends inside the file meta information)")
            if struct.unpack("<H", head[:2])[0] != 0x0002:
                break
            position = _meta_element_end(walker, position)
        endian = "<" if ts.is_little_endian else ">"
        # A data set written in implicit VR under an explicit syntax: pydicom reads it so (it
        # looks at the first element), and so does the walk.
        implicit = ts.is_implicit_VR or (len(head) == 4 and not walker.read(position + 4, 2).isalpha())
        walker.elements(position, implicit, endian, in_item=False, depth=0, pixels=pixels)
    except _NoClaim:
        return
    if not pixels and needs_pixels:
        raise Incomplete("truncated (no Pixel Data element)")


def _meta_element_end(walker: _Walker, position: int) -> int:
    head = walker.read(position, 12)
    if len(head) < 8:
        raise Incomplete("truncated (file ends inside the file meta information)")
    if not head[4:6].isalpha():
        raise _NoClaim  # an implicit-VR meta group (non-conformant; pydicom reads it)
    if head[4:6] in _LONG_VRS:
        if len(head) < 12:
            raise Incomplete("truncated (file ends inside the file meta information)")
        end = position + 12 + struct.unpack("<L", head[8:12])[0]
    else:
        end = position + 8 + struct.unpack("<H", head[6:8])[0]
    if end > walker.size:
        raise Incomplete("truncated (file ends inside the file meta information)")
    return end
