"""Keyed UID remapping (PS3.15 E.1.1 item 5; PS3.5 §B.2 for the "2.25." form).

A UID is replaced by "2.25." followed by the decimal value of 128 bits: the first 96 bits of
HMAC-SHA256(key, UID), then 32 check bits, HMAC-SHA256(key, tag + those 96 bits). The same key gives
the same UID on every call, process and machine, so
references between separately de-identified instances stay consistent (E.1.1 note 3); without the
key the mapping cannot be recomputed from a known original UID, unlike dcm4che's unsalted MD5
or dicognito's seed+MD5 (which anyone who learns the seed can invert by dictionary).

The check bits make our own output recognisable without trusting anything the object says: a UID
whose check verifies under this key is one this map produced, and maps to itself, so de-identifying
an output again with the same key changes nothing. Anyone without the key produces a verifying UID
with probability 2^-32, and then merely keeps a UID they chose; every other UID, whatever flag
the object carries (Patient Identity Removed YES from another tool), is remapped.
"""

from __future__ import annotations

import hashlib
import hmac

from pydicom.uid import UID_dictionary

# PS3.5 §B.2: "2.25." + the decimal of a 128-bit integer is at most 5 + 39 = 44 characters,
# well inside the 64 allowed, with no leading zero because int -> str never writes one.
_PREFIX = "2.25."
_CHECK = b"wadows-uid-check\0"
_BOUND = 1 << 128


def _check(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, _CHECK + body, hashlib.sha256).digest()[:4]


def produced_by(key: bytes, uid: str) -> bool:
    """Whether ``uid`` is an output of this map under ``key`` (its check bits verify)."""
    digits = uid[len(_PREFIX):]
    if not uid.startswith(_PREFIX) or not digits.isdigit() or len(digits) > 39 or digits[0] == "0":
        return False
    value = int(digits)
    if value >= _BOUND:
        return False
    raw = value.to_bytes(16, "big")
    return hmac.compare_digest(_check(key, raw[:12]), raw[12:])


def is_well_known(uid: str) -> bool:
    """SOP classes, transfer syntaxes, coding schemes, well-known instances (PS3.6 Annex A):
    shared by everybody, identify nobody, and must survive for the object to stay readable."""
    return uid in UID_dictionary


class UIDMap:
    """The keyed remap with a per-instance cache (a study repeats its Study UID in every object)."""

    __slots__ = ("_key", "_cache")

    def __init__(self, key: bytes):
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        uid = uid.strip("\0 ")
        out = self._cache.get(uid)
        if out is None:
            if not uid or is_well_known(uid) or produced_by(self._key, uid):
                out = uid
            else:
                # Invalid UIDs (a hex string, a value with letters) are remapped like valid ones: the
                # input bytes go into the HMAC, never into the output.
                body = hmac.new(self._key, uid.encode("utf-8", "replace"), hashlib.sha256).digest()[:12]
                out = _PREFIX + str(int.from_bytes(body + _check(self._key, body), "big"))
            self._cache[uid] = out
        return out
