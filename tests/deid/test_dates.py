"""Whole-day date shifting (Modified Dates option, PS3.15 E.3.6)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from wadows.deid.dates import MAX_DAYS, MIN_DAYS, day_offset, shift_da, shift_dt


def test_offset_is_keyed_per_patient_and_in_range():
    a, b = day_offset(b"k" * 32, "MRN1"), day_offset(b"k" * 32, "MRN2")
    assert -MAX_DAYS <= a <= -MIN_DAYS and -MAX_DAYS <= b <= -MIN_DAYS
    assert a == day_offset(b"k" * 32, " MRN1 ")
    assert day_offset(b"j" * 32, "MRN1") != a or day_offset(b"j" * 32, "MRN2") != b


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
       st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)), st.integers(-MAX_DAYS, -MIN_DAYS))
def test_intervals_preserved(d1, d2, days):
    s1 = dt.datetime.strptime(shift_da(d1.strftime("%Y%m%d"), days), "%Y%m%d").date()
    s2 = dt.datetime.strptime(shift_da(d2.strftime("%Y%m%d"), days), "%Y%m%d").date()
    assert s2 - s1 == d2 - d1 and s1 - d1 == dt.timedelta(days=days)


def test_dt_keeps_time_fraction_and_offset():
    assert shift_dt("20240610140301.250000+0200", -10) == "20240531140301.250000+0200"
    assert shift_dt("2024", -300) == "2023"          # precision kept (from 1 January)
    assert shift_dt("202403", -31) == "202401"
    assert shift_da("2024.03.01", -1) == "20240229"  # ACR-NEMA form read, DA written


def test_not_a_date_gives_none():
    assert shift_da("garbage", -10) is None and shift_dt("", -10) is None and shift_da("20241341", -1) is None
