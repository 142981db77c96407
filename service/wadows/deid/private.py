"""Retain Safe Private Option (PS3.15 E.3.10): which private elements are known to be safe.

Known safe means, as E.3.10 lists: in Table E.3.10-1 (service/wadows/data/deid/safe_private.json,
whose "source" names the edition it was transcribed from), or declared by the object itself in the
Private Data Element Characteristics Sequence (0008,0300): a block whose Block Identifying
Information Status (0008,0303) is SAFE, or an element listed in Nonidentifying Private Elements
(0008,0304). Everything else private is removed, and a Private Creator element stays only while an
element of its block stays.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from pydicom.dataset import Dataset

PRIVATE_DATA_ELEMENT_CHARACTERISTICS = 0x00080300
_PRIVATE_GROUP_REFERENCE = 0x00080301
_PRIVATE_CREATOR_REFERENCE = 0x00080302
_BLOCK_STATUS = 0x00080303
_NONIDENTIFYING = 0x00080304


@cache
def safe_table() -> dict[tuple[int, str, int], str]:
    """(group, private creator, element within block) -> action, K or U."""
    ref = resources.files("wadows").joinpath("data", "deid", "safe_private.json")
    doc = json.loads(ref.read_text(encoding="utf-8"))
    return {(int(a["group"], 16), a["creator"].strip(), int(a["element"], 16)): a["action"]
            for a in doc["attributes"]}


def _text(ds: Dataset, tag: int) -> str | None:
    elem = ds.get(tag)
    if elem is None or elem.value is None:
        return None
    value = elem.value
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\0 ")


def declared_safe(ds: Dataset) -> dict[tuple[int, str], frozenset[int] | None]:
    """Blocks the object declares safe: (group, creator) -> None for the whole block, or the set of
    element bytes listed as non-identifying (PS3.3 C.12.1.1.7)."""
    seq = ds.get(PRIVATE_DATA_ELEMENT_CHARACTERISTICS)
    out: dict[tuple[int, str], frozenset[int] | None] = {}
    if seq is None or not seq.value:
        return out
    for item in seq.value:
        group = item.get(_PRIVATE_GROUP_REFERENCE)
        creator = _text(item, _PRIVATE_CREATOR_REFERENCE)
        if group is None or group.value is None or creator is None:
            continue
        key = (int(group.value), creator)
        if (_text(item, _BLOCK_STATUS) or "").upper() == "SAFE":
            out[key] = None
            continue
        listed = item.get(_NONIDENTIFYING)
        if listed is not None and listed.value is not None:
            values = listed.value
            if isinstance(values, bytes):  # read as UN or OW: US values, little endian
                values = [int.from_bytes(values[i:i + 2], "little") for i in range(0, len(values) - 1, 2)]
            elif isinstance(values, int):
                values = [values]
            out[key] = frozenset(int(v) & 0xFF for v in values)
    return out


def creators(ds: Dataset) -> dict[int, str]:
    """Private creator tag -> creator string, for the blocks of this data set (or item)."""
    out = {}
    for tag in ds.keys():
        if tag >> 16 & 1 and 0x10 <= (tag & 0xFFFF) <= 0xFF:
            out[int(tag)] = _text(ds, tag) or ""
    return out
