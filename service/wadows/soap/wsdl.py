"""The static WSDL and its XSDs, as files and as served (spyne's generated WSDL is broken, NOTES.md).

The address and the top-level schema locations come from the configured public URL, never from a
request's Host header (a WSDL cached by a client would otherwise point wherever a forged header said).
XSD-to-XSD imports stay relative, so ``GET {public_url}/schema/<relpath>`` resolves them over HTTP
exactly as they resolve on disk.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

WSDL_NAME = "ImagingDocumentSource.wsdl"
SCHEMA_FOLDER = "schema"
_SOAP12_WSDL = "http://schemas.xmlsoap.org/wsdl/soap12/"
_XSD = "http://www.w3.org/2001/XMLSchema"


def wsdl_dir() -> Path:
    return Path(str(resources.files("wadows") / "wsdl"))


def schema_dir() -> Path:
    return wsdl_dir() / SCHEMA_FOLDER


@cache
def _schema_index() -> frozenset[str]:
    base = schema_dir()
    return frozenset(p.relative_to(base).as_posix() for p in base.rglob("*.xsd") if p.is_file())


def schema_paths() -> list[str]:
    """Every XSD, relative to the WSDL's folder (``schema/IHE/XDS.b_DocumentRepository.xsd``), sorted."""
    return sorted(f"{SCHEMA_FOLDER}/{rel}" for rel in _schema_index())


def schema_file(relpath: str) -> Path | None:
    """The XSD at ``schema/<relpath>``, or None.

    Only names from the packaged list are ever answered, so no spelling of ``..``, no absolute path,
    encoded separator or symlink can reach a file outside the schema folder.
    """
    if not isinstance(relpath, str) or relpath not in _schema_index():
        return None
    return schema_dir() / relpath


class SchemaFolderResolver(etree.Resolver):
    """Lets libxml2 load only files inside the schema folder (imports, includes); anything else is refused.

    With ``no_network=True`` libxml2 would still read any local file a schemaLocation names; this
    closes that too, so a tampered or mistaken XSD cannot make the validator read outside the package.
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root.resolve()

    def resolve(self, system_url, public_id, context):  # noqa: ANN001 - lxml's signature
        path = _local_path(system_url or "")
        if path is None or not path.is_relative_to(self._root) or not path.is_file():
            raise PermissionError(f"schema loader: refusing {str(system_url)[:200]!r} (outside {self._root})")
        return self.resolve_filename(str(path), context)


def _local_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        url = unquote(parts.path)
    elif parts.scheme and len(parts.scheme) > 1:  # a one-letter "scheme" is a Windows drive
        return None
    return Path(url).resolve()


def schema_parser() -> etree.XMLParser:
    """A parser for the WSDL and XSDs: no network, no DTD, no entities, loads only from the schema folder."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(SchemaFolderResolver(schema_dir()))
    return parser


def render_wsdl(public_url: str) -> bytes:
    """The WSDL as served: soap12:address and the top-level schemaLocations made absolute."""
    public_url = public_url.rstrip("/")
    path = wsdl_dir() / WSDL_NAME
    root = etree.fromstring(path.read_bytes(), schema_parser(), base_url=str(path))
    for addr in root.iter(f"{{{_SOAP12_WSDL}}}address"):
        addr.set("location", public_url)
    for tag in ("include", "import"):
        for el in root.iter(f"{{{_XSD}}}{tag}"):
            loc = el.get("schemaLocation")
            if loc and not urlsplit(loc).scheme:
                el.set("schemaLocation", f"{public_url}/{loc}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
