"""The engine stands alone: importing it pulls in nothing of the SOAP edge or retrieval."""

from __future__ import annotations

import subprocess
import sys


def test_deid_imports_nothing_soap_related():
    code = ("import sys, wadows.deid, wadows.deid.cli, wadows.deid.stream\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('wadows.soap', 'wadows.retrieve', 'spyne', 'lxml')))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
