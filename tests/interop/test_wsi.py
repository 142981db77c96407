"""The served WSDL against the WS-I Basic Profile 1.1 rules that decide whether a toolkit can generate a client
from it (rule numbers are the profile's), checked on what a client downloads, not on the files in the repo."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree

from support.rad69 import Doc, request_xml
from wadows.soap.wsdl import schema_paths

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
NS = {"w": WSDL, "s11": SOAP11, "s12": SOAP12, "xs": XSD}
GLOBAL_KINDS = ("element", "complexType", "simpleType", "group", "attributeGroup", "attribute")


@pytest.fixture(scope="module")
def served(interop) -> tuple[etree._Element, dict[str, etree._Element]]:
    """The served WSDL and every schema it reaches over HTTP, parsed, keyed by URL."""
    docs = {url: etree.fromstring(body) for url, body in interop.documents.items()}
    return docs.pop(interop.wsdl_url), docs


def soap_bindings(wsdl: etree._Element) -> list[etree._Element]:
    return [b for b in wsdl.iterfind("w:binding", NS) if b.find("s12:binding", NS) is not None
            or b.find("s11:binding", NS) is not None]


def test_document_literal_with_element_parts(served):
    """R2705 one style per binding, document here; R2706 use="literal"; R2204 document-literal parts name an
    element (not a type); R2201 at most one part in the body; R2716 no namespace attribute on soap:body."""
    wsdl, _ = served
    bindings = soap_bindings(wsdl)
    assert bindings
    for binding in bindings:
        declared = binding.find("s12:binding", NS).get("style", "document")
        styles = {op.get("style", declared) for op in binding.iterfind("w:operation/s12:operation", NS)}
        assert styles == {"document"}, binding.get("name")
        bodies = list(binding.iterfind("w:operation/*/s12:body", NS))
        assert bodies and {b.get("use") for b in bodies} == {"literal"}
        assert all(b.get("namespace") is None and b.get("encodingStyle") is None for b in bodies)
    for message in wsdl.iterfind("w:message", NS):
        parts = message.findall("w:part", NS)
        assert len(parts) <= 1, message.get("name")
        assert all(p.get("element") and not p.get("type") for p in parts), message.get("name")


def test_every_operation_has_its_own_actions(served):
    """R2304 no overloaded operation names; each operation's soapAction and input wsa:Action (both WS-A
    WSDL attribute spellings) are unique across the description and agree with each other, so a server
    can dispatch on either and a client's generated stub sends the same value in both places."""
    wsdl, _ = served
    for port_type in wsdl.iterfind("w:portType", NS):
        names = [op.get("name") for op in port_type.iterfind("w:operation", NS)]
        assert names and len(names) == len(set(names))
    soap_actions = Counter()
    input_actions = Counter()
    for binding in soap_bindings(wsdl):
        port_type = wsdl.find(f"w:portType[@name='{binding.get('type').rpartition(':')[2]}']", NS)
        for op in binding.iterfind("w:operation", NS):
            soap_action = op.find("s12:operation", NS).get("soapAction")
            abstract = port_type.find(f"w:operation[@name='{op.get('name')}']/w:input", NS)
            actions = {abstract.get(f"{{{WSAW}}}Action"), abstract.get(f"{{{WSAM}}}Action")}
            assert actions == {soap_action}, op.get("name")
            soap_actions[soap_action] += 1
            input_actions.update(actions)
    assert soap_actions and max(soap_actions.values()) == 1 and max(input_actions.values()) == 1


def test_every_import_resolves_over_http_from_the_served_url(interop, served):
    """R2007 every import names a location; R2001/R2002 wsdl:import brings WSDL, xsd:import brings schemas;
    R2005 the imported document's targetNamespace is the one the import names; R2105 a schema in wsdl:types
    without targetNamespace holds only imports. Every location answered over HTTP (the closure fixture
    fetched them); the top-level ones point at the public URL, and every packaged XSD is reachable."""
    wsdl, schemas = served
    public = urlsplit(interop.endpoint)
    for schema in wsdl.iterfind("w:types/xs:schema", NS):
        if schema.get("targetNamespace") is None:
            assert {etree.QName(c).localname for c in schema if isinstance(c.tag, str)} <= {"import", "annotation"}
    assert wsdl.find("w:import", NS) is None  # one WSDL document
    for url, doc in [(interop.wsdl_url, wsdl), *schemas.items()]:
        for imp in doc.iter(f"{{{XSD}}}import", f"{{{XSD}}}include"):
            location = imp.get("schemaLocation")
            assert location, f"{url}: import of {imp.get('namespace')} without schemaLocation"
            target = urljoin(url, location)
            assert target in schemas, f"{url}: {location} not fetched"
            expected = imp.get("namespace") if imp.tag.endswith("import") else doc.get("targetNamespace")
            assert schemas[target].get("targetNamespace") == expected, (url, location)
            assert schemas[target].tag == f"{{{XSD}}}schema"
            resolved = urlsplit(target)
            assert (resolved.scheme, resolved.netloc) == (public.scheme, public.netloc), target
    served_paths = sorted(urlsplit(u).path.removeprefix(public.path + "/") for u in schemas)
    assert served_paths == schema_paths()


def test_no_global_component_is_defined_twice(served):
    """A QName defined in two schemas makes wsimport/xjc, wsdl2h and .NET's svcutil refuse or pick one."""
    _, schemas = served
    seen: Counter = Counter()
    for doc in schemas.values():
        tns = doc.get("targetNamespace")
        for kind in GLOBAL_KINDS:
            seen.update((kind, f"{{{tns}}}{el.get('name')}") for el in doc.findall(f"xs:{kind}", NS))
    assert seen and [name for name, n in seen.items() if n > 1] == []


def test_the_schema_set_compiles_from_http_alone(interop, served):
    """All schemas as served (no file from disk) load into one validator and accept a real request."""
    _, schemas = served

    class Served(etree.Resolver):
        def resolve(self, url, public_id, context):  # noqa: ANN001 - lxml's signature
            return self.resolve_string(interop.documents[url], context, base_url=url)

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(Served())
    imports = "".join(f'<xs:import namespace="{doc.get("targetNamespace")}" schemaLocation="{url}"/>'
                      for url, doc in schemas.items())
    wrapper = etree.fromstring(f'<xs:schema xmlns:xs="{XSD}">{imports}</xs:schema>', parser,
                               base_url=interop.endpoint + "/schema/wrapper.xsd")
    schema = etree.XMLSchema(wrapper)
    plan = interop.plan
    request = etree.fromstring(request_xml([Doc(d.study, d.series, d.sop, plan.repository, "yes")
                                            for d in plan.documents]))
    body = request.find("{http://www.w3.org/2003/05/soap-envelope}Body")[0]
    assert schema.validate(body), schema.error_log
