"""The project's WSDL and XSDs: IHE names, loadable by a WSDL client, served safely."""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest
import zeep
from lxml import etree

from support.official_schema import reference_path
from wadows.soap.wsdl import WSDL_NAME, render_wsdl, schema_dir, schema_file, schema_parser, schema_paths, wsdl_dir

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
WSP = "http://www.w3.org/ns/ws-policy"
WSOMA = "http://schemas.xmlsoap.org/ws/2004/09/policy/optimizedmimeserialization"
NS = {"w": WSDL, "soap12": SOAP12, "xs": XSD, "wsaw": WSAW, "wsp": WSP, "wsoma": WSOMA}
RAD69_ACTION = "urn:ihe:rad:2009:RetrieveImagingDocumentSet"
RAD69_RESPONSE_ACTION = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"


def ours() -> etree._Element:
    return etree.parse(str(wsdl_dir() / WSDL_NAME)).getroot()


def contract(root: etree._Element) -> dict:
    """Everything a client generated from a WSDL binds to at run time, for RetrieveImagingDocumentSet."""
    tns = root.get("targetNamespace")
    op = root.find("w:portType/w:operation[@name='RetrieveImagingDocumentSet']", NS)
    binding_op = root.find("w:binding/w:operation[@name='RetrieveImagingDocumentSet']", NS)
    port = root.find("w:service/w:port", NS)

    def qname(prefixed: str, el: etree._Element) -> str:
        prefix, _, local = prefixed.rpartition(":")
        return f"{{{el.nsmap[prefix or None]}}}{local}"

    return {
        "targetNamespace": tns,
        "service": root.find("w:service", NS).get("name"),
        "port": port.get("name"),
        "port binding": qname(port.get("binding"), port),
        "binding": root.find("w:binding", NS).get("name"),
        "binding type": qname(root.find("w:binding", NS).get("type"), root.find("w:binding", NS)),
        "portType": root.find("w:portType", NS).get("name"),
        "soap12 transport": root.find("w:binding/soap12:binding", NS).get("transport"),
        "style": root.find("w:binding/soap12:binding", NS).get("style"),
        "soapAction": binding_op.find("soap12:operation", NS).get("soapAction"),
        "input action": op.find("w:input", NS).get(f"{{{WSAW}}}Action"),
        "output action": op.find("w:output", NS).get(f"{{{WSAW}}}Action"),
        # The messages RetrieveImagingDocumentSet uses: other operations add messages of their own.
        "messages": {
            m.get("name"): [(p.get("name"), qname(p.get("element"), p)) for p in m.findall("w:part", NS)]
            for m in root.findall("w:message", NS)
            # RAD-69's own messages: the other operations' are additions (the contract is about RAD-69).
            if m.get("name") in {op.find(f"w:{io}", NS).get("message").rpartition(":")[2] for io in ("input", "output")}
        },
        "input message": qname(op.find("w:input", NS).get("message"), op),
        "output message": qname(op.find("w:output", NS).get("message"), op),
        "body use": [b.get("use") for b in binding_op.iterfind(".//soap12:body", NS)],
    }


def test_wsdl_keeps_every_name_of_the_official_ihe_wsdl():
    official = etree.parse(str(reference_path("schemas", "ihe-official", "wsdl", "XDS-I.b_ImagingDocumentSource.wsdl")))
    assert contract(ours()) == contract(official.getroot())


def test_wsdl_contract_without_the_reference():
    c = contract(ours())
    assert c["targetNamespace"] == "urn:ihe:rad:xdsi-b:2009"
    assert (c["service"], c["port"], c["binding"], c["portType"]) == (
        "ImagingDocumentSource_Service", "ImagingDocumentSource_Port_Soap12", "ImagingDocumentSource_Binding",
        "ImagingDocumentSource_PortType")
    assert (c["soapAction"], c["input action"], c["output action"]) == (RAD69_ACTION, RAD69_ACTION, RAD69_RESPONSE_ACTION)
    assert c["soap12 transport"] == "http://schemas.xmlsoap.org/soap/http" and c["style"] == "document"
    assert c["body use"] == ["literal", "literal"]
    assert c["messages"] == {
        "RetrieveImagingDocumentSetRequest_Message": [("body", "{urn:ihe:rad:xdsi-b:2009}RetrieveImagingDocumentSetRequest")],
        "RetrieveDocumentSetResponse_Message": [("body", "{urn:ihe:iti:xds-b:2007}RetrieveDocumentSetResponse")],
    }


