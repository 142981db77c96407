"""The byte-level header rewriter: the de-identified Part-10 header written straight from the header's
bytes, element by element, with the profile's tag -> action table (profile.py) applied on the way.

The reference is the walker (walk.py) over a pydicom data set, then the Part-10 writer (part10.py).
Most of a header is kept, and most of the walker's time went into what is kept: every sequence was
turned into pydicom Datasets to be walked, then written back through pydicom's writer element by
element. Here a sequence is parsed from its bytes only to reach its items, a kept element's bytes
are copied as they are, and only the elements that change are decoded. The output is the reference's,
byte for byte (tests/deid/test_rewrite.py holds it to that over the planted-PHI corpus, the samples
and every Part-10 file pydicom ships, under several option sets); it follows pydicom's writer in
what it recomputes: defined lengths of sequences and items, undefined ones kept undefined, group
lengths dropped (PS3.5 §7.2), elements sorted (PS3.5 §7.1).

What it does not handle it declines (``rewrite`` returns None) and the reference runs instead: an element stored as UN
that the dictionary knows, a nested Specific Character Set, and bytes that do not parse as PS3.5
little endian encoding. Pixel rules and the syntaxes that read the whole object never come here
(stream.reads_whole_object).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import cache

from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.tag import BaseTag

from ..dicom.elementheader import (EXPLICIT_LONG, EXPLICIT_SHORT, TAG_LENGTH, TruncatedHeader, UnknownVR,
                                   header_reader, read_implicit)
from ..dicom.tags import ITEM, ITEM_DELIMITER, PIXEL_TAGS, SEQUENCE_DELIMITER, UNDEFINED_LENGTH
from ..dicom.vr import LONG_VR_CODES, LONG_VRS
from ..implementation import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from . import actions, dates, private
from .marking import MARKING_TAGS, TEMPORAL, mark, previous_codes
from .plan import ObjectPlan
from .walk import (AE_LENGTH, CLEAN, CODE_VALUE_TAGS, CODING_SCHEME, DUMMY, KEEP, PSEUDONYM_TAGS, STRING_VRS,
                   as_text_list, dictionary_vr, vr_of)

# Not walked at the top level: the pixel data (copied from the file after the header) and the marking
# that is written anew (the temporal flag is walked: its value after the walk is the earlier run's).
_NOT_WALKED = PIXEL_TAGS | frozenset(MARKING_TAGS[:3])
_SPECIFIC_CHARACTER_SET = 0x00080005
_SOP_CLASS, _SOP_INSTANCE, _STUDY, _SERIES = 0x00080016, 0x00080018, 0x0020000D, 0x0020000E
_NEW_VALUES = frozenset({_SOP_CLASS, _SOP_INSTANCE, _STUDY, _SERIES, TEMPORAL})

_TAG = struct.Struct("<HH")
# Bound here, not imported: CPython (3.12+) calls a method of an imported name through a bound method
# made per call, which costs a header written ~25% more.
_TAG_LENGTH, _SHORT, _LONG = TAG_LENGTH, EXPLICIT_SHORT, EXPLICIT_LONG
_UL = struct.Struct("<L")
# Values of one element that hold several (PS3.5 §6.4) split on the backslash; these four cannot
# contain more than one value, so a backslash is text (PS3.5 Table 6.2-1).
_SINGLE_VALUED = frozenset({"LT", "ST", "UT", "UR"})
# A value decoded here must be the same text under every Specific Character Set: the ASCII controls
# text may hold and the printable ASCII characters, never ESC (ISO 2022 escape sequences).
_PLAIN = re.compile(rb"[\x00\x09-\x0d\x20-\x7e]*")
_ITEM_HEAD = _TAG_LENGTH.pack(0xFFFE, 0xE000, UNDEFINED_LENGTH)
_ITEM_END = _TAG_LENGTH.pack(0xFFFE, 0xE00D, 0)
_SEQUENCE_END = _TAG_LENGTH.pack(0xFFFE, 0xE0DD, 0)


class Unsupported(Exception):
    """What the byte-level path declines; the reference walker handles it."""


@dataclass(frozen=True, slots=True)
class Rewritten:
    """The de-identified header (preamble to where the pixel data element starts) and the identifiers it carries."""

    header: bytes
    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str


class _Element:
    """One element as found: ``value`` its bytes (None for a sequence already parsed into ``items``,
    or an element pydicom has decoded, ``decoded``); ``whole`` the element's bytes as stored, when
    it was found in bytes (a kept element is copied from them)."""

    __slots__ = ("tag", "vr", "stored_vr", "value", "undefined", "items", "decoded", "whole")

    def __init__(self, tag: int, vr: str, stored_vr: str | None, value: bytes | None, undefined: bool = False,
                 items: list | None = None, decoded: DataElement | None = None, whole: bytes | None = None):
        self.tag, self.vr, self.stored_vr, self.value = tag, vr, stored_vr, value
        self.undefined, self.items, self.decoded, self.whole = undefined, items, decoded, whole


# The VR of a known attribute that was sent as UN: the walker has pydicom convert it first, which
# this path does not copy; fine as long as the element is removed.
_CONVERTED_UN = "UN?"


def _effective_vr(tag: int, stored: str | None) -> str:
    """walk.vr_of for an element found in bytes: its own VR, else the dictionary's."""
    if stored and stored != "UN":
        return stored
    vr = dictionary_vr(tag)
    return _CONVERTED_UN if stored == "UN" and vr != "UN" else vr


