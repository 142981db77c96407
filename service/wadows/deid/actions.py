"""Replacement values for the action codes of PS3.15 E.1.1: dummies (D), keyed pseudonyms, and the
cleaning (C) of descriptive text.

Every replacement here is ASCII, which is the default repertoire (G0) of every Specific Character
Set, ISO 2022 ones included (PS3.5 §6.1.2.5.3), so it stays valid whatever (0008,0005) the object
declares and that element is never changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from functools import cache
from importlib import resources

# D: "replace with a non-zero length value that may be a dummy value and consistent with the VR".
# One fixed dummy per VR, valid for the VR's syntax and length limit (PS3.5 §6.2): a fixed value
# identifies nobody and is idempotent.
DUMMY_TEXT = "ANONYMOUS"
DUMMIES: dict[str, object] = {
    "AE": DUMMY_TEXT, "CS": DUMMY_TEXT, "LO": DUMMY_TEXT, "LT": DUMMY_TEXT, "PN": DUMMY_TEXT,
    "SH": DUMMY_TEXT, "ST": DUMMY_TEXT, "UC": DUMMY_TEXT, "UT": DUMMY_TEXT,
    "UR": "urn:anonymous",
    "AS": "000D",
    "DA": "19000101", "DT": "19000101000000.000000", "TM": "000000.000000",
    "DS": "0", "IS": "0",
    "AT": 0, "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "SV": 0, "UL": 0, "US": 0, "UV": 0,
    "OB": b"\0\0", "OD": b"\0" * 8, "OF": b"\0" * 4, "OL": b"\0" * 4, "OV": b"\0" * 8, "OW": b"\0\0",
    "UN": b"\0\0",
}
TEXT_VRS = frozenset({"AE", "AS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
DATE_VRS = frozenset({"DA", "DT", "TM"})


def dummy(vr: str) -> object:
    return DUMMIES.get(vr, b"\0\0")


# A keyed pseudonym: "ANON" + base32 of HMAC(key, domain, value). It keeps one patient's objects
# together (PS3.15 E.1.1 note 3: "Patient ID for the Patient entity" should stay consistent) without
# being derivable from the original value by anyone lacking the key. Base32 upper case and digits
# are valid in LO, SH, AE and CS.
_PSEUDONYM = re.compile(r"ANON[A-Z2-7]{12}(?:[A-Z2-7]{4})?")


def is_pseudonym(value: str) -> bool:
    """A value this module produced: kept as is, so de-identifying twice changes nothing."""
    return _PSEUDONYM.fullmatch(value.strip()) is not None


def pseudonym(key: bytes, domain: str, value: str, length: int = 20) -> str:
    if is_pseudonym(value):
        return value.strip()
    digest = hmac.new(key, domain.encode() + b"\0" + value.strip().encode("utf-8", "replace"), hashlib.sha256).digest()
    return "ANON" + base64.b32encode(digest).decode()[: length - 4]


@cache
def _vocabulary_file() -> dict:
    ref = resources.files("wadows").joinpath("data", "deid", "descriptor_vocabulary.json")
    return json.loads(ref.read_text(encoding="utf-8"))


@cache
def _vocabulary() -> frozenset[str]:
    return frozenset(_vocabulary_file()["words"])


@cache
def public_coding_schemes() -> frozenset[str]:
    return frozenset(s.upper() for s in _vocabulary_file()["public_coding_schemes"])


_WORD = re.compile(r"[A-Za-z0-9]+(?:[.,][0-9]+)?")
# Short technical tokens: at most three digits with an optional short letter prefix/suffix (T1, B30f,
# 3D, 5mm, 2.5): too short to be a date, a phone number or a record number.
_TECHNICAL = re.compile(r"[A-Za-z]{0,2}[0-9]{1,3}(?:[.,][0-9]{1,2})?[A-Za-z]{0,2}")


def clean_text(value: str) -> str:
    """C for descriptive text: keep only the words known to be safe (a vocabulary of imaging
    technique, anatomy and units, shipped as data) and short technical tokens; drop everything else.
    The result is rebuilt from kept words joined by one space, so cleaning it again changes nothing."""
    vocabulary = _vocabulary()
    kept = [w for w in _WORD.findall(value) if w.lower() in vocabulary or _TECHNICAL.fullmatch(w)]
    return " ".join(kept)
