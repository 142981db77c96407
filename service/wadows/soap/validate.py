"""Validating the SOAP Body against the project's XSDs (spyne's validator rejects correct requests).

spyne matches children by local name only, so this check is what makes namespaces and order count.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from .wsdl import wsdl_dir

_ROOT_SCHEMA = "schema/IHE/XDSI.b_ImagingDocumentSource.xsd"
_lock = threading.Lock()
_schema: etree.XMLSchema | None = None
_VALUE = re.compile(r"The value '[^']*'")


class SchemaViolation(Exception):
    """The body does not match the schema; the message names the element, never its content."""


def _compiled() -> etree.XMLSchema:
    global _schema
    with _lock:
        if _schema is None:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            doc = etree.parse(str(wsdl_dir() / _ROOT_SCHEMA), parser)
            _schema = etree.XMLSchema(doc)
        return _schema


def validate_body(element: etree._Element) -> None:
    schema = _compiled()
    # XMLSchema objects are not safe to share between threads while validating.
    with _lock:
        ok = schema.validate(element)
        error = schema.error_log.last_error if not ok else None
    if error is not None:
        message = _VALUE.sub("The value", error.message)
        raise SchemaViolation(f"line {error.line}: {message}")
