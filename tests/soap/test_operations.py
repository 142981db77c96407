"""The operation table against the served WSDL, validation and dispatch: one list, read three ways."""

from __future__ import annotations

from lxml import etree

from wadows.retrieve.model import RetrieveResult
from wadows.soap import dispatch, validate
from wadows.soap.operations import OPERATIONS, wado_actions
from wadows.soap.wsdl import render_wsdl

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
NS = {"w": WSDL, "soap12": SOAP12}


def _served() -> etree._Element:
    return etree.fromstring(render_wsdl("http://wadows.test/wado-ws"))


def _clark(prefixed: str, el: etree._Element) -> str:
    prefix, _, local = prefixed.rpartition(":")
    return f"{{{el.nsmap[prefix or None]}}}{local}"


def _message_element(root: etree._Element, io: etree._Element) -> str:
    name = io.get("message").rpartition(":")[2]
    (part,) = root.findall(f"w:message[@name='{name}']/w:part", NS)
    return _clark(part.get("element"), part)


def _served_operations() -> dict[str, dict]:
    root = _served()
    out = {}
    for op in root.findall("w:portType/w:operation", NS):
        name = op.get("name")
        inp, outp = op.find("w:input", NS), op.find("w:output", NS)
        (soap_op,) = root.findall(f"w:binding/w:operation[@name='{name}']/soap12:operation", NS)
        out[name] = {
            "request": _message_element(root, inp),
            "response": _message_element(root, outp),
            "input_actions": {inp.get(f"{{{WSAW}}}Action"), inp.get(f"{{{WSAM}}}Action")},
            "output_actions": {outp.get(f"{{{WSAW}}}Action"), outp.get(f"{{{WSAM}}}Action")},
            "soap_action": soap_op.get("soapAction"),
        }
    return out


def test_the_table_is_the_served_wsdl():
    served = _served_operations()
    assert sorted(served) == sorted(op.name for op in OPERATIONS.values())
    for request, op in OPERATIONS.items():
        wsdl = served[op.name]
        assert wsdl["request"] == request == op.request
        assert wsdl["input_actions"] <= op.actions and wsdl["soap_action"] in op.actions
        assert wsdl["output_actions"] == {op.response_action}
        body, attachments = op.write(RetrieveResult())
        assert body.tag == wsdl["response"] and attachments == []


def test_every_row_is_validated_and_dispatched():
    assert set(OPERATIONS) <= validate.REQUEST_ELEMENTS
    # spyne picks the method by the body element's namespace and local name, in its application's namespace.
    for request, (_service, app, _server) in dispatch._APPS.items():
        assert set(app.interface.service_method_map) == {request}


def test_wado_actions_accept_both_prefixes_seen_in_the_wild():
    assert wado_actions("RetrieveRenderedImagingDocumentSet") == {
        "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet",
        "urn:dicom:ws:wado:2011:RetrieveRenderedImagingDocumentSet",
    }
