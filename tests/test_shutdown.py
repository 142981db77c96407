"""`wadows serve` on SIGTERM: new connections refused at once, a transfer in progress finished whole,
idle connections closed, exit code 0; a transfer that cannot finish is cut after the grace period."""

from __future__ import annotations

import http.client
import signal
import time
from urllib.parse import urlsplit

import pytest

from support.process import large_object_store, refused, served
from support.rad69 import parse_response

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    return large_object_store(tmp_path_factory.mktemp("big-store"), 64 << 20)


def _wait_exit(proc, timeout: float) -> int | None:
    try:
        return proc.wait(timeout)
    except Exception:
        return None


def _start_slow_download(url: str, body: bytes) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("POST", u.path, body=body, headers={"Content-Type": "application/soap+xml"})
    resp = conn.getresponse()
    assert resp.status == 200
    return conn, resp


CONFIG = '[auth]\nanonymous = "identified"\n[server]\nshutdown_grace_seconds = {grace}\n'


def test_an_idle_server_stops_at_once(big_store, tmp_path):
    root, _, _ = big_store
    with served(root, tmp_path, CONFIG.format(grace=20.0)) as proc:
        # An idle kept-alive connection must not hold the stop for the grace period.
        u = urlsplit(proc.url)
        idle = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        idle.request("GET", "/healthz")
        idle.getresponse().read()
        started = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        assert _wait_exit(proc.proc, 10) == 0
        assert time.monotonic() - started < 5
        assert refused(proc.url)
        idle.close()


def test_a_transfer_in_progress_finishes_whole_while_new_connections_arerefused(big_store, tmp_path):
    root, path, body = big_store
    with served(root, tmp_path, CONFIG.format(grace=30.0)) as proc:
        conn, resp = _start_slow_download(proc.url, body)
        received = bytearray(resp.read(1 << 20))
        proc.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not refused(proc.url):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            received += resp.read(256 << 10)
            time.sleep(0.02)
        assert proc.proc.poll() is None  # still running: the transfer is not done
        while chunk := resp.read(1 << 20):  # the client keeps reading slowly to the end
            received += chunk
            time.sleep(0.005)
        conn.close()
        parsed = parse_response(resp.getheader("Content-Type"), bytes(received))
        assert parsed.status == "Success"
        assert parsed.documents()[0][1] == path.read_bytes()
        assert _wait_exit(proc.proc, 10) == 0
        assert b"stopping" in proc.log_bytes()


def test_a_transfer_that_cannot_finish_is_cut_after_the_grace_period(big_store, tmp_path):
    root, _, body = big_store
    with served(root, tmp_path, CONFIG.format(grace=1.0)) as proc:
        conn, resp = _start_slow_download(proc.url, body)
        resp.read(1 << 20)  # then the client stops reading
        started = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        assert _wait_exit(proc.proc, 15) == 0
        assert time.monotonic() - started < 5
        assert b"still busy" in proc.log_bytes()
        conn.close()
