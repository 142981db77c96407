"""Body validation against the project XSDs, cross-checked against the OFFICIAL IHE schemas."""

from __future__ import annotations

import base64
import threading

import pytest
from lxml import etree

from support.official_schema import official_validator, reference_path
from support.rad69 import Doc, request_xml
from wadows.soap.validate import SchemaViolation, _without_values, validate_body, validate_element

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS = ('xmlns:iherad="urn:ihe:rad:xdsi-b:2009" xmlns:ihe="urn:ihe:iti:xds-b:2007" '
      'xmlns:wado="urn:dicom:wado:ws:2011" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"')
SECRET = "1.2.826.0.1.3680043.99.424242"  # stands for a value that must never appear in a message


def body_of(envelope: bytes) -> etree._Element:
    return etree.fromstring(envelope).find(f"{{{SOAP12}}}Body")[0]


def wire_body(name: str) -> etree._Element:
    """The SOAP Body child of a captured multipart request in ../shared/reference/wire-examples."""
    text = reference_path("wire-examples", name).read_text()
    start = text.index("<?xml")
    end = text.index("</soapenv:Envelope>") + len("</soapenv:Envelope>")
    return body_of(text[start:end].encode())


def rad69(documents: str, *, syntaxes: str = "<iherad:TransferSyntaxUID>1.2.840.10008.1.2.1</iherad:TransferSyntaxUID>",
          tail: str = "", study: str = "1.2.3", series: str = "1.2.3.4") -> etree._Element:
    return etree.fromstring(
        f'<iherad:RetrieveImagingDocumentSetRequest {NS}><iherad:StudyRequest studyInstanceUID="{study}">'
        f'<iherad:SeriesRequest seriesInstanceUID="{series}">{documents}</iherad:SeriesRequest></iherad:StudyRequest>'
        f"<iherad:TransferSyntaxUIDList>{syntaxes}</iherad:TransferSyntaxUIDList>{tail}"
        "</iherad:RetrieveImagingDocumentSetRequest>")


def doc(uid: str = "1.2.3.4.5", *, extra: str = "", home: str = "") -> str:
    home_el = f"<ihe:HomeCommunityId>{home}</ihe:HomeCommunityId>" if home else ""
    return (f"<ihe:DocumentRequest>{home_el}<ihe:RepositoryUniqueId>1.3.6.1.4.1.21367.13.80.110</ihe:RepositoryUniqueId>"
            f"<ihe:DocumentUniqueId>{uid}</ihe:DocumentUniqueId>{extra}</ihe:DocumentRequest>")


def violation(element: etree._Element) -> str:
    with pytest.raises(SchemaViolation) as info:
        validate_body(element)
    return str(info.value)


# -- requests in the official shape: valid under ours AND the official schema ----------------------------

