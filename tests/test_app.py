"""The HTTP edge end to end, through waitress on 127.0.0.1: routes, faults, limits, attacks."""

from __future__ import annotations

import requests
from lxml import etree

from support.rad69 import NS, Doc, as_mtom, parse_response, request_xml


def fault_of(resp: requests.Response) -> tuple[str, str]:
    assert resp.headers["Content-Type"].startswith("application/soap+xml")
    env = etree.fromstring(resp.content)
    return (env.findtext(".//env:Fault/env:Code/env:Value", namespaces=NS),
            env.findtext(".//env:Fault/env:Reason/env:Text", namespaces=NS))


def one_doc(server, inst) -> Doc:
    return Doc(inst.study, inst.series, inst.sop, server.repository)


def test_plain_soap12_request_returns_mtom_with_the_stored_bytes(server, sample_instances):
    inst = sample_instances[0]
    resp = server.post(request_xml([one_doc(server, inst)], [inst.transfer_syntax], message_id="urn:uuid:abc"))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("multipart/related")
    r = parse_response(resp.headers["Content-Type"], resp.content)
    assert r.status == "Success"
    assert r.documents() == [(inst.sop, inst.path.read_bytes())]
    assert set(r.part_types.values()) == {"application/dicom"}
    assert r.header("Action") == "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    assert r.header("RelatesTo") == "urn:uuid:abc"
    assert r.header("MessageID").startswith("urn:uuid:")


def test_mtom_request_like_cxf_is_accepted(server, sample_instances):
    inst = sample_instances[1]
    resp = server.post(*reversed(as_mtom(request_xml([one_doc(server, inst)], [inst.transfer_syntax]))))
    r = parse_response(resp.headers["Content-Type"], resp.content)
    assert r.status == "Success" and r.documents() == [(inst.sop, inst.path.read_bytes())]


def test_get_routes(server):
    health = requests.get(server.base + "/healthz", timeout=10).json()
    assert health["status"] == "ok" and isinstance(health["verify_pixels"], bool)
    assert requests.get(server.base + "/nothing", timeout=10).status_code == 404
    r = requests.put(server.url, data=b"x", timeout=10)
    assert r.status_code == 405 and "html" not in r.headers["Content-Type"]


def test_soap11_and_unknown_media_types_are_faults_not_500(server):
    r = server.post(b"<x/>", "text/xml; charset=utf-8")
    # SOAP 1.2 Part 1 Appendix A: a SOAP 1.1 fault a 1.1 toolkit can read, naming the envelope we support.
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/xml")
    env = etree.fromstring(r.content)
    s11 = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "u": "http://www.w3.org/2003/05/soap-envelope"}
    assert env.tag == "{%s}Envelope" % s11["s"]
    assert env.findtext("s:Body/s:Fault/faultcode", namespaces=s11) == "env:VersionMismatch"
    (supported,) = env.findall("s:Header/u:Upgrade/u:SupportedEnvelope", s11)
    prefix, _, local = supported.get("qname").partition(":")
    assert (supported.nsmap[prefix], local) == (s11["u"], "Envelope")
    r = server.post(b"<x/>", "application/json")
    assert r.status_code == 415 and fault_of(r)[0] == "env:Sender"


def test_doctype_xxe_and_billion_laughs_refused(server, sample_instances):
    good = request_xml([one_doc(server, sample_instances[0])])
    decl = good.index(b"?>") + 2
    for prolog in (b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                   b'<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                   b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'):
        r = server.post(good[:decl] + prolog + good[decl:].replace(b"<env:Header>", b"<env:Header>&d;&x;"))
        code, reason = fault_of(r)
        assert r.status_code == 400 and code == "env:Sender" and "DOCTYPE" in reason
        assert b"root:" not in r.content


def test_oversized_request_is_413_fault(server):
    r = server.post(b"<a>" + b" " * (server.config.server.max_request_bytes + 10) + b"</a>")
    assert r.status_code == 413 and fault_of(r)[0] == "env:Sender"


def test_malformed_xml_and_schema_violation_are_sender_faults(server, sample_instances):
    r = server.post(b"<env:Envelope")
    assert r.status_code == 400 and "well-formed" in fault_of(r)[1]
    bad = request_xml([one_doc(server, sample_instances[0])]).replace(b"<iherad:TransferSyntaxUIDList>", b"<iherad:Bogus/><iherad:TransferSyntaxUIDList>")
    r = server.post(bad)
    code, reason = fault_of(r)
    assert r.status_code == 400 and code == "env:Sender" and "Bogus" in reason


def test_unknown_operation_and_action_mismatch(server, sample_instances):
    xml = request_xml([one_doc(server, sample_instances[0])])
    r = server.post(xml.replace(b"urn:ihe:rad:2009:RetrieveImagingDocumentSet", b"urn:ihe:iti:2007:RetrieveDocumentSet"))
    assert r.status_code == 400 and "does not match" in fault_of(r)[1]
    other = b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><x:Nope xmlns:x="urn:x"/></env:Body></env:Envelope>'
    assert "Unsupported operation" in fault_of(server.post(other))[1]


def test_must_understand_header_not_understood(server, sample_instances):
    xml = request_xml([one_doc(server, sample_instances[0])],
                      extra_header='<x:Custom xmlns:x="urn:custom" env:mustUnderstand="true"/>')
    r = server.post(xml)
    assert r.status_code == 400 and fault_of(r)[0] == "env:MustUnderstand"
    assert b"NotUnderstood" in r.content


def test_request_without_ws_addressing_is_served(server, sample_instances):
    inst = sample_instances[0]
    r = server.post(request_xml([one_doc(server, inst)], [inst.transfer_syntax], action=None))
    assert parse_response(r.headers["Content-Type"], r.content).status == "Success"


def test_head_gets_the_get_headers_and_no_body_on_a_kept_alive_connection(server):
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        for path in ("/wado-ws?wsdl", "/healthz", "/nope", "/wado-ws"):
            conn.request("GET", path)
            get = conn.getresponse()
            get_body = get.read()
            conn.request("HEAD", path)
            head = conn.getresponse()
            assert head.status == get.status and head.read() == b""
            assert head.getheader("Content-Length") == get.getheader("Content-Length") == str(len(get_body))
            assert head.getheader("Content-Type") == get.getheader("Content-Type")
        # Still in step: the next GET on the same connection reads its own answer.
        conn.request("GET", "/healthz")
        assert b'"status"' in conn.getresponse().read()
    finally:
        conn.close()


def test_a_chunked_request_body_is_accepted(server, sample_instances):
    """Clients that stream their request (chunked transfer coding, no Content-Length) are served alike."""
    import http.client
    from urllib.parse import urlsplit

    inst = sample_instances[0]
    body = request_xml([one_doc(server, inst)], [inst.transfer_syntax])
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", url.path, body=(body[i:i + 100] for i in range(0, len(body), 100)),
                     headers={"Content-Type": "application/soap+xml; charset=utf-8"}, encode_chunked=True)
        resp = conn.getresponse()
        r = parse_response(resp.getheader("Content-Type"), resp.read())
    finally:
        conn.close()
    assert resp.status == 200 and r.status == "Success"
    assert r.documents() == [(inst.sop, inst.path.read_bytes())]
