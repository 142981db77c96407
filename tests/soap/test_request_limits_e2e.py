"""Issue 17 item 4 against a real `wadows serve`: a hostile request shape costs a bounded scan, not a tree."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import requests

from support.process import served
from support.rad69 import Doc, parse_response, request_xml

SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}
PADDING = 2_600_000
# The bound is per serving process: one of them, so the pid served() returns is the one that parses.
ONE_PROCESS = "workers = 1\n"


def _peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had, so a short spike cannot hide."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return psutil.Process(pid).memory_info().rss


def _padded(padding: int = PADDING) -> bytes:
    xml = request_xml([Doc("1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.3.4.5.6")])
    return xml.replace(b"</env:Header>", b"<p/>" * padding + b"</env:Header>", 1)


def test_millions_of_header_elements_get_a_fault_within_a_memory_bound(sample_store, tmp_path):
    body = _padded()
    assert len(body) > 10_000_000
    with served(sample_store, tmp_path, "[server]\nmax_request_bytes = 16777216\n" + ONE_PROCESS) as proc:
        before = _peak_rss(proc.proc.pid)
        started = time.monotonic()
        r = requests.post(proc.url, data=body, headers=SOAP, timeout=120)
        elapsed = time.monotonic() - started
        grown = _peak_rss(proc.proc.pid) - before
        assert r.status_code == 400 and b"Sender" in r.content and b"Header holds more than" in r.content
        # The 10 MB body itself is held (twice at most); a tree of 2.6 M elements would be ~500 MB.
        assert grown < 100 << 20, (grown, elapsed)
        assert proc.proc.poll() is None


def test_default_body_limit_follows_max_documents(sample_store, tmp_path):
    with served(sample_store, tmp_path, "") as proc:
        r = requests.post(proc.url, data=_padded(750_000), headers=SOAP, timeout=120)
        assert r.status_code == 413 and b"2310144 bytes" in r.content


def test_too_many_document_requests_answer_0005_without_building_them(sample_store, tmp_path):
    docs = [Doc("1.2.3", "1.2.3.4", f"1.2.3.4.{i}", "1.2.3.4.5.6") for i in range(90_000)]
    body = request_xml(docs)
    with served(sample_store, tmp_path, "[server]\nmax_request_bytes = 16777216\nmax_documents = 5\n" + ONE_PROCESS) as proc:
        before = _peak_rss(proc.proc.pid)
        r = requests.post(proc.url, data=body, headers=SOAP, timeout=120)
        resp = parse_response(r.headers["Content-Type"], r.content)
        assert r.status_code == 200
        assert [e["errorCode"] for e in resp.errors] == ["urn:dicom:wado:0005"] and not resp.documents()
        assert _peak_rss(proc.proc.pid) - before < 100 << 20