OFFICIAL_SHAPE = {
    "one document": lambda: rad69(doc()),
    "home community, two documents, three syntaxes": lambda: rad69(
        doc("1.2.3.4.5", home="urn:oid:1.2.3") + doc("1.2.3.4.6"),
        syntaxes="".join(f"<iherad:TransferSyntaxUID>{t}</iherad:TransferSyntaxUID>"
                         for t in ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"))),
    "two studies, two series": lambda: body_of(request_xml(
        [Doc("1.1", "1.1.1", "1.1.1.1", "9.9"), Doc("1.1", "1.1.2", "1.1.2.1", "9.9"), Doc("1.2", "1.2.1", "1.2.1.1", "9.9")])),
}


def test_wire_example_rad69_request_validates_against_ours_and_official():
    body = wire_body("rad69-request.txt")
    validate_body(body)
    official_validator()(body)


@pytest.mark.parametrize("case", sorted(OFFICIAL_SHAPE))
def test_official_shape_requests_validate_against_ours_and_official(case):
    body = OFFICIAL_SHAPE[case]()
    validate_body(body)
    official_validator()(body)


# -- the Anonymize extension ---------------------------------------------------------------------------

def test_anonymize_per_document_and_request_level_validate():
    validate_body(rad69(doc(extra="<wado:Anonymize>yes</wado:Anonymize>")))
    validate_body(rad69(doc(), tail="<wado:Anonymize>yes</wado:Anonymize>"))
    validate_body(rad69(doc(extra="<wado:Anonymize>yes</wado:Anonymize>") + doc("1.2.3.4.6"),
                        tail="<wado:Anonymize>yes</wado:Anonymize>"))
    validate_body(body_of(request_xml([Doc("1.1", "1.1.1", "1.1.1.1", "9.9", anonymize="yes")], anonymize="yes")))


def test_anonymize_is_an_extension_the_official_schema_does_not_have():
    """The superset is real: the official schema refuses it, so an IHE-only client never sends it."""
    check = official_validator()
    with pytest.raises(AssertionError, match="Anonymize"):
        check(rad69(doc(extra="<wado:Anonymize>yes</wado:Anonymize>")))


def test_anonymize_with_a_wrong_value_reaches_the_server():
    """Not a SOAP fault: the server answers that document with urn:dicom:wado:0012 (PS3.18 §6.4.4)."""
    validate_body(rad69(doc(extra="<wado:Anonymize>no</wado:Anonymize>")))
    validate_body(rad69(doc(), tail="<wado:Anonymize>YES please</wado:Anonymize>"))


def test_anonymize_in_the_wrong_place_or_namespace_is_refused_with_the_expected_name():
    msg = violation(rad69(doc(extra="<ihe:Anonymize>yes</ihe:Anonymize>")))
    assert "{urn:ihe:iti:xds-b:2007}Anonymize" in msg and "{urn:dicom:wado:ws:2011}Anonymize" in msg
    msg = violation(rad69(doc(), tail="<wado:Anonymize>yes</wado:Anonymize><wado:Anonymize>yes</wado:Anonymize>"))
    assert "not expected" in msg
    # before the transfer syntaxes is out of order
    el = etree.fromstring(
        f'<iherad:RetrieveImagingDocumentSetRequest {NS}><iherad:StudyRequest studyInstanceUID="1">'
        f'<iherad:SeriesRequest seriesInstanceUID="2">{doc()}</iherad:SeriesRequest></iherad:StudyRequest>'
        "<wado:Anonymize>yes</wado:Anonymize><iherad:TransferSyntaxUIDList><iherad:TransferSyntaxUID>1.2"
        "</iherad:TransferSyntaxUID></iherad:TransferSyntaxUIDList></iherad:RetrieveImagingDocumentSetRequest>")
    assert "TransferSyntaxUIDList" in violation(el)


# -- malformed requests: a SchemaViolation that says what was expected ------------------------------------

def test_missing_transfer_syntax_list():
    el = etree.fromstring(
        f'<iherad:RetrieveImagingDocumentSetRequest {NS}><iherad:StudyRequest studyInstanceUID="1">'
        f'<iherad:SeriesRequest seriesInstanceUID="2">{doc()}</iherad:SeriesRequest></iherad:StudyRequest>'
        "</iherad:RetrieveImagingDocumentSetRequest>")
    msg = violation(el)
    assert "Missing child element" in msg and "{urn:ihe:rad:xdsi-b:2009}TransferSyntaxUIDList" in msg
    assert msg.startswith("line 1: Element '{urn:ihe:rad:xdsi-b:2009}RetrieveImagingDocumentSetRequest'")


def test_empty_transfer_syntax_list():
    msg = violation(rad69(doc(), syntaxes=""))
    assert "{urn:ihe:rad:xdsi-b:2009}TransferSyntaxUID" in msg


def test_document_request_without_document_unique_id():
    bad = ("<ihe:DocumentRequest><ihe:RepositoryUniqueId>1.3.6.1</ihe:RepositoryUniqueId></ihe:DocumentRequest>")
    msg = violation(rad69(bad))
    assert "Element '{urn:ihe:iti:xds-b:2007}DocumentRequest'" in msg
    assert "Expected is ( {urn:ihe:iti:xds-b:2007}DocumentUniqueId )" in msg


def test_document_unique_id_before_repository_unique_id():
    bad = ("<ihe:DocumentRequest><ihe:DocumentUniqueId>1.2</ihe:DocumentUniqueId>"
           "<ihe:RepositoryUniqueId>1.3</ihe:RepositoryUniqueId></ihe:DocumentRequest>")
    msg = violation(rad69(bad))
    assert "{urn:ihe:iti:xds-b:2007}DocumentUniqueId': This element is not expected" in msg
    assert "RepositoryUniqueId" in msg


def test_unknown_element_names_itself_and_the_expected_one():
    msg = violation(rad69(doc() + "<ihe:Foo/>"))
    assert "Element '{urn:ihe:iti:xds-b:2007}Foo': This element is not expected" in msg
    assert "{urn:ihe:iti:xds-b:2007}DocumentRequest" in msg


def test_document_request_in_the_radiology_namespace_is_refused():
    """A common client mistake: DocumentRequest stays in the XDS.b namespace (the type is extended)."""
    bad = doc().replace("ihe:DocumentRequest", "iherad:DocumentRequest")
    msg = violation(rad69(bad))
    assert "{urn:ihe:rad:xdsi-b:2009}DocumentRequest" in msg and "{urn:ihe:iti:xds-b:2007}DocumentRequest" in msg


def test_missing_series_attribute():
    el = rad69(doc())
    el.find(".//{urn:ihe:rad:xdsi-b:2009}SeriesRequest").attrib.clear()
    assert "The attribute 'seriesInstanceUID' is required but missing" in violation(el)


def test_line_number_points_into_the_envelope():
    env = request_xml([Doc("1.1", "1.1.1", "1.1.1.1", "9.9")]).replace(
        b"<ihe:DocumentRequest>", b"<ihe:DocumentRequest><ihe:Bogus/>")
    msg = violation(body_of(env))
    line = next(i for i, text in enumerate(env.decode().splitlines(), 1) if "Bogus" in text)
    assert msg.startswith(f"line {line}: ")


@pytest.mark.parametrize("where", ["attribute", "element", "multi-line element"])
def test_messages_never_echo_values(where):
    long_value = SECRET + "'s value is not short " + "9" * 300
    if where == "attribute":
        el = rad69(doc(), study=long_value)
    elif where == "element":
        el = rad69(doc(long_value))
    else:
        el = rad69(doc(f"\n  {long_value}\n  ' has a length of '1'\n"))
    msg = violation(el)
    assert "[facet 'maxLength'] The value has a length of '" in msg and "256" in msg
    assert SECRET not in msg and "999" not in msg


def test_text_in_element_only_content_is_not_echoed():
    el = rad69(doc())
    el.find(".//{urn:ihe:rad:xdsi-b:2009}StudyRequest")[0].tail = SECRET
    msg = violation(el)
    assert "element-only" in msg and SECRET not in msg


@pytest.mark.parametrize("message, expected", [
    ("Element 'a': [facet 'pattern'] The value 'x' is y' is not accepted by the pattern '[0-9]+'.",
     "Element 'a': [facet 'pattern'] The value is not accepted by the pattern '[0-9]+'."),
    ("Element 'a', attribute 'b': 'it's 42' is not a valid value of the atomic type 'xs:int'.",
     "Element 'a', attribute 'b': The value is not a valid value of the atomic type 'xs:int'."),
    ("Element 'a': [facet 'enumeration'] The value 'no' is not an element of the set {'yes'}.",
     "Element 'a': [facet 'enumeration'] The value is not an element of the set {'yes'}."),
    ("Element 'a': 'odd' 'shape'", "Element 'a': The value is not valid for this element's type."),
])
def test_value_stripping_shapes(message, expected):
    assert _without_values(message) == expected


def test_unknown_root_element_is_an_unsupported_operation():
    assert violation(etree.fromstring('<x:Retrieve xmlns:x="urn:example"/>')) == \
        "unsupported operation element {urn:example}Retrieve"
    # a response element is a valid global element, but not an operation request
    response = etree.fromstring(f'<ihe:RetrieveDocumentSetResponse {NS}/>')
    assert "unsupported operation element {urn:ihe:iti:xds-b:2007}RetrieveDocumentSetResponse" == violation(response)


def test_xsi_schema_location_in_a_request_is_not_followed(tmp_path):
    """Only the packaged schemas count; a request cannot point the validator at another XSD."""
    lax = tmp_path / "lax.xsd"
    lax.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ihe:rad:xdsi-b:2009">'
                   '<xs:element name="RetrieveImagingDocumentSetRequest"/></xs:schema>')
    el = rad69(doc(), syntaxes="")
    el.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation", f"urn:ihe:rad:xdsi-b:2009 {lax}")
    assert "TransferSyntaxUID" in violation(el)


# -- rendered and metadata requests (operations 2 and 3: schema ready before the server) ------------------

def rendered(params: str, *, content_types: str = "<wado:ContentType>image/jpeg</wado:ContentType>") -> etree._Element:
    return etree.fromstring(
        f'<wado:RetrieveRenderedImagingDocumentSetRequest {NS}><wado:StudyRequest studyInstanceUID="1.2">'
        '<wado:SeriesRequest seriesInstanceUID="1.2.3"><wado:RenderedDocumentRequest>'
        "<ihe:RepositoryUniqueId>1.3</ihe:RepositoryUniqueId><ihe:DocumentUniqueId>1.2.3.4</ihe:DocumentUniqueId>"
        f"{params}<wado:ContentTypeList>{content_types}</wado:ContentTypeList></wado:RenderedDocumentRequest>"
        "</wado:SeriesRequest></wado:StudyRequest></wado:RetrieveRenderedImagingDocumentSetRequest>")


def test_wire_example_rendered_request_validates():
    validate_body(wire_body("retrieve-rendered-imaging-doc-set-request.txt"))


@pytest.mark.parametrize("region", [
    "<wado:Region>0.1,0.2,0.8,0.9</wado:Region>",
    "<wado:Region><wado:XMin>0.1</wado:XMin><wado:YMin>0.2</wado:YMin><wado:XMax>0.8</wado:XMax>"
    "<wado:YMax>0.9</wado:YMax></wado:Region>",
    "<wado:Region>\n  <wado:Xmin>0.1</wado:Xmin>\n  <wado:Ymin>0.2</wado:Ymin>\n  <wado:Xmax>0.8</wado:Xmax>\n"
    "  <wado:Ymax>0.9</wado:Ymax>\n</wado:Region>",
])
def test_rendered_region_in_each_spelling(region):
    validate_body(rendered(f"<wado:Rows>64</wado:Rows>{region}<wado:WindowWidth>400</wado:WindowWidth>"
                           "<wado:WindowCenter>40</wado:WindowCenter>"))


def test_rendered_every_parameter_in_order_then_charsets():
    params = ("<wado:Annotation>patient,technique</wado:Annotation><wado:Rows>64</wado:Rows><wado:Columns>64</wado:Columns>"
              "<wado:Region>0,0,1,1</wado:Region><wado:WindowWidth>1</wado:WindowWidth><wado:WindowCenter>2</wado:WindowCenter>"
              "<wado:ImageQuality>80</wado:ImageQuality><wado:PresentationUID>1.2</wado:PresentationUID>"
              "<wado:PresentationSeriesUID>1.3</wado:PresentationSeriesUID><wado:Anonymize>yes</wado:Anonymize>"
              "<wado:FrameNumber>2</wado:FrameNumber>")
    el = rendered(params, content_types="<wado:ContentType>image/png</wado:ContentType>"
                                        "<wado:ContentType>image/jpeg</wado:ContentType>")
    el.find(".//{urn:dicom:wado:ws:2011}RenderedDocumentRequest").append(
        etree.fromstring('<wado:CharsetList xmlns:wado="urn:dicom:wado:ws:2011"><wado:Charset>UTF-8</wado:Charset>'
                         "</wado:CharsetList>"))
    validate_body(el)


def test_rendered_errors():
    # libxml2 names at most ten expected elements; the message says when the list was cut
    msg = violation(etree.fromstring(etree.tostring(rendered("")).replace(
        b"<wado:ContentTypeList><wado:ContentType>image/jpeg</wado:ContentType></wado:ContentTypeList>", b"")))
    assert "Missing child element" in msg and msg.endswith("{urn:dicom:wado:ws:2011}Anonymize, ... ).")
    msg = violation(rendered("<wado:FrameNumber>1</wado:FrameNumber>", content_types=""))
    assert "{urn:dicom:wado:ws:2011}ContentType )" in msg
    assert "{urn:dicom:wado:ws:2011}Rows" in violation(rendered("<wado:Columns>1</wado:Columns><wado:Rows>1</wado:Rows>"))
    assert "XMax" in violation(rendered("<wado:Region><wado:XMin>0</wado:XMin><wado:YMin>0</wado:YMin></wado:Region>"))
    # an odd media type is the server's to refuse (0006), not the schema's
    validate_body(rendered("", content_types="<wado:ContentType>text/x-nonsense</wado:ContentType>"))
    # parameters the server does not know, a vendor's or WADO's, wherever they stand, reach the server
    # (urn:dicom:wado:0013 for that document) and are put back; the known ones are still checked
    vendor = rendered("<wado:Sharpen>1</wado:Sharpen><wado:Rows>1</wado:Rows>")
    vendor.find(".//{urn:dicom:wado:ws:2011}RenderedDocumentRequest").append(etree.Element("{urn:example:vendor}Sharpen"))
    before = etree.tostring(vendor)
    validate_body(vendor)
    assert etree.tostring(vendor) == before
    msg = violation(rendered("<wado:Columns>1</wado:Columns><v:Sharpen xmlns:v='urn:example:vendor'/><wado:Rows>1</wado:Rows>"))
    assert "{urn:dicom:wado:ws:2011}Rows" in msg and "Sharpen" not in msg


def information(documents: str, xpaths: str = "<wado:XPath>//DicomAttribute[@keyword='Modality']</wado:XPath>",
                tail: str = "") -> etree._Element:
    return etree.fromstring(
        f'<wado:RetrieveImagingDocumentSetInformationRequest {NS}><wado:StudyRequest studyInstanceUID="1.2">'
        f'<wado:SeriesRequest seriesInstanceUID="1.2.3">{documents}</wado:SeriesRequest></wado:StudyRequest>'
        f"<wado:XPathList>{xpaths}</wado:XPathList>{tail}</wado:RetrieveImagingDocumentSetInformationRequest>")


def info_doc(extra: str = "") -> str:
    return ("<wado:DocumentRequest><ihe:RepositoryUniqueId>1.3</ihe:RepositoryUniqueId>"
            f"<ihe:DocumentUniqueId>1.2.3.4</ihe:DocumentUniqueId>{extra}</wado:DocumentRequest>")


def test_information_request():
    validate_body(information(info_doc()))
    validate_body(information(info_doc("<wado:FrameNumber>3</wado:FrameNumber><wado:Anonymize>yes</wado:Anonymize>"),
                              xpaths="<wado:XPath>/a</wado:XPath><wado:XPath>count(//b)</wado:XPath>",
                              tail="<wado:Anonymize>yes</wado:Anonymize>"))
    assert "XPath" in violation(information(info_doc(), xpaths=""))
    # FrameNumber, then Anonymize: the order of the request's own parameters (our XSD, PS3.18 §6.4.3)
    assert "FrameNumber" in violation(information(info_doc(
        "<wado:Anonymize>yes</wado:Anonymize><wado:FrameNumber>3</wado:FrameNumber>")))
    assert "{urn:dicom:wado:ws:2011}DocumentRequest" in violation(information(doc()))


# -- responses: what validates under ours validates under the official schema ---------------------------

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def document_response(uid: str, payload: bytes) -> str:
    return (f"<ihe:DocumentResponse><ihe:RepositoryUniqueId>1.3.6.1.4.1.21367.13.80.110</ihe:RepositoryUniqueId>"
            f"<ihe:DocumentUniqueId>{uid}</ihe:DocumentUniqueId><ihe:mimeType>application/dicom</ihe:mimeType>"
            f"<ihe:Document>{b64(payload)}</ihe:Document></ihe:DocumentResponse>")


def registry_error(code: str, location: str, severity: str = "Error") -> str:
    return (f'<rs:RegistryError errorCode="{code}" codeContext="Document not found" location="{location}" '
            f'severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:{severity}"/>')


RESPONSES = {
    "success with two documents": (
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success", "",
        document_response("1.2.3.1", b"DICM" * 40) + document_response("1.2.3.2", bytes(range(256)))),
    "partial success": (
        "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess",
        '<rs:RegistryErrorList highestSeverity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error">'
        + registry_error("urn:dicom:wado:0017", "1.2.3.9")
        + registry_error("urn:dicom:wado:0007", "1.2.3.1", "Warning") + "</rs:RegistryErrorList>",
        document_response("1.2.3.1", b"\x00\x01")),
    "failure": (
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure",
        "<rs:RegistryErrorList>" + registry_error("XDSDocumentUniqueIdError", "1.2.3.9") + "</rs:RegistryErrorList>",
        ""),
    "slots": (
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success",
        '<rs:ResponseSlotList><rim:Slot xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" name="n">'
        "<rim:ValueList><rim:Value>v</rim:Value></rim:ValueList></rim:Slot></rs:ResponseSlotList>",
        ""),
}


@pytest.mark.parametrize("case", sorted(RESPONSES))
def test_responses_validate_against_ours_and_official(case):
    status, errors, documents = RESPONSES[case]
    el = etree.fromstring(f'<ihe:RetrieveDocumentSetResponse {NS}><rs:RegistryResponse status="{status}">{errors}'
                          f"</rs:RegistryResponse>{documents}</ihe:RetrieveDocumentSetResponse>")
    validate_element(el)
    official_validator()(el)


def test_invalid_response_is_refused_by_both():
    el = etree.fromstring(f'<ihe:RetrieveDocumentSetResponse {NS}><rs:RegistryResponse status="x"/>'
                          + document_response("1", b"x").replace("<ihe:mimeType>application/dicom</ihe:mimeType>", "")
                          + "</ihe:RetrieveDocumentSetResponse>")
    with pytest.raises(SchemaViolation, match="mimeType"):
        validate_element(el)
    with pytest.raises(AssertionError, match="mimeType"):
        official_validator()(el)


def test_rendered_and_information_responses_validate():
    rendered_response = etree.fromstring(
        f'<wado:RetrieveRenderedImagingDocumentSetResponse {NS}>'
        '<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
        "<wado:RenderedDocumentResponse><ihe:RepositoryUniqueId>1.3</ihe:RepositoryUniqueId>"
        "<wado:SourceDocumentUniqueId>1.2.3.4</wado:SourceDocumentUniqueId><wado:Rows>64</wado:Rows>"
        f"<wado:FrameNumber>1</wado:FrameNumber><ihe:mimeType>image/jpeg</ihe:mimeType><ihe:Document>{b64(b'jpeg')}"
        "</ihe:Document></wado:RenderedDocumentResponse></wado:RetrieveRenderedImagingDocumentSetResponse>")
    validate_element(rendered_response)
    info_response = etree.fromstring(
        f'<wado:RetrieveImagingDocumentSetInformationResponse {NS}>'
        '<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
        "<wado:DocumentInformationResponse><ihe:DocumentUniqueId>1.2.3.4</ihe:DocumentUniqueId>"
        "<wado:XPathResponseList><wado:XPathResponse><wado:Item><wado:Text>CT</wado:Text></wado:Item></wado:XPathResponse>"
        "<wado:XPathResponse/>"
        '<wado:XPathResponse><wado:Item><DicomAttribute xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM" '
        'tag="00080060" vr="CS" keyword="Modality"><Value number="1">CT</Value></DicomAttribute></wado:Item>'
        "<wado:Item><wado:Text>MR</wado:Text></wado:Item></wado:XPathResponse>"
        "</wado:XPathResponseList></wado:DocumentInformationResponse></wado:RetrieveImagingDocumentSetInformationResponse>")
    validate_element(info_response)
    # An Item holds one Text or one Native DICOM element, of that namespace only; never bare text.
    for bad in ('<wado:Item {ns}><a xmlns="urn:other"/></wado:Item>', '<wado:Item {ns}>CT</wado:Item>',
                '<wado:Item {ns}><wado:Text>CT</wado:Text><Value xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM"/>'
                '</wado:Item>', '<wado:Item {ns}/>',
                '<wado:Item {ns}><Value xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM"/>'
                '<Value xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM"/></wado:Item>'):
        copy = etree.fromstring(etree.tostring(info_response))
        copy.find(".//{urn:dicom:wado:ws:2011}XPathResponse").append(etree.fromstring(bad.format(ns=NS)))
        with pytest.raises(SchemaViolation):
            validate_element(copy)


# -- threads ---------------------------------------------------------------------------------------------------

def test_concurrent_validation_reports_each_threads_own_result():
    good = OFFICIAL_SHAPE["two studies, two series"]()
    bad = rad69(doc() + "<ihe:Foo/>")
    failures: list[str] = []

    def work(element: etree._Element, expect_ok: bool) -> None:
        for _ in range(300):
            try:
                validate_body(element)
                ok, msg = True, ""
            except SchemaViolation as exc:
                ok, msg = False, str(exc)
            if ok != expect_ok or (not ok and "Foo" not in msg):
                failures.append(msg or "unexpectedly valid")
                return

    threads = [threading.Thread(target=work, args=(good, True)) for _ in range(3)]
    threads += [threading.Thread(target=work, args=(bad, False)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
