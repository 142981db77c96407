"""The operations this endpoint answers, one row each: what the WSDL, dispatch and validation all read.

A row names the request element (the SOAP Body child, document/literal), the wsa:Actions accepted
for it and the one answered, the spyne model its body is read into and the mapping to a typed
request, the handler on the Imaging Document Source, and the writer of the response body and its
MTOM parts. app.py and dispatch.py serve any row; tests/soap/test_operations.py holds the table
against the served WSDL's portType and binding, so the three cannot drift apart. Adding an
operation is adding a row (and its WSDL operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from lxml import etree

from ..retrieve.docinfo import retrieve_imaging_document_set_information
from ..retrieve.rad69 import ImagingDocumentSource
from ..retrieve.rendered import retrieve_rendered_imaging_document_set
from ..security.policy import Caller
from . import faults, information, requests, responses
from .mtom import Attachment
from .ns import IHE_RAD, WADO, q

# PS3.18 §6.4 names the WADO-WS actions urn:dicom:wado:ws:2011:<Operation>; some deployed clients
# (and older drafts) send urn:dicom:ws:wado:2011:<Operation>. Both are accepted for those rows.
WADO_ACTION_PREFIXES = ("urn:dicom:wado:ws:2011:", "urn:dicom:ws:wado:2011:")


def wado_actions(operation: str) -> frozenset[str]:
    """The wsa:Actions accepted for a WADO-WS operation of PS3.18 §6.4 (the rendered and metadata ones)."""
    return frozenset(prefix + operation for prefix in WADO_ACTION_PREFIXES)


@dataclass(frozen=True)
class Operation:
    name: str  # the WSDL operation name
    request: str  # Clark name of the body element
    actions: frozenset[str]  # wsa:Action (and soapAction) values accepted for it
    response_action: str
    model: type  # the spyne ComplexModel the body is read into
    to_request: Callable[[Any, etree._Element], Any]  # model instance, body it was read from -> typed request
    handle: Callable[[ImagingDocumentSource, Any, Caller], Any]  # -> its result (status, documents, errors)
    write: Callable[[Any], tuple[etree._Element, list[Attachment]]]  # result -> response body, MTOM parts


RAD69 = Operation(
    name="RetrieveImagingDocumentSet",
    request=q(IHE_RAD, "RetrieveImagingDocumentSetRequest"),
    actions=frozenset({"urn:ihe:rad:2009:RetrieveImagingDocumentSet"}),
    response_action="urn:ihe:iti:2007:RetrieveDocumentSetResponse",
    model=requests.RetrieveImagingDocumentSetRequest,
    to_request=requests.to_retrieve_request,
    handle=ImagingDocumentSource.retrieve_imaging_document_set,
    write=responses.retrieve_document_set_response,
)

# PS3.18 2016e §6.4.3.1 spells this action urn:wado:2011:...; the two WADO-WS forms are accepted too.
DOCUMENT_SET_INFORMATION = Operation(
    name="RetrieveImagingDocumentSetInformation",
    request=q(WADO, "RetrieveImagingDocumentSetInformationRequest"),
    actions=frozenset({"urn:wado:2011:RetrieveImagingDocumentSetInformation"})
    | wado_actions("RetrieveImagingDocumentSetInformation"),
    response_action="urn:wado:2011:RetrieveImagingDocumentSetInformationResponse",
    model=information.RetrieveImagingDocumentSetInformationRequest,
    to_request=information.to_information_request,
    handle=retrieve_imaging_document_set_information,
    write=information.information_response,
)

# PS3.18 2016e §6.4.2; the action strings are those of dcm4che's WSDL variant and of Axis2 clients.
RENDERED = Operation(
    name="RetrieveRenderedImagingDocumentSet",
    request=q(WADO, "RetrieveRenderedImagingDocumentSetRequest"),
    actions=wado_actions("RetrieveRenderedImagingDocumentSet"),
    response_action="urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSetResponse",
    model=requests.RetrieveRenderedImagingDocumentSetRequest,
    to_request=requests.to_rendered_request,
    handle=retrieve_rendered_imaging_document_set,
    write=responses.retrieve_rendered_response,
)

OPERATIONS: dict[str, Operation] = {op.request: op for op in (RAD69, RENDERED, DOCUMENT_SET_INFORMATION)}


def operation_for(body: etree._Element) -> Operation:
    op = OPERATIONS.get(body.tag)
    if op is None:
        raise faults.sender(f"Unsupported operation element {body.tag}", None)
    return op
