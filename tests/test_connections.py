"""`wadows serve` under hostile connections (connections.py): idle and slow sockets do not lock anyone
out, clients that stop reading are cut and their worker freed, /healthz is answered while every worker
is busy, and waitress's own errors are SOAP 1.2 faults. Real processes; the only time bounds are
generous ones that prove "not stuck"."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pydicom
import pytest
import requests
from lxml import etree

from support.process import served
from support.rad69 import IMPLICIT_LE, Doc, parse_response, request_xml
from wadows.config import load_config
from wadows.connections import _RateLimitedWarning
from wadows.samples import generate_large_multiframe

pytestmark = pytest.mark.slow

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NOT_STUCK = 10  # seconds: far above any of the timeouts configured below


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 24 MB object: more than the server's output buffer, the kernel's socket buffers and a little."""
    root = tmp_path_factory.mktemp("conn-store")
    path = generate_large_multiframe(root / "big.dcm", 24 << 20)
    meta = pydicom.dcmread(path, stop_before_pixels=True)
    doc = Doc(meta.StudyInstanceUID, meta.SeriesInstanceUID, meta.SOPInstanceUID,
              load_config(None).source.repository_unique_id)
    return root, path, doc, meta.file_meta.TransferSyntaxUID


def _config(**server) -> str:
    # One process: limits, threads and timeouts are per worker process (tests/test_workers.py has several).
    server.setdefault("workers", 1)
    lines = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in server.items())
    return f'[auth]\nanonymous = "identified"\n[server]\n{lines}'


def _addr(proc) -> tuple[str, int]:
    u = urlsplit(proc.base)
    return u.hostname, u.port


