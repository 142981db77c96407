"""The request bodies as spyne models, and each mapped to the typed request of its operation.

spyne reads the validated body into these (matching children by local name: the XSD check in
validate.py has already made namespaces and order count); the mapping hands retrieval its own typed
request (retrieve/model.py), free of SOAP. One model and one mapper per operation row (operations.py).
"""

from __future__ import annotations

from typing import Any, Iterator

from lxml import etree
from spyne import AnyXml, ComplexModel, Unicode, XmlAttribute

from ..retrieve.model import DocumentRequest, RetrieveRequest
from ..retrieve.rendered import RenderedDocumentRequest, RenderedRequest
from .extensions import rendered_documents, unsupported_parameters
from .ns import IHE, IHE_RAD, WADO


class _DocumentRequest(ComplexModel):
    __namespace__ = IHE
    _type_info = [
        ("HomeCommunityId", Unicode),
        ("RepositoryUniqueId", Unicode),
        ("DocumentUniqueId", Unicode),
        ("Anonymize", Unicode.customize(sub_ns=WADO)),
    ]


def study_levels(namespace: str, document: type, element: str = "DocumentRequest", *,
                 document_ns: str | None = None, type_names: tuple[str, str] = ("", "")) -> type:
    """The StudyRequest > SeriesRequest levels around an operation's document model (the shape every
    WADO-WS request shares, PS3.18 §6.4): only the namespace, the document element and the type names
    differ from one operation to the next. Returns the study level's model."""
    series_name, study_name = type_names
    doc = document.customize(max_occurs="unbounded", **({"sub_ns": document_ns} if document_ns else {}))
    series = type(series_name or "_SeriesRequest", (ComplexModel,), {
        "__namespace__": namespace,
        **({"__type_name__": series_name} if series_name else {}),
        "_type_info": [("seriesInstanceUID", XmlAttribute(Unicode)), (element, doc)],
    })
    return type(study_name or "_StudyRequest", (ComplexModel,), {
        "__namespace__": namespace,
        **({"__type_name__": study_name} if study_name else {}),
        "_type_info": [("studyInstanceUID", XmlAttribute(Unicode)),
                       ("SeriesRequest", series.customize(max_occurs="unbounded"))],
    })


_StudyRequest = study_levels(IHE_RAD, _DocumentRequest, document_ns=IHE)


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


def document_requests(study_requests, element: str = "DocumentRequest") -> Iterator[tuple[DocumentRequest, object]]:
    """Every DocumentRequest of a StudyRequest > SeriesRequest > DocumentRequest body (the shape of all
    three WADO-WS requests, PS3.18 §6.4), in request order, with its model for what an operation adds."""
    for study in study_requests or ():
        for series in study.SeriesRequest or ():
            for d in getattr(series, element) or ():
                yield DocumentRequest(
                    study_uid=_text(study.studyInstanceUID),
                    series_uid=_text(series.seriesInstanceUID),
                    repository_unique_id=_text(d.RepositoryUniqueId),
                    document_unique_id=_text(d.DocumentUniqueId),
                    home_community_id=_text(d.HomeCommunityId) or None,
                    anonymize=d.Anonymize,
                ), d


def _documents(req, element: str) -> Iterator[tuple[Any, DocumentRequest]]:
    """The rendered request's documents (RenderedDocumentRequest, PS3.18 §6.4.2), model first."""
    for doc, d in document_requests(req.StudyRequest, element):
        yield d, doc


def to_retrieve_request(req: RetrieveImagingDocumentSetRequest, _body: etree._Element) -> RetrieveRequest:
    docs = [doc for doc, _ in document_requests(req.StudyRequest)]
    syntaxes = tuple(_text(t) for t in (req.TransferSyntaxUIDList.TransferSyntaxUID or ()))
    return RetrieveRequest(documents=tuple(docs), transfer_syntaxes=syntaxes, anonymize=req.Anonymize)


