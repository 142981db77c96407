"""UID syntax per PS3.5 §9.1, the gate in front of every path and SQL query."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wadows.security.uids import MAX_UID_LENGTH, InvalidUID, is_valid_uid, require_uid

VALID = [
    "0",
    "1.2",
    "0.0",
    "1.2.840.10008.1.2.1",
    "2.25.329800735698586629295641978511506172918",  # PS3.5 §B.2 UUID-derived form
    "1.2.3.10.100.1000",
    "1." + "2" * (MAX_UID_LENGTH - 2),  # exactly 64
]

INVALID = [
    "",
    ".",
    "1.",
    ".1",
    "1..2",
    "1.02",  # leading zero in a multi-digit component
    "01.2",
    "1.2.00",
    "1.2a",
    "1,2",
    "1.2 ",  # padding is not part of a UID
    " 1.2",
    "1.2\x00",  # NUL padding as found in files
    "1.2\n",
    "1.2.3/../../etc/passwd",
    "1.2' OR '1'='1",
    "١.٢",  # Arabic-Indic digits match \d but are not "0"-"9"
    "1." + "2" * (MAX_UID_LENGTH - 1),  # 65
]


@pytest.mark.parametrize("uid", VALID)
def test_valid_uids_are_accepted_unchanged(uid):
    assert is_valid_uid(uid)
    assert require_uid(uid) == uid


@pytest.mark.parametrize("uid", INVALID)
def test_invalid_uids_are_rejected(uid):
    assert not is_valid_uid(uid)


@pytest.mark.parametrize("value", [None, b"1.2", 12, ["1.2"]])
def test_non_text_is_rejected(value):
    assert not is_valid_uid(value)
    with pytest.raises(InvalidUID, match="text"):
        require_uid(value)


def test_require_uid_strips_surrounding_whitespace_only():
    assert require_uid("\n      1.2.840.10008.1.2\n    ") == "1.2.840.10008.1.2"
    with pytest.raises(InvalidUID):
        require_uid("1.2. 3")


@pytest.mark.parametrize("uid,reason", [
    ("", "empty"),
    ("1.2x", "characters"),
    ("1..2", "empty component"),
    ("1.02", "leading zero"),
    ("1" * 65, "longer than 64"),
])
def test_error_says_what_is_wrong(uid, reason):
    with pytest.raises(InvalidUID, match=reason):
        require_uid(uid)


def test_invalid_uid_is_a_value_error():
    assert issubclass(InvalidUID, ValueError)


def test_error_message_echoes_at_most_64_characters():
    hostile = "9" * 64 + "<script>" + "A" * 100_000
    with pytest.raises(InvalidUID) as raised:
        require_uid(hostile)
    message = str(raised.value)
    assert "9" * 64 in message
    assert "<script>" not in message and "A" not in message
    assert len(message) < 200


_component = st.one_of(st.just("0"), st.integers(min_value=1, max_value=10**12).map(str))


@given(st.lists(_component, min_size=1, max_size=12).map(".".join))
def test_well_formed_uids_are_valid_up_to_64_characters(uid):
    assert is_valid_uid(uid) == (len(uid) <= MAX_UID_LENGTH)


@given(st.text(max_size=80))
def test_validity_agrees_with_require_uid(text):
    if is_valid_uid(text):
        assert require_uid(text) == text
    else:
        stripped = text.strip()
        if not is_valid_uid(stripped):
            with pytest.raises(InvalidUID):
                require_uid(text)


@given(st.text(min_size=1, max_size=64).filter(lambda s: any(c not in "0123456789." for c in s)))
def test_any_other_character_makes_it_invalid(text):
    assert not is_valid_uid(text)
