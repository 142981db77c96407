"""gSOAP (C): wsdl2h + soapcpp2 from the served WSDL, SOAP 1.2, MTOM both ways, WS-Addressing by its plugin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interop.harness import cached_build, digest, require, run_build, which
from interop.wire import RAD69_ACTION

HERE = Path(__file__).parent / "gsoap"
GSOAP_SHARE = Path(os.environ.get("GSOAP_SHARE", "/usr/share/gsoap"))
SOURCES = [HERE / "build.sh", HERE / "client.c", HERE / "typemap.dat"]

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def client(interop) -> list[str]:
    require({**which("wsdl2h", "soapcpp2", "cc"), "stdsoap2.h": "/usr/include/stdsoap2.h",
             "wsaapi.c": str(GSOAP_SHARE / "plugin" / "wsaapi.c")}, "apt-get install gsoap libgsoap-dev gcc")
    built = cached_build("gsoap", digest(interop.wsdl_key.encode(), *SOURCES), lambda out: run_build(
        [str(SOURCES[0]), interop.wsdl_url, str(out)]))
    return [str(built / "client")]


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_gsoap_client(interop, tmp_path, anonymize, client):
    f = interop.exercise(client, tmp_path, anonymize=anonymize)
    assert f.soap12 and f.mtom_request and f.mtom_response
    assert f.http_action == f.wsa_action == RAD69_ACTION and f.relates_to == f.wsa_message_id
