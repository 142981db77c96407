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

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


@dataclass
class Envelope:
    headers: list[etree._Element]
    body: etree._Element  # the one child of env:Body (document/literal)


def _refuse_doctype(data: bytes) -> None:
    if _DOCTYPE.search(data) or any(m in data for m in _DOCTYPE_UTF16):
        raise faults.sender("DOCTYPE and ENTITY declarations are not allowed in a SOAP message (SOAP 1.2 Part 1 §5)")


def parse_envelope(data: bytes, attachments: Mapping[str, bytes] | None = None) -> Envelope:
    """Parse and check the envelope's shape; XOP includes are folded back into base64 text (XOP §3.2)."""
    _refuse_doctype(data)
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
    header = root.find(q(SOAP12, "Header"))
    body = root.find(q(SOAP12, "Body"))
    if body is None:
        raise faults.sender("The SOAP Envelope has no Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise faults.sender(f"The SOAP Body must hold exactly one element; it holds {len(children)}")
    _resolve_xop(root, attachments or {})
    headers = [h for h in header if isinstance(h.tag, str)] if header is not None else []
    return Envelope(headers=headers, body=children[0])


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
