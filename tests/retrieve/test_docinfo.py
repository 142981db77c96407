"""RetrieveImagingDocumentSetInformation on its own: answers checked against pydicom's reading of
real files, each error, and with Anonymize the same de-identified header (and UIDs) RAD-69 gives."""

from __future__ import annotations

import io
import shutil

import pydicom
import pytest
from lxml import etree
from pydicom.data import get_testdata_file

from wadows.dicom.nativexml import NAMESPACE, to_native_xml
from wadows.filespan import materialize
from wadows.retrieve.anonymize import Anonymizers
from wadows.deid.stream import rewrite_header
import wadows.retrieve.docinfo as docinfo
from wadows.dicom.tags import PIXEL_TAGS
from wadows.retrieve.docinfo import InformationDocument, InformationRequest, native_model_from_part10, \
    retrieve_imaging_document_set_information as information
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest, RetrieveRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.retrieve.xpath import XPathLimits
from wadows.security.policy import TRUSTED, Access, Caller
from wadows.store.filestore import FileStore
from wadows.store.header import header_from_file

REPO_ID = "1.2.3.4.5"
KEY = b"docinfo-test-key-0123456789abcdef"
FILES = ("CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "rtplan.dcm", "test-SR.dcm", "JPEG2000.dcm")
N = f"{{{NAMESPACE}}}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("docinfo-store")
    for name in FILES:
        shutil.copyfile(get_testdata_file(name), root / name)
    s = FileStore(root, tmp_path_factory.mktemp("docinfo-index") / "index.sqlite")
    s.refresh()
    return root, s


@pytest.fixture(scope="module")
def source(store):
    return ImagingDocumentSource(store[1], SourceSettings(frozenset({REPO_ID}), max_documents=8), Anonymizers(KEY))


def header(store, name: str) -> pydicom.Dataset:
    return pydicom.dcmread(store[0] / name, stop_before_pixels=True)


def doc(ds, **kw) -> DocumentRequest:
    fields = dict(study_uid=str(ds.StudyInstanceUID), series_uid=str(ds.SeriesInstanceUID),
                  repository_unique_id=REPO_ID, document_unique_id=str(ds.SOPInstanceUID))
    fields.update(kw)
    return DocumentRequest(**fields)


def ask(source, docs, xpaths, *, frames=None, anonymize=None, caller=TRUSTED, **kw):
    frames = frames or [None] * len(docs)
    req = InformationRequest(tuple(InformationDocument(d, f) for d, f in zip(docs, frames)), tuple(xpaths), anonymize)
    return information(source, req, caller, **kw)


def text(answer) -> list[str]:
    assert all(isinstance(i, str) for i in answer)
    return list(answer)


@pytest.mark.parametrize("name", FILES)
def test_answers_are_pydicoms_values(store, source, name):
    ds = header(store, name)
    plain = [e for e in ds if e.VR in ("CS", "LO", "SH", "DA", "TM", "UI", "IS", "DS", "US", "UL", "SS")
             and e.keyword and not e.tag.is_private and e.VM == 1 and str(e.value).strip()]
    assert len(plain) >= 5
    for start in range(0, len(plain), 30):  # 32 expressions per request at most (XPathLimits)
        batch = plain[start:start + 30]
        xpaths = [f"string(/NativeDicomModel/DicomAttribute[@keyword='{e.keyword}']/Value[@number=1])" for e in batch]
        result = ask(source, [doc(ds)], xpaths)
        assert result.status.endswith(":Success") and not result.errors, result.errors
        (got,) = result.documents
        assert got.document_unique_id == ds.SOPInstanceUID and len(got.answers) == len(batch)
        for element, answer in zip(batch, got.answers):
            expected = str(element.value).strip() if element.VR not in ("US", "UL", "SS") else str(int(element.value))
            assert text(answer) == [expected], element.keyword
    # Everything up to the pixel data, and the pixel data element (what follows it is not read:
    # Data Set Trailing Padding in CT_small and MR_small).
    whole = pydicom.dcmread(store[0] / name)
    top_level = {e.tag for e in ds if e.tag.element != 0} | ({0x7FE00010} & set(whole.keys()))
    (got,) = ask(source, [doc(ds)], ["count(/NativeDicomModel/DicomAttribute)", "//DicomAttribute[@keyword="
                                     "'PatientName']/PersonName/Alphabetic/FamilyName/text()"]).documents
    assert got.answers[0] == [str(len(top_level))]
    family = ds.PatientName.family_name if "PatientName" in ds and ds.PatientName else None
    assert got.answers[1] == ([family] if family else [])


def test_each_result_kind(store, source):
    ds = header(store, "CT_small.dcm")
    xpaths = ["//DicomAttribute[@keyword='Rows']", "//DicomAttribute[@keyword='Rows']/@vr",
              "//DicomAttribute[@keyword='Modality']/Value/text()", "count(//DicomAttribute[@vr='UI'])",
              "concat('a', 'b')", "boolean(//DicomAttribute[@keyword='PixelData'])", "//DicomAttribute[@tag='60003000']",
              "/", "//n:DicomAttribute[@keyword='PixelSpacing']/n:Value"]
    (got,) = ask(source, [doc(ds)], xpaths).documents
    rows, vr, modality, uis, concat, has_pixels, none, root, spacing = got.answers
    (el,) = rows
    assert el.tag == N + "DicomAttribute" and el.get("vr") == "US" and el.findtext(N + "Value") == str(ds.Rows)
    assert (vr, modality, concat, has_pixels, none) == (["US"], [ds.Modality], ["ab"], ["true"], [])
    assert uis == [str(sum(1 for e in ds if e.VR == "UI" and e.tag.group != 2))]
    (model,) = root
    assert model.tag == N + "NativeDicomModel" and model.find(N + "DicomAttribute[@keyword='PixelData']/" + N
                                                              + "BulkData").get("uri") == "bulkdata/7FE00010"
    assert [v.text for v in spacing] == [str(v) for v in ds.PixelSpacing]
    assert [v.get("number") for v in spacing] == ["1", "2"]


def test_documents_and_answers_keep_request_order_and_errors_are_per_document(store, source):
    ct, mr, multi = (header(store, n) for n in ("CT_small.dcm", "MR_small.dcm", "emri_small.dcm"))
    docs = [doc(mr), doc(ct, document_unique_id="1.2.3.4.999"),                   # unknown
            doc(ct, series_uid="1.2.3.4.998"),                                    # wrong series
            doc(ct, repository_unique_id="9.9.9"),                                # another repository
            doc(multi), doc(multi), doc(ct), doc(ct, home_community_id="urn:oid:1.2.3")]
    frames = [None, None, None, None, "10", "11", "2", "abc"]
    result = ask(source, docs, ["string(//DicomAttribute[@keyword='Modality']/Value)", "count(/)"], frames=frames)
    assert result.status.endswith("PartialSuccess")
    assert [(d.document_unique_id, d.frame_number, d.answers) for d in result.documents] == [
        (mr.SOPInstanceUID, None, [["MR"], ["1"]]), (multi.SOPInstanceUID, 10, [["MR"], ["1"]])]
    assert [(e.code, e.location) for e in result.errors] == [
        (ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, "1.2.3.4.999"), (ErrorCode.INCONSISTENT_IDENTIFIERS, ct.SOPInstanceUID),
        (ErrorCode.XDS_UNKNOWN_REPOSITORY_ID, ct.SOPInstanceUID), (ErrorCode.FRAME_OUT_OF_RANGE, multi.SOPInstanceUID),
        (ErrorCode.FRAME_OUT_OF_RANGE, ct.SOPInstanceUID), (ErrorCode.INVALID_PARAMETER_VALUE, ct.SOPInstanceUID)]
    ok = ask(source, [doc(ct, home_community_id="urn:oid:1.2.3")], ["1"], frames=["1"]).documents
    assert [(d.home_community_id, d.frame_number) for d in ok] == [("urn:oid:1.2.3", 1)]


@pytest.mark.parametrize("expression, position", [
    ("document('/etc/passwd')", 2), ("$x", 2), ("//DicomAttribute[", 2), ("exsl:node-set(/)", 2), ("", 2),
])
def test_a_refused_expression_fails_the_request_with_its_position(store, source, expression, position):
    ct = header(store, "CT_small.dcm")
    result = ask(source, [doc(ct), doc(ct)], ["count(/)", expression, "1"])
    assert result.status.endswith("Failure") and result.documents == []
    (error,) = result.errors
    assert error.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert error.context.startswith(f"XPath {position}: ") and error.location == f"XPathList/XPath[{position}]"


def test_too_many_expressions_and_too_many_documents(store, source):
    ct = header(store, "CT_small.dcm")
    (error,) = ask(source, [doc(ct)], ["1"] * 33).errors
    assert error.code == ErrorCode.INVALID_PARAMETER_VALUE and "32" in error.context
    (error,) = ask(source, [doc(ct)] * 9, ["1"]).errors
    assert error.code == ErrorCode.SIZE_EXCEEDS_LIMITS


def test_answers_are_bounded_per_answer_and_per_response(store, source):
    ct = header(store, "CT_small.dcm")
    result = ask(source, [doc(ct)], ["1", "//*"], limits=XPathLimits(max_bytes=2000))
    (error,) = result.errors
    assert error.code == ErrorCode.SIZE_EXCEEDS_LIMITS and error.context.startswith("XPath 2: ")
    result = ask(source, [doc(ct)] * 3, ["/"], max_response_bytes=60_000)
    assert len(result.documents) == 1 and [e.code for e in result.errors] == [ErrorCode.SIZE_EXCEEDS_LIMITS] * 2


def test_anonymize_value_and_anonymize_switched_off(store, source):
    ct = header(store, "CT_small.dcm")
    result = ask(source, [doc(ct, anonymize="no"), doc(ct)], ["1"], anonymize="true")
    assert [e.code for e in result.errors] == [ErrorCode.INVALID_PARAMETER_VALUE] * 2 and result.anonymized
    off = ImagingDocumentSource(store[1], SourceSettings(frozenset({REPO_ID})))
    assert [e.code for e in ask(off, [doc(ct)], ["1"], anonymize="yes").errors] == [ErrorCode.ANONYMIZE_NOT_SUPPORTED]


class HeaderOnly:
    """A backend that gives headers (read up to the pixel data, store/header.py) and nothing else."""

    def __init__(self, store: FileStore) -> None:
        self.store, self.headers = store, 0

    def lookup(self, uid):
        return self.store.lookup(uid)

    def header(self, instance):
        self.headers += 1
        return self.store.header(instance)

    def check(self, instance):
        raise AssertionError("availability is the header read, not a second open")

    def open(self, instance):
        raise AssertionError("the whole object was opened")


def test_header_only_never_the_pixel_data(store):
    backend = HeaderOnly(store[1])
    source = ImagingDocumentSource(backend, SourceSettings(frozenset({REPO_ID})), Anonymizers(KEY))
    asked = 0
    # (JPEG2000.dcm is refused de-identification, 0001, by the pixel rules: asked without Anonymize only.)
    for anonymize, names in ((None, ("CT_small.dcm", "emri_small.dcm", "JPEG2000.dcm")),
                             ("yes", ("CT_small.dcm", "emri_small.dcm"))):
        docs = [doc(header(store, n)) for n in names]
        result = ask(source, docs, ["string(//DicomAttribute[@keyword='Rows']/Value)"], anonymize=anonymize)
        assert not result.errors and [d.answers for d in result.documents] == [
            [[str(header(store, n).Rows)]] for n in names]
        asked += len(names)
    assert backend.headers == asked


def _rad69_deidentified(source, ds, caller=TRUSTED) -> pydicom.Dataset:
    got = source.retrieve_imaging_document_set(
        RetrieveRequest((doc(ds, anonymize="yes"),), (str(ds.file_meta.TransferSyntaxUID),)), caller)
    (result,) = got.documents
    return pydicom.dcmread(io.BytesIO(b"".join(materialize(result.chunks(), 1 << 20))))


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "rtplan.dcm", "test-SR.dcm"])
def test_anonymized_answers_are_the_native_model_of_rad69s_deidentified_object(store, source, name):
    ds = header(store, name)
    rad69 = _rad69_deidentified(source, ds)
    (got,) = ask(source, [doc(ds, anonymize="yes")], ["/", "//DicomAttribute[@vr='UI']/Value/text()"]).documents
    assert got.document_unique_id == rad69.SOPInstanceUID != ds.SOPInstanceUID
    (model,) = got.answers[0]
    expected = to_native_xml(rad69)
    assert etree.tostring(model) == etree.tostring(expected)
    originals = {str(e.value) for e in ds.iterall() if e.VR == "UI"} - {str(e.value) for e in rad69.iterall()
                                                                        if e.VR == "UI"}
    assert originals and not originals & set(got.answers[1])


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "rtplan.dcm", "test-SR.dcm"])
def test_the_model_of_a_rewritten_header_given_as_bytes_is_the_anonymized_answer(store, source, name):
    """The answer is built from the byte-level rewriter's header read back (native_model_from_part10);
    the walker's de-identified data set, where the rewriter declines, gives the same model."""
    ds = header(store, name)
    (got,) = ask(source, [doc(ds, anonymize="yes")], ["/"]).documents
    with open(store[0] / name, "rb") as f:
        stored = header_from_file(f)
    markers = {tag: stored[tag] for tag in PIXEL_TAGS if tag in stored}
    deid = source.anonymizers.get()
    plan = deid.decide(stored).plan
    data = rewrite_header(stored, plan)
    assert markers or name in ("rtplan.dcm", "test-SR.dcm")
    model, nodes = native_model_from_part10(data, markers)
    assert etree.tostring(model) == etree.tostring(got.answers[0][0]) and nodes == sum(1 for _ in model.iter())
    walked, _ = docinfo._marked(docinfo._deidentified(stored, deid, markers, plan), markers)
    assert etree.tostring(walked) == etree.tostring(got.answers[0][0])


def test_a_caller_forced_to_anonymize_gets_the_same_answers(store, source):
    ds = header(store, "CT_small.dcm")
    partner = Caller("partner", Access.ANONYMIZED)
    forced = ask(source, [doc(ds)], ["//DicomAttribute[@keyword='PatientName']", "string(//DicomAttribute"
                                     "[@keyword='StudyInstanceUID']/Value)"], caller=partner)
    asked = ask(source, [doc(ds, anonymize="yes")], ["//DicomAttribute[@keyword='PatientName']", "string("
                "//DicomAttribute[@keyword='StudyInstanceUID']/Value)"])
    assert forced.anonymized and forced.documents[0].answers[1] == asked.documents[0].answers[1]
    assert forced.documents[0].answers[1] == [str(_rad69_deidentified(source, ds, partner).StudyInstanceUID)]
    assert "CompressedSamples" not in etree.tostring(forced.documents[0].answers[0][0]).decode()
