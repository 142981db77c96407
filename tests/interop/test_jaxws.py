"""JAX-WS RI (Metro, what `wsimport` generates): the stack most IHE Imaging Document Consumers are built on.

Two clients, compiled once per change of their inputs (build/interop/):
- from the WSDL wadows serves, with MTOM and WS-Addressing switched on as features;
- from the OFFICIAL IHE XDS-I.b WSDL, with only the endpoint address set (no Anonymize: the IHE schema has
  no such element).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interop.harness import (check_anonymized, check_retrieved, digest, cached_build, require, run_build,
                             run_client, which)
from interop.wire import RAD69_ACTION, facts
from support.official_schema import reference_path

HERE = Path(__file__).parent
JAVA_LIB = Path(os.environ.get("JAVA_LIB", "/usr/share/java"))
SOURCES = [HERE / "jaxws" / "build.sh", HERE / "jaxws" / "Rad69Call.java", HERE / "jaxws" / "InteropClient.java"]
OFFICIAL_SOURCES = [*SOURCES[:2], HERE / "jaxws_official" / "build.sh", HERE / "jaxws_official" / "OfficialClient.java"]

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def java_tools() -> dict[str, str]:
    tools = require({**which("wsimport", "javac", "java"), "jaxws-rt.jar": str(JAVA_LIB / "jaxws-rt.jar")},
                    "apt-get install jaxws default-jdk-headless")
    return tools


@pytest.fixture(scope="module")
def ours(interop) -> Path:
    java_tools()
    return cached_build("jaxws", digest(interop.wsdl_key.encode(), *SOURCES), lambda out: run_build(
        [str(SOURCES[0]), interop.wsdl_url, str(out), *map(str, SOURCES[1:])]))


@pytest.fixture(scope="module")
def official() -> Path:
    java_tools()
    folder = reference_path("schemas", "ihe-official")
    inputs = sorted(p for p in folder.rglob("*") if p.is_file())
    return cached_build("jaxws-official", digest(*OFFICIAL_SOURCES, *inputs), lambda out: run_build(
        [str(OFFICIAL_SOURCES[2]), str(folder), str(out)]))


def java(classes: Path, main: str, *options: str) -> list[str]:
    return [java_tools()["java"], *options, "-cp", f"{JAVA_LIB / 'jaxws-rt.jar'}{os.pathsep}{classes / 'classes'}", main]


def check_wire(exchanges, mtom: bool = True) -> None:
    """MTOM both ways (responses always), SOAP 1.2, and WS-Addressing as IHE ITI TF-2 Appendix V asks (Action, MessageID, and
    RelatesTo answered), which JAX-WS checks on its side too (the response Action must match the WSDL's)."""
    f = facts(exchanges)
    assert f.soap12 and f.mtom_request == mtom and f.mtom_response
    assert f.wsa_action == RAD69_ACTION and f.wsa_message_id
    assert f.relates_to == f.wsa_message_id


def test_client_from_our_wsdl(interop, ours, wire, tmp_path):
    outcome = run_client(java(ours, "InteropClient"), interop.plan, interop.wsdl_url, interop.endpoint,
                         tmp_path / "plain", anonymize=False)
    check_retrieved(outcome, interop.plan)
    check_wire(wire.take())


def test_client_from_our_wsdl_anonymize(interop, ours, wire, tmp_path):
    outcome = run_client(java(ours, "InteropClient"), interop.plan, interop.wsdl_url, interop.endpoint,
                         tmp_path / "anon", anonymize=True)
    check_anonymized(outcome, interop.plan)
    check_wire(wire.take())


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "plain"])
def test_client_from_the_official_ihe_wsdl(interop, official, wire, tmp_path, mtom):
    outcome = run_client(java(official, "OfficialClient", f"-Dmtom={str(mtom).lower()}"), interop.plan, "-",
                         interop.endpoint, tmp_path, anonymize=False)
    check_retrieved(outcome, interop.plan)
    check_wire(wire.take(), mtom)
