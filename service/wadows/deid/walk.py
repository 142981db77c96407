"""The one recursive visitor: every element of every item at every depth gets its action from the
compiled plan (PS3.15 E.1.1: "whether contained in the main dataset or embedded in an Item of a
Sequence of Items").

Speed: an element's action is one dict look-up by tag; elements that are kept are never decoded
(pydicom leaves them as raw bytes and writes those bytes back), so values, padding and character
sets of what is kept come out exactly as they went in. Only elements whose value changes are decoded.

Sequences: K and U recurse with the normal rules (E.1.1: "Keeping a Sequence ... requires
recursively applying the profile rules"); C recurses in clean mode, where text that the rules
would keep (a Code Meaning, say) is cleaned with the descriptor vocabulary too; D recurses in
dummy mode, where such text is replaced by the dummy, so a D sequence such as Institution Code
Sequence keeps its structure but says nothing; Z leaves the sequence empty; X removes it. The
mode is inherited by nested sequences that are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydicom.datadict import DicomDictionary
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.values import convert_SQ

from . import actions, dates, private
from .pixels import blank_overlay
from .profile import Plan, table_vrs

# Keyed pseudonym instead of the fixed dummy, so one patient's objects stay together.
PSEUDONYM_TAGS = {0x00100020: "PatientID"}
AE_LENGTH = 16
_TABLE_VRS = table_vrs()
CODE_VALUE_TAGS = frozenset({0x00080100, 0x00080119, 0x00080120})  # Code, Long Code, URN Code Value
CODING_SCHEME = 0x00080102
_NUMERIC_VRS = frozenset({"AT", "CS", "DS", "FD", "FL", "IS", "SL", "SS", "SV", "UL", "US", "UV"})


# How a sequence's items are walked: KEEP applies the rules; CLEAN (a C sequence) also cleans the
# kept text of untabled attributes (a Code Meaning) with the descriptor vocabulary; DUMMY (a D
# sequence) replaces it with the dummy. Numbers, code strings and UIDs follow the rules in all three.
KEEP, CLEAN, DUMMY = "K", "C", "D"


@dataclass
class Context:
    """What one object's walk needs besides the plan."""

    plan: Plan
    key: bytes
    map_uid: Callable[[str], str]
    shift_days: int | None                          # None: dates are not moved
    overlay_regions: tuple | None = None            # regions of the matched pixel rule
    declared_safe: dict | None = None               # from (0008,0300), Retain Safe Private


def dictionary_vr(tag: int) -> str:
    """The VR of a standard attribute (the first of an ambiguous "US or SS"), "UN" when unknown."""
    entry = DicomDictionary.get(tag)
    vr = entry[0] if entry else _TABLE_VRS.get(tag, "UN")
    return vr.split(" or ")[0] if len(vr) > 2 else vr


def vr_of(elem, tag: int) -> str:
    """The element's VR without decoding it (a raw element from an Implicit VR file has none, and a
    writer may have sent a known attribute as UN: the dictionary says what it is)."""
    vr = elem.VR
    if not vr or vr == "UN":
        return dictionary_vr(tag)
    return vr.split(" or ")[0] if len(vr) > 2 else vr


def as_text_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace").strip("\0 ")
        return value.split("\\") if value else []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _scheme(ds: Dataset) -> str:
    elem = ds.get(CODING_SCHEME)
    return " ".join(as_text_list(elem.value)).strip().upper() if elem is not None else ""


STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
                         "UR", "UT"})


def _set(ds: Dataset, tag: int, vr: str, values: list | object) -> None:
    """Store a replacement. ASCII strings (every dummy, pseudonym, UID, date and cleaned text) are
    stored already encoded, as pydicom would encode them (PS3.5 §6.2: padded to even length with a
    space, a UID with NUL), so the writer copies them like any kept element instead of encoding them."""
    items = values if isinstance(values, list) else ([] if values is None else [values])
    if vr in STRING_VRS and all(isinstance(v, str) and v.isascii() for v in items):
        data = "\\".join(items).encode("ascii")
        if len(data) % 2:
            data += b"\0" if vr == "UI" else b" "
        ds._dict[tag] = RawDataElement(BaseTag(tag), vr, len(data), data, 0, False, True)
        return
    ds[tag] = DataElement(tag, vr, items[0] if len(items) == 1 else (items or None))


