"""spyne's one job here: map the validated body element to a service method and typed objects.

Its generated WSDL, validator, fault writer, MTOM and serializer are all bypassed (NOTES.md lists
why); the body reaching it has already passed our XSD validation, so spyne's local-name matching
cannot be fooled by elements in the wrong namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from spyne import Application, ComplexModel, MethodContext, ServiceBase, Unicode, XmlAttribute, rpc
from spyne.model import AnyXml
from spyne.protocol.xml import XmlDocument
from spyne.server import ServerBase

from ..retrieve.model import DocumentRequest, RetrieveRequest
from . import faults
from .ns import IHE, IHE_RAD, WADO


class _DocumentRequest(ComplexModel):
    __namespace__ = IHE
    _type_info = [
        ("HomeCommunityId", Unicode),
        ("RepositoryUniqueId", Unicode),
        ("DocumentUniqueId", Unicode),
        ("Anonymize", Unicode.customize(sub_ns=WADO)),
    ]


class _SeriesRequest(ComplexModel):
    __namespace__ = IHE_RAD
    _type_info = [
        ("seriesInstanceUID", XmlAttribute(Unicode)),
        ("DocumentRequest", _DocumentRequest.customize(max_occurs="unbounded", sub_ns=IHE)),
    ]


class _StudyRequest(ComplexModel):
    __namespace__ = IHE_RAD
    _type_info = [
        ("studyInstanceUID", XmlAttribute(Unicode)),
        ("SeriesRequest", _SeriesRequest.customize(max_occurs="unbounded")),
    ]


class _TransferSyntaxUIDList(ComplexModel):
    __namespace__ = IHE_RAD
    _type_info = [("TransferSyntaxUID", Unicode(max_occurs="unbounded"))]


class _RetrieveImagingDocumentSetRequest(ComplexModel):
    __namespace__ = IHE_RAD
    __type_name__ = "RetrieveImagingDocumentSetRequestType"
    _type_info = [
        ("StudyRequest", _StudyRequest.customize(max_occurs="unbounded")),
        ("TransferSyntaxUIDList", _TransferSyntaxUIDList),
        ("Anonymize", Unicode.customize(sub_ns=WADO)),
    ]


def _text(value: str | None) -> str:
    return (value or "").strip()


def to_retrieve_request(req: _RetrieveImagingDocumentSetRequest) -> RetrieveRequest:
    docs = []
    for study in req.StudyRequest or ():
        for series in study.SeriesRequest or ():
            for d in series.DocumentRequest or ():
                docs.append(DocumentRequest(
                    study_uid=_text(study.studyInstanceUID),
                    series_uid=_text(series.seriesInstanceUID),
                    repository_unique_id=_text(d.RepositoryUniqueId),
                    document_unique_id=_text(d.DocumentUniqueId),
                    home_community_id=_text(d.HomeCommunityId) or None,
                    anonymize=d.Anonymize,
                ))
    syntaxes = tuple(_text(t) for t in (req.TransferSyntaxUIDList.TransferSyntaxUID or ()))
    return RetrieveRequest(documents=tuple(docs), transfer_syntaxes=syntaxes, anonymize=req.Anonymize)


class _ImagingDocumentSource(ServiceBase):
    @rpc(_RetrieveImagingDocumentSetRequest, _body_style="bare", _returns=AnyXml,
         _in_message_name="{%s}RetrieveImagingDocumentSetRequest" % IHE_RAD)
    def RetrieveImagingDocumentSet(ctx, req):  # noqa: N802 - the operation name from the IHE WSDL
        return to_retrieve_request(req)


_app = Application([_ImagingDocumentSource], tns=IHE_RAD, in_protocol=XmlDocument(), out_protocol=XmlDocument())
_server = ServerBase(_app)


@dataclass
class Operation:
    request: str  # Clark name of the body element
    actions: frozenset[str]  # wsa:Action values accepted for it
    response_action: str


OPERATIONS = {
    op.request: op for op in (
        Operation(
            "{%s}RetrieveImagingDocumentSetRequest" % IHE_RAD,
            frozenset({"urn:ihe:rad:2009:RetrieveImagingDocumentSet"}),
            "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
        ),
    )
}


def operation_for(body: etree._Element) -> Operation:
    op = OPERATIONS.get(body.tag)
    if op is None:
        raise faults.sender(f"Unsupported operation element {body.tag}", None)
    return op


def dispatch(body: etree._Element) -> Any:
    """The typed request for ``body``; the caller hands it, with who asked, to the operation's handler."""
    ctx = MethodContext(_server, MethodContext.SERVER)
    ctx.in_document = body
    _app.in_protocol.decompose_incoming_envelope(ctx, _app.in_protocol.REQUEST)
    (ctx,) = _app.in_protocol.generate_method_contexts(ctx)
    _server.get_in_object(ctx)
    if ctx.in_error is not None:
        raise faults.sender(f"The request body could not be read: {ctx.in_error.faultstring}")
    _app.process_request(ctx)
    if ctx.out_error is not None:
        raise ctx.out_error
    return ctx.out_object[0]
