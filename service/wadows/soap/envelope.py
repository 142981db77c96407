"""Parsing SOAP 1.2 envelopes safely and writing response envelopes.

SOAP 1.2 Part 1 §5 forbids a Document Type Declaration in a SOAP message; refusing it outright is
also what stops XXE and entity-expansion attacks before libxml2 sees them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from lxml import etree

from . import faults
from .ns import SOAP11, SOAP12, XOP, q

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DOCTYPE_UTF16 = [m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-16-le", "utf-16-be")]

_HEADER = q(SOAP12, "Header")
_BODY = q(SOAP12, "Body")

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


@dataclass(frozen=True)
class ParseLimits:
    """What one request may hold, checked while a streaming pre-scan reads it, before any tree exists.

    A request of ``max_documents`` documents, each in its own study and series, needs about seven
    elements per document for RAD-69 and up to about twenty for the rendered operation (every
    rendering parameter, a ContentTypeList, Region's four children); headers (WS-Addressing, one UsernameToken, a Timestamp) need a few dozen.
    Everything beyond is not a request this service can answer, so it costs at most one scan of its
    first elements, never a tree of millions of nodes (issue 17 item 4).
    """

    max_documents: int = 1000
    max_depth: int = 32
    max_header_elements: int = 256  # elements anywhere inside env:Header
    max_attributes: int = 32  # per element, namespace declarations included
    max_attribute_chars: int = 4096
    max_text_chars: int = 65536  # one text node (XOP folding happens after the scan)
    extra_elements: int = 1024  # beyond the per-document allowance

    @property
    def max_elements(self) -> int:
        return self.extra_elements + 24 * self.max_documents


class TooManyDocuments(Exception):
    """More DocumentRequests than ``max_documents``: answered urn:dicom:wado:0005, never built.
    ``request`` is the Body's element (Clark name), so the answer is that operation's response."""

    def __init__(self, limit: int, request: str | None = None) -> None:
        super().__init__(limit)
        self.limit = limit
        self.request = request


# The per-document elements of the operations: RAD-69's ihe:DocumentRequest, the
# wado:DocumentRequest of RetrieveImagingDocumentSetInformation (PS3.18 §6.4.3) and PS3.18 §6.4.2's
# wado:RenderedDocumentRequest: each counts against max_documents.
_DOCUMENT_REQUESTS = frozenset({"{urn:ihe:iti:xds-b:2007}DocumentRequest", "{urn:dicom:wado:ws:2011}DocumentRequest",
                                "{urn:dicom:wado:ws:2011}RenderedDocumentRequest"})
_SCAN_CHUNK = 64 << 10


class _Scan:
    """lxml parser target: counts, never builds. Raising here stops libxml2 mid-document."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.elements = 0
        self.depth = 0
        self.header_depth = 0  # >0 while inside env:Header
        self.header_elements = 0
        self.documents = 0
        self.text = 0
        self.in_body = False
        self.request: str | None = None  # the Body's first element

    def start(self, tag: str, attrib: Mapping[str, str], nsmap: Mapping[str, str] | None = None) -> None:
        lim = self.limits
        self.elements += 1
        self.depth += 1
        self.text = 0
        if self.elements > lim.max_elements:
            raise faults.sender(f"The request has more than {lim.max_elements} elements")
        if self.depth > lim.max_depth:
            raise faults.sender(f"The request nests elements deeper than {lim.max_depth}")
        if len(attrib) + len(nsmap or ()) > lim.max_attributes:
            raise faults.sender(f"An element carries more than {lim.max_attributes} attributes")
        for value in attrib.values():
            if len(value) > lim.max_attribute_chars:
                raise faults.sender(f"An attribute value is longer than {lim.max_attribute_chars} characters")
        if self.header_depth:
            self.header_depth += 1
            self.header_elements += 1
            if self.header_elements > lim.max_header_elements:
                raise faults.sender(f"The SOAP Header holds more than {lim.max_header_elements} elements")
        elif self.depth == 2:
            self.header_depth = 1 if tag == _HEADER else 0
            self.in_body = tag == _BODY
        elif self.depth == 3 and self.in_body and self.request is None:
            self.request = tag
        if tag in _DOCUMENT_REQUESTS:
            self.documents += 1
            if self.documents > lim.max_documents:
                raise TooManyDocuments(lim.max_documents, self.request)

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.text = 0
        if self.header_depth:
            self.header_depth -= 1

    def data(self, text: str) -> None:
        self.text += len(text)
        if self.text > self.limits.max_text_chars:
            raise faults.sender(f"A text node is longer than {self.limits.max_text_chars} characters")

    def close(self) -> None:
        return None


def _prescan(data: bytes, limits: ParseLimits) -> None:
    """Feed the request in chunks to a counting target, so its cost stops at the first limit crossed."""
    parser = etree.XMLParser(target=_Scan(limits), resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        for i in range(0, len(data), _SCAN_CHUNK):
            parser.feed(data[i:i + _SCAN_CHUNK])
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise faults.sender(f"The request is not well-formed XML: {exc.msg}") from None


@dataclass
class Envelope:
    headers: list[etree._Element]
    body: etree._Element  # the one child of env:Body (document/literal)


def _refuse_doctype(data: bytes) -> None:
    if _DOCTYPE.search(data) or any(m in data for m in _DOCTYPE_UTF16):
        fault = faults.sender("DOCTYPE and ENTITY declarations are not allowed in a SOAP message (SOAP 1.2 Part 1 §5)")
        fault.alert = "doctype-refused"
        raise fault


def parse_envelope(data: bytes, attachments: Mapping[str, bytes] | None = None,
                   limits: ParseLimits | None = None) -> Envelope:
    """Parse and check the envelope's shape; XOP includes are folded back into base64 text (XOP §3.2).

    Raises TooManyDocuments (for a 0005 answer) before any tree is built."""
    _refuse_doctype(data)
    _prescan(data, limits or ParseLimits())
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise faults.sender(f"The request is not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise faults.sender("DOCTYPE is not allowed in a SOAP message (SOAP 1.2 Part 1 §5)")
    if root.tag == q(SOAP11, "Envelope"):
        raise faults.SoapFault(faults.VERSION_MISMATCH, "This endpoint speaks SOAP 1.2 only (IHE ITI TF-2 Appendix V)")
    if root.tag != q(SOAP12, "Envelope"):
        raise faults.sender("The root element is not a SOAP 1.2 Envelope")
    header, body = _header_and_body(root)
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise faults.sender(f"The SOAP Body must hold exactly one element; it holds {len(children)}")
    _resolve_xop(root, attachments or {})
    headers = [h for h in header if isinstance(h.tag, str)] if header is not None else []
    return Envelope(headers=headers, body=children[0])


def _header_and_body(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """SOAP 1.2 Part 1 §5.1: an optional env:Header, then exactly one env:Body, and no other element."""
    children = [c for c in root if isinstance(c.tag, str)]
    header = children.pop(0) if children and children[0].tag == _HEADER else None
    if not children or children[0].tag != q(SOAP12, "Body"):
        raise faults.sender("The SOAP Envelope has no Body")
    if len(children) > 1:
        raise faults.sender("The SOAP Envelope must hold one Header at most and exactly one Body, in that order, "
                            "and nothing after the Body")
    return header, children[0]


def _resolve_xop(root: etree._Element, attachments: Mapping[str, bytes]) -> None:
    for inc in root.iter(q(XOP, "Include")):
        href = inc.get("href", "")
        cid = content_id_from_href(href)
        if cid not in attachments:
            raise faults.sender("An xop:Include refers to a MIME part the request does not carry")
        parent = inc.getparent()
        parent.remove(inc)
        parent.text = base64.b64encode(attachments[cid]).decode("ascii")


def content_id_from_href(href: str) -> str:
    """``cid:`` URLs are percent-encoded Content-IDs without angle brackets (RFC 2392)."""
    from urllib.parse import unquote

    return unquote(href[4:] if href.lower().startswith("cid:") else href)


def build_envelope(headers: Iterable[etree._Element], body: etree._Element) -> bytes:
    env = etree.Element(q(SOAP12, "Envelope"), nsmap={"env": SOAP12})
    header = etree.SubElement(env, q(SOAP12, "Header"))
    header.extend(headers)
    etree.SubElement(env, q(SOAP12, "Body")).append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
