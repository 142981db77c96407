"""RetrieveImagingDocumentSetInformation served: raw SOAP and a zeep client generated from the served
WSDL, over pydicom's own files; every response validates against our XSD, every element it returns
against the PS3.19 schema; the errors a client sees on the wire."""

from __future__ import annotations

import shutil

import pydicom
import pytest
import requests
import zeep
from lxml import etree
from pydicom.data import get_testdata_file

from conftest import run_server
from dicom.schema import schemas, uses_newer_vr
from support.docinfo import ACTION, NATIVE, NS, RESPONSE_ACTION, Doc, parse_response, request_xml
from support.rad69 import as_mtom
from wadows.soap.validate import validate_element

FILES = ("CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "rtplan.dcm", "test-SR.dcm", "JPEG2000.dcm",
         "SC_rgb_rle.dcm", "liver.dcm")
SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}
BROAD = ["/", "//DicomAttribute", "//PersonName", "//@keyword", "count(//Item)"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("docinfo-served")
    for name in FILES:
        shutil.copyfile(get_testdata_file(name), root / name)
    running, srv = run_server(root, tmp_path_factory.mktemp("docinfo-server"), server__max_documents=20)
    yield running
    srv.close()


@pytest.fixture(scope="module")
def ps319(tmp_path_factory):
    return schemas(tmp_path_factory.mktemp("docinfo-ps319"))


def _ds(served, name: str) -> pydicom.Dataset:
    return pydicom.dcmread(served.root / name, stop_before_pixels=True)


def _doc(served, name: str, **kw) -> Doc:
    ds = _ds(served, name)
    return Doc(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), served.repository, **kw)


def _post(served, body: bytes, **kw):
    r = served.post(body, **kw)
    assert r.status_code == 200, r.text[:2000]
    return parse_response(r.headers["Content-Type"], r.content)


def _native_valid(ps319, element: etree._Element) -> bool:
    """PS3.19's start is NativeDicomModel: a DicomAttribute is checked inside one."""
    if element.tag == f"{{{NATIVE}}}DicomAttribute":
        wrapper = etree.Element(f"{{{NATIVE}}}NativeDicomModel", nsmap={None: NATIVE})
        wrapper.append(etree.fromstring(etree.tostring(element)))
        element = wrapper
    schema = ps319.current if uses_newer_vr(element) else ps319.strict
    return schema.validate(etree.fromstring(etree.tostring(element)))


def test_every_file_broadly_asked_validates_against_our_xsd_and_ps319(served, ps319):
    docs = [_doc(served, n) for n in FILES]
    resp = _post(served, request_xml(docs, BROAD))
    assert resp.status == "Success" and resp.action == RESPONSE_ACTION, resp.errors
    validate_element(resp.body)  # our XSD: raises SchemaViolation with the first error
    answers = resp.answers()
    assert [a.document_unique_id for a in answers] == [d.sop for d in docs]
    checked = 0
    for name, answer in zip(FILES, answers):
        ds = pydicom.dcmread(served.root / name)
        assert len(answer.responses) == len(BROAD)
        (model,) = answer.elements(1)
        attributes = answer.elements(2)
        for element in [model, *attributes]:
            assert _native_valid(ps319, element), (name, element.get("tag"))
            checked += 1
        assert len(model) == len([e for e in _ds(served, name) if e.tag.element != 0]) + ("PixelData" in ds)
        names = answer.elements(3)
        assert len(names) == len([e for e in _ds(served, name).iterall() if e.VR == "PN" for _ in
                                  (e.value if e.VM > 1 else [e.value]) if str(_)])
        assert set(answer.texts(4)) == {e.keyword for e in _ds(served, name).iterall() if e.keyword
                                        and e.tag.element != 0} | ({"PixelData"} if "PixelData" in ds else set())
        assert answer.texts(5) == [str(sum(len(e.value) for e in _ds(served, name).iterall() if e.VR == "SQ"))]
    assert checked > 500


def test_values_match_pydicom_and_plain_text_kinds(served):
    ct = _ds(served, "CT_small.dcm")
    xpaths = ["//DicomAttribute[@keyword='PatientName']/PersonName/Alphabetic/GivenName/text()",
              "//DicomAttribute[@keyword='ImagePositionPatient']/Value/text()", "string(//DicomAttribute"
              "[@keyword='SOPInstanceUID']/Value)", "//DicomAttribute[@keyword='Rows']/@vr",
              "//DicomAttribute[@keyword='Rows']/Value = 128", "//DicomAttribute[@keyword='NoSuchThing']"]
    (answer,) = _post(served, request_xml([_doc(served, "CT_small.dcm", frame="1", home="urn:oid:1.2.3")],
                                          xpaths)).answers()
    assert (answer.frame, answer.home) == ("1", "urn:oid:1.2.3")
    assert answer.texts(1) == [ct.PatientName.given_name]
    assert answer.texts(2) == [str(v) for v in ct.ImagePositionPatient]
    assert answer.texts(3) == [ct.SOPInstanceUID]
    assert answer.texts(4) == ["US"]
    assert answer.texts(5) == [str(ct.Rows == 128).lower()]
    assert answer.responses[5] == []


@pytest.mark.parametrize("action", [ACTION, "urn:dicom:wado:ws:2011:RetrieveImagingDocumentSetInformation",
                                    "urn:dicom:ws:wado:2011:RetrieveImagingDocumentSetInformation", None])
def test_every_action_spelling_and_mtom(served, action):
    body = request_xml([_doc(served, "MR_small.dcm")], ["string(//DicomAttribute[@keyword='Modality']/Value)"],
                       action=action)
    ctype, mtom = as_mtom(body, action or ACTION)
    for data, headers in ((body, SOAP), (mtom, {"Content-Type": ctype})):
        r = requests.post(served.url, data=data, headers=headers, timeout=60)
        (answer,) = parse_response(r.headers["Content-Type"], r.content).answers()
        assert answer.texts(1) == ["MR"]


