"""JAX-WS RI (Metro, what `wsimport` generates): the stack most IHE Imaging Document Consumers are built on.

Two clients, compiled once per change of their inputs (build/interop/):
- from the WSDL wadows serves, with MTOM and WS-Addressing switched on as features;
- from the OFFICIAL IHE XDS-I.b WSDL, with only the endpoint address set (no Anonymize: the IHE schema has
  no such element), with MTOM on and off.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interop.harness import cached_build, digest, require, run_build, which
from interop.wire import RAD69_ACTION, WireFacts
from support.official_schema import reference_path

HERE = Path(__file__).parent
JAVA_LIB = Path(os.environ.get("JAVA_LIB", "/usr/share/java"))
BUILD, CALL = HERE / "jaxws" / "build.sh", HERE / "jaxws" / "Rad69Call.java"
SOURCES = [BUILD, CALL, HERE / "jaxws" / "InteropClient.java"]
OFFICIAL_BUILD = HERE / "jaxws_official" / "build.sh"
OFFICIAL_SOURCES = [BUILD, CALL, OFFICIAL_BUILD, HERE / "jaxws_official" / "OfficialClient.java"]

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def java_tools() -> dict[str, str]:
    return require({**which("wsimport", "javac", "java"), "jaxws-rt.jar": str(JAVA_LIB / "jaxws-rt.jar")},
                   "apt-get install jaxws default-jdk-headless")


@pytest.fixture(scope="module")
def ours(interop) -> Path:
    java_tools()
    return cached_build("jaxws", digest(interop.wsdl_key.encode(), *SOURCES), lambda out: run_build(
        [str(BUILD), interop.wsdl_url, str(out), *map(str, SOURCES[1:])]))


@pytest.fixture(scope="module")
def official() -> Path:
    java_tools()
    folder = reference_path("schemas", "ihe-official")
    inputs = sorted(p for p in folder.rglob("*") if p.is_file())
    return cached_build("jaxws-official", digest(*OFFICIAL_SOURCES, *inputs), lambda out: run_build(
        [str(OFFICIAL_BUILD), str(folder), str(out)]))


def java(classes: Path, main: str, *options: str) -> list[str]:
    classpath = f"{JAVA_LIB / 'jaxws-rt.jar'}{os.pathsep}{classes / 'classes'}"
    return [java_tools()["java"], *options, "-cp", classpath, main]


def check_wire(f: WireFacts, mtom: bool = True) -> None:
    """MTOM both ways (responses always), SOAP 1.2, and WS-Addressing as IHE ITI TF-2 Appendix V asks
    (Action, MessageID, and RelatesTo answered), which JAX-WS checks on its side too (the response's
    Action must be the WSDL's output action)."""
    assert f.soap12 and f.mtom_request == mtom and f.mtom_response
    assert f.wsa_action == RAD69_ACTION and f.wsa_message_id
    assert f.relates_to == f.wsa_message_id


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_client_from_our_wsdl(interop, ours, tmp_path, anonymize):
    check_wire(interop.exercise(java(ours, "InteropClient"), tmp_path, anonymize=anonymize))


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "plain"])
def test_client_from_the_official_ihe_wsdl(interop, official, tmp_path, mtom):
    command = java(official, "OfficialClient", f"-Dmtom={str(mtom).lower()}")
    check_wire(interop.exercise(command, tmp_path, anonymize=False, wsdl="-"), mtom)