def test_operations_are_added_after_rad69_in_port_type_and_binding_alike():
    """Additions only: RAD-69 stays the first operation (a client indexing operations keeps working),
    and every message of the official WSDL is still there under its name."""
    root = ours()
    offered = [o.get("name") for o in root.iterfind("w:portType/w:operation", NS)]
    assert offered == [o.get("name") for o in root.iterfind("w:binding/w:operation", NS)]
    assert offered[0] == "RetrieveImagingDocumentSet" and "RetrieveImagingDocumentSetInformation" in offered
    official = etree.parse(str(reference_path("schemas", "ihe-official", "wsdl", "XDS-I.b_ImagingDocumentSource.wsdl")))
    names = {m.get("name") for m in root.iterfind("w:message", NS)}
    assert {m.get("name") for m in official.getroot().iterfind("w:message", NS)} <= names


def test_addressing_and_optional_mtom_policy():
    root = ours()
    op = root.find("w:portType/w:operation", NS)
    assert op.find("w:input", NS).get(f"{{{WSAM}}}Action") == RAD69_ACTION
    assert op.find("w:output", NS).get(f"{{{WSAM}}}Action") == RAD69_RESPONSE_ACTION
    binding = root.find("w:binding", NS)
    using = binding.find("wsaw:UsingAddressing", NS)
    assert using is not None and using.get(f"{{{WSDL}}}required") == "false"
    ref = binding.find("wsp:PolicyReference", NS).get("URI")
    wsu_id = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
    (policy,) = [p for p in root.iterfind("wsp:Policy", NS) if "#" + p.get(wsu_id) == ref]
    mtom = policy.find("wsoma:OptimizedMimeSerialization", NS)
    assert mtom is not None and mtom.get(f"{{{WSP}}}Optional") == "true"


def test_zeep_loads_the_wsdl_from_disk():
    client = zeep.Client(str(wsdl_dir() / WSDL_NAME), settings=zeep.Settings(strict=True))
    port = client.wsdl.services["ImagingDocumentSource_Service"].ports["ImagingDocumentSource_Port_Soap12"]
    assert type(port.binding).__name__ == "Soap12Binding"
    assert list(port.binding._operations)[0] == "RetrieveImagingDocumentSet"
    rendered = port.binding._operations["RetrieveRenderedImagingDocumentSet"]
    assert rendered.soapaction == rendered.abstract.wsa_action == "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet"
    op = port.binding._operations["RetrieveImagingDocumentSet"]
    assert op.soapaction == RAD69_ACTION and op.abstract.wsa_action == RAD69_ACTION
    info = port.binding._operations["RetrieveImagingDocumentSetInformation"]
    assert info.soapaction == info.abstract.wsa_action == "urn:wado:2011:RetrieveImagingDocumentSetInformation"
    assert port.binding_options["address"] == "http://localhost:8080/wado-ws"
    # the types of the operations to come are already loaded, so adding them only adds
    for name in ("RetrieveRenderedImagingDocumentSetRequest", "RetrieveRenderedImagingDocumentSetResponse",
                 "RetrieveImagingDocumentSetInformationRequest", "RetrieveImagingDocumentSetInformationResponse"):
        assert client.get_element(f"{{urn:dicom:wado:ws:2011}}{name}") is not None


def test_zeep_writes_the_anonymize_extension_in_the_wado_namespace():
    client = zeep.Client(str(wsdl_dir() / WSDL_NAME))
    envelope = client.create_message(
        client.service, "RetrieveImagingDocumentSet",
        StudyRequest=[{"studyInstanceUID": "1.2", "SeriesRequest": [{"seriesInstanceUID": "1.2.3", "DocumentRequest": [
            {"RepositoryUniqueId": "1.3", "DocumentUniqueId": "1.2.3.4", "Anonymize": "yes"}]}]}],
        TransferSyntaxUIDList={"TransferSyntaxUID": ["1.2.840.10008.1.2.1"]}, Anonymize="yes")
    wado = envelope.findall(".//{urn:dicom:wado:ws:2011}Anonymize")
    assert [a.getparent().tag for a in wado] == ["{urn:ihe:iti:xds-b:2007}DocumentRequest",
                                                 "{urn:ihe:rad:xdsi-b:2009}RetrieveImagingDocumentSetRequest"]
    from wadows.soap.validate import validate_body

    validate_body(envelope.find(".//{urn:ihe:rad:xdsi-b:2009}RetrieveImagingDocumentSetRequest"))


