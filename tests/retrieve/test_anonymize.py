"""RAD-69 with Anonymize, at the retrieval layer (no HTTP): what is decided before the response starts,
the new identifiers in the metadata, references, consistency, refusals and the caller's policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from wadows.filespan import materialize
from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest, RetrieveRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.security.policy import Access, Caller
from wadows.store.filestore import FileStore

from conftest import instances_in

REPO_ID = "1.2.3.4.5"
KEY = b"k" * 32


def _source(root: Path, tmp: Path, anonymizers: Anonymizers | None = None) -> ImagingDocumentSource:
    store = FileStore(root, tmp / "index.sqlite")
    store.refresh()
    return ImagingDocumentSource(store, SourceSettings(frozenset({REPO_ID})), anonymizers)


def _request(instances, syntaxes=(ExplicitVRLittleEndian,), anonymize: str | None = "yes", per_document=True):
    docs = tuple(DocumentRequest(i.study, i.series, REPO_ID, i.sop, anonymize=anonymize if per_document else None)
                 for i in instances)
    return RetrieveRequest(docs, tuple(syntaxes), anonymize=None if per_document else anonymize)


def _read(result) -> list[tuple[str, pydicom.Dataset]]:
    import io

    out = []
    for d in result.documents:
        data = b"".join(materialize(d.chunks()))
        out.append((d.document_unique_id, pydicom.dcmread(io.BytesIO(data))))
    return out


@pytest.fixture(scope="module")
def source(sample_store, tmp_path_factory):
    return _source(sample_store, tmp_path_factory.mktemp("anon"), Anonymizers(KEY))


def test_document_unique_id_is_the_new_sop_instance_uid(source, sample_instances):
    result = source.retrieve_imaging_document_set(_request(sample_instances, [i.transfer_syntax for i in sample_instances]))
    assert result.status.endswith("Success") and not result.errors and result.anonymized
    originals = {i.sop for i in sample_instances} | {i.study for i in sample_instances} | {i.series for i in sample_instances}
    got = _read(result)
    assert len(got) == len(sample_instances)
    for (uid, ds), inst in zip(got, sample_instances):  # request order
        assert uid == ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        assert uid not in originals and ds.StudyInstanceUID not in originals and ds.SeriesInstanceUID not in originals
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.SOPClassUID == pydicom.dcmread(inst.path, stop_before_pixels=True).SOPClassUID


def test_same_study_twice_and_another_source_with_the_key_give_the_same_uids(source, sample_store, sample_instances,
                                                                            tmp_path):
    req = _request(sample_instances[:4])
    first = [uid for uid, _ in _read(source.retrieve_imaging_document_set(req))]
    again = [uid for uid, _ in _read(source.retrieve_imaging_document_set(req))]
    replica = _source(sample_store, tmp_path, Anonymizers(KEY))
    other = [uid for uid, _ in _read(replica.retrieve_imaging_document_set(req))]
    assert first == again == other
    stranger = _source(sample_store, tmp_path / "b", Anonymizers(b"z" * 32))
    assert not set(first) & {uid for uid, _ in _read(stranger.retrieve_imaging_document_set(req))}


def test_series_and_study_stay_together(source, sample_instances):
    got = _read(source.retrieve_imaging_document_set(_request(sample_instances)))
    pairs = {(i.study, i.series): set() for i in sample_instances}
    for inst, (_, ds) in zip(sample_instances, got):
        pairs[(inst.study, inst.series)].add((ds.StudyInstanceUID, ds.SeriesInstanceUID))
    assert all(len(v) == 1 for v in pairs.values())
    assert len({v.pop() for v in pairs.values()}) == len(pairs)


def test_request_level_anonymize_applies_to_every_document(source, sample_instances):
    result = source.retrieve_imaging_document_set(_request(sample_instances[:3], per_document=False))
    assert all(ds.PatientIdentityRemoved == "YES" for _, ds in _read(result))


def test_objects_in_another_transfer_syntax_are_deidentified_and_transcoded(source, sample_instances):
    result = source.retrieve_imaging_document_set(_request(sample_instances, [ImplicitVRLittleEndian]))
    got = _read(result)
    assert got and not [e for e in result.errors if e.code is not ErrorCode.CANNOT_PROVIDE_IN_FORMAT]
    for uid, ds in got:
        assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
        assert uid == ds.SOPInstanceUID and ds.PatientIdentityRemoved == "YES"


def test_values_other_than_yes_are_0012_and_nothing_is_read(source, sample_instances):
    for value in ("no", "YES", "true", ""):
        result = source.retrieve_imaging_document_set(_request(sample_instances[:1], anonymize=value))
        assert [e.code for e in result.errors] == [ErrorCode.INVALID_PARAMETER_VALUE] and not result.documents


def test_switched_off_is_0002_for_anonymize_and_for_forced_callers(sample_store, sample_instances, tmp_path):
    off = _source(sample_store, tmp_path)
    asked = off.retrieve_imaging_document_set(_request(sample_instances[:2]))
    assert [e.code for e in asked.errors] == [ErrorCode.ANONYMIZE_NOT_SUPPORTED] * 2 and not asked.documents
    forced = off.retrieve_imaging_document_set(_request(sample_instances[:2], anonymize=None),
                                               Caller("partner", Access.ANONYMIZED))
    assert [e.code for e in forced.errors] == [ErrorCode.ANONYMIZE_NOT_SUPPORTED] * 2 and not forced.documents
    plain = off.retrieve_imaging_document_set(_request(sample_instances[:1], [sample_instances[0].transfer_syntax],
                                                       anonymize=None))
    assert b"".join(materialize(plain.documents[0].chunks())) == sample_instances[0].path.read_bytes()


def test_forced_caller_gets_anonymized_objects_without_asking(source, sample_instances):
    result = source.retrieve_imaging_document_set(_request(sample_instances[:3], anonymize=None),
                                                  Caller("partner", Access.ANONYMIZED))
    for (uid, ds), inst in zip(_read(result), sample_instances):
        assert ds.PatientIdentityRemoved == "YES" and uid != inst.sop


def test_identified_caller_without_anonymize_gets_the_stored_bytes(source, sample_instances):
    inst = sample_instances[0]
    result = source.retrieve_imaging_document_set(_request([inst], [inst.transfer_syntax], anonymize=None),
                                                  Caller("clinic", Access.IDENTIFIED))
    assert not result.anonymized
    assert b"".join(materialize(result.documents[0].chunks())) == inst.path.read_bytes()


def test_caller_options_apply(source, sample_instances):
    inst = sample_instances[0]
    research = Caller("research", Access.ANONYMIZED, ("RetainLongitudinalTemporalInformationModifiedDatesOption",))
    (_, ds), = _read(source.retrieve_imaging_document_set(_request([inst], anonymize=None), research))
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "113107" in {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    (_, basic), = _read(source.retrieve_imaging_document_set(_request([inst])))
    assert "113107" not in {item.CodeValue for item in basic.DeidentificationMethodCodeSequence}


def test_burned_in_annotation_is_0001_and_the_others_are_returned(sample_store, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(sample_store, root)
    insts = instances_in(root)
    victim = next(i for i in insts if "PixelData" in pydicom.dcmread(i.path))
    ds = pydicom.dcmread(victim.path)
    ds.BurnedInAnnotation = "YES"
    ds.Manufacturer = "NoRuleForThisMaker"
    ds.save_as(victim.path)
    src = _source(root, tmp_path, Anonymizers(KEY))
    others = [i for i in insts if i.sop != victim.sop][:2]
    result = src.retrieve_imaging_document_set(_request([victim, *others]))
    assert result.status.endswith("PartialSuccess")
    (err,) = result.errors
    assert err.code is ErrorCode.UNABLE_TO_ANONYMIZE and err.location == victim.sop
    assert "NoRuleForThisMaker" not in err.context
    assert [uid for uid, _ in _read(result)] == [d.document_unique_id for d in result.documents]
    assert len(result.documents) == 2


def test_errors_in_anonymized_requests_carry_only_what_the_client_sent(source, sample_instances):
    inst = sample_instances[0]
    unknown = DocumentRequest(inst.study, inst.series, REPO_ID, "1.2.3.999.1", anonymize="yes")
    wrong_series = DocumentRequest(inst.study, "1.2.3.999.2", REPO_ID, inst.sop, anonymize="yes")
    result = source.retrieve_imaging_document_set(RetrieveRequest((unknown, wrong_series), (ExplicitVRLittleEndian,)))
    assert [e.location for e in result.errors] == ["1.2.3.999.1", inst.sop]
    for e in result.errors:
        assert inst.study not in e.context and inst.series not in e.context and inst.sop not in e.context
