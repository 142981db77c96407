"""Options (CID 7050) and the compiled tag -> action plan (Table E.1-1 resolution rules)."""

from __future__ import annotations

import pytest
from pydicom.datadict import tag_for_keyword

from wadows.deid import OPTIONS, parse_options
from wadows.deid.profile import compile_plan, table


def test_twelve_options_with_cid_7050_codes():
    assert len(OPTIONS) == 12
    assert {o.code for o in OPTIONS} == {str(c) for c in range(113101, 113113)}
    assert {o.name for o in OPTIONS} >= {"RetainUIDsOption", "CleanPixelDataOption", "RetainSafePrivateOption"}


@pytest.mark.parametrize("spelling", ["RetainUIDsOption", "retainuidsoption", "Retain UIDs", "Retain UIDs Option",
                                      "retain-uids", "113110", " RETAIN-UIDS "])
def test_parse_options_accepts_every_spelling(spelling):
    assert parse_options([spelling]) == frozenset({"RetainUIDsOption"})


def test_parse_options_names_the_unknown_one():
    with pytest.raises(ValueError, match="RetainEverything"):
        parse_options(["retain-uids", "RetainEverything"])


def test_full_and_modified_dates_exclude_each_other():
    with pytest.raises(ValueError, match="exclude"):
        parse_options(["113106", "113107"])


def test_basic_profile_code_is_accepted_and_adds_nothing():
    assert parse_options(["113100"]) == frozenset()


def _action(keyword: str, *options: str) -> str:
    return compile_plan(parse_options(options)).actions[tag_for_keyword(keyword)]


@pytest.mark.parametrize("keyword, expected", [
    ("PatientName", "Z"), ("PatientID", "D"),          # Z; Z/D -> D
    ("AcquisitionDate", "Z"),                          # X/Z -> Z
    ("ProtocolName", "D"),                             # X/D -> D
    ("InstitutionName", "D"),                          # X/Z/D -> D
    ("ReferencedImageSequence", "U"),                  # X/Z/U* -> U
    ("PatientAddress", "X"), ("SOPInstanceUID", "U"),
    ("Rows", "K"), ("PixelData", "K"),                 # untabled, safe VR: keep-list
    ("CodeMeaning", "K"),                              # untabled text on the keep-list
    ("SOPClassUID", "K"),                              # untabled UID naming a class
    ("MultiFrameSourceSOPInstanceUID", "U"),           # untabled instance UID
])
def test_basic_profile_resolution(keyword, expected):
    assert _action(keyword) == expected


def test_untabled_text_is_removed_or_cleaned():
    actions = compile_plan(frozenset()).actions
    assert tag_for_keyword("AdmittingDiagnosesDescription") in actions  # tabled: the table decides
    assert tag_for_keyword("DerivationCodeSequence") in actions
    assert tag_for_keyword("ImageComments") in actions
    assert tag_for_keyword("CommentsOnThePerformedProcedureStep") in actions
    assert tag_for_keyword("TextValue") in actions and actions[tag_for_keyword("TextValue")] == "C"
    assert tag_for_keyword("FrameLabel") not in actions  # untabled LO: removed


@pytest.mark.parametrize("keyword, option, expected", [
    ("SOPInstanceUID", "RetainUIDsOption", "K"),
    ("MultiFrameSourceSOPInstanceUID", "RetainUIDsOption", "K"),
    ("StationName", "RetainDeviceIdentityOption", "K"),
    ("InstitutionName", "RetainInstitutionIdentityOption", "K"),
    ("PatientAge", "RetainPatientCharacteristicsOption", "K"),
    ("StudyDate", "RetainLongitudinalTemporalInformationFullDatesOption", "K"),
    ("StudyDate", "RetainLongitudinalTemporalInformationModifiedDatesOption", "C"),
    ("StudyDescription", "CleanDescriptorsOption", "C"),
    ("ContentSequence", "CleanStructuredContentOption", "C"),
    ("GraphicAnnotationSequence", "CleanGraphicsOption", "C"),
    ("StationAETitle", "RetainDeviceIdentityOption", "C"),
])
def test_option_overrides_profile(keyword, option, expected):
    assert _action(keyword, option) == expected


def test_missing_option_column_means_basic_profile():
    # Patient Name has no Retain Device Identity entry: the basic action stands.
    assert _action("PatientName", "RetainDeviceIdentityOption") == _action("PatientName")


def test_clean_wins_over_keep_between_options():
    # Date of Last Detector Calibration: Retain Device Identity K, Modified Dates C.
    assert _action("DateOfLastDetectorCalibration", "RetainDeviceIdentityOption",
                   "RetainLongitudinalTemporalInformationModifiedDatesOption") == "C"


def test_range_and_private_rows():
    plan = compile_plan(frozenset())
    assert (plan.curves, plan.overlay_data, plan.overlay_comments, plan.private) == ("X", "X", "X", "X")
    plan = compile_plan(parse_options(["CleanGraphicsOption", "RetainSafePrivateOption"]))
    assert (plan.curves, plan.overlay_data, plan.private) == ("C", "C", "C")


def test_every_table_row_is_in_the_plan():
    plan = compile_plan(frozenset())
    exact = [k for k in table()["rows"] if "x" not in k]
    assert len(exact) == 643
    assert all(int(k, 16) in plan.actions for k in exact)
