"""Validating audit messages against the DICOM Audit Message Schema (PS3.15 A.5.1).

The standard publishes the schema in RELAX NG compact syntax (data/audit/audit-message.rnc, as
published); libxml2 reads only the XML syntax, so data/audit/audit-message.rng is generated from it
by tools/gen_audit_schema.py (see data/audit/SOURCE.md).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lxml import etree


class InvalidAuditMessage(ValueError):
    pass


@lru_cache(maxsize=1)
def _schema() -> etree.RelaxNG:
    text = resources.files("wadows").joinpath("data/audit/audit-message.rng").read_bytes()
    return etree.RelaxNG(etree.fromstring(text))


def validate(xml: bytes) -> etree._Element:
    """The parsed message, or InvalidAuditMessage naming the first schema error."""
    doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    schema = _schema()
    if not schema.validate(doc):
        error = schema.error_log.last_error
        raise InvalidAuditMessage(f"line {error.line}: {error.message}" if error else "invalid")
    return doc
