"""zeep (Python): the client most Python integrators generate from a WSDL at run time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from interop.wire import RAD69_ACTION, RENDERED_ACTION

CLIENT = [sys.executable, str(Path(__file__).parent / "zeep" / "client.py")]
RENDERED = [sys.executable, str(Path(__file__).parent / "zeep" / "rendered.py")]


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_zeep_client(interop, tmp_path, anonymize):
    f = interop.exercise(CLIENT, tmp_path, anonymize=anonymize)
    # plain SOAP 1.2 out (zeep writes no MTOM), MTOM back; WS-Addressing from the WSDL's Action attributes
    assert f.soap12 and not f.mtom_request and f.mtom_response
    assert f.wsa_action == RAD69_ACTION and f.relates_to == f.wsa_message_id


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_zeep_rendered(interop, tmp_path, anonymize):
    wire = interop.rendered(RENDERED, tmp_path, anonymize=anonymize)
    assert wire.soap12 and wire.mtom_response and wire.wsa_action == RENDERED_ACTION
