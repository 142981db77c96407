"""The request bodies as spyne models, and each mapped to the typed request of its operation.

spyne reads the validated body into these (matching children by local name: the XSD check in
validate.py has already made namespaces and order count); the mapping hands retrieval its own typed
request (retrieve/model.py), free of SOAP. One model and one mapper per operation row (operations.py).
"""

from __future__ import annotations

from typing import Iterator

from spyne import ComplexModel, Unicode, XmlAttribute

from ..retrieve.model import DocumentRequest, RetrieveRequest
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


class RetrieveImagingDocumentSetRequest(ComplexModel):
    __namespace__ = IHE_RAD
    __type_name__ = "RetrieveImagingDocumentSetRequestType"
    _type_info = [
        ("StudyRequest", _StudyRequest.customize(max_occurs="unbounded")),
        ("TransferSyntaxUIDList", _TransferSyntaxUIDList),
        ("Anonymize", Unicode.customize(sub_ns=WADO)),
    ]


def _text(value: str | None) -> str:
    return (value or "").strip()


def document_requests(study_requests) -> Iterator[tuple[DocumentRequest, object]]:
    """Every DocumentRequest of a StudyRequest > SeriesRequest > DocumentRequest body (the shape of all
    three WADO-WS requests, PS3.18 §6.4), in request order, with its model for what an operation adds."""
    for study in study_requests or ():
        for series in study.SeriesRequest or ():
            for d in series.DocumentRequest or ():
                yield DocumentRequest(
                    study_uid=_text(study.studyInstanceUID),
                    series_uid=_text(series.seriesInstanceUID),
                    repository_unique_id=_text(d.RepositoryUniqueId),
                    document_unique_id=_text(d.DocumentUniqueId),
                    home_community_id=_text(d.HomeCommunityId) or None,
                    anonymize=d.Anonymize,
                ), d


def to_retrieve_request(req: RetrieveImagingDocumentSetRequest) -> RetrieveRequest:
    docs = [doc for doc, _ in document_requests(req.StudyRequest)]
    syntaxes = tuple(_text(t) for t in (req.TransferSyntaxUIDList.TransferSyntaxUID or ()))
    return RetrieveRequest(documents=tuple(docs), transfer_syntaxes=syntaxes, anonymize=req.Anonymize)
