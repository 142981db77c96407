"""Serving the static WSDL and its XSDs (spyne's generated WSDL is broken, NOTES.md).

The address and the top-level schema locations come from the configured public URL, never from a
request's Host header; XSD-to-XSD imports stay relative, so they resolve over HTTP as on disk.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePosixPath

from lxml import etree

WSDL_NAME = "ImagingDocumentSource.wsdl"
_SOAP12_WSDL = "http://schemas.xmlsoap.org/wsdl/soap12/"
_XSD = "http://www.w3.org/2001/XMLSchema"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def wsdl_dir() -> Path:
    return Path(str(resources.files("wadows") / "wsdl"))


def schema_paths() -> list[str]:
    """Every XSD, relative to the WSDL's folder (e.g. ``schema/IHE/XDS.b_DocumentRepository.xsd``)."""
    base = wsdl_dir()
    return sorted(str(p.relative_to(base)) for p in (base / "schema").rglob("*.xsd"))


def render_wsdl(public_url: str) -> bytes:
    public_url = public_url.rstrip("/")
    tree = etree.parse(str(wsdl_dir() / WSDL_NAME), _PARSER)
    for addr in tree.iter(f"{{{_SOAP12_WSDL}}}address"):
        addr.set("location", public_url)
    for tag in ("include", "import"):
        for el in tree.iter(f"{{{_XSD}}}{tag}"):
            loc = el.get("schemaLocation")
            if loc and not loc.startswith(("http:", "https:")):
                el.set("schemaLocation", f"{public_url}/{loc}")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def schema_file(relpath: str) -> Path | None:
    """The XSD at ``schema/<relpath>``, or None; no path outside the schema folder is ever opened."""
    parts = PurePosixPath(relpath).parts
    if not parts or any(p in ("..", ".", "") or "\\" in p for p in parts) or not relpath.endswith(".xsd"):
        return None
    path = wsdl_dir() / "schema" / Path(*parts)
    return path if path.is_file() else None
