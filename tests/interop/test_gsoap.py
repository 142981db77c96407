"""gSOAP (C): wsdl2h + soapcpp2 from the served WSDL, SOAP 1.2, MTOM both ways, WS-Addressing by its plugin;
one client for RAD-69, RetrieveRenderedImagingDocumentSet and RetrieveImagingDocumentSetInformation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interop.harness import cached_build, digest, require, run_build, which
from interop.wire import DOCINFO_ACTION, RAD69_ACTION, RENDERED_ACTION, WireFacts

HERE = Path(__file__).parent / "gsoap"
GSOAP_SHARE = Path(os.environ.get("GSOAP_SHARE", "/usr/share/gsoap"))
SOURCES = [HERE / "build.sh", HERE / "client.c", HERE / "typemap.dat"]

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def client(interop) -> Path:
    require({**which("wsdl2h", "soapcpp2", "cc"), "stdsoap2.h": "/usr/include/stdsoap2.h",
             "wsaapi.c": str(GSOAP_SHARE / "plugin" / "wsaapi.c")}, "apt-get install gsoap libgsoap-dev gcc")
    built = cached_build("gsoap", digest(interop.wsdl_key.encode(), *SOURCES), lambda out: run_build(
        [str(SOURCES[0]), interop.wsdl_url, str(out)]))
    return built / "client"


def check_wire(f: WireFacts, action: str) -> None:
    assert f.soap12 and f.mtom_request
    assert f.http_action == f.wsa_action == action and f.relates_to == f.wsa_message_id


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_gsoap_client(interop, tmp_path, anonymize, client):
    f = interop.exercise([str(client), "rad69"], tmp_path, anonymize=anonymize)
    assert f.mtom_response
    check_wire(f, RAD69_ACTION)


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_gsoap_rendered(interop, tmp_path, anonymize, client):
    wire = interop.rendered([str(client), "rendered"], tmp_path, anonymize=anonymize)
    assert wire.mtom_response
    check_wire(wire, RENDERED_ACTION)


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_gsoap_document_information(interop, tmp_path, anonymize, client):
    check_wire(interop.docinfo([str(client), "docinfo"], tmp_path, anonymize=anonymize), DOCINFO_ACTION)