def _parse_dataset(buf: bytes, pos: int, end: int, implicit: bool, delimited: bool) -> tuple[list[_Element], int]:
    """The elements of one item from ``pos``: to ``end`` (a defined length) or, ``delimited``, to the
    Item Delimitation Item (PS3.5 §7.5)."""
    out: list[_Element] = []
    last = -1
    read_head = header_reader(implicit)
    while pos < end:
        # A header cut short at ``end`` raises TruncatedHeader: "bytes" (attempt).
        tag, stored, length, start = read_head(buf, pos, end)
        if tag == ITEM_DELIMITER:
            if not delimited:
                raise Unsupported("bytes")
            return out, start
        if tag <= last:
            raise Unsupported("order")  # out of order or repeated: pydicom would sort or merge them
        last = tag
        if stored is None and not implicit:
            raise Unsupported("vr")  # an item's header among elements
        vr = _effective_vr(tag, stored) if not tag >> 16 & 1 else (stored or "UN")
        if length == UNDEFINED_LENGTH:
            if vr != "SQ":
                raise Unsupported("undefined length")  # an UN sequence, or encapsulated data in an item
            items, pos = _parse_items(buf, start, end, implicit, None)
            out.append(_Element(tag, vr, stored, None, True, items))
            continue
        stop = start + length
        if stop > end:
            raise Unsupported("bytes")
        out.append(_Element(tag, vr, stored, buf[start:stop], whole=buf[pos:stop]))
        pos = stop
    if delimited:
        raise Unsupported("bytes")
    return out, pos


def _parse_items(buf: bytes, pos: int, limit: int, implicit: bool, end: int | None) -> tuple[list, int]:
    """The items of a sequence from ``pos``: to ``end`` (a defined length) or, None, to the Sequence
    Delimitation Item. Each item is (undefined length, elements)."""
    items = []
    while True:
        if end is not None and pos == end:
            return items, pos
        tag, _vr, length, pos = read_implicit(buf, pos, limit)  # an item's header; cut short: "bytes" (attempt)
        if tag == SEQUENCE_DELIMITER and end is None:
            return items, pos
        if tag != ITEM:
            raise Unsupported("bytes")
        if length == UNDEFINED_LENGTH:
            elements, pos = _parse_dataset(buf, pos, limit, implicit, True)
            items.append((True, elements))
        else:
            if pos + length > limit:
                raise Unsupported("bytes")
            elements, _ = _parse_dataset(buf, pos, pos + length, implicit, False)
            items.append((False, elements))
            pos += length


def _elements_of(ds: Dataset) -> list[_Element]:
    """A pydicom data set's elements (an item of a sequence pydicom parsed because its length was
    undefined, or the header as read), in tag order as pydicom's writer takes them."""
    return _elements_of_items(ds._dict.items())


