"""DICOM UID syntax (PS3.5 §9.1), checked before a UID reaches a file path, an SQL query or a log line.

A request's UIDs are attacker-controlled text; the store keys files and SQLite rows by them, so
anything that is not digits and dots of the standard's shape is refused at the edge instead of
being escaped everywhere else.
"""

from __future__ import annotations

import re

MAX_UID_LENGTH = 64  # PS3.5 §9.1: "shall not exceed 64 total characters"

# PS3.5 §9.1: components are numeric (characters "0"-"9" only, hence not \d, which also matches
# other scripts' digits), separated by ".", and "the first digit of each component shall not be
# zero unless the component is a single digit".
_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")

# How much of a refused value an error message may repeat: enough to recognise it, never an
# unbounded attacker-supplied string in a SOAP fault or a log.
_ECHO_LIMIT = 64


class InvalidUID(ValueError):
    """A value that is not a DICOM UID; its message repeats at most 64 characters of the value."""


def _problem(value: str) -> str | None:
    if not value:
        return "empty"
    if len(value) > MAX_UID_LENGTH:
        return f"longer than {MAX_UID_LENGTH} characters"
    if _UID.fullmatch(value):
        return None
    if any(c not in "0123456789." for c in value):
        return "characters other than digits and '.'"
    if any(not component for component in value.split(".")):
        return "an empty component"
    return "a component with a leading zero"


def is_valid_uid(s: str) -> bool:
    """True if ``s`` is a UID exactly as PS3.5 §9.1 spells one (no padding, no whitespace)."""
    return isinstance(s, str) and 0 < len(s) <= MAX_UID_LENGTH and _UID.fullmatch(s) is not None


def require_uid(s: str) -> str:
    """``s`` without surrounding whitespace, if that is a valid UID; otherwise raise InvalidUID.

    Whitespace is stripped because SOAP clients pretty-print their XML and the text content of
    ``<DocumentUniqueId>`` then carries the indentation; nothing else is forgiven.
    """
    if not isinstance(s, str):
        raise InvalidUID(f"a UID must be text, not {type(s).__name__}")
    value = s.strip()
    problem = _problem(value)
    if problem is not None:
        shown = value[:_ECHO_LIMIT] + ("..." if len(value) > _ECHO_LIMIT else "")
        raise InvalidUID(f"not a DICOM UID ({problem}): {shown!r}")
    return value
