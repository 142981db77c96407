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
