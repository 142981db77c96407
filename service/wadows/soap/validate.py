"""Validating the SOAP Body against the project's own XSDs (wsdl/schema/).

spyne matches children by local name only and its own validator rejects correct requests (NOTES.md),
so this check is what makes namespaces, order and cardinality count. Its message becomes the text of
a Sender fault, read by an integration engineer: it names the element, the line and what the schema
expected, and never echoes a value (UIDs and parameters can be PHI).
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from .extensions import set_aside
from .ns import IHE, IHE_RAD, RIM, RS, WADO, q
from .wsdl import schema_dir, schema_parser

# Request elements of the three WADO-WS actions (PS3.18 §6.4.1-6.4.3); whether an action is offered is
# the operation table's business (operations.py), whether its body is well-formed is ours.
REQUEST_ELEMENTS = frozenset({
    q(IHE_RAD, "RetrieveImagingDocumentSetRequest"),
    q(WADO, "RetrieveRenderedImagingDocumentSetRequest"),
    q(WADO, "RetrieveImagingDocumentSetInformationRequest"),
})

# One document importing every namespace, so a single compiled schema knows every message.
_WRAPPER_IMPORTS = {
    IHE_RAD: "IHE/XDSI.b_ImagingDocumentSource.xsd",
    IHE: "IHE/XDS.b_DocumentRepository.xsd",
    WADO: "DICOM/dicom.wado.ws.2011.xsd",
    RS: "ebRS/rs.xsd",
    RIM: "ebRS/rim.xsd",
}

_compile_lock = threading.Lock()
# lxml keeps one error log per XMLSchema object: concurrent validations would read each other's errors.
_validate_lock = threading.Lock()
_schema: etree.XMLSchema | None = None

# libxml2 quotes the offending value in these two shapes; the value may itself contain quotes, so the
# match runs greedily up to the fixed text that follows it.
_VALUE_AFTER_FACET = re.compile(r"The value '.*' (?=(?:has|is|exceeds|does)\b)", re.DOTALL)
_VALUE_FIRST = re.compile(r"^'.*' (?=is not a valid value\b)", re.DOTALL)
_ELEMENT_PREFIX = re.compile(r"^(Element '[^']*'(?:, attribute '[^']*')?: )")
# libxml2 lists at most this many expected elements (xmlschemas.c) and says nothing when it stops there;
# ten names may therefore be a cut list, which the message then says.
_EXPECTED_CAP = 10
_EXPECTED = re.compile(r"Expected is one of \( (?P<names>[^()]*) \)")


class SchemaViolation(Exception):
    """The body does not match the schema; the message names the element, never its content."""


def _wrapper_schema() -> etree._Element:
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in _WRAPPER_IMPORTS.items())
    text = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    # The base URL places the relative imports in the schema folder; no file of that name is read.
    return etree.fromstring(text.encode(), schema_parser(), base_url=str(schema_dir() / "wadows-all.xsd"))


def project_schema() -> etree.XMLSchema:
    """The compiled project schema (every namespace), built once on first use."""
    global _schema
    if _schema is None:
        with _compile_lock:
            if _schema is None:
                _schema = etree.XMLSchema(_wrapper_schema())
    return _schema


def _without_values(message: str) -> str:
    m = _ELEMENT_PREFIX.match(message)
    prefix, detail = (m.group(1), message[m.end():]) if m else ("", message)
    detail = _VALUE_AFTER_FACET.sub("The value ", detail)
    detail = _VALUE_FIRST.sub("The value ", detail)
    if "The value '" in detail or detail.startswith("'"):  # a shape not foreseen: say less rather than leak
        detail = "The value is not valid for this element's type."
    return prefix + detail


def _mark_cut_list(message: str) -> str:
    m = _EXPECTED.search(message)
    if m is None or m.group("names").count(", ") + 1 < _EXPECTED_CAP:
        return message
    return message[:m.end("names")] + ", ..." + message[m.end("names"):]


def validate_element(element: etree._Element) -> None:
    """Validate any global element of the project schemas (requests and responses alike)."""
    schema = project_schema()
    with _validate_lock:
        if schema.validate(element):
            return
        errors = [e for e in schema.error_log if e.level >= etree.ErrorLevels.ERROR] or list(schema.error_log)
    first = errors[0]
    where = f"line {first.line}: " if first.line else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise SchemaViolation(f"{where}{_mark_cut_list(_without_values(first.message.strip()))}{more}")


def validate_body(element: etree._Element) -> None:
    """Validate one SOAP Body child: it must be a WADO-WS request element valid against the project XSDs.
    A RenderedDocumentRequest's unknown parameters are not the schema's to refuse (extensions.py)."""
    tag = element.tag if isinstance(element.tag, str) else repr(element.tag)
    if tag not in REQUEST_ELEMENTS:
        raise SchemaViolation(f"unsupported operation element {tag[:200]}")
    with set_aside(element):
        validate_element(element)
