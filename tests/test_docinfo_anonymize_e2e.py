"""RetrieveImagingDocumentSetInformation with Anonymize against the planted-PHI corpus, served by a real
`wadows serve` process: broad expressions over every object, the whole HTTP response and the server's
log scanned, no planted value and no original UID anywhere; the UIDs answered are the ones RAD-69's
de-identified objects carry under the same key (PS3.18 §8.1.7)."""

from __future__ import annotations

import io

import pydicom
import pytest
import requests
from pydicom.uid import ExplicitVRLittleEndian

from phi.corpus import corpus_for_tests
from phi.scanner import allowed_for, scan_bytes, scan_log, summarize
from support import rad69
from support.docinfo import Doc, parse_response, request_xml
from support.process import served
from wadows.soap.validate import validate_element

REPOSITORY = "2.25.104010150727412930373520467207786914562"  # the default config's
SOAP = {"Content-Type": "application/soap+xml"}
BROAD = ["/", "//DicomAttribute", "//PersonName", "//@*", "//text()"]
TARGETED = ["//DicomAttribute[@keyword='PatientName']", "string(//DicomAttribute[@keyword='PatientID']/Value)",
            "//DicomAttribute[@vr='UI']/Value/text()", "//DicomAttribute[@vr='DA']",
            "//DicomAttribute[@privateCreator]", "//DicomAttribute[@keyword='SOPInstanceUID']/Value/text()",
            "//DicomAttribute[@keyword='StudyInstanceUID']/Value/text()"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return corpus_for_tests(tmp_path_factory.mktemp("docinfo-phi"), seed=0)


@pytest.fixture(scope="module")
def server(corpus, tmp_path_factory):
    key = tmp_path_factory.mktemp("key") / "deid.key"
    key.write_text("ef" * 32 + "\n")
    key.chmod(0o600)
    with served(corpus.root, tmp_path_factory.mktemp("docinfo-phi-serve"), f'[deid]\nkey_file = "{key}"\n') as proc:
        yield proc


def _docs(corpus, anonymize="yes") -> list[Doc]:
    return [Doc(o.study_instance_uid, o.series_instance_uid, o.sop_instance_uid, REPOSITORY, anonymize)
            for o in corpus.objects.values()]


def _originals(corpus) -> set[bytes]:
    return {getattr(o, f"{a}_instance_uid").encode() for o in corpus.objects.values() for a in ("sop", "series", "study")}


def _wire(r: requests.Response) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in r.headers.items()).encode() + b"\r\n" + r.content


def _assert_clean(corpus, data: bytes, source: str) -> None:
    scan = scan_log if source == "server log" else scan_bytes
    findings = scan(data, corpus, allowed=allowed_for(()), source=source)
    assert not findings, summarize(findings)
    assert not [u for u in _originals(corpus) if u in data], f"an original UID in the {source}"


@pytest.mark.parametrize("xpaths, request_level", [(BROAD, False), (TARGETED, True)], ids=["broad", "targeted"])
def test_nothing_planted_survives_in_the_response_or_the_log(corpus, server, xpaths, request_level):
    docs = _docs(corpus, anonymize=None if request_level else "yes")
    r = requests.post(server.url, data=request_xml(docs, xpaths, anonymize="yes" if request_level else None),
                      headers=SOAP, timeout=300)
    assert r.status_code == 200
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Success", resp.errors
    validate_element(resp.body)
    answers = resp.answers()
    assert len(answers) == len(corpus.objects) and all(len(a.responses) == len(xpaths) for a in answers)
    assert all(a.responses[0] for a in answers), "every expression's first answer has content"
    _assert_clean(corpus, _wire(r), "HTTP response")
    log = server.log_bytes()
    assert b'"anonymized": true' in log  # the access log is there
    assert b"Warning" not in log and b"WARNING" not in log
    _assert_clean(corpus, log, "server log")


def test_the_uids_answered_are_rad69s(corpus, server):
    """The same key, the same objects: DocumentUniqueId and every UID inside the answer are the UIDs of
    the object RAD-69 returns de-identified, and its whole UI content."""
    docs = _docs(corpus)
    r = requests.post(server.url, data=request_xml(docs, ["//DicomAttribute[@vr='UI']/Value/text()"]),
                      headers=SOAP, timeout=300)
    answers = parse_response(r.headers["Content-Type"], r.content).answers()
    got = requests.post(server.url, data=rad69.request_xml(
        [rad69.Doc(d.study, d.series, d.sop, d.repository, "yes") for d in docs], (ExplicitVRLittleEndian,)),
        headers=SOAP, timeout=300)
    retrieved = rad69.parse_response(got.headers["Content-Type"], got.content).documents()
    assert len(answers) == len(retrieved) == len(corpus.objects)
    for answer, (uid, data) in zip(answers, retrieved):
        ds = pydicom.dcmread(io.BytesIO(data))
        assert answer.document_unique_id == uid == ds.SOPInstanceUID
        # the de-identified object's UIDs up to its pixel data, in document order
        header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        expected = []
        for element in header.iterall():
            if element.VR == "UI" and element.tag.element != 0 and element.value:
                expected.extend(str(v) for v in (element.value if element.VM > 1 else [element.value]))
        assert sorted(answer.texts(1)) == sorted(expected)


def test_refusals_in_an_anonymized_request_name_only_what_was_sent(corpus, server):
    obj = next(iter(corpus.objects.values()))
    docs = [Doc(obj.study_instance_uid, "1.2.3.4.999", obj.sop_instance_uid, REPOSITORY, "yes"),
            Doc(obj.study_instance_uid, obj.series_instance_uid, "1.2.3.4.998", REPOSITORY, "yes")]
    r = requests.post(server.url, data=request_xml(docs, ["/"]), headers=SOAP, timeout=60)
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Failure" and [e["location"] for e in resp.errors] == [obj.sop_instance_uid, "1.2.3.4.998"]
    wire = _wire(r).replace(obj.sop_instance_uid.encode(), b"").replace(obj.study_instance_uid.encode(), b"")
    _assert_clean(corpus, wire, "HTTP response")


def test_control_the_same_expressions_on_the_original_objects_expose_what_was_planted(corpus):
    """Without de-identification these expressions do reach the planted values: the scans above
    would see them."""
    from wadows.dicom.nativexml import to_native_xml
    from wadows.retrieve.xpath import XPathLimits, evaluate
    from lxml import etree

    exposed = b""
    unbounded = XPathLimits(max_items=10 ** 6, max_bytes=1 << 30)  # the originals hold more than the default
    for obj in corpus.objects.values():
        root = to_native_xml(pydicom.dcmread(obj.path, stop_before_pixels=True))
        for expression in BROAD:
            exposed += b"".join(etree.tostring(i) if not isinstance(i, str) else i.encode()
                                for i in evaluate(root, expression, unbounded))
    assert scan_bytes(exposed, corpus, allowed=allowed_for(()), source="control")
    assert [u for u in _originals(corpus) if u in exposed]