def test_the_rad69_action_on_this_body_is_a_fault(served):
    body = request_xml([_doc(served, "MR_small.dcm")], ["1"], action="urn:ihe:rad:2009:RetrieveImagingDocumentSet")
    r = requests.post(served.url, data=body, headers=SOAP, timeout=60)
    assert r.status_code == 400 and b"ActionNotSupported" in r.content


def test_errors_on_the_wire(served):
    mr, multi = _doc(served, "MR_small.dcm"), _doc(served, "emri_small.dcm")
    docs = [Doc(mr.study, mr.series, "1.2.3.4.5.6.7", mr.repository), Doc(mr.study, "1.2.3.9", mr.sop, mr.repository),
            Doc(multi.study, multi.series, multi.sop, multi.repository, frame="11"),
            Doc(mr.study, mr.series, mr.sop, mr.repository, anonymize="please"), mr]
    resp = _post(served, request_xml(docs, ["1"]))
    assert resp.status == "PartialSuccess"
    validate_element(resp.body)
    # In the order of the request's XML, which groups documents by study and series.
    assert [(e["errorCode"], e["location"]) for e in resp.errors] == [
        ("XDSDocumentUniqueIdError", "1.2.3.4.5.6.7"), ("urn:dicom:wado:0012", mr.sop),
        ("urn:dicom:wado:0010", mr.sop), ("urn:dicom:wado:0018", multi.sop)]
    assert [a.document_unique_id for a in resp.answers()] == [mr.sop]
    refused = _post(served, request_xml([mr], ["1", "document('file:///etc/passwd')//*"]))
    assert refused.status == "Failure" and not refused.answers()
    (error,) = refused.errors
    assert error["errorCode"] == "urn:dicom:wado:0012" and error["location"] == "XPathList/XPath[2]"
    assert error["codeContext"].startswith("XPath 2: ")
    validate_element(refused.body)


def test_schema_violations_are_sender_faults(served):
    mr = _doc(served, "MR_small.dcm")
    no_xpath = request_xml([mr], []).replace(b"<wado:XPathList></wado:XPathList>", b"")
    wrong_order = request_xml([Doc(mr.study, mr.series, mr.sop, mr.repository, anonymize="yes", frame="1")], ["1"]) \
        .replace(b"<wado:FrameNumber>1</wado:FrameNumber><wado:Anonymize>yes</wado:Anonymize>",
                 b"<wado:Anonymize>yes</wado:Anonymize><wado:FrameNumber>1</wado:FrameNumber>")
    for body in (no_xpath, wrong_order):
        r = requests.post(served.url, data=body, headers=SOAP, timeout=60)
        assert r.status_code == 400 and b"Sender" in r.content and b"schema" in r.content


def test_too_many_documents_is_0005_in_this_operations_response(served):
    mr = _doc(served, "MR_small.dcm")
    r = requests.post(served.url, data=request_xml([mr] * 21, ["1"]), headers=SOAP, timeout=60)
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.body.tag == "{urn:dicom:wado:ws:2011}RetrieveImagingDocumentSetInformationResponse"
    assert resp.action == RESPONSE_ACTION and [e["errorCode"] for e in resp.errors] == ["urn:dicom:wado:0005"]
    validate_element(resp.body)


def test_zeep_from_the_served_wsdl(served):
    client = zeep.Client(served.url + "?wsdl", settings=zeep.Settings(strict=True, xml_huge_tree=True))
    ct, multi = _doc(served, "CT_small.dcm"), _doc(served, "emri_small.dcm")
    result = client.service.RetrieveImagingDocumentSetInformation(
        StudyRequest=[{"studyInstanceUID": d.study, "SeriesRequest": [{"seriesInstanceUID": d.series, "DocumentRequest": [
            {"RepositoryUniqueId": d.repository, "DocumentUniqueId": d.sop, "FrameNumber": f}]}]}
            for d, f in ((ct, None), (multi, "3"))],
        XPathList={"XPath": ["string(//DicomAttribute[@keyword='Modality']/Value)",
                             "//DicomAttribute[@keyword='Rows']"]})
    assert result.RegistryResponse.status.endswith(":Success")
    got = result.DocumentInformationResponse
    assert [d.DocumentUniqueId for d in got] == [ct.sop, multi.sop] and [d.FrameNumber for d in got] == [None, "3"]
    ct_ds = _ds(served, "CT_small.dcm")
    modality, rows = got[0].XPathResponseList.XPathResponse
    (item,) = modality.Item
    assert item.Text == "CT"
    (row,) = rows.Item
    assert row.Text is None and row._value_1.tag == f"{{{NATIVE}}}DicomAttribute"
    assert row._value_1.findtext(f"{{{NATIVE}}}Value") == str(ct_ds.Rows)
    # the same call, anonymized: zeep writes Anonymize in the wado namespace, and the answer follows it
    anon = client.service.RetrieveImagingDocumentSetInformation(
        StudyRequest=[{"studyInstanceUID": ct.study, "SeriesRequest": [{"seriesInstanceUID": ct.series,
                       "DocumentRequest": [{"RepositoryUniqueId": ct.repository, "DocumentUniqueId": ct.sop}]}]}],
        XPathList={"XPath": ["string(//DicomAttribute[@keyword='SOPInstanceUID']/Value)"]}, Anonymize="yes")
    (doc,) = anon.DocumentInformationResponse
    assert doc.DocumentUniqueId != ct.sop and doc.DocumentUniqueId.startswith("2.25.")

