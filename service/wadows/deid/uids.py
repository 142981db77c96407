"""Keyed UID remapping (PS3.15 E.1.1 item 5; PS3.5 §B.2 for the "2.25." form).

A UID is replaced by "2.25." followed by the decimal value of the first 128 bits of
HMAC-SHA256(key, UID). The same key gives the same UID on every call, process and machine, so
references between separately de-identified instances stay consistent (E.1.1 note 3); without the
key the mapping cannot be recomputed from a known original UID, unlike dcm4che's unsalted MD5
or dicognito's seed+MD5 (which anyone who learns the seed can invert by dictionary).
"""

from __future__ import annotations

import hashlib
import hmac

from pydicom.uid import UID_dictionary

# PS3.5 §B.2: "2.25." + the decimal of a 128-bit integer is at most 5 + 39 = 44 characters,
# well inside the 64 allowed, with no leading zero because int -> str never writes one.
_PREFIX = "2.25."


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
            if not uid or is_well_known(uid):
                out = uid
            else:
                digest = hmac.new(self._key, uid.encode("ascii", "replace"), hashlib.sha256).digest()
                out = _PREFIX + str(int.from_bytes(digest[:16], "big"))
            self._cache[uid] = out
        return out
