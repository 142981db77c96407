from lxml import etree

from wadows.soap import faults
from wadows.soap.ns import SOAP12, WSA

NS = {"e": SOAP12, "wsa": WSA}


def test_sender_fault_is_400_with_subcode_and_relates_to():
    f = faults.sender("bad thing", (WSA, "ActionNotSupported"))
    assert f.status.startswith("400")
    env = etree.fromstring(faults.fault_envelope(f, relates_to="urn:uuid:1"))
    assert env.findtext("e:Body/e:Fault/e:Code/e:Value", namespaces=NS) == "env:Sender"
    sub = env.find("e:Body/e:Fault/e:Code/e:Subcode/e:Value", namespaces=NS)
    prefix, local = sub.text.split(":")
    assert (sub.nsmap[prefix], local) == (WSA, "ActionNotSupported")
    assert env.findtext("e:Body/e:Fault/e:Reason/e:Text", namespaces=NS) == "bad thing"
    assert env.findtext("e:Header/wsa:RelatesTo", namespaces=NS) == "urn:uuid:1"


def test_must_understand_fault_names_headers():
    f = faults.SoapFault(faults.MUST_UNDERSTAND, "no", not_understood=["{urn:x}Secret"])
    env = etree.fromstring(faults.fault_envelope(f))
    nu = env.find("e:Header/e:NotUnderstood", namespaces=NS)
    prefix, local = nu.get("qname").split(":")
    assert (nu.nsmap[prefix], local) == ("urn:x", "Secret")


def test_receiver_is_500_and_oversize_uses_its_own_status():
    assert faults.SoapFault(faults.RECEIVER, "x").status.startswith("500")
    assert faults.sender("big", http_status="413 Content Too Large").status.startswith("413")
