import email.parser
import email.policy
from pathlib import Path

import pytest

from support.needs import unavailable
from lxml import etree

from wadows.soap import faults, mtom

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "wire-examples"


def _curl_example(name: str) -> tuple[str, bytes]:
    """The wire examples are curl command lines: pull out the Content-Type header and the body."""
    path = SHARED / name
    if not path.exists():
        unavailable(f"{path} not found: the ../shared reference folder is absent")
    text = path.read_text()
    ctype = text.split("-H 'Content-Type: ", 1)[1].split("' \\", 1)[0]
    body = text.split("--data-binary '", 1)[1].rsplit("'", 1)[0]
    return ctype, body.encode()


@pytest.mark.parametrize("name,root", [
    ("rad69-request.txt", "{urn:ihe:rad:xdsi-b:2009}RetrieveImagingDocumentSetRequest"),
    ("retrieve-rendered-imaging-doc-set-request.txt", "{urn:dicom:wado:ws:2011}RetrieveRenderedImagingDocumentSetRequest"),
])
def test_axis2_cxf_multipart_requests_parse(name, root):
    ctype, body = _curl_example(name)
    xml, attachments = mtom.parse_request(ctype, body)
    env = etree.fromstring(xml)
    assert env.find("{http://www.w3.org/2003/05/soap-envelope}Body")[0].tag == root
    assert attachments == {}
    assert mtom.content_type_param(ctype, "action").startswith("urn:")


def test_crlf_multipart_with_start_and_attachment():
    ctype = 'multipart/related; boundary="b1"; type="application/xop+xml"; start="<root@x>"'
    body = (b"--b1\r\nContent-Type: application/octet-stream\r\nContent-ID: <att@x>\r\n\r\n\x00\xffdata\r\n"
            b"--b1\r\nContent-Type: application/xop+xml\r\nContent-ID: <root@x>\r\n\r\n<a/>\r\n--b1--\r\n")
    xml, attachments = mtom.parse_request(ctype, body)
    assert xml == b"<a/>"
    assert attachments == {"att@x": b"\x00\xffdata"}


@pytest.mark.parametrize("ctype,body", [
    ("multipart/related", b"--x\r\n\r\n<a/>\r\n--x--"),
    ('multipart/related; boundary="b"; start="<nope>"', b"--b\r\nContent-ID: <r>\r\n\r\n<a/>\r\n--b--\r\n"),
])
def test_unusable_multipart_is_sender_fault(ctype, body):
    with pytest.raises(faults.SoapFault):
        mtom.parse_request(ctype, body)


def test_response_is_well_formed_multipart_and_streams_parts():
    pieces = [b"A" * 10, b"B" * 5]
    consumed = []

    def chunks():
        for p in pieces:
            consumed.append(p)
            yield p

    ctype, body = mtom.write_response(b"<env/>", [mtom.Attachment("c1@wadows", "application/dicom", chunks())],
                                      action="urn:a")
    first = next(body)
    assert first.endswith(b"<env/>") and consumed == []  # the document is not read before its part
    raw = first + b"".join(body)
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["application/xop+xml", "application/dicom"]
    assert parts[0]["Content-ID"] == msg.get_param("start")
    assert parts[1]["Content-ID"] == "<c1@wadows>"
    assert parts[1].get_payload(decode=True) == b"A" * 10 + b"B" * 5
    assert msg.get_param("start-info") == "application/soap+xml"


def test_content_ids_are_random_and_carry_no_identifier():
    a, b = mtom.new_content_id(1), mtom.new_content_id(1)
    assert a != b and a.endswith("-1@wadows")
