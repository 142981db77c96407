"""Retain Longitudinal Temporal Information with Modified Dates (PS3.15 E.3.6): every DA and the
date part of every DT moves by the same whole number of days for one patient.

Whole days keep intervals, weekdays modulo 7 aside, and every TM and the time part of DT exactly
as they were, so a TM needs no change to stay consistent with its DA. The offset is keyed by the
original Patient ID, so all objects of one patient move together, across runs and machines
sharing the key, and the offset cannot be derived from the Patient ID alone.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac

MIN_DAYS, MAX_DAYS = 365, 3650  # always into the past: between one and ten years earlier


def day_offset(key: bytes, patient_id: str) -> int:
    digest = hmac.new(key, b"date-shift\0" + patient_id.strip().encode("utf-8", "replace"), hashlib.sha256).digest()
    return -(MIN_DAYS + int.from_bytes(digest[:8], "big") % (MAX_DAYS - MIN_DAYS + 1))


def _shift_ymd(digits: str, days: int) -> str | None:
    """Shift a YYYY[MM[DD]] prefix, keeping its precision; None if it is not a date."""
    n = len(digits)
    if n not in (4, 6, 8) or not digits.isdigit():
        return None
    try:
        day = _dt.date(int(digits[:4]), int(digits[4:6] or 1), int(digits[6:8] or 1))
        shifted = day + _dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return shifted.strftime("%Y%m%d")[:n] if shifted.year >= 1 else None


def shift_da(value: str, days: int) -> str | None:
    """A DA value (one of a multi-valued element). ACR-NEMA "YYYY.MM.DD" is read and written as DA."""
    return _shift_ymd(value.strip().replace(".", ""), days)


def shift_dt(value: str, days: int) -> str | None:
    """A DT value: the date part moves, the time, fraction and UTC offset stay as they were."""
    value = value.strip()
    n = 0
    while n < min(len(value), 8) and value[n].isdigit():
        n += 1
    shifted = _shift_ymd(value[:n], days)
    return None if shifted is None else shifted + value[n:]
