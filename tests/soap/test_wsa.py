import pytest
from lxml import etree

from wadows.soap import faults, wsa
from wadows.soap.ns import SOAP12, WSA


def headers(xml: str) -> list:
    root = etree.fromstring(f'<h xmlns:e="{SOAP12}" xmlns:wsa="{WSA}" xmlns:x="urn:x">{xml}</h>')
    return list(root)


def test_reads_action_message_id_to():
    addr = wsa.read(headers('<wsa:Action e:mustUnderstand="true"> urn:a </wsa:Action>'
                            '<wsa:MessageID>urn:uuid:1</wsa:MessageID><wsa:To>http://x</wsa:To>'))
    assert (addr.action, addr.message_id, addr.to) == ("urn:a", "urn:uuid:1", "http://x")


def test_non_anonymous_reply_to_is_refused():
    with pytest.raises(faults.SoapFault) as info:
        wsa.read(headers("<wsa:ReplyTo><wsa:Address>http://elsewhere/</wsa:Address></wsa:ReplyTo>"))
    assert info.value.subcode == (WSA, "OnlyAnonymousAddressSupported")


@pytest.mark.parametrize("mu", ["1", "true"])
def test_unknown_must_understand_header_faults(mu):
    hs = headers(f'<x:Secret e:mustUnderstand="{mu}"/><wsa:Action e:mustUnderstand="1">a</wsa:Action>')
    with pytest.raises(faults.SoapFault) as info:
        wsa.check_must_understand(hs, wsa.WSA_HEADERS)
    assert info.value.code == faults.MUST_UNDERSTAND and info.value.not_understood == ["{urn:x}Secret"]


def test_must_understand_false_or_other_role_is_ignored():
    hs = headers('<x:A e:mustUnderstand="false"/><x:B e:mustUnderstand="1" e:role="urn:someone-else"/><x:C/>')
    wsa.check_must_understand(hs, wsa.WSA_HEADERS)


def test_action_must_match_body():
    wsa.check_action(wsa.Addressing(action="urn:ok"), {"urn:ok"}, None)
    wsa.check_action(wsa.Addressing(), {"urn:ok"}, None)  # clients without WS-Addressing still served
    for addr, http in ((wsa.Addressing(action="urn:other"), None), (wsa.Addressing(), "urn:other")):
        with pytest.raises(faults.SoapFault) as info:
            wsa.check_action(addr, {"urn:ok"}, http)
        assert info.value.subcode == (WSA, "ActionNotSupported")


def test_response_headers_relate_to_request():
    hs = {h.tag.rpartition("}")[2]: h.text for h in wsa.response_headers("urn:resp", "urn:uuid:req")}
    assert hs["Action"] == "urn:resp" and hs["RelatesTo"] == "urn:uuid:req"
    assert hs["MessageID"].startswith("urn:uuid:") and hs["MessageID"] != "urn:uuid:req"


@pytest.mark.parametrize("mu", ["TRUE", "True", "yes", "2", ""])
def test_must_understand_not_an_xs_boolean_is_a_sender_fault(mu):
    """SOAP 1.2 Part 1 §5.2.3: xs:boolean only; even on a header we understand, or for another role."""
    for block in (f'<wsa:Action e:mustUnderstand="{mu}">a</wsa:Action>',
                  f'<x:B e:mustUnderstand="{mu}" e:role="urn:someone-else"/>'):
        with pytest.raises(faults.SoapFault) as info:
            wsa.check_must_understand(headers(block), wsa.WSA_HEADERS)
        assert info.value.code == faults.SENDER and "xs:boolean" in info.value.reason


def test_must_understand_lexical_forms_with_whitespace():
    wsa.check_must_understand(headers('<x:A e:mustUnderstand=" 0 "/><x:B e:mustUnderstand="false"/>'), wsa.WSA_HEADERS)
    with pytest.raises(faults.SoapFault) as info:
        wsa.check_must_understand(headers('<x:A e:mustUnderstand=" true "/>'), wsa.WSA_HEADERS)
    assert info.value.code == faults.MUST_UNDERSTAND
