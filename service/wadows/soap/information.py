"""RetrieveImagingDocumentSetInformation at the edge (PS3.18 2016e §6.4.3): its request body as a
spyne model mapped to the typed request, and its response body.

Both follow our schema (wsdl/schema/DICOM/dicom.wado.ws.2011.xsd, where no public one exists): one
wado:DocumentInformationResponse per answered document, in request order, holding one
wado:XPathResponse per expression of the request, in its order; each XPathResponse holds one
wado:Item per result item, holding either a wado:Text or one Native DICOM Model element (its
namespace declared on it). The operation has no MTOM parts: everything is in the envelope.
"""

from __future__ import annotations

from lxml import etree
from spyne import ComplexModel, Unicode

from ..retrieve.docinfo import InformationDocument, InformationRequest, InformationResult
from .mtom import Attachment
from .ns import IHE, RS, WADO, q
from .requests import document_requests, study_levels
from .responses import registry_response

_NSMAP = {"wado": WADO, "ihe": IHE, "rs": RS}


class _InformationDocumentRequest(ComplexModel):
    __namespace__ = WADO
    __type_name__ = "DocumentInformationRequestType"
    _type_info = [
        ("HomeCommunityId", Unicode.customize(sub_ns=IHE)),
        ("RepositoryUniqueId", Unicode.customize(sub_ns=IHE)),
        ("DocumentUniqueId", Unicode.customize(sub_ns=IHE)),
        ("FrameNumber", Unicode),
        ("Anonymize", Unicode),
    ]


_InformationStudyRequest = study_levels(
    WADO, _InformationDocumentRequest, type_names=("InformationSeriesRequest", "InformationStudyRequest"))


class _XPathList(ComplexModel):
    __namespace__ = WADO
    __type_name__ = "XPathList"
    _type_info = [("XPath", Unicode(max_occurs="unbounded"))]


class RetrieveImagingDocumentSetInformationRequest(ComplexModel):
    __namespace__ = WADO
    __type_name__ = "RetrieveImagingDocumentSetInformationRequestType"
    _type_info = [
        ("StudyRequest", _InformationStudyRequest.customize(max_occurs="unbounded")),
        ("XPathList", _XPathList),
        ("Anonymize", Unicode),
    ]


def to_information_request(req: RetrieveImagingDocumentSetInformationRequest,
                           _body: etree._Element) -> InformationRequest:
    docs = [InformationDocument(doc, model.FrameNumber) for doc, model in document_requests(req.StudyRequest)]
    # An expression is kept as written: spaces inside a literal are part of it.
    xpaths = tuple(x or "" for x in (req.XPathList.XPath or ())) if req.XPathList is not None else ()
    return InformationRequest(documents=tuple(docs), xpaths=xpaths, anonymize=req.Anonymize)


def information_response(result: InformationResult) -> tuple[etree._Element, list[Attachment]]:
    root = etree.Element(q(WADO, "RetrieveImagingDocumentSetInformationResponse"), nsmap=_NSMAP)
    registry_response(result, root)  # type: ignore[arg-type] - it reads status and errors only
    for doc in result.documents:
        dr = etree.SubElement(root, q(WADO, "DocumentInformationResponse"))
        if doc.home_community_id:
            etree.SubElement(dr, q(IHE, "HomeCommunityId")).text = doc.home_community_id
        etree.SubElement(dr, q(IHE, "DocumentUniqueId")).text = doc.document_unique_id
        if doc.frame_number is not None:
            etree.SubElement(dr, q(WADO, "FrameNumber")).text = str(doc.frame_number)
        answers = etree.SubElement(dr, q(WADO, "XPathResponseList"))
        for answer in doc.answers:
            xr = etree.SubElement(answers, q(WADO, "XPathResponse"))
            for item in answer:
                holder = etree.SubElement(xr, q(WADO, "Item"))
                if isinstance(item, str):
                    etree.SubElement(holder, q(WADO, "Text")).text = item
                else:
                    holder.append(item)  # a copy made by xpath.evaluate, in the NativeDICOM namespace
    return root, []