class Walker:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.actions = ctx.plan.actions
        self.private = ctx.plan.private

    def walk(self, ds: Dataset, mode: str = KEEP) -> None:
        table = self.actions
        delete: list[int] = []
        private_seen = False
        for tag in list(ds._dict):  # the raw dict: iterating Dataset would decode every element
            group = tag >> 16
            if group & 1:
                private_seen = True
                continue
            action = table.get(tag)
            if action is None:
                if 0x5000 <= group <= 0x60FF:
                    self._repeating(ds, tag, group, delete)
                else:
                    delete.append(tag)
                continue
            if action == "X":
                delete.append(tag)
            elif action == "K":
                vr = vr_of(ds._dict[tag], tag)
                if vr == "SQ":
                    self._recurse(ds, tag, mode)
                elif mode == DUMMY and vr in actions.TEXT_VRS:
                    self._dummy(ds, tag)
                elif mode == CLEAN and vr in actions.TEXT_VRS:
                    self._clean_text(ds, tag, vr)
            else:
                self._apply(ds, tag, action, mode, delete)
        for tag in delete:
            del ds[tag]
        if private_seen:
            self._private(ds, mode)

    # -- actions other than K and X -----------------------------------------------------------
    def _apply(self, ds: Dataset, tag: int, action: str, mode: str, delete: list[int]) -> None:
        vr = vr_of(ds._dict[tag], tag)
        if action == "Z":
            if vr == "SQ":
                ds[tag] = DataElement(tag, vr, Sequence())
            else:
                _set(ds, tag, vr, None)
        elif action == "D":
            if vr == "SQ":
                self._recurse(ds, tag, DUMMY)
            else:
                self._dummy(ds, tag)
        elif action == "U":
            if vr == "SQ":
                self._recurse(ds, tag, mode)
            else:
                self._remap(ds, tag)
        elif action == "C":
            self._clean(ds, tag, vr, mode, delete)
        else:  # pragma: no cover - the table only holds the codes above
            raise ValueError(f"unknown action {action!r}")

    def _recurse(self, ds: Dataset, tag: int, mode: str) -> None:
        """Walk every item; an item left with nothing is dropped, and a sequence left with no items
        is removed (a present sequence of Type 1 or 3 must have items, PS3.5 §7.5.3)."""
        elem = ds[tag]
        seq = elem.value
        if isinstance(seq, bytes):
            # A sequence pydicom's dictionary does not know yet, read from an Implicit VR file as UN.
            seq = convert_SQ(seq, True, True)  # UN content is always Implicit VR Little Endian (PS3.5 §6.2.2)
            ds[tag] = DataElement(tag, "SQ", seq)
        if not seq:
            return
        for item in seq:
            self.walk(item, mode)
        kept = [item for item in seq if len(item)]
        if len(kept) != len(seq):
            if kept:
                ds[tag].value = Sequence(kept)
            else:
                del ds[tag]

    def _dummy(self, ds: Dataset, tag: int) -> None:
        vr = vr_of(ds._dict[tag], tag)
        if vr == "UI":
            self._remap(ds, tag)
            return
        if tag in PSEUDONYM_TAGS:
            original = " ".join(as_text_list(ds[tag].value))
            _set(ds, tag, vr, actions.pseudonym(self.ctx.key, PSEUDONYM_TAGS[tag], original))
            return
        _set(ds, tag, vr, actions.dummy(vr))

    def _remap(self, ds: Dataset, tag: int) -> None:
        elem = ds[tag]
        values = as_text_list(elem.value)
        _set(ds, tag, "UI", [self.ctx.map_uid(v) for v in values])

    def _clean(self, ds: Dataset, tag: int, vr: str, mode: str, delete: list[int]) -> None:
        """C, by what the VR can hold (PS3.15 E.1.1: "replace with values of similar meaning known not
        to contain identifying information and consistent with the VR")."""
        if vr == "SQ":
            self._recurse(ds, tag, DUMMY if mode == DUMMY else CLEAN)
        elif vr in actions.DATE_VRS:
            self._shift(ds, tag, vr)
        elif vr == "UI":
            self._remap(ds, tag)
        elif vr == "AE":
            # An AE title names a device or a site; its keyed pseudonym still tells devices apart.
            values = as_text_list(ds[tag].value)
            _set(ds, tag, vr, [actions.pseudonym(self.ctx.key, "AE", v, AE_LENGTH) for v in values])
        elif vr == "PN" or vr in actions.BINARY_VRS or (mode == DUMMY and vr in actions.TEXT_VRS):
            self._dummy(ds, tag)
        elif vr in actions.TEXT_VRS or vr == "CS":
            self._clean_text(ds, tag, vr)
        # numbers hold nothing to clean: kept

    def _clean_text(self, ds: Dataset, tag: int, vr: str) -> None:
        """Cleaning never leaves an empty value where there was one: what has no safe word left
        becomes the dummy, so a Type 1 Code Meaning stays valid."""
        values = as_text_list(ds[tag].value)
        if not values:
            return
        if tag in CODE_VALUE_TAGS and _scheme(ds) in actions.public_coding_schemes():
            return
        cleaned = [actions.clean_text(v) or actions.DUMMY_TEXT for v in values]
        if vr == "CS":
            cleaned = [v.upper()[:16] for v in cleaned]
        _set(ds, tag, vr, cleaned)

    def _shift(self, ds: Dataset, tag: int, vr: str) -> None:
        days = self.ctx.shift_days
        if days is None or vr == "TM":  # whole days leave every time of day as it was
            return
        shift = dates.shift_da if vr == "DA" else dates.shift_dt
        values = [shift(v, days) for v in as_text_list(ds[tag].value)]
        _set(ds, tag, vr, [v for v in values if v] or None)

    # -- repeating groups: curves (50xx) and overlays (60xx), retired or not ---------------------
    def _repeating(self, ds: Dataset, tag: int, group: int, delete: list[int]) -> None:
        plan = self.ctx.plan
        if group & 0xFF00 == 0x5000:
            # Curves (retired in 2004) are removed even under Clean Graphics: their data is free-form
            # binary whose text annotations cannot be told apart from the curve, so nothing can be
            # "known not to contain identifying information".
            delete.append(tag)
            return
        if group & 0xFF00 != 0x6000:
            delete.append(tag)
            return
        element = tag & 0xFFFF
        regions = self.ctx.overlay_regions
        # The overlay plane is kept (Clean Graphics) only when a pixel rule says where text is; the
        # rule's rectangles are blanked in the overlay bits too. Otherwise the whole group goes.
        if plan.overlay_data != "C" or regions is None:
            delete.append(tag)
        elif element == 0x3000:
            rows, cols = ds.get((group << 16) | 0x0010), ds.get((group << 16) | 0x0011)
            if rows is None or cols is None:
                delete.append(tag)
                return
            data = ds[tag].value
            ds[tag] = DataElement(tag, "OW" if ds[tag].VR == "OW" else "OB",
                                  blank_overlay(data, int(rows.value), int(cols.value), regions))
        elif element == 0x4000 and plan.overlay_comments == "X":
            delete.append(tag)
        else:
            vr = vr_of(ds[tag], tag)
            if vr in actions.TEXT_VRS:
                self._clean(ds, tag, vr, False, delete)

    # -- private elements (E.3.10) -----------------------------------------------------------
    def _private(self, ds: Dataset, mode: str) -> None:
        private_tags = [t for t in ds._dict if t >> 16 & 1]
        if self.private == "X":
            for t in private_tags:
                del ds[t]
            return
        creators = private.creators(ds)
        safe = private.safe_table()
        declared = self.ctx.declared_safe or {}
        used: set[int] = set()
        for tag in private_tags:
            group, element = tag >> 16, tag & 0xFFFF
            if element < 0x1000:
                continue  # creators are decided below; (gggg,0000-000F) are never kept
            creator_tag = (group << 16) | (element >> 8)
            creator = creators.get(creator_tag)
            action = None if creator is None else safe.get((group, creator, element & 0xFF))
            if action is None and creator is not None:
                block = declared.get((group, creator), ())
                if block is None or element & 0xFF in block:
                    action = "K"
            if action is None:
                del ds[tag]
                continue
            used.add(creator_tag)
            vr = vr_of(ds._dict[tag], tag)
            if vr == "SQ":
                self._recurse(ds, tag, mode)
            elif action == "U" and vr == "UI":
                self._remap(ds, tag)
        for tag in private_tags:
            if (tag & 0xFFFF) < 0x1000 and tag not in used and tag in ds._dict:
                del ds[tag]