def _elements_of_items(pairs) -> list[_Element]:
    out = []
    last = -1
    for key, elem in pairs:
        tag = int(key)  # pydicom's BaseTag compares in Python: slow in the loops below
        if tag <= last:
            raise Unsupported("order")  # the walker would see them in file order, the writer sorted
        last = tag
        if isinstance(elem, RawDataElement):
            value = elem.value
            if value is None and elem.length == 0:
                value = b""  # pydicom reads an empty value as None
            elif value is None or elem.length == UNDEFINED_LENGTH:
                raise Unsupported("deferred")
            stored = elem.VR
            vr = _effective_vr(tag, stored) if not tag >> 16 & 1 else (stored or "UN")
            out.append(_Element(tag, vr, stored, value))
        else:
            vr = vr_of(elem, tag)
            if vr == "SQ":
                items = [(bool(getattr(item, "is_undefined_length_sequence_item", False)), _elements_of(item))
                         for item in elem.value]
                out.append(_Element(tag, vr, "SQ", None, elem.is_undefined_length, items))
            else:
                out.append(_Element(tag, vr, elem.VR, None, decoded=elem))
    return out


def _head(tag: int, vr: str, length: int, implicit: bool) -> bytes:
    if implicit:
        return _TAG_LENGTH.pack(tag >> 16, tag & 0xFFFF, length)
    if vr in LONG_VRS:
        return _LONG.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)
    return _SHORT.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)


@cache
def _encoded_dummy(vr: str) -> bytes:
    """The dummy of a VR that is not text, as pydicom encodes it (walk._set leaves those to pydicom)."""
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_data_element(fp, DataElement(0x00091010, vr, actions.dummy(vr)))
    return fp.getvalue()[8:]


@cache
def _marking(options: frozenset[str], implicit: bool, old_temporal: str,
             old_codes: frozenset[str]) -> tuple[tuple[int, bytes], ...]:
    """The four marking elements as pydicom writes them, for one option set and encoding."""
    ds = Dataset()
    if old_temporal:
        ds.LongitudinalTemporalInformationModified = old_temporal
    mark(ds, options, set(old_codes))
    out = []
    for tag in sorted(ds._dict):
        fp = DicomBytesIO()
        fp.is_little_endian, fp.is_implicit_VR = True, implicit
        write_data_element(fp, ds[tag])
        out.append((tag, fp.getvalue()))
    return tuple(out)


def _uid_element(tag: int, value: str) -> bytes:
    data = value.encode("ascii")
    if len(data) % 2:
        data += b"\0"
    return _SHORT.pack(tag >> 16, tag & 0xFFFF, b"UI", len(data)) + data


def _file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """PS3.10 §7.1 as engine._file_meta builds it and pydicom writes it (group length first)."""
    version = IMPLEMENTATION_VERSION_NAME.encode("ascii")
    if len(version) % 2:
        version += b" "
    body = b"".join((_LONG.pack(0x0002, 0x0001, b"OB", 2) + b"\x00\x01",
                     _uid_element(0x00020002, sop_class), _uid_element(0x00020003, sop_instance),
                     _uid_element(0x00020010, transfer_syntax), _uid_element(0x00020012, IMPLEMENTATION_CLASS_UID),
                     _SHORT.pack(0x0002, 0x0013, b"SH", len(version)) + version))
    return b"\0" * 128 + b"DICM" + _SHORT.pack(0x0002, 0x0000, b"UL", 4) + _UL.pack(len(body)) + body


