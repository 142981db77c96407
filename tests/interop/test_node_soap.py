"""node-soap (JavaScript): SOAP 1.2 and MTOM only when asked for, WS-Addressing headers written by hand
(node/client.js says why); one client for RAD-69 and the two WADO-WS operations."""

from __future__ import annotations

from pathlib import Path

import pytest

from interop.harness import require, which
from interop.wire import DOCINFO_ACTION, RAD69_ACTION, RENDERED_ACTION, WireFacts

NODE_DIR = Path(__file__).parent / "node"

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def node() -> list[str]:
    tools = require(which("node"), "apt-get install nodejs npm")
    require({"node_modules/soap": str(NODE_DIR / "node_modules" / "soap" / "package.json")},
            f"npm ci --prefix {NODE_DIR} (make interop-deps)")
    return [tools["node"], str(NODE_DIR / "client.js")]


def check_wire(f: WireFacts, action: str) -> None:
    # forceMTOM labels the root part and start-info text/xml (SOAP 1.1's media type) around a SOAP 1.2
    # envelope; wadows goes by the envelope's namespace, so the request is served.
    assert f.soap12 and f.mtom_request
    assert f.http_action == f.wsa_action == action and f.relates_to == f.wsa_message_id


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_node_soap_client(interop, tmp_path, anonymize, node):
    f = interop.exercise([*node, "rad69"], tmp_path, anonymize=anonymize)
    assert f.mtom_response
    check_wire(f, RAD69_ACTION)


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_node_soap_rendered(interop, tmp_path, anonymize, node):
    wire = interop.rendered([*node, "rendered"], tmp_path, anonymize=anonymize)
    assert wire.mtom_response
    check_wire(wire, RENDERED_ACTION)


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_node_soap_document_information(interop, tmp_path, anonymize, node):
    check_wire(interop.docinfo([*node, "docinfo"], tmp_path, anonymize=anonymize), DOCINFO_ACTION)
