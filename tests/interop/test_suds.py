"""suds-community (Python): SOAP 1.1-only, so its client carries two small adapters (suds/client.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from interop.harness import check_anonymized, check_retrieved, run_client
from interop.wire import RAD69_ACTION, facts

CLIENT = [sys.executable, str(Path(__file__).parent / "suds" / "client.py")]


@pytest.fixture(scope="module")
def suds_installed():
    pytest.importorskip("suds", reason="suds-community not installed: pip install 'suds-community>=1.1,<2'")


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_suds_client(interop, wire, tmp_path, anonymize, suds_installed):
    outcome = run_client(CLIENT, interop.plan, interop.wsdl_url, interop.endpoint, tmp_path, anonymize=anonymize)
    (check_anonymized if anonymize else check_retrieved)(outcome, interop.plan)
    f = facts(wire.take())
    assert f.soap12 and not f.mtom_request and f.mtom_response
    assert f.http_action == RAD69_ACTION and f.wsa_action is None