def _raw(proc, timeout: float = NOT_STUCK) -> socket.socket:
    return socket.create_connection(_addr(proc), timeout=timeout)


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Read (and drop) whatever arrives until the server closes; False if it is still open after ``within``."""
    deadline = time.monotonic() + within
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except socket.timeout:
            continue
        except ConnectionError:
            return True
    return False


def _non_reader(proc, body: bytes) -> socket.socket:
    """A client that sends a request and never reads: tiny receive buffer, no recv."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(_addr(proc))
    sock.sendall(b"POST /wado-ws HTTP/1.1\r\nHost: t\r\nContent-Type: application/soap+xml\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return sock


def _retrieved_whole(proc, doc: Doc, ts: str, path) -> None:
    r = requests.post(proc.url, data=request_xml([doc], [ts]), timeout=NOT_STUCK + 20,
                      headers={"Content-Type": "application/soap+xml"})
    parsed = parse_response(r.headers["Content-Type"], r.content)
    assert parsed.status == "Success" and parsed.documents()[0][1] == path.read_bytes()


def _fault(resp) -> tuple[str, str]:
    assert resp.headers["Content-Type"].startswith("application/soap+xml"), resp.headers
    root = etree.fromstring(resp.content)
    code = root.findtext(f".//{{{SOAP12}}}Code/{{{SOAP12}}}Value")
    reason = root.findtext(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text")
    return code, reason


def _raw_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    sock.settimeout(NOT_STUCK)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed without an answer: {data[:200]!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_300_idle_sockets_do_not_lock_out_a_normal_client(big, tmp_path):
    root, path, doc, ts = big
    with served(root, tmp_path, _config()) as proc:
        idle = [_raw(proc) for _ in range(300)]
        try:
            started = time.monotonic()
            health = requests.get(proc.base + "/healthz", timeout=NOT_STUCK)
            assert health.status_code == 200
            r = requests.post(proc.url, data=request_xml([doc], [ts]), timeout=NOT_STUCK + 20,
                              headers={"Content-Type": "application/soap+xml"})
            assert parse_response(r.headers["Content-Type"], r.content).status == "Success"
            assert time.monotonic() - started < NOT_STUCK + 20
        finally:
            for s in idle:
                s.close()


def test_slow_header_sockets_are_cut_after_the_header_timeout(big, tmp_path):
    root, *_ = big
    with served(root, tmp_path, _config(header_timeout_seconds=1.0)) as proc:
        sock = _raw(proc)
        sock.sendall(b"POST /wado-ws HTTP/1.1\r\nHost: t\r\n")
        deadline = time.monotonic() + NOT_STUCK
        cut = False
        while time.monotonic() < deadline and not cut:  # one header byte every 0.3 s keeps it "active"
            try:
                sock.sendall(b"X")
            except OSError:
                cut = True
                break
            cut = _closed_by_server(sock, 0.3)
        assert cut, "a client trickling header bytes kept its connection past the header timeout"
        assert requests.get(proc.base + "/healthz", timeout=NOT_STUCK).status_code == 200


def test_a_body_shorter_than_its_content_length_gets_a_fault_after_the_body_timeout(big, tmp_path):
    root, *_ = big
    with served(root, tmp_path, _config(body_timeout_seconds=1.0)) as proc:
        sock = _raw(proc)
        sock.sendall(b"POST /wado-ws HTTP/1.1\r\nHost: t\r\nContent-Type: application/soap+xml\r\n"
                     b"Content-Length: 1000\r\n\r\n<env:Envelope")
        status, headers, body = _raw_response(sock)
        assert status == 408
        assert headers["content-type"].startswith("application/soap+xml")
        assert b"Sender" in body and b"time allowed" in body
        assert _closed_by_server(sock, NOT_STUCK)


@pytest.mark.parametrize("syntax", ["stored", "transcoded"])
def test_a_client_that_stops_reading_is_cut_and_its_worker_freed(big, tmp_path, syntax):
    root, path, doc, ts = big
    with served(root, tmp_path, _config(threads=1, send_timeout_seconds=2.0)) as proc:
        body = request_xml([doc], [ts] if syntax == "stored" else [IMPLICIT_LE])
        sock = _non_reader(proc, body)
        try:
            # The only worker thread serves the non-reader first ...
            time.sleep(0.5)
            # ... and once the send timeout cuts it, the next request is served.
            _retrieved_whole(proc, doc, ts, path)
            # The non-reader's connection was cut: draining it now ends before the whole object.
            received = 0
            sock.settimeout(NOT_STUCK)
            try:
                while chunk := sock.recv(1 << 20):
                    received += len(chunk)
            except ConnectionError:
                pass
            assert received < path.stat().st_size
            assert b"read nothing" in proc.log_bytes()
        finally:
            sock.close()


def test_healthz_is_answered_while_every_worker_is_busy(big, tmp_path):
    root, path, doc, ts = big
    with served(root, tmp_path, _config(threads=1, send_timeout_seconds=300.0)) as proc:
        sock = _non_reader(proc, request_xml([doc], [IMPLICIT_LE]))
        try:
            time.sleep(0.5)
            # The one worker is held by the non-reader (for up to 300 s): a retrieval waits ...
            with pytest.raises(requests.Timeout):
                requests.post(proc.url, data=request_xml([doc], [ts]), timeout=2,
                              headers={"Content-Type": "application/soap+xml"})
            # ... a health check does not.
            health = requests.get(proc.base + "/healthz", timeout=NOT_STUCK)
            assert health.status_code == 200 and health.json()["status"] == "ok"
        finally:
            sock.close()


def test_a_thread_waiting_for_its_client_gives_its_turn_up(big, tmp_path):
    """[server] active_threads = 1: the thread serving a client that stops reading holds no turn while
    it waits, so another thread runs the next request to the end (gate.py)."""
    root, path, doc, ts = big
    with served(root, tmp_path, _config(threads=2, active_threads=1, send_timeout_seconds=300.0)) as proc:
        sock = _non_reader(proc, request_xml([doc], [IMPLICIT_LE]))  # converted: waits at the high-water mark
        try:
            time.sleep(0.5)
            _retrieved_whole(proc, doc, ts, path)
        finally:
            sock.close()


# -- waitress's own errors and bad headers: SOAP 1.2 faults ---------------------------------------

@pytest.fixture(scope="module")
def small_server(tmp_path_factory, sample_store):
    with served(sample_store, tmp_path_factory.mktemp("conn-small"), _config(max_request_bytes=1024)) as proc:
        yield proc


def test_headers_too_large_is_a_431_fault(small_server):
    r = requests.post(small_server.url, data=b"x", timeout=NOT_STUCK,
                      headers={"Content-Type": "application/soap+xml", "X-Pad": "a" * 300_000})
    assert r.status_code == 431
    assert _fault(r)[0] == "env:Sender"


def test_invalid_content_length_is_a_400_fault(small_server):
    sock = _raw(small_server)
    sock.sendall(b"POST /wado-ws HTTP/1.1\r\nHost: t\r\nContent-Type: application/soap+xml\r\n"
                 b"Content-Length: 12abc\r\n\r\n")
    status, headers, body = _raw_response(sock)
    assert status == 400 and headers["content-type"].startswith("application/soap+xml")
    assert b"Sender" in body and b"Content-Length is invalid" in body


def test_a_chunked_body_too_large_is_a_413_fault(small_server):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = requests.post(small_server.url, data=chunks(), timeout=NOT_STUCK,
                      headers={"Content-Type": "application/soap+xml"})
    assert r.status_code == 413
    assert _fault(r)[0] == "env:Sender"


def test_an_unsupported_transfer_coding_is_a_fault(small_server):
    sock = _raw(small_server)
    sock.sendall(b"POST /wado-ws HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n")
    status, headers, body = _raw_response(sock)
    assert status == 501 and headers["content-type"].startswith("application/soap+xml")
    assert b"Sender" in body


@pytest.mark.parametrize("value", [b"application/soap+xml; action=\x85urn:x", b"application/soap+xml; charset=\xffx",
                                   b"multipart/related; boundary=\x85; type=\"application/xop+xml\""])
def test_a_bad_byte_in_the_content_type_is_a_client_fault_not_an_error(small_server, value):
    sock = _raw(small_server)
    body = b"<x/>"
    sock.sendall(b"POST /wado-ws HTTP/1.1\r\nHost: t\r\nContent-Type: " + value +
                 b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    status, headers, answer = _raw_response(sock)
    assert status == 415 and headers["content-type"].startswith("application/soap+xml")
    assert b"Sender" in answer and b"Receiver" not in answer
    assert b"ERROR" not in small_server.log_bytes() and b"Traceback" not in small_server.log_bytes()


def test_healthz_does_not_show_the_store_path_to_an_anonymous_caller(small_server, sample_store):
    r = requests.get(small_server.base + "/healthz", timeout=NOT_STUCK)
    assert r.status_code == 200 and r.json()["backend"]["ok"] is True
    assert str(sample_store) not in r.text and "root" not in r.json()["backend"]


def test_queue_depth_warnings_are_rate_limited(caplog):
    logger = logging.getLogger("test.queue")
    limited = _RateLimitedWarning(logger, every=3600)
    with caplog.at_level(logging.WARNING, logger="test.queue"):
        for depth in range(1, 1001):
            limited.warning("Task queue depth is %d", depth)
    assert len(caplog.records) == 1
    limited._next = 0.0  # the interval is over: the next line says how many were folded
    with caplog.at_level(logging.WARNING, logger="test.queue"):
        limited.warning("Task queue depth is %d", 7)
    assert "999 similar warnings" in caplog.records[-1].getMessage()


class _Pending:
    """Just the state enforce_deadlines reads: output waiting, the times waitress records."""

    def __init__(self, last_activity: float, task_started: float) -> None:
        self.total_outbufs_len = 0
        self.last_activity = last_activity
        self._task_started = task_started
        self.closed_at: float | None = None
        self.request = None  # nothing being read
        self.connected = True
        self.deferred: list = []  # closes asked of the poll loop's trigger, run "between two polls"
        self.server = type("Server", (), {"trigger": type("Trigger", (), {"pull_trigger": staticmethod(self.deferred.append)})()})()

    def handle_close(self) -> None:
        self.closed_at = self.now
        self.connected = False


def test_the_send_deadline_counts_from_the_first_pending_output_not_the_task_start():
    """A conversion done before the response may outlast the send timeout; its response must not be
    cut the moment its first bytes are queued (this cut a queued request under load)."""
    from wadows.connections import Deadlines, _Guard

    channel = type("Channel", (_Pending, _Guard), {})(last_activity=90.0, task_started=100.0)
    deadlines = Deadlines(header_seconds=10, body_seconds=10, send_seconds=2)
    for wall, pending in [(101.0, 0), (105.0, 1), (106.0, 1), (106.9, 1)]:
        channel.now, channel.total_outbufs_len = wall, pending
        channel.enforce_deadlines(deadlines, wall, wall)
        assert channel.closed_at is None, wall
    channel.now = 107.5
    channel.enforce_deadlines(deadlines, 107.5, 107.5)
    # Never closed inside the deadline check (it runs while the poll loop collects descriptors for
    # select(): a socket closed then made select() fail with EBADF and the server stop) ...
    assert channel.closed_at is None and len(channel.deferred) == 1
    channel.deferred.pop()()
    assert channel.closed_at == 107.5
    # ... and a close that comes after the client went away does nothing twice.
    channel.enforce_deadlines(deadlines, 108.0, 108.0)
    channel.total_outbufs_len = 0
    for close in channel.deferred:
        close()
    assert channel.closed_at == 107.5
