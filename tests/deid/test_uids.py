"""The keyed UID remap (PS3.15 E.1.1 item 5, PS3.5 §B.2)."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from wadows.deid import Deidentifier
from wadows.deid.uids import UIDMap
from wadows.security.uids import is_valid_uid

_component = st.integers(0, 10**20).map(str)
uids = st.lists(_component, min_size=2, max_size=12).map(".".join).filter(lambda u: len(u) <= 64)
keys = st.binary(min_size=16, max_size=64)


@given(uids, keys)
def test_deterministic_valid_and_short(uid, key):
    mapped = UIDMap(key)(uid)
    assert mapped == UIDMap(key)(uid) == Deidentifier(key).map_uid(uid)  # no per-instance state involved
    assert is_valid_uid(mapped) and len(mapped) <= 64 and mapped.startswith("2.25.")


@given(uids, keys, keys)
def test_depends_on_the_key(uid, k1, k2):
    if k1 != k2:
        assert UIDMap(k1)(uid) != UIDMap(k2)(uid)


@given(uids, uids, keys)
def test_distinct_uids_stay_distinct(a, b, key):
    if a != b:
        assert UIDMap(key)(a) != UIDMap(key)(b)


def test_known_value_and_padding():
    # A fixed vector, so another process or machine with the same key reproduces it.
    assert UIDMap(b"\0" * 32)("1.2.3") == UIDMap(b"\0" * 32)("1.2.3\0")
    assert UIDMap(b"\0" * 32)("1.2.3") == "2.25.324811415056543479332968633230762605229"
    digest = hmac.new(b"\0" * 32, b"1.2.3", hashlib.sha256).digest()
    assert UIDMap(b"\0" * 32)("1.2.3") == f"2.25.{int.from_bytes(digest[:16], 'big')}"


def test_well_known_uids_are_not_remapped():
    m = UIDMap(b"k" * 32)
    assert m(CTImageStorage) == CTImageStorage and m(ExplicitVRLittleEndian) == ExplicitVRLittleEndian
    assert m("1.2.840.10008.2.16.4") == "1.2.840.10008.2.16.4"  # DICOM Controlled Terminology


def test_retain_uids_is_identity():
    assert Deidentifier(b"k" * 32, ["RetainUIDsOption"]).map_uid("1.2.3.4") == "1.2.3.4"
