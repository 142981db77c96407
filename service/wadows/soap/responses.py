"""The RAD-69 response body (ihe:RetrieveDocumentSetResponse) with its MTOM attachments."""

from __future__ import annotations

from lxml import etree

from ..retrieve.model import RetrieveResult
from .mtom import Attachment, new_content_id
from .ns import IHE, RS, WADO, XOP, q

_NSMAP = {"ihe": IHE, "rs": RS, "xop": XOP}


def registry_response(result: RetrieveResult, parent: etree._Element | None = None) -> etree._Element:
    tag = q(RS, "RegistryResponse")
    rr = etree.SubElement(parent, tag) if parent is not None else etree.Element(tag, nsmap=_NSMAP)
    rr.set("status", result.status)
    if result.errors:
        lst = etree.SubElement(rr, q(RS, "RegistryErrorList"))
        lst.set("highestSeverity", max(e.severity for e in result.errors))
        for err in result.errors:
            e = etree.SubElement(lst, q(RS, "RegistryError"))
            e.set("errorCode", err.code.value)
            e.set("codeContext", err.context)
            e.set("severity", err.severity)
            if err.location is not None:
                e.set("location", err.location)
    return rr


def retrieve_document_set_response(result: RetrieveResult) -> tuple[etree._Element, list[Attachment]]:
    root = etree.Element(q(IHE, "RetrieveDocumentSetResponse"), nsmap=_NSMAP)
    registry_response(result, root)
    attachments = []
    for n, doc in enumerate(result.documents, 1):
        dr = _document_response(root, q(IHE, "DocumentResponse"), doc)
        etree.SubElement(dr, q(IHE, "DocumentUniqueId")).text = doc.document_unique_id
        attachments.append(_document_part(dr, n, doc.mime_type, _lazy(doc.chunks)))
    return root, attachments


def _document_response(root: etree._Element, tag: str, doc) -> etree._Element:
    dr = etree.SubElement(root, tag)
    if doc.home_community_id:
        etree.SubElement(dr, q(IHE, "HomeCommunityId")).text = doc.home_community_id
    etree.SubElement(dr, q(IHE, "RepositoryUniqueId")).text = doc.repository_unique_id
    return dr


def _document_part(dr: etree._Element, n: int, mime_type: str, chunks) -> Attachment:
    """ihe:mimeType and ihe:Document as an xop:Include of the MTOM part returned (XOP §3)."""
    cid = new_content_id(n)
    etree.SubElement(dr, q(IHE, "mimeType")).text = mime_type
    inc = etree.SubElement(etree.SubElement(dr, q(IHE, "Document")), q(XOP, "Include"))
    inc.set("href", f"cid:{cid}")
    return Attachment(cid, mime_type, chunks)


def _lazy(factory):
    """Defer opening the document until the writer reaches its part."""
    yield from factory()


# PS3.18 2016e §6.4.2.2 / dcm4che's dicom.wado.ws.2011.xsd: wado:RenderingParameters, in that order.
_RENDERED_FIELDS = ("Annotation", "Rows", "Columns", "Region", "WindowWidth", "WindowCenter", "ImageQuality",
                    "PresentationUID", "PresentationSeriesUID", "Anonymize", "FrameNumber")
_RENDERED_NSMAP = {"wado": WADO, "ihe": IHE, "rs": RS, "xop": XOP}


def retrieve_rendered_response(result: RetrieveResult) -> tuple[etree._Element, list[Attachment]]:
    """wado:RetrieveRenderedImagingDocumentSetResponse: the status block as rs:RegistryResponse (as
    PS3.18 writes it), then one RenderedDocumentResponse per rendered document, its image an MTOM part."""
    root = etree.Element(q(WADO, "RetrieveRenderedImagingDocumentSetResponse"), nsmap=_RENDERED_NSMAP)
    registry_response(result, root)
    attachments = []
    for n, doc in enumerate(result.documents, 1):
        dr = _document_response(root, q(WADO, "RenderedDocumentResponse"), doc)
        etree.SubElement(dr, q(WADO, "SourceDocumentUniqueId")).text = doc.source_document_unique_id
        for name in _RENDERED_FIELDS:
            if name in doc.parameters:
                etree.SubElement(dr, q(WADO, name)).text = doc.parameters[name]
        attachments.append(_document_part(dr, n, doc.mime_type, (doc.data,)))
    return root, attachments
