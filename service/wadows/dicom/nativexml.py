"""The PS3.19 Native DICOM Model (PS3.19 2016e+ §A.1) of a pydicom data set, as an lxml tree.

pydicom has no writer for it (its issue #2322 asks for one), and WADO-WS's
RetrieveImagingDocumentSetInformation (PS3.18 2016e §6.4.3) evaluates its XPath expressions over
exactly this rendering "of the non-pixel data", so it lives here, in the ground floor, for any
operation to use.

Choices the standard leaves to the writer (each is what a reader of the answer will see):

- Bulk values (§A.1.5: "BulkData ... a reference to the value") are never inlined: Pixel Data,
  Float/Double Float Pixel Data, Overlay Data (60xx,3000) and Curve Data (50xx,3000) always, and
  any other OB/OD/OF/OL/OV/OW/UN value longer than ``bulk_threshold`` bytes (1 KiB). Their
  ``BulkData@uri`` is a relative URI reference naming the element's position, not its content:
  ``bulkdata/`` + the tag path, 8 upper-case hex digits per tag and the 1-based Item number
  between them, e.g. ``bulkdata/7FE00010`` or ``bulkdata/00540016/1/00181072``. Nothing is
  served at that address today; a caller that can serve bulk data passes its own ``bulk_uri``.
- Smaller binary values are ``InlineBinary`` (base64, §A.1.5), always as Little Endian octets:
  PS3.18 §F.2.7 leaves byte order to "the rules of PS3.5", i.e. to a transfer syntax the document
  does not carry, so OW/OF/OL/OD/OV words of a Big Endian object are swapped; a reader never
  needs to know how the object was encoded.
- DS and IS values are their string forms as read (pydicom keeps the original string), not
  re-formatted numbers; FL values use the shortest text that reads back as the same 32-bit float,
  FD the shortest for the 64-bit double; NaN and infinities use the xsd:float/double spellings
  (NaN, INF, -INF) the schema's datatypes use.
- AT values are 8 upper-case hex digits (ggggeeee), like the tag attribute.
- An empty component of a multi-valued element keeps its position as an empty ``Value`` (or
  ``PersonName``) with its number, so ``Value[@number=3]`` still means the third value; an
  element with no value at all has no child (§A.1.4, "zero length").
- Text is decoded with the Specific Character Set that applies at its depth (pydicom follows
  (0008,0005) into nested items). Characters XML 1.0 cannot carry (control characters other
  than tab, CR, LF) become U+FFFD, since an XML document cannot hold them at all.
- A value pydicom cannot convert (a malformed number, say) is given as InlineBinary of its raw
  bytes with its VR, rather than dropped or guessed: the attribute is still present.
- Group Length elements (gggg,0000) are left out: they describe one binary encoding and are
  wrong for any other (PS3.5 §7.2 retires them outside groups 0000 and 0002).
- Encapsulated Pixel Data is given VR OB even when a file says OW (PS3.5 §A.4).
- Trailing spaces of each value of a multi-valued string are padding (PS3.5 §6.2) and dropped,
  as pydicom already does for single values; LT, ST, UT and UR keep theirs.
- A private Data Element whose block has a creator is written as ``gggg00ee`` with
  ``privateCreator`` (PS3.19 §A.1.5), so an XPath selects it by creator, not by the block
  number a writer happened to use. An orphan (no creator element) keeps its full tag.
- File Meta Information (group 0002) is not part of the data set (PS3.10 §7.1) and is left out
  unless ``include_file_meta`` is set.
- Library warnings are silenced while rendering: pydicom's quote element values (PHI).

How it is written (speed only, the XML is the same): elements pydicom has not converted are decoded
from their bytes for the common VRs, defined-length Sequences included (read item by item here when
everything in them is that simple), the rest through pydicom's conversion; the text of a top-level
element so written is remembered by its inputs (``_fragment``: a study's objects share most values);
and the whole document is written as XML text, parsed once by libxml2, rather than built node by
node from Python. A header given as Part-10 bytes (a de-identifier's output) is written from its
bytes with no data set built (``to_native_xml_from_part10``), when every element takes the fast path.
"""

from __future__ import annotations

import base64
import re
import struct
import threading
import warnings
from collections.abc import Callable, Collection
from functools import lru_cache

