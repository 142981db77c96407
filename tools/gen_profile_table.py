#!/usr/bin/env python3
"""Generate wadows' de-identification profile table from PS3.15 Table E.1-1 (edition 2025b).

Usage: python tools/gen_profile_table.py [TABLE_JSON] [-o OUT]

TABLE_JSON defaults to ../shared/reference/ps3.15/table_E1-1_2025b.json relative to the repository;
OUT defaults to service/wadows/data/deid/profile_2025b.json. The output is deterministic (sorted keys
and rows, no timestamps), so re-running it on the same inputs reproduces the committed file byte for
byte; tests/deid/test_gen_profile_table.py holds it to that.

Two parts are written:

* ``rows``: Table E.1-1 itself, one row per attribute, keyed by tag as 8 hex digits, with the range
  rows (50xx curves, 60xx overlays) spelt with lower-case ``x`` and the "(gggg,eeee) where gggg is
  odd" row moved to ``private``. An option column that the standard leaves empty is omitted: the
  basic profile applies (PS3.15 E.3: "A requirement for an Option, when implemented, overrides any
  requirement for the underlying Profile").

* ``untabled``: what to do with standard attributes the table does not list (PS3.15 E.1.1 note 5
  leaves "remove what is known to be a risk" versus "retain only what is known to be safe" to the
  de-identifier; wadows retains only what is known to be safe). Built from pydicom's data
  dictionary by the rules in ``_untabled_action`` below, so the list follows the dictionary, not
  somebody's memory; it records the pydicom version it came from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import pydicom
from pydicom.datadict import DicomDictionary

EDITION = "2025b"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_TABLE = REPO / ".." / "shared" / "reference" / "ps3.15" / f"table_E1-1_{EDITION}.json"
DEFAULT_OUT = REPO / "service" / "wadows" / "data" / "deid" / f"profile_{EDITION}.json"

OPTION_COLUMNS = (
    "rtnSafePrivOpt", "rtnUIDsOpt", "rtnDevIdOpt", "rtnInstIdOpt", "rtnPatCharsOpt",
    "rtnLongFullDatesOpt", "rtnLongModifDatesOpt", "cleanDescOpt", "cleanStructContOpt", "cleanGraphOpt",
)
ACTION_CODES = {"D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"}

# Value representations that hold numbers, codes or bulk binary data: they cannot carry a name or
# free text, so an untabled standard attribute of these VRs is kept (PS3.15 E.3.10 note 2 reasons
# the same way for private attributes: "retain those Attributes that are numeric only").
_SAFE_VRS = {"AT", "CS", "DS", "FD", "FL", "IS", "OB", "OD", "OF", "OL", "OV", "OW", "SL", "SQ", "SS",
             "SV", "UL", "US", "UV"}
_DATE_VRS = {"DA", "DT", "TM"}

# Untabled text attributes kept because images, codes and the pixel rules need them and they name
# a kind of thing, never a person, place or date: the Code Sequence Macro (PS3.3 Table 8.8-1), the
# Frame of Reference's Type 2 Position Reference Indicator (an anatomical landmark, C.7.4.1.1.2),
# equipment type (Manufacturer and model name are not in Table E.1-1; Device Serial Number and
# Station Name, which are, stay governed by it), reconstruction technique and LUT explanations.
_TEXT_KEEP = {
    "CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
    "URNCodeValue", "ContextIdentifier", "MappingResourceName", "ContextGroupExtensionFlag",
    "Manufacturer", "ManufacturerModelName", "SoftwareVersions",
    "ConvolutionKernel", "SequenceName", "PulseSequenceName", "ReceiveCoilName", "TransmitCoilName",
    "FilterType", "PositionReferenceIndicator", "RescaleType", "WindowCenterWidthExplanation", "LUTExplanation", "DeidentificationMethod",
    "ImplementationVersionName",
}

# Untabled UIDs that name a kind of thing (a SOP class, a transfer syntax, a coding scheme, an
# implementation or a registered organization), not an instance: remapping them would break the
# object. Every other untabled UI attribute identifies an instance and is remapped like a "U" row
# (PS3.15 E.1.1 item 5: "all references to other SOP Instances ... shall be protected").
# Untabled free text that structured content needs in order to stay valid (Text Value is Type 1C in
# the Content Item Macro, PS3.3 Table 10-2): cleaned (C, the descriptor vocabulary) instead of removed.
_TEXT_CLEAN = {"TextValue"}

# A zero-item sequence is valid only where the sequence is Type 2 (PS3.5 §7.5.3); a Type 3 one, if
# present, needs items. So "X/Z" on a sequence means X, except for the sequences Table E.1-1 marks
# X/Z that are Type 2 in a composite IOD module, listed here with the module that makes them so.
_TYPE2_SEQUENCES = {
    "00400555": "Acquisition Context Sequence: Type 2 in the Acquisition Context Module (PS3.3 C.7.6.14)",
}

_UID_KEEP = re.compile(r"SOPClass|TransferSyntax|ImplementationClass|PrivateInformationCreator|CodingScheme"
                       r"|ContextGroupExtensionCreator|^ContextUID$|MappingResource|CreatorVersion"
                       r"|SegmentationTemplate|HomeCommunityID|RepositoryUniqueID|RetrieveLocationUID")


def _row_key(tag: str) -> str:
    """'(0008,0050)' -> '00080050'; '(50XX,XXXX)' -> '50xxxxxx'."""
    m = re.fullmatch(r"\(([0-9A-FX]{4}),([0-9A-FX]{4})\)", tag.strip())
    if not m:
        raise ValueError(f"unexpected tag {tag!r}")
    return (m.group(1) + m.group(2)).lower()


def _vr(key: str) -> str | None:
    if "x" in key:
        return None
    entry = DicomDictionary.get(int(key, 16))
    return entry[0] if entry else None


# Rows newer than pydicom's dictionary have no VR there; an Implicit VR file cannot say it either.
# The standard's names give the VR for these kinds of attribute (a "... DateTime" is DT, a
# "... Sequence" is SQ); other unknown rows get none and are handled as UN (removed, dummied as bytes).
_VR_BY_NAME = (("DateTime", "DT"), ("Date", "DA"), ("Time", "TM"), ("UID", "UI"), ("Sequence", "SQ"),
               ("Comment", "LT"))


def _vr_from_name(name: str) -> str | None:
    return next((vr for suffix, vr in _VR_BY_NAME if name.endswith(suffix)), None)


def _row(source: dict) -> dict:
    basic = source["basicProfile"]
    if basic not in ACTION_CODES:
        raise ValueError(f"{source['tag']}: unknown action {basic!r}")
    row = {"name": source["name"], "basic": basic, "std": source["stdCompIOD"] == "Y"}
    options = {col: source[col] for col in OPTION_COLUMNS if source.get(col)}
    for col, code in options.items():
        if code not in ACTION_CODES:
            raise ValueError(f"{source['tag']}: unknown {col} action {code!r}")
    if options:
        row["options"] = options
    return row


def _untabled_action(tag: int, vr: str, keyword: str, retired: str) -> str | None:
    group = tag >> 16
    if group in (0x0000, 0x0002, 0x0004) or group & 1 or retired or not keyword:
        # Command, file meta (rebuilt whole), directory records, private, retired: never kept.
        return None
    vrs = set(vr.split(" or "))
    if vrs == {"UI"}:
        return "K" if _UID_KEEP.search(keyword) else "U"
    if vrs <= _DATE_VRS:
        return "date"
    if vrs <= _SAFE_VRS or keyword in _TEXT_KEEP:
        return "K"
    if keyword in _TEXT_CLEAN:
        return "C"
    return None


def build(table_path: Path) -> dict:
    raw = table_path.read_bytes()
    source = json.loads(raw)
    rows: dict[str, dict] = {}
    private = None
    for entry in source:
        if "GGGG" in entry["tag"]:
            private = _row(entry)
            continue
        key = _row_key(entry["tag"])
        if key in rows:
            raise ValueError(f"duplicate row {entry['tag']}")
        rows[key] = _row(entry)
        vr = _vr(key)
        if vr:
            rows[key]["vr"] = vr
        elif "x" not in key and _vr_from_name(entry["name"]):
            rows[key]["vr"] = _vr_from_name(entry["name"])
            rows[key]["vr_from_name"] = True
    if private is None:
        raise ValueError("the table has no private attributes row")
    keep: dict[str, str] = {}
    remap: dict[str, str] = {}
    dates: dict[str, str] = {}
    clean: dict[str, str] = {}
    for tag, (vr, _vm, _name, retired, keyword) in sorted(DicomDictionary.items()):
        key = f"{tag:08x}"
        if key in rows:
            continue
        action = _untabled_action(tag, vr, keyword, retired)
        target = {"K": keep, "U": remap, "C": clean, "date": dates}.get(action)
        if target is not None:
            target[key] = keyword
    return {
        "about": (f"PS3.15 Table E.1-1, edition {EDITION}, as wadows' profile table. Generated by "
                  f"tools/gen_profile_table.py; do not edit by hand."),
        "edition": EDITION,
        "generator": "tools/gen_profile_table.py",
        "source": {"file": table_path.name, "sha256": hashlib.sha256(raw).hexdigest(), "rows": len(source)},
        "option_columns": list(OPTION_COLUMNS),
        "type2_sequences": _TYPE2_SEQUENCES,
        "rows": dict(sorted(rows.items())),
        "private": private,
        "untabled": {
            "about": ("Standard attributes not in Table E.1-1, from pydicom's data dictionary: 'keep' are "
                      "numeric, code string, sequence or binary VRs and a short list of technical text "
                      "attributes; 'remap' are instance UIDs (remapped like U); 'clean' are free text that "
                      "structured content needs (cleaned like C); 'dates' follow the date "
                      "options (removed by the basic profile, kept with Full Dates, shifted with Modified "
                      "Dates). Any other untabled attribute is removed."),
            "pydicom": pydicom.__version__,
            "keep": keep,
            "remap": remap,
            "clean": clean,
            "dates": dates,
        },
    }


def render(table: dict) -> str:
    return json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", nargs="?", type=Path, default=DEFAULT_TABLE, help="table_E1-1_2025b.json")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    text = render(build(args.table))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