class _Rewriter:
    def __init__(self, plan: ObjectPlan, implicit: bool, encodings, charset, old_codes: frozenset[str]):
        ctx = plan.context
        self.charset = charset
        self.old_codes = old_codes
        self.ctx = ctx
        self.actions = ctx.plan.actions
        self.implicit = implicit
        self.encodings = encodings
        self._changed: dict[int, tuple[list[_Element] | None, _Element]] = {}

    # -- values -------------------------------------------------------------------------------
    def _texts(self, e: _Element) -> list[str]:
        """walk.as_text_list of the value pydicom would decode (PS3.5 §6.2: trailing padding dropped)."""
        if e.decoded is not None:
            return as_text_list(e.decoded.value)
        data = e.value
        if _PLAIN.fullmatch(data) is None:
            # Decoded as the walker decodes it (the object's character set): every replacement made
            # from it is ASCII again.
            return as_text_list(self.decoded(e).value)
        text = data.decode("ascii")
        if e.vr in _SINGLE_VALUED:
            return [text.rstrip("\0 ")]
        if e.vr == "AE":
            return [v.strip() for v in text.split("\\")]
        return [v.rstrip("\0 ") for v in text.split("\\")]

    def _put(self, tag: int, vr: str, values: list[str]) -> bytes:
        """walk._set for values that are ASCII text (every replacement is)."""
        if vr not in STRING_VRS or not all(v.isascii() for v in values):
            raise Unsupported("vr" if vr not in STRING_VRS else "text")
        data = "\\".join(values).encode("ascii")
        if len(data) % 2:
            data += b"\0" if vr == "UI" else b" "
        return _head(tag, vr, len(data), self.implicit) + data

    def _keep(self, e: _Element) -> bytes:
        if e.whole is not None:
            return e.whole
        if e.decoded is None:
            return _head(e.tag, e.stored_vr or e.vr, len(e.value), self.implicit) + e.value
        return self.written(e.decoded)

    # -- the walk -----------------------------------------------------------------------------
    def dataset(self, elements: list[_Element], mode: str) -> list[bytes]:
        out = []
        blocks: _PrivateBlocks | None = None
        for e in elements:
            if e.tag >> 16 & 1 and self.ctx.plan.private != "X":
                if blocks is None:
                    blocks = _PrivateBlocks(self, elements)
                piece = blocks.element(e, mode)
            else:
                piece = self.element(e, mode, elements)
            if piece is not None:
                out.append(piece)
                if e.tag == CODING_SCHEME:
                    self._written(e, piece, elements)
        if blocks is not None and blocks.creators_kept(out):
            out.sort(key=_tag_of)
        return out

    def decoded(self, e: _Element) -> DataElement:
        """The element as pydicom decodes it in the data set (Dataset.__getitem__)."""
        if e.decoded is not None:
            return e.decoded
        raw = RawDataElement(BaseTag(e.tag), e.stored_vr, len(e.value), e.value, 0, self.implicit, True)
        return convert_raw_data_element(raw, encoding=self.charset)

    def written(self, elem: DataElement) -> bytes:
        """An element pydicom decoded, as its writer encodes it (walk.py leaves such elements decoded)."""
        fp = DicomBytesIO()
        fp.is_little_endian, fp.is_implicit_VR = True, self.implicit
        write_data_element(fp, elem, self.encodings)
        return fp.getvalue()

    def _written(self, e: _Element, piece: bytes, siblings: list[_Element] | None) -> None:
        """Remember the Coding Scheme Designator as written, which later code values of the item see
        (the walker reads the data set as changed so far)."""
        value = piece[8 if self.implicit or e.vr not in LONG_VRS else 12:]
        self._changed[e.tag] = (siblings, _Element(e.tag, e.vr, e.vr, value))

    def _scheme(self, siblings: list[_Element] | None, before: int) -> str:
        """walk._scheme as the walker sees it when it reaches tag ``before``: the item's Coding Scheme
        Designator, as changed by then if it comes earlier (a Long Code Value comes after it), as
        read if later or removed (the walker deletes after its loop)."""
        changed = self._changed.get(CODING_SCHEME)
        if siblings is None:  # the top level: its elements are not listed as it is walked
            elem = self._ds._dict.get(CODING_SCHEME)
            scheme = _elements_of_items(((CODING_SCHEME, elem),))[0] if elem is not None else None
        else:
            scheme = next((s for s in siblings if s.tag == CODING_SCHEME), None)
        if scheme is None:
            return ""
        if CODING_SCHEME < before and changed is not None and changed[0] is siblings:
            scheme = changed[1]
        return " ".join(self._texts(scheme)).strip().upper()

    def element(self, e: _Element, mode: str, siblings: list[_Element] | None) -> bytes | None:
        tag = e.tag
        if tag >> 16 & 1:
            return None  # Retain Safe Private's elements are decided in dataset() (_PrivateBlocks)
        if tag == _SPECIFIC_CHARACTER_SET and siblings is not None:
            raise Unsupported("charset")
        action = self.actions.get(tag)
        if action is None or action == "X":
            return None  # untabled (curves and overlays too: no pixel rule here), or removed
        vr = e.vr
        if vr == _CONVERTED_UN:
            raise Unsupported("UN")
        if action == "K":
            if vr == "SQ":
                return self.sequence(e, mode)
            if mode == DUMMY and vr in actions.TEXT_VRS:
                return self.dummy(e)
            if mode == CLEAN and vr in actions.TEXT_VRS:
                return self.clean_text(e, siblings)
            return self._keep(e)
        if action == "Z":
            if vr == "SQ":
                return _head(tag, "SQ", 0, self.implicit)
            if vr in STRING_VRS:
                return self._put(tag, vr, [])
            return _head(tag, vr, 0, self.implicit)
        if action == "D":
            return self.sequence(e, DUMMY) if vr == "SQ" else self.dummy(e)
        if action == "U":
            return self.sequence(e, mode) if vr == "SQ" else self.remap(e)
        if action == "C":
            return self.clean(e, mode, siblings)
        raise Unsupported("action")  # pragma: no cover - the table only holds the codes above

    def sequence(self, e: _Element, mode: str) -> bytes | None:
        """walk._recurse: an item left empty is dropped, a sequence left with no items removed."""
        items = e.items
        if items is None:
            if e.decoded is not None:
                raise Unsupported("decoded sequence")
            items, _ = _parse_items(e.value, 0, len(e.value), self.implicit, len(e.value))
        pieces = []
        for undefined, elements in items:
            body = self.dataset(elements, mode)
            if not body:
                continue
            content = b"".join(body)
            if undefined:
                pieces.append(_ITEM_HEAD + content + _ITEM_END)
            else:
                pieces.append(_TAG_LENGTH.pack(0xFFFE, 0xE000, len(content)) + content)
        if items and not pieces:
            return None
        content = b"".join(pieces)
        if e.undefined:
            return _head(e.tag, "SQ", UNDEFINED_LENGTH, self.implicit) + content + _SEQUENCE_END
        return _head(e.tag, "SQ", len(content), self.implicit) + content

    def dummy(self, e: _Element) -> bytes:
        vr = e.vr
        if vr == "UI":
            return self.remap(e)
        if e.tag in PSEUDONYM_TAGS:
            original = " ".join(self._texts(e))
            return self._put(e.tag, vr, [actions.pseudonym(self.ctx.key, PSEUDONYM_TAGS[e.tag], original)])
        if vr in STRING_VRS:
            return self._put(e.tag, vr, [actions.dummy(vr)])
        data = _encoded_dummy(vr)
        return _head(e.tag, vr, len(data), self.implicit) + data

    def remap(self, e: _Element) -> bytes:
        return self._put(e.tag, "UI", [self.ctx.map_uid(v) for v in self._texts(e)])

    def clean(self, e: _Element, mode: str, siblings: list[_Element] | None) -> bytes | None:
        """walk._clean, by VR."""
        vr = e.vr
        if vr == "SQ":
            return self.sequence(e, DUMMY if mode == DUMMY else CLEAN)
        if vr in actions.DATE_VRS:
            days = self.ctx.shift_days
            if days is None or vr == "TM":
                return self._keep(e)
            shift = dates.shift_da if vr == "DA" else dates.shift_dt
            return self._put(e.tag, vr, [v for v in (shift(t, days) for t in self._texts(e)) if v])
        if vr == "UI":
            return self.remap(e)
        if vr == "AE":
            return self._put(e.tag, vr, [actions.pseudonym(self.ctx.key, "AE", v, AE_LENGTH) for v in self._texts(e)])
        if vr == "PN" or vr in actions.BINARY_VRS or (mode == DUMMY and vr in actions.TEXT_VRS):
            return self.dummy(e)
        if vr in actions.TEXT_VRS or vr == "CS":
            return self.clean_text(e, siblings)
        return self._keep(e)

    def clean_text(self, e: _Element, siblings: list[_Element] | None) -> bytes:
        values = self._texts(e)
        if not values:
            return self._keep(e)
        if e.tag in CODE_VALUE_TAGS and self._scheme(siblings, e.tag) in actions.public_coding_schemes():
            return self._keep(e)
        cleaned = [actions.clean_text(v) or actions.DUMMY_TEXT for v in values]
        if e.vr == "CS":
            cleaned = [v.upper()[:16] for v in cleaned]
        return self._put(e.tag, e.vr, cleaned)

    # -- the header ---------------------------------------------------------------------------
    def header(self, ds: Dataset, transfer_syntax: str) -> Rewritten:
        self._ds = ds
        pieces: list[tuple[int, bytes]] = []
        new: dict[int, str] = {}
        actions_of, implicit, keep_private = self.actions.get, self.implicit, self.ctx.plan.private != "X"
        last = -1
        blocks: _PrivateBlocks | None = None
        for key, elem in ds._dict.items():
            tag = int(key)  # pydicom's BaseTag compares in Python: slow in this loop
            if tag <= last:
                raise Unsupported("order")  # the walker would see them in file order, the writer sorted
            last = tag
            if tag in _NOT_WALKED:
                continue
            if tag >> 16 & 1:
                if keep_private:
                    if blocks is None:
                        blocks = _PrivateBlocks(self, _elements_of(ds))
                    piece = blocks.element(_elements_of_items(((tag, elem),))[0], KEEP)
                    if piece is not None:
                        pieces.append((tag, piece))
                continue
            action = actions_of(tag)
            if action is None or action == "X":
                continue
            if action == "K" and type(elem) is RawDataElement and elem.value is not None \
                    and tag not in _NEW_VALUES and tag != CODING_SCHEME:
                vr = elem.VR or (dictionary_vr(tag) if implicit else None)
                if vr not in (None, "UN", "SQ"):
                    # Most of a header: kept as read (the walker leaves raw elements raw, the writer copies them).
                    value = elem.value
                    pieces.append((tag, _head(tag, vr, len(value), implicit) + value))
                    continue
            (e,) = _elements_of_items(((tag, elem),))
            piece = self.element(e, KEEP, None)
            if piece is None:
                continue
            if tag == CODING_SCHEME:
                self._written(e, piece, None)
            if tag in _NEW_VALUES:
                new[tag] = _value_of(piece, implicit)
                if tag == TEMPORAL:
                    continue  # written with the marking below
            pieces.append((tag, piece))
        if blocks is not None:
            blocks.creators_kept(pieces, tagged=True)
        old = new.get(TEMPORAL, "")
        if "\\" in old:
            raise Unsupported("temporal")
        pieces.extend(_marking(self.ctx.plan.options, implicit, old, self.old_codes))
        pieces.sort(key=lambda p: p[0])
        sop_class, sop_instance = new.get(_SOP_CLASS, ""), new.get(_SOP_INSTANCE, "")
        if not sop_class or not sop_instance or "\\" in sop_class + sop_instance:
            raise Unsupported("uids")
        body = b"".join(p for _t, p in pieces)
        return Rewritten(_file_meta(sop_class, sop_instance, transfer_syntax) + body, sop_class, sop_instance,
                         new.get(_STUDY, ""), new.get(_SERIES, ""), transfer_syntax)


