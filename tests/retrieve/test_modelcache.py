"""The remembered plain Native DICOM Models (retrieve/modelcache.py): a second request about the same
stored objects answers the same without reading them again; a changed file is never answered from
memory; nothing de-identified is remembered or answered from memory; the bound holds."""

from __future__ import annotations

import os

import pydicom
import pytest

from support.filestores import indexed_copies
from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.docinfo import InformationDocument, InformationRequest, \
    retrieve_imaging_document_set_information as information
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.modelcache import NODE_BYTES
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.store.filestore import FileStore

REPO_ID = "1.2.3.4.5"
KEY = b"modelcache-test-key-0123456789abc"
FILES = ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")
NAME = "string(//DicomAttribute[@keyword='PatientName']/PersonName/Alphabetic/FamilyName)"
XPATHS = (NAME, "//DicomAttribute[@keyword='StudyInstanceUID']/Value", "count(//DicomAttribute)")


class CountingStore(FileStore):
    """The real file store, counting the header reads it is asked for."""

    headers = 0

    def header(self, instance):
        self.headers += 1
        return super().header(instance)


@pytest.fixture()
def store(tmp_path):
    return indexed_copies(tmp_path, FILES, CountingStore)


def source_for(store, cache_bytes=128 << 20) -> ImagingDocumentSource:
    settings = SourceSettings(frozenset({REPO_ID}), native_model_cache_bytes=cache_bytes)
    return ImagingDocumentSource(store[1], settings, Anonymizers(KEY))


def docs(store, names=FILES) -> list[DocumentRequest]:
    out = []
    for name in names:
        ds = pydicom.dcmread(store[0] / name, stop_before_pixels=True)
        out.append(DocumentRequest(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), REPO_ID,
                                   str(ds.SOPInstanceUID)))
    return out


def ask(source, requests, anonymize=None):
    req = InformationRequest(tuple(InformationDocument(d) for d in requests), XPATHS, anonymize)
    result = information(source, req)
    assert not result.errors, result.errors
    return [[list(map(_text, a)) for a in d.answers] for d in result.documents], result


def _text(item) -> str:
    return item if isinstance(item, str) else "".join(item.itertext())


def test_second_request_is_answered_from_memory_with_the_same_answers(store):
    source = source_for(store)
    first, _ = ask(source, docs(store))
    assert store[1].headers == len(FILES) and len(source.native_models) == len(FILES)
    second, result = ask(source, docs(store))
    assert second == first and store[1].headers == len(FILES)  # no header read the second time
    ct = pydicom.dcmread(store[0] / "CT_small.dcm", stop_before_pixels=True)
    assert first[0][0] == [ct.PatientName.family_name]
    # The audit still names the stored patient (PS3.15 A.5.3.7), from memory.
    assert result.documents[0].provenance.patient_id == ct.PatientID


def test_a_changed_file_is_never_answered_from_memory(store):
    source = source_for(store)
    (before,), _ = ask(source, docs(store, ["CT_small.dcm"]))
    path = store[0] / "CT_small.dcm"
    ds = pydicom.dcmread(path)
    ds.PatientName = "Changed^Afterwards"
    ds.save_as(path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10_000_000))
    store[1].refresh()
    (after,), _ = ask(source, docs(store, ["CT_small.dcm"]))
    assert before[0] != after[0] == ["Changed"]


def test_nothing_de_identified_is_remembered_or_answered_from_memory(store):
    source = source_for(store)
    anonymized, _ = ask(source, docs(store), anonymize="yes")
    assert len(source.native_models) == 0
    plain, _ = ask(source, docs(store))
    assert len(source.native_models) == len(FILES)
    again, result = ask(source, docs(store), anonymize="yes")
    assert again == anonymized and result.anonymized
    for stored, anon in zip(plain, again):
        assert anon[0] != stored[0] and anon[1] != stored[1]  # dummy name, new Study Instance UID


def test_the_bound_in_bytes_holds(store):
    nodes = {}
    source = source_for(store)
    ask(source, docs(store))
    for instance, (model, _cost) in source.native_models._items.items():
        nodes[instance.location] = model.nodes
    small = min(nodes.values()) * NODE_BYTES
    bounded = source_for(store, cache_bytes=small)
    ask(bounded, docs(store))
    assert bounded.native_models.bytes <= small and len(bounded.native_models) <= 1
    off = source_for(store, cache_bytes=0)
    ask(off, docs(store))
    assert len(off.native_models) == 0