def test_render_wsdl_makes_address_and_schema_locations_absolute():
    url = "https://pacs.example.org:8443/wado-ws"
    root = etree.fromstring(render_wsdl(url + "/"))
    assert [a.get("location") for a in root.iterfind(".//soap12:address", NS)] == [url]
    locations = [i.get("schemaLocation") for i in root.iterfind("w:types/xs:schema/xs:import", NS)]
    assert locations and all(loc.startswith(url + "/schema/") for loc in locations)
    for loc in locations:  # each one is served
        assert schema_file(loc[len(url + "/schema/"):]) is not None
    # the design comments reach readers of ?wsdl too
    assert any(isinstance(n, etree._Comment) for n in root.iter())


def test_xsd_imports_stay_relative_so_they_resolve_over_http():
    for rel in schema_paths():
        doc = etree.parse(str(wsdl_dir() / rel))
        for imp in doc.iterfind(".//xs:import", NS):
            loc = imp.get("schemaLocation")
            assert loc and not urlsplit(loc).scheme, (rel, loc)


def test_every_import_resolves_to_a_packaged_schema_of_the_right_namespace():
    files = set(schema_paths())
    for rel in [WSDL_NAME, *sorted(files)]:
        doc = etree.parse(str(wsdl_dir() / rel))
        for imp in doc.iter(f"{{{XSD}}}import", f"{{{XSD}}}include"):
            target = str(PurePosixPath(rel).parent / imp.get("schemaLocation"))
            target = str(PurePosixPath(*_normalise(PurePosixPath(target).parts)))
            assert target in files, f"{rel} imports {imp.get('schemaLocation')}, not packaged"
            tns = etree.parse(str(wsdl_dir() / target)).getroot().get("targetNamespace")
            assert imp.get("namespace") == tns, (rel, target)


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for p in parts:
        if p == "..":
            out.pop()
        elif p != ".":
            out.append(p)
    return out


def test_each_xsd_compiles_alone_with_the_restricted_loader():
    for rel in schema_paths():
        path = wsdl_dir() / rel
        etree.XMLSchema(etree.fromstring(path.read_bytes(), schema_parser(), base_url=str(path)))


def test_no_global_element_is_defined_twice():
    seen: Counter = Counter()
    for rel in schema_paths():
        root = etree.parse(str(wsdl_dir() / rel)).getroot()
        tns = root.get("targetNamespace")
        seen.update(f"{{{tns}}}{el.get('name')}" for el in root.findall("xs:element", NS))
    assert seen and [name for name, n in seen.items() if n > 1] == []


def test_schema_list_and_lookup():
    paths = schema_paths()
    assert "schema/IHE/XDSI.b_ImagingDocumentSource.xsd" in paths and "schema/DICOM/dicom.wado.ws.2011.xsd" in paths
    assert all(p.startswith("schema/") and p.endswith(".xsd") for p in paths)
    found = schema_file("ebRS/rs.xsd")
    assert found == schema_dir() / "ebRS" / "rs.xsd" and found.is_file()


@pytest.mark.parametrize("relpath", [
    "../ImagingDocumentSource.wsdl", "IHE/../../ImagingDocumentSource.wsdl", "/etc/passwd", "IHE/../ebRS/rs.xsd",
    "./ebRS/rs.xsd", "ebRS//rs.xsd", "ebRS\\rs.xsd", "ebRS/rs.xsd\x00", "ebRS/RS.XSD", "ebRS", "", "ebRS/missing.xsd",
    "..%2F..%2Fconfig.py",
])
def test_schema_file_refuses_anything_but_a_packaged_name(relpath):
    assert schema_file(relpath) is None


def test_restricted_loader_refuses_imports_outside_the_schema_folder(tmp_path):
    outside = tmp_path / "evil.xsd"
    outside.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:evil"/>')
    wrapper = f'<xs:schema xmlns:xs="{XSD}"><xs:import namespace="urn:evil" schemaLocation="{outside}"/></xs:schema>'
    with pytest.raises(etree.XMLSchemaParseError, match="Failed to parse the XML resource"):
        etree.XMLSchema(etree.fromstring(wrapper.encode(), schema_parser(), base_url=str(schema_dir() / "w.xsd")))
    # one folder up is already outside: the file is never read (a plain parser would read it and
    # complain that it is "not a schema document")
    relative = f'<xs:schema xmlns:xs="{XSD}"><xs:import namespace="urn:x" schemaLocation="../ImagingDocumentSource.wsdl"/></xs:schema>'
    with pytest.raises(etree.XMLSchemaParseError, match="Failed to parse the XML resource"):
        etree.XMLSchema(etree.fromstring(relative.encode(), schema_parser(), base_url=str(schema_dir() / "w.xsd")))