class _PrivateBlocks:
    """walk._private for one data set under Retain Safe Private (PS3.15 E.3.10): an element is kept
    when Table E.3.10-1 lists it for its block's creator or the object declares it safe; a Private
    Creator stays while an element of its block does, written as the walker leaves it (decoded by
    pydicom to read the creator, so re-encoded)."""

    def __init__(self, rewriter: _Rewriter, elements: list[_Element]):
        self.rw = rewriter
        self.creators: dict[int, str] = {}
        self.slots: dict[int, _Element] = {}
        for e in elements:
            if e.tag >> 16 & 1 and 0x10 <= (e.tag & 0xFFFF) <= 0xFF:
                value = rewriter.decoded(e).value
                if isinstance(value, bytes):
                    value = value.decode("ascii", "replace")
                self.creators[e.tag] = (str(value).strip("\0 ") if value is not None else "") or ""
                self.slots[e.tag] = e
        self.used: set[int] = set()

    def element(self, e: _Element, mode: str) -> bytes | None:
        group, element = e.tag >> 16, e.tag & 0xFFFF
        if element < 0x1000:
            return None  # creators are written by creators_kept(); (gggg,0000-000F) never are
        creator_tag = (group << 16) | (element >> 8)
        creator = self.creators.get(creator_tag)
        action = None if creator is None else private.safe_table().get((group, creator, element & 0xFF))
        if action is None and creator is not None:
            block = (self.rw.ctx.declared_safe or {}).get((group, creator), ())
            if block is None or element & 0xFF in block:
                action = "K"
        if action is None:
            return None
        self.used.add(creator_tag)
        if e.vr == "SQ":
            return self.rw.sequence(e, mode)
        if action == "U" and e.vr == "UI":
            return self.rw.remap(e)
        return self.rw._keep(e)

    def creators_kept(self, out: list, tagged: bool = False) -> bool:
        """Add the creators still used to ``out`` (pieces, or (tag, piece) pairs); whether any was."""
        added = False
        for tag in sorted(self.used):
            if tag in self.slots:
                piece = self.rw.written(self.rw.decoded(self.slots[tag]))
                out.append((tag, piece) if tagged else piece)
                added = True
        return added


