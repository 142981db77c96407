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

# Built within PS3.5 9.1's 64 characters rather than filtered to it (six components of at most nine
# digits: 59), so no hypothesis version rejects the strategy as filtering too much.
_component = st.integers(0, 10**9 - 1).map(str)
uids = st.lists(_component, min_size=2, max_size=6).map(".".join)
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
    body = hmac.new(b"\0" * 32, b"1.2.3", hashlib.sha256).digest()[:12]
    check = hmac.new(b"\0" * 32, b"wadows-uid-check\0" + body, hashlib.sha256).digest()[:4]
    assert UIDMap(b"\0" * 32)("1.2.3") == f"2.25.{int.from_bytes(body + check, 'big')}"


@given(uids, keys)
def test_our_output_maps_to_itself_and_only_under_its_key(uid, key):
    mapped = UIDMap(key)(uid)
    assert UIDMap(key)(mapped) == mapped
    assert UIDMap(key + b"x")(mapped) != mapped


def test_a_foreign_2_25_uid_is_remapped():
    m = UIDMap(b"k" * 32)
    foreign = "2.25.329800735698586629295641978511506172918"
    assert m(foreign) != foreign


def test_invalid_uids_are_remapped():
    m = UIDMap(b"k" * 32)
    out = m("a3f09c77e0d1")
    assert is_valid_uid(out) and "a3f0" not in out


def test_well_known_uids_are_not_remapped():
    m = UIDMap(b"k" * 32)
    assert m(CTImageStorage) == CTImageStorage and m(ExplicitVRLittleEndian) == ExplicitVRLittleEndian
    assert m("1.2.840.10008.2.16.4") == "1.2.840.10008.2.16.4"  # DICOM Controlled Terminology


def test_retain_uids_is_identity():
    assert Deidentifier(b"k" * 32, ["RetainUIDsOption"]).map_uid("1.2.3.4") == "1.2.3.4"
