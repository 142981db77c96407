"""suds-community (Python): SOAP 1.1-only, so its client carries two small adapters (suds/client.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from interop.harness import require
from interop.wire import RAD69_ACTION

CLIENT = [sys.executable, str(Path(__file__).parent / "suds" / "client.py")]


@pytest.fixture(scope="module")
def suds_installed():
    if importlib.util.find_spec("suds") is None:
        require({"suds-community": None}, "pip install 'suds-community>=1.2,<2' (the test extra)")


@pytest.mark.parametrize("anonymize", [False, True], ids=["plain", "anonymize"])
def test_suds_client(interop, tmp_path, anonymize, suds_installed):
    f = interop.exercise(CLIENT, tmp_path, anonymize=anonymize)
    assert f.soap12 and not f.mtom_request and f.mtom_response
    assert f.http_action == RAD69_ACTION and f.wsa_action is None  # no WS-Addressing in suds