def _tag_of(piece: bytes) -> int:
    group, element = _TAG.unpack_from(piece, 0)
    return group << 16 | element


def _value_of(piece: bytes, implicit: bool) -> str:
    """The text of an element written above (ASCII: a UID or a code string), padding dropped."""
    start = 8 if implicit or piece[4:6] not in LONG_VR_CODES else 12
    return piece[start:].decode("ascii", "replace").rstrip("\0 ")


def rewrite(ds: Dataset, plan: ObjectPlan) -> Rewritten | None:
    """The de-identified header of ``ds`` (read up to its pixel data, and planned: engine.decide), the
    same bytes as applying ``plan`` to it and writing it with part10.header_bytes; None when this path
    declines it (see above). ``ds`` is left as it was."""
    done = attempt(ds, plan)
    return done if isinstance(done, Rewritten) else None


def attempt(ds: Dataset, plan: ObjectPlan) -> Rewritten | str:
    """rewrite(), or the reason it declines, in a word (for tests and bench/ to count)."""
    if plan.pixel_rule is not None:
        return "pixel rule"
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "") or "").strip("\0 ") if meta is not None else ""
    if ts not in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1") and not _encapsulated_little_endian(ts):
        return "transfer syntax"
    encodings = ds.get("SpecificCharacterSet", "iso8859")
    try:
        # An earlier run's codes are kept (marking.previous_codes reads them as the engine does).
        old_codes = frozenset(previous_codes(ds)) if plan.already_deidentified else frozenset()
        return _Rewriter(plan, ts == "1.2.840.10008.1.2", encodings, ds._character_set, old_codes).header(ds, ts)
    except Unsupported as exc:
        return str(exc)
    except UnknownVR:
        return "vr"
    except (struct.error, UnicodeError, TruncatedHeader):
        return "bytes"
    except Exception:  # noqa: BLE001 - what this path did not foresee is the walker's to handle (and report)
        return "unforeseen"


@cache
def _encapsulated_little_endian(ts: str) -> bool:
    """Compressed syntaxes encode the data set as Explicit VR Little Endian (PS3.5 §A.4); deflated and
    big endian ones never reach the streaming path."""
    from pydicom.uid import UID

    uid = UID(ts)
    return uid.is_transfer_syntax and uid.is_compressed and uid.is_little_endian and not uid.is_deflated
