"""The public plan: decided from the original values without touching them, applied as decided."""

from __future__ import annotations

import copy

import pytest

from wadows.deid import DeidentificationRefused, Deidentifier

from .objects import KEY, ORIGINAL_SOP, make_ct, reread, to_bytes


def test_planning_changes_nothing_and_applying_equals_deidentify():
    ds = reread(to_bytes(make_ct()))
    before = to_bytes(ds)
    deid = Deidentifier(KEY, ["RetainLongitudinalTemporalInformationModifiedDatesOption"])
    plan = deid.plan_object(ds)
    assert to_bytes(ds) == before  # nothing changes while planning
    assert plan.pixel_rule is None and plan.already_deidentified is False
    assert plan.context.shift_days is not None  # Modified Dates: a keyed shift was chosen

    applied = plan.apply(copy.deepcopy(ds))
    whole = deid.deidentify(copy.deepcopy(ds))
    assert to_bytes(applied) == to_bytes(whole)
    assert str(applied.SOPInstanceUID) == deid.decide(ds).sop_instance_uid != ORIGINAL_SOP


def test_a_refusal_is_raised_while_planning():
    ds = make_ct()
    ds.BurnedInAnnotation = "YES"
    deid = Deidentifier(KEY, pixel_rules=())
    with pytest.raises(DeidentificationRefused):
        deid.plan_object(ds)
