"""The engine against the Basic Application Level Confidentiality Profile alone: not one planted byte survives,
the outputs are valid and marked, new UIDs are consistent across objects and references, the streaming path is
as clean as the file path, and the inputs are left alone."""

from __future__ import annotations

import hashlib
import io

import pydicom
import pytest

from .conftest import KEY
from .corpus import BASIC_PROFILE_CODE, BINARY, UID_ROOT, resolve
from .scanner import allowed_for, scan_bytes, scan_file, summarize


def _codes(ds: pydicom.Dataset) -> list[tuple[str, str]]:
    return [(item.get("CodeValue"), item.get("CodingSchemeDesignator"))
            for item in ds.get("DeidentificationMethodCodeSequence", [])]


def test_every_object_is_deidentified(run_for):
    run = run_for()
    assert not run.errors, {name: repr(e) for name, e in run.errors.items()}


def test_no_planted_value_survives(run_for, corpus):
    run = run_for()
    findings = [f for path in run.produced().values() for f in scan_file(path, corpus)]
    assert not findings, summarize(findings)


def test_no_planted_binary_value_survives(run_for, corpus):
    run = run_for()
    allowed = allowed_for(())
    datasets = {name: pydicom.dcmread(path) for name, path in run.produced().items()}
    survivors = []
    for pv in corpus.values:
        if pv.kind != BINARY or allowed(pv):
            continue
        for file, path in pv.sites:
            element = resolve(datasets[file], path) if file in datasets else None
            if element is not None and element.value == int(pv.value):
                survivors.append(f"{pv} in {file}")
    assert not survivors


def test_outputs_are_readable_and_marked(run_for, corpus):
    run = run_for()
    for name, path in run.produced().items():
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == corpus.objects[name].sop_class_uid
        assert ds.PatientIdentityRemoved == "YES", name
        assert (BASIC_PROFILE_CODE, "DCM") in _codes(ds), name
        if "PixelData" in ds:
            original = pydicom.dcmread(corpus.objects[name].path)
            assert ds.pixel_array.shape == original.pixel_array.shape, name


def test_new_uids_replace_the_originals_everywhere(run_for, corpus):
    run = run_for()
    for name, path in run.produced().items():
        ds, obj = pydicom.dcmread(path), corpus.objects[name]
        new = run.new_uids[name]
        assert new == ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID, name
        assert new != obj.sop_instance_uid and not new.startswith(UID_ROOT)
        assert run.engine.map_uid(obj.sop_instance_uid) == new
        assert ds.StudyInstanceUID == run.engine.map_uid(obj.study_instance_uid) != obj.study_instance_uid
        assert ds.SeriesInstanceUID == run.engine.map_uid(obj.series_instance_uid) != obj.series_instance_uid


def test_objects_of_one_study_stay_one_study(run_for, corpus):
    run = run_for()
    by_study: dict[str, set[str]] = {}
    for name, path in run.produced().items():
        by_study.setdefault(corpus.objects[name].study_instance_uid, set()).add(pydicom.dcmread(path).StudyInstanceUID)
    assert len(by_study) == 2 and all(len(new) == 1 for new in by_study.values())
    assert len(set().union(*by_study.values())) == 2


def test_references_follow_the_referenced_objects_new_uids(run_for, corpus):
    run = run_for()
    datasets = {name: pydicom.dcmread(path) for name, path in run.produced().items()}
    wrong = []
    for ref in corpus.references:
        element = resolve(datasets[ref.file], ref.path)
        if element is None:
            if ref.always_kept:
                wrong.append(f"{ref.file}:{ref.path} removed (a Sequence the table does not list)")
            continue
        expected = datasets[ref.target][{"sop": "SOPInstanceUID", "series": "SeriesInstanceUID",
                                         "study": "StudyInstanceUID"}[ref.attribute]].value
        if element.value != expected:
            wrong.append(f"{ref.file}:{ref.path} = {element.value}, but {ref.target}'s {ref.attribute} is {expected}")
    assert not wrong


def test_deidentification_is_deterministic_for_a_key(deid, run_for, corpus, tmp_path):
    run = run_for()
    again = deid.Deidentifier(KEY).deidentify_file(corpus.objects["ct_explicit"].path, tmp_path / "again.dcm")
    assert again == run.new_uids["ct_explicit"]
    other = deid.Deidentifier(KEY[::-1]).deidentify_file(corpus.objects["ct_explicit"].path, tmp_path / "other.dcm")
    assert other != again  # keyed: without the key the mapping cannot be recomputed from the original UID


@pytest.mark.parametrize("name", ["ct_explicit", "ct_implicit", "mf_rle", "sr", "mr_deflated", "command_elements"])
def test_streaming_output_is_as_clean(deid, run_for, corpus, name):
    engine = deid.Deidentifier(KEY)
    with open(corpus.objects[name].path, "rb") as src:
        chunks = engine.stream(src)
        data = b"".join(chunks)
    findings = scan_bytes(data, corpus, source=f"stream:{name}")
    assert not findings, summarize(findings)
    ds = pydicom.dcmread(io.BytesIO(data))
    assert ds.PatientIdentityRemoved == "YES"
    assert chunks.sop_instance_uid == ds.SOPInstanceUID == run_for().new_uids[name]


def test_inputs_are_left_alone(run_for, corpus, corpus_digests):
    run_for()
    for name, obj in corpus.objects.items():
        assert hashlib.sha256(obj.path.read_bytes()).hexdigest() == corpus_digests[name], name