import numpy as np
from lxml import etree
from pydicom import config as pydicom_config
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from .elementheader import TruncatedHeader, UnknownVR, header_reader, read_explicit
from .tags import ITEM, ITEM_DELIMITER, ITEM_GROUP, PIXEL_TAGS, SEQUENCE_DELIMITER, UNDEFINED_LENGTH
from .vr import WORD_SIZE

NAMESPACE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"
BULK_THRESHOLD = 1024
BULK_URI_PREFIX = "bulkdata/"

ROOT = "{%s}NativeDicomModel" % NAMESPACE
_PN_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")
_PN_COMPONENTS = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")

BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_UNSPLIT = frozenset({"LT", "ST", "UT", "UR"})  # one value, its spaces kept
_INT_VRS = frozenset({"SL", "SS", "SV", "UL", "US", "UV"})
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

TagPath = tuple[int, ...]  # tag, item number, tag, item number, ..., tag


def is_bulk_tag(tag: int) -> bool:
    """Pixel-like data that is bulk whatever its length (PS3.19 §A.1.5 says a reference, and the
    operation this serves is defined over the non-pixel data, PS3.18 2016e §6.4.3)."""
    group, element = tag >> 16, tag & 0xFFFF
    if tag in PIXEL_TAGS:
        return True
    # Overlay Data (60xx,3000) and the retired Curve Data (50xx,3000), repeating groups of PS3.5 §7.6
    return element == 0x3000 and group & 0xFF01 in (0x6000, 0x5000)


def default_bulk_uri(path: TagPath) -> str:
    """``bulkdata/`` + tag path (8-hex tags, decimal 1-based Item numbers), a relative reference."""
    parts = [f"{p:08X}" if i % 2 == 0 else str(p) for i, p in enumerate(path)]
    return BULK_URI_PREFIX + "/".join(parts)


@lru_cache(maxsize=8192)
def _keyword(tag: int) -> str:
    return keyword_for_tag(tag) if tag >> 16 & 1 == 0 or tag & 0xFFFF == 0 else ""


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


def _float_text(value: float, vr: str) -> str:
    value = float(value)
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "INF" if value > 0 else "-INF"
    return str(np.float32(value)) if vr == "FL" else repr(value)


def _undefined_length(elem) -> bool:
    if isinstance(elem, RawDataElement):
        return elem.length == 0xFFFFFFFF
    return bool(getattr(elem, "is_undefined_length", False))


def _resolve_vr(elem, tag: int) -> str:
    """A raw element read with Implicit VR has none, and ambiguous dictionary VRs ("OB or OW")
    are not PS3.19 VRs: take the dictionary's, then the first of the choice, as pydicom's writer
    does for an unresolved choice."""
    vr = elem.VR
    if not vr:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            vr = "UN"
    return vr.split(" or ")[0] if len(vr) > 2 else vr


def _name_groups(pn) -> list[tuple[str, list[str]]]:
    if pn is None:
        return []
    groups = pn.components if isinstance(pn, PersonName) else str(pn).split("=")
    out = []
    for group_tag, group in zip(_PN_GROUPS, groups):
        components = [c.rstrip(" ") for c in group.split("^")]
        if any(components):
            out.append((group_tag, components))
    return out


# The fast path: values decoded straight from the bytes read (a RawDataElement) for the VRs whose
# pydicom conversion is a plain split and strip, giving the text pydicom's value would give (so
# tests/dicom/test_nativexml_fast.py compares both writers over every file pydicom ships). Anything
# else (non-ASCII or ISO 2022 text, a DS/IS pydicom would re-format or refuse, SQ, PN, UN, a length
# that is not a whole number of values) goes through pydicom's conversion as before.
_IS_TEXT = re.compile(r" *[+-]?[0-9]+ *")
_DS_TEXT = re.compile(r" *[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *")
_BLANK = re.compile(r" *")
_STRUCT = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "UV": "Q", "SV": "q", "FL": "f", "FD": "d"}
_DATE_VRS = frozenset({"DA", "DT", "TM"})


def _split_multi(text: str) -> list[str]:
    # pydicom's multi_string (AS, CS, DA, DT, TM, UI); each value's trailing spaces are padding
    return [v.rstrip(" ") for v in text.rstrip(" \x00").split("\\")]


def _numbers(text: str, pattern: re.Pattern) -> list[str] | None:
    out = []
    for v in text.rstrip(" \x00").split("\\"):
        if _BLANK.fullmatch(v):
            out.append("")
        elif pattern.fullmatch(v) and (pattern is _IS_TEXT or len(v.strip()) <= 16):  # pydicom's is_valid_ds
            out.append(v.strip())  # pydicom's original_string
        else:
            return None
    return out


