"""Parameters of a RenderedDocumentRequest that this server does not know.

PS3.18 lists the rendering parameters (§8.1-8.2), and its error table has a code for a parameter a
server does not support: urn:dicom:wado:0013 "Unsupported parameter in request". A vendor's own
element (another namespace, which the XSD's closing wildcard admits) or a WADO element this server
does not know (a later edition's parameter) is such a parameter: the document it sits in is answered
0013, the other documents are still rendered. spyne would drop these children silently and the XSD
would reject an unknown WADO one as a fault for the whole request, so they are set aside while the
body is validated and named to the mapping (requests.py) from the element itself.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from lxml import etree

from .ns import IHE, WADO, q

RENDERED_REQUEST = q(WADO, "RetrieveRenderedImagingDocumentSetRequest")
RENDERED_DOCUMENT = q(WADO, "RenderedDocumentRequest")
_PATH = f"{{{WADO}}}StudyRequest/{{{WADO}}}SeriesRequest/{{{WADO}}}RenderedDocumentRequest"

# wado:RenderedDocumentRequestType's own children, in the XSD's order (CharsetList applies to text media
# types only, PS3.18 §8.1.6: known, and moot for an image).
KNOWN_CHILDREN = frozenset(
    [q(IHE, n) for n in ("HomeCommunityId", "RepositoryUniqueId", "DocumentUniqueId")]
    + [q(WADO, n) for n in ("Annotation", "Rows", "Columns", "Region", "WindowWidth", "WindowCenter",
                            "ImageQuality", "PresentationUID", "PresentationSeriesUID", "Anonymize",
                            "FrameNumber", "ContentTypeList", "CharsetList")])


def rendered_documents(body: etree._Element) -> list[etree._Element]:
    """The body's RenderedDocumentRequest elements in document order (the order spyne reads them in)."""
    return body.findall(_PATH) if body.tag == RENDERED_REQUEST else []


def _unknown(document: etree._Element) -> list[etree._Element]:
    return [c for c in document if isinstance(c.tag, str) and c.tag not in KNOWN_CHILDREN]


def unsupported_parameters(document: etree._Element) -> tuple[str, ...]:
    """The Clark names of ``document``'s children that are no parameter this server knows."""
    return tuple(c.tag for c in _unknown(document))


@contextmanager
def set_aside(body: etree._Element) -> Iterator[None]:
    """Every unknown child of every RenderedDocumentRequest taken out for the duration (the known ones
    are still checked for order and type), then put back where it was."""
    taken: list[tuple[etree._Element, int, etree._Element]] = []
    for document in rendered_documents(body):
        unknown = _unknown(document)
        taken.extend((document, document.index(child), child) for child in unknown)
        for child in unknown:
            document.remove(child)  # lxml moves the child's tail (whitespace here) with it
    try:
        yield
    finally:
        for document, index, child in taken:  # increasing index per parent: each lands where it was
            document.insert(index, child)
