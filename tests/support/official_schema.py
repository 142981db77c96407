"""The OFFICIAL IHE XDS.b / XDS-I.b schemas from ../shared/reference, for cross-checking the wire.

Our XSDs are our own text; these checks are what show they stay wire-compatible: an official-shape
request must pass both, and every response we produce must pass the official ones. The reference folder
sits beside the repository and is not shipped with it, so tests that need it skip with the path they
looked at.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Callable

from lxml import etree

from support.needs import unavailable

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
OFFICIAL_SCHEMAS = REFERENCE / "schemas" / "ihe-official" / "schema"

_OFFICIAL_IMPORTS = {
    "urn:ihe:rad:xdsi-b:2009": "IHE/XDSI.b_ImagingDocumentSource.xsd",
    "urn:ihe:iti:xds-b:2007": "IHE/XDS.b_DocumentRepository.xsd",
    "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0": "ebRS/rs.xsd",
}


def reference_path(*parts: str) -> Path:
    """A file under ../shared/reference, or a pytest skip naming where it was looked for."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        unavailable(f"reference data not found at {path.resolve()} (../shared absent)")
    return path


@cache
def _official_schema() -> etree.XMLSchema:
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in _OFFICIAL_IMPORTS.items())
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.fromstring(wrapper.encode(), parser, base_url=str(OFFICIAL_SCHEMAS.resolve() / "wrapper.xsd"))
    return etree.XMLSchema(doc)


def official_validator() -> Callable[[etree._Element], None]:
    """A function that raises AssertionError (with libxml2's first error) unless the element is valid
    under the official IHE schemas; skips the calling test when ../shared is absent."""
    reference_path("schemas", "ihe-official", "schema", "IHE", "XDSI.b_ImagingDocumentSource.xsd")
    schema = _official_schema()

    def validate(element: etree._Element) -> None:
        if not schema.validate(element):
            raise AssertionError(f"not valid under the official IHE schema: {schema.error_log[0].message}")

    return validate
