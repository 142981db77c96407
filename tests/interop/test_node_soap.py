"""node-soap (JavaScript): SOAP 1.2 and MTOM only when asked for, WS-Addressing headers written by hand
(node/client.js says why)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interop.harness import require, which
from interop.wire import RAD69_ACTION

NODE_DIR = Path(__file__).parent / "node"

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def node() -> list[str]:
    tools = require(which("node"), "apt-get install nodejs npm")
    require({"node_modules/soap": str(NODE_DIR / "node_modules" / "soap" / "package.json")},
            f"npm ci --prefix {NODE_DIR} (make interop-deps)")
    return [tools["node"], str(NODE_DIR / "client.js")]


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_node_soap_client(interop, tmp_path, anonymize, node):
    f = interop.exercise(node, tmp_path, anonymize=anonymize)
    # forceMTOM labels the root part and start-info text/xml (SOAP 1.1's media type) around a SOAP 1.2
    # envelope; wadows goes by the envelope's namespace, so the request is served.
    assert f.soap12 and f.mtom_request and f.mtom_response
    assert f.http_action == f.wsa_action == RAD69_ACTION and f.relates_to == f.wsa_message_id
