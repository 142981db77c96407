"""Reading wsse:Security: UsernameToken (text and digest), Nonce, Created, Timestamp, and what is refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from lxml import etree
from support.wsse import BASE64, PROFILE, WSSE, WSU, digest, security_xml

from wadows.security.credentials import password_digest
from wadows.soap import wsse
from wadows.soap.envelope import parse_envelope
from wadows.soap.faults import SoapFault

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def headers(*blocks: str) -> list:
    xml = (f'<env:Envelope xmlns:env="{SOAP12}"><env:Header>{"".join(blocks)}</env:Header>'
           f"<env:Body><x/></env:Body></env:Envelope>")
    return parse_envelope(xml.encode()).headers


def test_no_security_header():
    assert wsse.read(headers()) is None


def test_password_text():
    sec = wsse.read(headers(security_xml("alice", "s3cret")))
    assert sec.timestamp is None
    t = sec.token
    assert (t.username, t.password, t.password_type, t.nonce, t.created) == ("alice", "s3cret", "PasswordText", None, None)
    assert "s3cret" not in repr(t) and "alice" not in repr(t)


def test_password_without_type_is_text_and_qname_type_accepted():
    assert wsse.read(headers(security_xml("a", "p", password_type=None))).token.password_type == "PasswordText"
    sec = wsse.read(headers(security_xml("a", "p", password_type="wsse:PasswordDigest")))
    assert sec.token.password_type == "PasswordDigest"


def test_password_digest_nonce_and_created_kept_verbatim():
    nonce = bytes(range(16))
    created = "2025-03-04T05:06:07.123456789Z"
    t = wsse.read(headers(security_xml("bob", "pw", use_digest=True, nonce=nonce, created=created))).token
    assert t.password_type == "PasswordDigest" and t.nonce == nonce
    assert t.created_text == created  # the digest covers the text as sent, nanoseconds and all
    assert t.created == datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=timezone.utc)
    assert t.password == digest(nonce, created, "pw")


@pytest.mark.parametrize("text, expected", [
    ("2025-01-02T03:04:05Z", datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("2025-01-02T03:04:05", datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),  # no zone: UTC (WSS §10)
    ("2025-01-02T05:04:05.5+02:00", datetime(2025, 1, 2, 3, 4, 5, 500000, tzinfo=timezone.utc)),
])
def test_datetimes(text, expected):
    assert wsse.parse_datetime(text) == expected


def test_timestamp():
    sec = wsse.read(headers(security_xml("a", "p", timestamp=("2025-01-02T03:04:05Z", "2025-01-02T03:09:05Z"))))
    assert sec.timestamp.created == datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert sec.timestamp.expires == datetime(2025, 1, 2, 3, 9, 5, tzinfo=timezone.utc)


def test_zeep_digest_token_reads_back():
    from zeep.wsse.username import UsernameToken

    env = etree.fromstring(f'<soap-env:Envelope xmlns:soap-env="{SOAP12}"><soap-env:Body/></soap-env:Envelope>')
    UsernameToken("carol", "pw", use_digest=True).apply(env, {})
    sec = wsse.read(parse_envelope(etree.tostring(env).replace(b"<soap-env:Body/>",
                                                               b"<soap-env:Body><x/></soap-env:Body>")).headers)
    t = sec.token
    assert t.username == "carol" and t.password_type == "PasswordDigest" and len(t.nonce) == 16
    assert t.password == password_digest(t.nonce, t.created_text, "pw")


def test_headers_for_another_role_are_not_ours():
    other = security_xml("a", "p").replace("<wsse:Security ", '<wsse:Security env:role="urn:example:gateway" ')
    assert wsse.read(headers(other)) is None


def fault_of(*blocks: str) -> SoapFault:
    with pytest.raises(SoapFault) as err:
        wsse.read(headers(*blocks))
    assert err.value.code == "Sender"
    return err.value


def test_two_security_headers_for_us_refused():
    assert fault_of(security_xml("a", "p"), security_xml("b", "q")).subcode == (WSSE, "InvalidSecurity")


@pytest.mark.parametrize("mutate, subcode", [
    (lambda x: x.replace("<wsse:Username>secretname</wsse:Username>", ""), "InvalidSecurity"),
    (lambda x: x.replace("#PasswordText", "#PasswordHash"), "UnsupportedSecurityToken"),
    (lambda x: x.replace("</wsse:UsernameToken>", '<wsse:Nonce EncodingType="urn:x#Hex">00</wsse:Nonce>'
                         "</wsse:UsernameToken>"), "UnsupportedSecurityToken"),
    (lambda x: x.replace("</wsse:UsernameToken>", f'<wsse:Nonce EncodingType="{BASE64}">@@@</wsse:Nonce>'
                         "</wsse:UsernameToken>"), "InvalidSecurity"),
    (lambda x: x.replace("</wsse:UsernameToken>", "<wsu:Created>yesterday</wsu:Created></wsse:UsernameToken>"),
     "InvalidSecurity"),
    (lambda x: x.replace("</wsse:UsernameToken>", "<wsse:Username>b</wsse:Username></wsse:UsernameToken>"),
     "InvalidSecurity"),
])
def test_malformed_tokens(mutate, subcode):
    xml = mutate(security_xml("secretname", "secretpass"))
    fault = fault_of(xml)
    assert fault.subcode == (WSSE, subcode)
    assert "secretname" not in fault.reason and "secretpass" not in fault.reason


def test_signature_we_cannot_check_is_refused_only_when_it_must_be_understood():
    sig = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>'
    assert fault_of(security_xml("a", "p", extra=sig)).subcode == (WSSE, "UnsupportedSecurityToken")
    assert wsse.read(headers(security_xml("a", "p", extra=sig, must_understand=False))).token.username == "a"


def test_old_wsse_created_accepted():
    xml = security_xml("a", "p").replace("</wsse:UsernameToken>", "<wsse:Created>2025-01-02T03:04:05Z</wsse:Created>"
                                         "</wsse:UsernameToken>")
    assert wsse.read(headers(xml)).token.created_text == "2025-01-02T03:04:05Z"


def test_namespaces_are_the_oasis_ones():
    assert wsse.SECURITY_HEADERS == {f"{{{WSSE}}}Security"} and WSU.endswith("utility-1.0.xsd")
    assert wsse.PASSWORD_DIGEST == PROFILE + "#PasswordDigest"


INVALID = (WSSE, "InvalidSecurity")


@pytest.mark.parametrize("inside", ["garbage", "<!-- nothing -->", "", "  x  <wsu:Timestamp/>"])
def test_must_understand_security_with_nothing_readable_is_invalid_security(inside):
    block = (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" env:mustUnderstand="true">{inside}'
             f"</wsse:Security>")
    with pytest.raises(SoapFault) as info:
        wsse.read(headers(block))
    assert info.value.subcode == INVALID


def test_text_inside_security_is_invalid_even_without_must_understand():
    with pytest.raises(SoapFault) as info:
        wsse.read(headers(f'<wsse:Security xmlns:wsse="{WSSE}">garbage</wsse:Security>'))
    assert info.value.subcode == INVALID


def test_security_with_a_timestamp_only_is_read():
    block = (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" env:mustUnderstand="1">'
             f"<wsu:Timestamp><wsu:Created>2026-01-01T00:00:00Z</wsu:Created></wsu:Timestamp></wsse:Security>")
    sec = wsse.read(headers(block))
    assert sec.token is None and sec.timestamp.created is not None
