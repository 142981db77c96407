import base64

import pytest

from wadows.soap import envelope, faults
from wadows.soap.ns import SOAP12

BODY = b'<r:Req xmlns:r="urn:x"><r:a>1</r:a></r:Req>'


def env(body: bytes = BODY, header: bytes = b"", prolog: bytes = b'<?xml version="1.0"?>') -> bytes:
    return prolog + b'<e:Envelope xmlns:e="%s"><e:Header>%s</e:Header><e:Body>%s</e:Body></e:Envelope>' % (
        SOAP12.encode(), header, body)


def test_parses_body_and_headers():
    parsed = envelope.parse_envelope(env(header=b'<h:X xmlns:h="urn:h">v</h:X>'))
    assert parsed.body.tag == "{urn:x}Req"
    assert [h.tag for h in parsed.headers] == ["{urn:h}X"]


@pytest.mark.parametrize("attack", [
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
    b'<?xml version="1.0"?><!doctype e>',
])
def test_doctype_refused_before_parsing(attack):
    with pytest.raises(faults.SoapFault) as info:
        envelope.parse_envelope(env(prolog=attack))
    assert info.value.code == faults.SENDER
    assert "DOCTYPE" in info.value.reason


def test_doctype_in_utf16_refused():
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY x "y">]><e/>'.encode("utf-16-le")
    with pytest.raises(faults.SoapFault):
        envelope.parse_envelope(data)


def test_soap11_is_version_mismatch():
    data = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
    with pytest.raises(faults.SoapFault) as info:
        envelope.parse_envelope(data)
    assert info.value.code == faults.VERSION_MISMATCH


@pytest.mark.parametrize("data,words", [
    (b"<not-closed", "well-formed"),
    (b'<x xmlns="urn:x"/>', "not a SOAP 1.2 Envelope"),
    (env(body=b""), "exactly one element"),
    (env(body=BODY + BODY), "exactly one element"),
])
def test_malformed_envelopes_are_sender_faults(data, words):
    with pytest.raises(faults.SoapFault) as info:
        envelope.parse_envelope(data)
    assert info.value.code == faults.SENDER and words in info.value.reason


def test_xop_include_is_folded_back_into_base64():
    body = b'<r:Req xmlns:r="urn:x"><r:bin><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:a%40b"/></r:bin></r:Req>'
    parsed = envelope.parse_envelope(env(body=body), {"a@b": b"\x00\x01binary"})
    assert base64.b64decode(parsed.body[0].text) == b"\x00\x01binary"


def test_xop_include_to_missing_part_is_sender_fault():
    body = b'<r:Req xmlns:r="urn:x"><r:bin><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:nope"/></r:bin></r:Req>'
    with pytest.raises(faults.SoapFault):
        envelope.parse_envelope(env(body=body), {})


# -- limits checked by the pre-scan (issue 17 item 4) ----------------------------------------------

SMALL = envelope.ParseLimits(max_documents=3, max_depth=8, max_header_elements=4, max_attributes=3,
                             max_attribute_chars=16, max_text_chars=32, extra_elements=20)


def _reason(data: bytes, limits: envelope.ParseLimits = SMALL) -> str:
    with pytest.raises(faults.SoapFault) as info:
        envelope.parse_envelope(data, limits=limits)
    assert info.value.code == faults.SENDER
    return info.value.reason


def test_limits_at_their_edge_pass():
    docs = b"".join(b'<i:DocumentRequest xmlns:i="urn:ihe:iti:xds-b:2007"/>' for _ in range(3))
    parsed = envelope.parse_envelope(env(body=b"<r:Req xmlns:r='urn:x'>%s</r:Req>" % docs,
                                         header=b"<h:a xmlns:h='urn:h'><h:b/><h:c/><h:d/></h:a>"), limits=SMALL)
    assert len(parsed.body) == 3 and len(parsed.headers) == 1


def test_one_document_request_too_many_is_0005_not_a_tree():
    docs = b"".join(b'<i:DocumentRequest xmlns:i="urn:ihe:iti:xds-b:2007"/>' for _ in range(4))
    with pytest.raises(envelope.TooManyDocuments) as info:
        envelope.parse_envelope(env(body=b"<r:Req xmlns:r='urn:x'>%s</r:Req>" % docs), limits=SMALL)
    assert info.value.limit == 3


@pytest.mark.parametrize("ns", ["urn:ihe:iti:xds-b:2007", "urn:dicom:wado:ws:2011"])
def test_every_operations_document_requests_are_counted_and_the_body_element_named(ns):
    """RAD-69's ihe:DocumentRequest and RetrieveImagingDocumentSetInformation's wado:DocumentRequest
    alike; the answer is then the response of the operation the Body's element names."""
    docs = b"".join(b'<i:DocumentRequest xmlns:i="%s"/>' % ns.encode() for _ in range(4))
    with pytest.raises(envelope.TooManyDocuments) as info:
        envelope.parse_envelope(env(body=b"<r:Req xmlns:r='urn:x'><r:S>%s</r:S></r:Req>" % docs,
                                    header=b"<h:a xmlns:h='urn:h'><h:b/></h:a>"), limits=SMALL)
    assert info.value.limit == 3 and info.value.request == "{urn:x}Req"
    other = b"".join(b'<i:DocumentRequest xmlns:i="urn:other"/>' for _ in range(4))
    envelope.parse_envelope(env(body=b"<r:Req xmlns:r='urn:x'>%s</r:Req>" % other), limits=SMALL)


def test_header_elements_counted_at_any_depth():
    assert "Header holds more than 4" in _reason(env(header=b"<a><b/><c/><d/><e/></a>"))


def test_element_count():
    # 20 extra + 24 per document (a rendered document request carries up to about twenty elements).
    assert "more than 92 elements" in _reason(env(body=b"<r>%s</r>" % (b"<x/>" * 93)))


def test_depth():
    assert "deeper than 8" in _reason(env(body=b"<a>" * 7 + b"</a>" * 7))


def test_attribute_count_and_size():
    assert "more than 3 attributes" in _reason(env(body=b'<r a="1" b="2" c="3" d="4"/>'))
    assert "longer than 16" in _reason(env(body=b'<r a="%s"/>' % (b"x" * 17)))


def test_text_size_counts_split_chunks():
    assert "longer than 32" in _reason(env(body=b"<r>%s</r>" % (b"x" * 33)))
    assert "longer than 32" in _reason(env(body=b"<r>%s<!-- c -->%s</r>" % (b"x" * 20, b"y" * 20)))


def test_default_limits_stop_millions_of_elements_early():
    assert "Header holds more than" in _reason(env(header=b"<p/>" * 300_000), envelope.ParseLimits())


@pytest.mark.parametrize("shape", [
    b"<e:Body><r/></e:Body><e:Body><r/></e:Body>",
    b"<e:Header/><e:Body><r/></e:Body><e:Body><r/></e:Body>",
    b"<e:Body><r/></e:Body><e:Header/>",
    b"<e:Header/><e:Header/><e:Body><r/></e:Body>",
    b"<e:Body><r/></e:Body><x/>",
])
def test_envelope_holds_one_header_then_one_body(shape):
    data = b'<e:Envelope xmlns:e="%s">%s</e:Envelope>' % (SOAP12.encode(), shape)
    with pytest.raises(faults.SoapFault) as info:
        envelope.parse_envelope(data)
    assert info.value.code == faults.SENDER