# -- RetrieveRenderedImagingDocumentSet (PS3.18 2016e §6.4.2; dcm4che's dicom.wado.ws.2011.xsd) --------

class RawElement(AnyXml):
    """An element handed over as itself (dispatch.py registers it): spyne's AnyXml gives only an
    element's first child, and Region's text form has none."""


class _ContentTypeList(ComplexModel):
    __namespace__ = WADO
    _type_info = [("ContentType", Unicode(max_occurs="unbounded"))]


class _RenderedDocumentRequest(ComplexModel):
    __namespace__ = WADO
    # Schema order (wado:RenderingParameters); Region is mixed content (text or XMin.. children), read raw.
    _type_info = [
        ("HomeCommunityId", Unicode.customize(sub_ns=IHE)),
        ("RepositoryUniqueId", Unicode.customize(sub_ns=IHE)),
        ("DocumentUniqueId", Unicode.customize(sub_ns=IHE)),
        ("Annotation", Unicode),
        ("Rows", Unicode),
        ("Columns", Unicode),
        ("Region", RawElement),
        ("WindowWidth", Unicode),
        ("WindowCenter", Unicode),
        ("ImageQuality", Unicode),
        ("PresentationUID", Unicode),
        ("PresentationSeriesUID", Unicode),
        ("Anonymize", Unicode),
        ("FrameNumber", Unicode),
        ("ContentTypeList", _ContentTypeList),
    ]


_RenderedStudyRequest = study_levels(WADO, _RenderedDocumentRequest, "RenderedDocumentRequest")


class RetrieveRenderedImagingDocumentSetRequest(ComplexModel):
    __namespace__ = WADO
    __type_name__ = "RetrieveRenderedImagingDocumentSetRequestType"
    _type_info = [("StudyRequest", _RenderedStudyRequest.customize(max_occurs="unbounded"))]


_REGION_CHILDREN = (("XMin", "YMin", "XMax", "YMax"), ("Xmin", "Ymin", "Xmax", "Ymax"))


def region_text(region: etree._Element | None) -> str | None:
    """The Region as "x1,y1,x2,y2" whichever spelling came (the XSD's RegionType: text as dcm4che
    sends it, or XMin/YMin/XMax/YMax children as PS3.18 2016e writes it). Text and children together
    is not one region: returned as text the renderer refuses (urn:dicom:wado:0012)."""
    if region is None:
        return None
    children = [c for c in region if isinstance(c.tag, str)]
    text = "".join(region.itertext()) if not children else (region.text or "")
    if not children:
        return text.strip()
    if text.strip() or any((c.tail or "").strip() for c in children):
        return "text and children"
    names = tuple(etree.QName(c).localname for c in children)
    if names not in _REGION_CHILDREN:
        return "unknown children"
    return ",".join((c.text or "").strip() for c in children)


def to_rendered_request(req: RetrieveRenderedImagingDocumentSetRequest, body: etree._Element) -> RenderedRequest:
    """Each document with its parameters; the unknown ones (extensions.py) are read from ``body``, the
    element spyne read ``req`` from, whose RenderedDocumentRequests come in the same order."""
    docs = []
    elements = rendered_documents(body)
    for n, (d, document) in enumerate(_documents(req, "RenderedDocumentRequest")):
        content_types = d.ContentTypeList.ContentType if d.ContentTypeList is not None else None
        docs.append(RenderedDocumentRequest(
            document=document,
            content_types=tuple(_text(t) for t in (content_types or ())),
            annotation=d.Annotation, rows=d.Rows, columns=d.Columns, region=region_text(d.Region),
            window_width=d.WindowWidth, window_center=d.WindowCenter, image_quality=d.ImageQuality,
            presentation_uid=d.PresentationUID, presentation_series_uid=d.PresentationSeriesUID,
            frame_number=d.FrameNumber,
            unsupported=unsupported_parameters(elements[n]) if n < len(elements) else (),
        ))
    return RenderedRequest(documents=tuple(docs))
