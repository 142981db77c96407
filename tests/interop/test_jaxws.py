"""JAX-WS RI (Metro, what `wsimport` generates): the stack most IHE Imaging Document Consumers are built on.

Three clients, compiled once per change of their inputs (build/interop/):
- from the WSDL wadows serves, with MTOM and WS-Addressing switched on as features: RAD-69,
  RetrieveRenderedImagingDocumentSet and RetrieveImagingDocumentSetInformation;
- from the OFFICIAL IHE XDS-I.b WSDL, with only the endpoint address set (no Anonymize: the IHE schema has
  no such element), with MTOM on and off;
- from dcm4che's WSDL variant (what dcm4chee-built consumers are generated from), unchanged, endpoint set:
  RAD-69 and RetrieveRenderedImagingDocumentSet.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interop.harness import cached_build, digest, require, run_build, which
from interop.wire import DOCINFO_ACTION, RAD69_ACTION, RENDERED_ACTION, WireFacts
from support.official_schema import reference_path

HERE = Path(__file__).parent
JAVA_LIB = Path(os.environ.get("JAVA_LIB", "/usr/share/java"))
BUILD, CALL = HERE / "jaxws" / "build.sh", HERE / "jaxws" / "Rad69Call.java"
SOURCES = [BUILD, CALL, *(HERE / "jaxws" / f"{name}.java" for name in (
    "InteropClient", "Documents", "OurPort", "RenderedClient", "DocInfoClient"))]
BUNDLED = HERE / "jaxws" / "bundled.sh"
OFFICIAL_SOURCES = [HERE / "jaxws_official" / "OfficialClient.java", CALL]
DCM4CHE_SOURCES = [HERE / "jaxws_dcm4che" / "Dcm4cheClient.java", HERE / "jaxws" / "Documents.java"]

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def java_tools() -> dict[str, str]:
    return require({**which("wsimport", "javac", "java"), "jaxws-rt.jar": str(JAVA_LIB / "jaxws-rt.jar")},
                   "apt-get install jaxws default-jdk-headless")


@pytest.fixture(scope="module")
def ours(interop) -> Path:
    java_tools()
    return cached_build("jaxws", digest(interop.wsdl_key.encode(), *SOURCES), lambda out: run_build(
        [str(BUILD), interop.wsdl_url, str(out), *map(str, SOURCES[1:])]))


def bundled(toolkit: str, bundle: str, sources: list[Path]) -> Path:
    """Stubs from a WSDL bundle of ../shared/reference/schemas, as published, with the client sources."""
    java_tools()
    folder = reference_path("schemas", bundle)
    inputs = sorted(p for p in folder.rglob("*") if p.is_file())
    return cached_build(toolkit, digest(BUILD, BUNDLED, *sources, *inputs), lambda out: run_build(
        [str(BUNDLED), str(folder), str(out), *map(str, sources)]))


@pytest.fixture(scope="module")
def official() -> Path:
    return bundled("jaxws-official", "ihe-official", OFFICIAL_SOURCES)


@pytest.fixture(scope="module")
def dcm4che() -> Path:
    return bundled("jaxws-dcm4che", "dcm4che-variant", DCM4CHE_SOURCES)


def java(classes: Path, main: str, *options: str) -> list[str]:
    classpath = f"{JAVA_LIB / 'jaxws-rt.jar'}{os.pathsep}{classes / 'classes'}"
    return [java_tools()["java"], *options, "-cp", classpath, main]


def check_wire(f: WireFacts, mtom: bool = True, action: str = RAD69_ACTION) -> None:
    """MTOM both ways (responses always), SOAP 1.2, and WS-Addressing as IHE ITI TF-2 Appendix V asks
    (Action, MessageID, and RelatesTo answered), which JAX-WS checks on its side too (the response's
    Action must be the WSDL's output action)."""
    assert f.soap12 and f.mtom_request == mtom and f.mtom_response
    assert f.wsa_action == action and f.wsa_message_id
    assert f.relates_to == f.wsa_message_id


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_client_from_our_wsdl(interop, ours, tmp_path, anonymize):
    check_wire(interop.exercise(java(ours, "InteropClient"), tmp_path, anonymize=anonymize))


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "plain"])
def test_client_from_the_official_ihe_wsdl(interop, official, tmp_path, mtom):
    command = java(official, "OfficialClient", f"-Dmtom={str(mtom).lower()}")
    check_wire(interop.exercise(command, tmp_path, anonymize=False, wsdl="-"), mtom)


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_rendered_from_our_wsdl(interop, ours, tmp_path, anonymize):
    check_wire(interop.rendered(java(ours, "RenderedClient"), tmp_path, anonymize=anonymize), action=RENDERED_ACTION)


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_document_information_from_our_wsdl(interop, ours, tmp_path, anonymize):
    wire = interop.docinfo(java(ours, "DocInfoClient"), tmp_path, anonymize=anonymize)
    assert wire.soap12 and wire.mtom_request and wire.wsa_action == DOCINFO_ACTION
    assert wire.relates_to == wire.wsa_message_id


def test_rad69_from_dcm4ches_wsdl(interop, dcm4che, tmp_path):
    check_wire(interop.exercise(java(dcm4che, "Dcm4cheClient", "-Dop=rad69"), tmp_path, anonymize=False, wsdl="-"))


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_rendered_from_dcm4ches_wsdl(interop, dcm4che, tmp_path, anonymize):
    # dcm4che's schema has wado:RegistryResponse where wadows (after PS3.18) sends rs:RegistryResponse.
    wire = interop.rendered(java(dcm4che, "Dcm4cheClient", "-Dop=rendered"), tmp_path, anonymize=anonymize, wsdl="-",
                            status_bound=False)
    check_wire(wire, action=RENDERED_ACTION)