def _fast_texts(vr: str, data: bytes, big_endian: bool) -> list[str] | None:
    """The Value texts of a raw value, or None when pydicom's conversion must decide."""
    fmt = _STRUCT.get(vr)
    if fmt is not None:
        width = struct.calcsize("<" + fmt)
        if len(data) % width:
            return None
        items = struct.unpack(("><"[not big_endian]) + fmt * (len(data) // width), data)
        if vr in ("FL", "FD"):
            return [_float_text(v, vr) for v in items]
        return [str(v) for v in items]
    if vr == "AT":
        if len(data) % 4:
            return None
        words = struct.unpack(("><"[not big_endian]) + "H" * (len(data) // 2), data)
        return [f"{words[i] << 16 | words[i + 1]:08X}" for i in range(0, len(words), 2)]
    if not data.isascii() or b"\x1b" in data:
        return None
    text = data.decode("ascii")
    if vr in ("SH", "LO", "UC"):
        return [_xml_text(v.rstrip("\x00 ")) for v in text.split("\\")]
    if vr in ("AS", "CS", "UI") or (vr in _DATE_VRS and not pydicom_config.datetime_conversion):
        return [_xml_text(v) for v in _split_multi(text)]
    if vr == "AE":
        return [_xml_text(v.strip().rstrip(" ")) for v in text.split("\\")]
    if vr in ("LT", "ST", "UT"):
        return [_xml_text(text.rstrip("\x00 "))]
    if vr == "UR":
        return [_xml_text(text.rstrip())]
    if vr == "IS":
        return _numbers(text, _IS_TEXT)
    if vr == "DS" and not (pydicom_config.use_DS_numpy or pydicom_config.use_DS_decimal):
        return _numbers(text, _DS_TEXT)
    return None


_FAST_VRS = frozenset({*_STRUCT, "AT", "SH", "LO", "UC", "AS", "CS", "UI", "AE", "LT", "ST", "UT", "UR",
                       "IS", "DS", *_DATE_VRS})


# The tree is written as XML text and parsed once (libxml2 builds ~550 nodes in a fraction of the
# time lxml's SubElement takes from Python); text and attribute values are escaped for that parse.
_TEXT_SPECIAL = re.compile("[&<>\r]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;",
                               "\n": "&#10;", "\r": "&#13;"})
_NUMERIC_VRS = frozenset({*_STRUCT, "AT", "IS", "DS"})  # texts of digits, signs and dots only


def _text(text: str) -> str:
    """XML-clean text (``_xml_text``) as element content: markup and CR escaped (a bare CR would
    read back as LF, XML 1.0 §2.11)."""
    return text.translate(_TEXT_ESCAPES) if _TEXT_SPECIAL.search(text) else text


def _attr(text: str) -> str:
    """Any text as a quoted attribute's value: its tab, CR and LF escaped too (XML 1.0 §3.3.3 would
    read them as spaces)."""
    text = _xml_text(text)
    return text.translate(_ATTR_ESCAPES) if _ATTR_SPECIAL.search(text) else text


@lru_cache(maxsize=8192)
def _start(tag: int, vr: str) -> str:
    """A DicomAttribute start tag, less its closing ``>``, for an element with no private creator."""
    keyword = _keyword(tag)
    return (f'<DicomAttribute tag="{tag:08X}" vr="{_attr(vr)}"'
            + (f' keyword="{keyword}"' if keyword else ""))


def _values(out: list[str], texts: list[str]) -> None:
    for number, text in enumerate(texts, start=1):
        out.append(f'<Value number="{number}">{text}</Value>' if text else f'<Value number="{number}"/>')


_PARSERS = threading.local()


def _parse(text: str) -> etree._Element:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:  # an lxml parser is not to be shared between threads
        parser = _PARSERS.parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
    return etree.fromstring(text.encode("utf-8"), parser)


# Sequences read from the bytes. A defined-length Sequence pydicom has not parsed yet (it defers
# them) is read here, item by item (PS3.5 §7.5), when every element in it takes the fast path;
# anything else in it (a value the fast path leaves to pydicom, an encoding detail pydicom would
# correct or warn about) sends the whole Sequence through pydicom's reading, as before.

_RawValue = tuple[str | None, bytes | list]  # VR (None: Implicit VR), value bytes or the items read
_Item = dict[int, _RawValue]


class _NotFast(Exception):
    """A Sequence the bytes-level reading leaves to pydicom."""


# What reading a Sequence's bytes raises where the fast path leaves it to pydicom.
_DECLINED = (_NotFast, TruncatedHeader, UnknownVR)


class _SequenceReader:
    """The items of a Sequence value, each a dict of its elements' VRs and value bytes; a header cut
    short or with no VR of PS3.5 raises TruncatedHeader or UnknownVR (dicom/elementheader.py)."""

    def __init__(self, data: bytes, implicit: bool, little_endian: bool) -> None:
        self.data = data
        self.read_element = header_reader(implicit, little_endian)
        self.read_item = header_reader(True, little_endian)  # an item's header has this form in both (PS3.5 §7.5)

    def items(self, at: int, end: int | None) -> tuple[list[_Item], int]:
        """From ``at`` to ``end``, or to the Sequence Delimitation Item when ``end`` is None."""
        data, items, size = self.data, [], len(self.data)
        while end is None or at < end:
            tag, _vr, length, at = self.read_item(data, at, size)
            if tag == SEQUENCE_DELIMITER and end is None and length == 0:
                return items, at
            if tag != ITEM:
                raise _NotFast
            if length == UNDEFINED_LENGTH:
                item, at = self.item(at, None)
            else:
                item, at = self.item(at, at + length)
            items.append(item)
        if at != end:
            raise _NotFast
        return items, at

    def item(self, at: int, end: int | None) -> tuple[_Item, int]:
        """An Item's data set, to ``end`` or to its Item Delimitation Item."""
        data, elements, read = self.data, {}, self.read_element
        limit = len(data) if end is None else end
        if limit > len(data):
            raise _NotFast
        while end is None or at < end:
            tag, vr, length, at = read(data, at, limit)
            if tag >> 16 == ITEM_GROUP:
                if tag == ITEM_DELIMITER and end is None and length == 0:
                    return elements, at
                raise _NotFast
            if tag in elements:
                raise _NotFast  # pydicom keeps one of them: its choice
            if length == UNDEFINED_LENGTH:
                if (vr or _dictionary_vr(tag)) != "SQ":
                    raise _NotFast
                items, at = self.items(at, None)
                elements[tag] = ("SQ", items)
                continue
            if at + length > limit:
                raise _NotFast
            elements[tag] = (vr, data[at:at + length])
            at += length
        if at != end:
            raise _NotFast
        return elements, at


@lru_cache(maxsize=8192)
def _dictionary_vr(tag: int) -> str | None:
    """The dictionary's VR of a public element read with Implicit VR (None: private or unknown)."""
    if tag >> 16 & 1:
        return None
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _light_creator(item: _Item, tag: int, creators: dict) -> str | None:
    """``private_creator`` for an Item read from the bytes: its creator's text as pydicom gives it
    (LO: trailing padding and NULs dropped), or _NotFast when only pydicom could tell."""
    group, element = tag >> 16, tag & 0xFFFF
    if group & 1 == 0 or element < 0x1000:
        return None
    creator_tag = (group << 16) | (element >> 8)
    if creator_tag not in creators:
        found = item.get(creator_tag)
        if found is None:
            creators[creator_tag] = None
        else:
            vr, value = found
            if vr not in (None, "LO") or not isinstance(value, bytes) or not value.isascii() \
                    or b"\x1b" in value or b"\\" in value:
                raise _NotFast
            creators[creator_tag] = _xml_text(value.decode("ascii").strip(" \0"))
    return creators[creator_tag]


class _Writer:
    def __init__(self, bulk_threshold: int, bulk_uri: Callable[[TagPath], str],
                 big_endian: bool, decode_raw: bool = True, bulk_markers: Collection[int] = frozenset()) -> None:
        self.decode_raw = decode_raw
        self.bulk_markers = bulk_markers
        self.bulk_threshold = bulk_threshold
        self.bulk_uri = bulk_uri
        self.big_endian = big_endian
        # Top-level fragments are remembered (_fragment) only for the default bulk data choices.
        self.remembers = decode_raw and bulk_threshold == BULK_THRESHOLD and bulk_uri is default_bulk_uri

    def dataset(self, out: list[str], ds: Dataset, path: TagPath) -> None:
        creators: dict[int, str | None] = {}
        # The elements as ds.get_item(tag, keep_deferred=True) gives them (nothing converted), in tag
        # order: sorted as plain ints, since pydicom's tags compare (and match as keys) in Python.
        elements = ds._dict
        for tag, raw in sorted(zip(map(int, elements), elements.values())):
            if tag & 0xFFFF:  # else Group Length: an artefact of one encoding (module docstring)
                self.attribute(out, ds, tag, raw, path, creators)

    def attribute(self, out: list[str], ds: Dataset, tag: int, raw, path: TagPath, creators: dict) -> None:
        here = path + (tag,)
        if self.decode_raw and type(raw) is RawDataElement and raw.value is not None and tag not in self.bulk_markers:
            vr = raw.VR
            if tag == 0x7FE00010 and raw.length == UNDEFINED_LENGTH and vr in BINARY_VRS and vr != "UN":
                vr = "OB"  # encapsulated Pixel Data (PS3.5 §A.4)
            creator = self.private_creator(ds, tag, creators)
            if self.remembers and not path and type(raw.value) is bytes and len(raw.value) <= _MAX_REMEMBERED:
                fragment = _fragment(tag, vr, raw.value, creator, raw.is_implicit_VR, raw.is_little_endian,
                                     self.big_endian, _conversion_options())
                if fragment is not None:
                    out.append(fragment)
                    return
            elif self.fast(out, vr, raw.value, tag, here, creator, raw.is_implicit_VR, raw.is_little_endian):
                return
        deferred = isinstance(raw, RawDataElement) and raw.value is None and raw.length != 0
        elem = None
        if not deferred:
            try:
                elem = ds[tag]
            except Exception:  # malformed value: keep the attribute, give its bytes (module doc)
                elem = None
        vr = _resolve_vr(elem if elem is not None else raw, tag)
        if tag == 0x7FE00010 and _undefined_length(raw):
            vr = "OB"  # encapsulated Pixel Data is OB whatever the file says (PS3.5 §A.4)
        start = self.start(tag, vr, self.private_creator(ds, tag, creators))
        children: list[str] = []
        if deferred:
            children.append(f'<BulkData uri="{_attr(self.bulk_uri(here))}"/>')
        elif elem is None:
            value = raw.value if isinstance(raw, (RawDataElement, DataElement)) else None
            if value:
                self.binary(children, bytes(value), vr, here, is_bulk_tag(tag))
        else:
            self.value(children, elem, vr, tag, here)
        if not children and not path and tag in self.bulk_markers:
            children.append(f'<BulkData uri="{_attr(self.bulk_uri(here))}"/>')
        self.close(out, start, children)

    @staticmethod
    def start(tag: int, vr: str, creator: str | None) -> str:
        if creator is None:
            return _start(tag, vr)
        # PS3.19 §A.1.5: a private Data Element's tag is written with its block byte as 00, the
        # block being named by privateCreator instead (the block number is an encoding detail).
        # (A private element has no keyword: _keyword.)
        return f'<DicomAttribute tag="{tag & 0xFFFF00FF:08X}" vr="{_attr(vr)}" privateCreator="{_attr(creator)}"'

    @staticmethod
    def close(out: list[str], start: str, children: list[str]) -> None:
        if children:
            out.append(start + ">")
            out.extend(children)
            out.append("</DicomAttribute>")
        else:
            out.append(start + "/>")

    def fast(self, out: list[str], vr: str | None, data: bytes | list, tag: int, path: TagPath,
             creator: str | None, implicit: bool, little_endian: bool) -> bool:
        """Write a raw value without pydicom's conversion when its VR allows (``_fast_texts``)."""
        if vr is None:
            vr = _dictionary_vr(tag)  # Implicit VR: the dictionary's, when it is one VR
            if vr is None:
                return False
        if vr in BINARY_VRS and vr != "UN":
            children: list[str] = []
            if data:
                self.binary(children, bytes(data), vr, path, is_bulk_tag(tag))
            self.close(out, self.start(tag, vr, creator), children)
            return True
        if vr == "SQ":
            return self.sequence(out, data, tag, path, creator, implicit, little_endian)
        if isinstance(data, list):
            return False
        if vr == "PN":
            names = _fast_names(data)
            if names is None:
                return False
            children = []
            self.person_names(children, names)
            self.close(out, self.start(tag, vr, creator), children)
            return True
        if vr not in _FAST_VRS:
            return False
        texts = _fast_texts(vr, data, not little_endian)
        if texts is None:
            return False
        start = self.start(tag, vr, creator)
        if not texts or (len(texts) == 1 and texts[0] == ""):
            out.append(start + "/>")
            return True
        out.append(start + ">")
        _values(out, texts if vr in _NUMERIC_VRS else [_text(t) for t in texts])
        out.append("</DicomAttribute>")
        return True

    def sequence(self, out: list[str], data: bytes | list, tag: int, path: TagPath, creator: str | None,
                 implicit: bool, little_endian: bool) -> bool:
        """A Sequence from its bytes (or its items already read), or False to leave it to pydicom."""
        children: list[str] = []
        try:
            items = data if isinstance(data, list) else _SequenceReader(
                data, implicit, little_endian).items(0, len(data))[0]
            for number, item in enumerate(items, start=1):
                children.append(f'<Item number="{number}">')
                here = path + (number,)
                creators: dict[int, str | None] = {}
                for inner in sorted(item):
                    if inner & 0xFFFF == 0:
                        continue  # Group Length (module docstring)
                    inner_vr, value = item[inner]
                    if not self.fast(children, inner_vr, value, inner, here + (inner,),
                                     _light_creator(item, inner, creators), implicit, little_endian):
                        raise _NotFast
                children.append("</Item>")
        except _DECLINED:
            return False
        self.close(out, self.start(tag, "SQ", creator), children)
        return True

    def private_creator(self, ds: Dataset, tag: int, creators: dict) -> str | None:
        """PS3.5 §7.8.1: (gggg,xxee) with odd gggg and xx >= 0x10 is reserved by the creator in
        (gggg,00xx) of the same data set (the same Item, for nested elements)."""
        group, element = tag >> 16, tag & 0xFFFF
        if group & 1 == 0 or element < 0x1000:
            return None
        creator_tag = (group << 16) | (element >> 8)
        if creator_tag not in creators:
            name = None
            try:
                value = ds[creator_tag].value if creator_tag in ds else None
            except Exception:
                value = None
            if isinstance(value, MultiValue):
                value = "\\".join(str(v) for v in value)
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if isinstance(value, str):
                name = _xml_text(value.strip(" \0"))
            creators[creator_tag] = name
        return creators[creator_tag]

    def value(self, out: list[str], elem: DataElement, vr: str, tag: int, path: TagPath) -> None:
        value = elem.value
        if vr == "SQ":
            for number, item in enumerate(value or (), start=1):
                out.append(f'<Item number="{number}">')
                self.dataset(out, item, path + (number,))
                out.append("</Item>")
            return
        if value is None:
            return
        if isinstance(value, (bytes, bytearray, memoryview)):
            # Binary VRs, and a value of another VR that pydicom left undecoded.
            if len(value):
                self.binary(out, bytes(value), vr, path, is_bulk_tag(tag))
            return
        values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
        if vr == "PN":
            self.person_names(out, values)
            return
        if len(values) == 1 and (values[0] is None or values[0] == ""):
            return
        strip = vr not in _UNSPLIT
        texts = []
        for item in values:
            text = self.text(item, vr)
            texts.append(_text(text.rstrip(" ") if strip else text))  # trailing spaces: padding (PS3.5 §6.2)
        _values(out, texts)

    def text(self, item, vr: str) -> str:
        if item is None:
            return ""
        if vr == "AT":
            return f"{int(item):08X}"
        if vr in ("FL", "FD"):
            return _float_text(item, vr)
        if vr in _INT_VRS:
            return str(int(item))
        if isinstance(item, bytes):
            item = item.decode("latin-1")
        return _xml_text(str(item))

    def person_names(self, out: list[str], values: list) -> None:
        """PS3.19 §A.1.5 PersonName: one per value, its component groups (PS3.5 §6.2.1.1) as
        Alphabetic/Ideographic/Phonetic; a group, or a name, of empty components is absent."""
        names = [_name_groups(pn) for pn in values]
        if len(names) == 1 and not names[0]:
            return
        for number, groups in enumerate(names, start=1):
            if not groups:
                out.append(f'<PersonName number="{number}"/>')
                continue
            out.append(f'<PersonName number="{number}">')
            for group_tag, components in groups:
                out.append(f"<{group_tag}>")
                for component_tag, component in zip(_PN_COMPONENTS, components):
                    if component:
                        out.append(f"<{component_tag}>{_text(_xml_text(component))}</{component_tag}>")
                out.append(f"</{group_tag}>")
            out.append("</PersonName>")

    def binary(self, out: list[str], data: bytes, vr: str, path: TagPath, bulk_tag: bool) -> None:
        if bulk_tag or len(data) > self.bulk_threshold:
            out.append(f'<BulkData uri="{_attr(self.bulk_uri(path))}"/>')
        else:
            width = WORD_SIZE.get(vr, 1)
            if self.big_endian and width > 1 and len(data) % width == 0:
                # InlineBinary is always Little Endian octets (module docstring)
                data = np.frombuffer(data, f">u{width}").astype(f"<u{width}").tobytes()
            out.append(f"<InlineBinary>{base64.b64encode(data).decode('ascii')}</InlineBinary>")


# The text of a top-level element taken by the fast path, remembered by its inputs. Objects of one
# study or series repeat most of their values (a CT series' slices differ in a handful of elements:
# SOP Instance UID, position, instance number, times), so most elements of a header are written
# once per process rather than once per object. A fragment is a function of its key alone (the tag,
# the VR, the value's bytes, the private creator, the encoding, pydicom's conversion options; bulk
# data URIs name the tag, which is in the key): remembering changes no byte of the XML, and a
# de-identified header's fragments come from its own, de-identified, bytes.
# Longer values are rare (bulk ones are a reference) and not worth hashing; the bound also caps what the
# 4,096 remembered fragments can hold (a few KB each: about 12 MB per worker at most).
_MAX_REMEMBERED = 1 << 10


def _conversion_options() -> tuple[bool, bool, bool]:
    """The pydicom options _fast_texts reads: part of a remembered fragment's key."""
    return (pydicom_config.datetime_conversion, pydicom_config.use_DS_numpy, pydicom_config.use_DS_decimal)


@lru_cache(maxsize=4096)
def _fragment(tag: int, vr: str | None, data: bytes, creator: str | None, implicit: bool, little_endian: bool,
              big_endian: bool, options: tuple[bool, bool, bool]) -> str | None:
    """The DicomAttribute of a top-level raw element as _Writer.fast writes it with the default bulk
    data choices, or None when the fast path leaves it to pydicom (``options``: the key's part only)."""
    out: list[str] = []
    writer = _Writer(BULK_THRESHOLD, default_bulk_uri, big_endian)
    return "".join(out) if writer.fast(out, vr, data, tag, (tag,), creator, implicit, little_endian) else None


def _fast_names(data: bytes) -> list[str] | None:
    """PN values as pydicom splits them (trailing padding dropped, then one per backslash), for
    ASCII text; None leaves the value to pydicom's conversion."""
    if not data.isascii() or b"\x1b" in data:
        return None
    return data.rstrip(b"\x00 ").decode("ascii").split("\\")


def to_native_xml(ds: Dataset, **options) -> etree._Element:
    """The ``NativeDicomModel`` root element of ``ds`` (PS3.19 §A.1), namespace declared as the
    default namespace; see the module docstring for the choices made, and to_native_xml_counted for
    the options."""
    return to_native_xml_counted(ds, **options)[0]


def to_native_xml_counted(ds: Dataset, *, include_file_meta: bool = False,
                          bulk_threshold: int = BULK_THRESHOLD,
                          bulk_uri: Callable[[TagPath], str] = default_bulk_uri,
                          decode_raw: bool = True,
                          bulk_markers: Collection[int] = frozenset()) -> tuple[etree._Element, int]:
    """to_native_xml's root and its count of elements (``sum(1 for _ in root.iter())``), counted
    in the text written: every ``<`` in it is markup (text and attribute values escape theirs), one
    per element plus one per end tag (``</``). ``decode_raw`` False sends every element through
    pydicom's conversion: the same XML, slower (the fast path's reference). ``bulk_markers``: tags
    whose top-level element, when it has no value (a header read stopped there, store/header.py),
    is written as a BulkData reference to the value not read."""
    encoding = getattr(ds, "original_encoding", (None, True))
    writer = _Writer(bulk_threshold, bulk_uri, big_endian=encoding[1] is False, decode_raw=decode_raw,
                     bulk_markers=bulk_markers)
    out = [f'<NativeDicomModel xmlns="{NAMESPACE}">']
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta = getattr(ds, "file_meta", None)
        if include_file_meta and meta is not None:
            writer.dataset(out, meta, ())
        writer.dataset(out, ds, ())
    out.append("</NativeDicomModel>")
    text = "".join(out)
    return _parse(text), text.count("<") - text.count("</")


_IMPLICIT_LE, _EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"


def to_native_xml_from_part10(data: bytes, markers: dict[int, str]) -> tuple[etree._Element, int] | None:
    """to_native_xml_counted(header_from_file(data), bulk_markers=markers) with ``markers`` (tag: VR)
    put in the data set as empty elements, for a header given as Part-10 bytes up to its pixel data
    (a de-identifier's rewritten header), written straight from the bytes: no data set is built.
    None when any part of it is not what the fast path takes (then read it with pydicom): a syntax
    other than a little endian one read as is, a data set encoded otherwise than declared, a command
    set, a pixel data element, or an element the fast path leaves to pydicom."""
    if len(data) < 132 or data[128:132] != b"DICM":
        return None
    at, syntax, size = 132, None, len(data)
    # File Meta Information: always Explicit VR Little Endian (PS3.10 §7.1), group 0002 (read as an int,
    # not as a header: what follows it may be Implicit VR).
    while at + 8 <= size and data[at] == 2 and data[at + 1] == 0:
        try:
            tag, _vr, length, at = read_explicit(data, at, size)
        except TruncatedHeader:
            return None
        except UnknownVR as exc:
            tag, _vr, length, at = exc.header
        if length == UNDEFINED_LENGTH or at + length > size:
            return None
        if tag == 0x00020010:
            syntax = data[at:at + length].decode("ascii", "replace").strip(" \0")
        at += length
    implicit = _little_endian_implicit(syntax)
    if implicit is None or len(data) - at < 8 or data[at:at + 2] == b"\0\0":
        return None
    if (not (0x40 < data[at + 4] < 0x5B and 0x40 < data[at + 5] < 0x5B)) != implicit:
        return None  # pydicom would read it with the encoding found (dicom/reader.py declines it too)
    try:
        elements = _SequenceReader(data, implicit, True).item(at, len(data))[0]
    except _DECLINED:
        return None
    if any(tag in PIXEL_TAGS for tag in elements) or any(tag in elements for tag in markers):
        return None
    writer = _Writer(BULK_THRESHOLD, default_bulk_uri, big_endian=False)
    options = _conversion_options()
    out = [f'<NativeDicomModel xmlns="{NAMESPACE}">']
    creators: dict[int, str | None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for tag in sorted([*elements, *markers]):
                if not tag & 0xFFFF:
                    continue  # Group Length (module docstring)
                if tag in markers:  # as the slow path writes an empty marker (bulk_markers)
                    out.append(_start(tag, markers[tag]) + f'><BulkData uri="{_attr(default_bulk_uri((tag,)))}"/>'
                               "</DicomAttribute>")
                    continue
                vr, value = elements[tag]
                creator = _light_creator(elements, tag, creators)
                if isinstance(value, bytes) and len(value) <= _MAX_REMEMBERED:
                    fragment = _fragment(tag, vr, value, creator, implicit, True, False, options)
                    if fragment is None:
                        return None
                    out.append(fragment)
                elif not writer.fast(out, vr, value, tag, (tag,), creator, implicit, True):
                    return None
        except _NotFast:
            return None
    out.append("</NativeDicomModel>")
    text = "".join(out)
    return _parse(text), text.count("<") - text.count("</")


def _little_endian_implicit(syntax: str | None) -> bool | None:
    """Whether a data set of this transfer syntax is Implicit VR, None when it is not a little
    endian one read as is (dicom/reader.py's choice)."""
    if syntax == _IMPLICIT_LE:
        return True
    if syntax == _EXPLICIT_LE:
        return False
    if not syntax:
        return None
    from pydicom.uid import UID, PrivateTransferSyntaxes

    ts = UID(syntax)
    if ts in PrivateTransferSyntaxes or not ts.is_transfer_syntax or ts.is_deflated or not ts.is_little_endian:
        return None
    return False  # compressed: the data set is Explicit VR Little Endian (PS3.5 §A.4)


def to_native_xml_bytes(ds: Dataset, **options) -> bytes:
    """The same as UTF-8 XML bytes with an XML declaration."""
    return etree.tostring(to_native_xml(ds, **options), xml_declaration=True, encoding="UTF-8")
