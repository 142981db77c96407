"""`wadows serve` with [server] workers: pre-forked processes on one listening socket, as deployed.

Each test runs a real `wadows serve` (support.process.served) on 127.0.0.1 and looks at it from
outside: which pid answered (/healthz says), the process tree (psutil), the one stderr log.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psutil
import pytest
import requests

from support.process import large_object_store, refused, served
from support.rad69 import Doc, parse_response, request_xml
from wadows.config import load_config
from wadows.workers import EARLY_SECONDS, FIRST_BACKOFF_SECONDS, MAX_FAILED_STARTS

pytestmark = pytest.mark.slow

SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}
CONFIG = '[auth]\nanonymous = "identified"\n[server]\nworkers = {workers}\nshutdown_grace_seconds = {grace}\n'
# A logging line: "2026-01-01 10:00:00,123 INFO wadows.access [worker 2 pid 4242]: {...}".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+( \[worker (\d+) pid (\d+)\])?: ")


def _config(workers: int = 2, grace: float = 25.0) -> str:
    return CONFIG.format(workers=workers, grace=grace)


def _health(base: str) -> dict:
    # A new connection each time, so the kernel may hand it to any worker.
    return requests.get(base + "/healthz", headers={"Connection": "close"}, timeout=10).json()


def _workers(proc) -> list[int]:
    return sorted(p.pid for p in psutil.Process(proc.proc.pid).children())


def _answering(proc, count: int = 2, tries: int = 300) -> set[int]:
    """The worker pids seen answering /healthz, once all ``count`` of them did (each is then serving)."""
    seen: set[int] = set()
    for _ in range(tries):
        seen.add(_health(proc.base)["process"]["pid"])
        workers = set(_workers(proc))
        if len(workers) == count and seen >= workers:
            break
    return seen


def _one_doc_body(instance, anonymize: str | None = None) -> bytes:
    doc = Doc(instance.study, instance.series, instance.sop, load_config().source.repository_unique_id)
    return request_xml([doc], [instance.transfer_syntax], anonymize=anonymize)


def _retrieve_ok(url: str, body: bytes) -> bool:
    try:
        r = requests.post(url, data=body, headers={**SOAP, "Connection": "close"}, timeout=30)
    except requests.RequestException:
        return False
    return r.status_code == 200 and parse_response(r.headers["Content-Type"], r.content).status == "Success"


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_one_worker_is_the_single_process_of_before(sample_store, tmp_path):
    with served(sample_store, tmp_path, _config(workers=1)) as proc:
        answer = _health(proc.base)
        assert answer["process"] == {"pid": proc.proc.pid, "workers": 1}
        assert _workers(proc) == []


def test_two_workers_both_answer_and_the_log_stays_whole_lines(sample_store, sample_instances, tmp_path):
    with served(sample_store, tmp_path, _config()) as proc:
        workers = _workers(proc)
        assert len(workers) == 2 and proc.proc.pid not in workers
        assert _answering(proc) == set(workers)
        assert _health(proc.base)["process"]["workers"] == 2
        # Many requests at once in both workers, plain and anonymized: each access-log line whole.
        bodies = [_one_doc_body(i, anonymize) for i in sample_instances for anonymize in (None, "yes")]
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda b: _retrieve_ok(proc.url, b), bodies * 4))
        assert all(results)
        time.sleep(0.5)  # the last access lines
        lines = proc.log_bytes().decode().splitlines()
    access_by_worker: dict[str, int] = {}
    for line in lines:
        if line.startswith("wadows ") and "WADO-WS on" in line:
            continue  # the start line
        m = LOG_LINE.match(line)
        assert m, f"not a whole log line: {line[:200]!r}"
        if " wadows.access " in line:
            assert m.group(1), "an access line without its worker"
            assert int(m.group(3)) in workers
            record = json.loads(line[m.end():])
            assert record["outcome"] == "complete"
            access_by_worker[m.group(2)] = access_by_worker.get(m.group(2), 0) + 1
    assert sum(access_by_worker.values()) == len(bodies) * 4


def test_a_killed_worker_is_replaced_and_retrying_clients_see_no_failure(sample_store, sample_instances, tmp_path):
    bodies = [_one_doc_body(i) for i in sample_instances]
    with served(sample_store, tmp_path, _config()) as proc:
        first_attempt_failed = 0
        failed = 0
        done = 0
        stop = threading.Event()

        def client() -> None:
            nonlocal first_attempt_failed, failed, done
            n = 0
            while not stop.is_set():
                body = bodies[n % len(bodies)]
                n += 1
                if not _retrieve_ok(proc.url, body):
                    first_attempt_failed += 1
                    if not _retrieve_ok(proc.url, body):  # one retry, on a new connection
                        failed += 1
                done += 1

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(EARLY_SECONDS + 0.5)  # a worker that has run for a while: replaced at once
            victim, survivor = _workers(proc)
            os.kill(victim, signal.SIGKILL)
            _wait_until(lambda: len(_workers(proc)) == 2 and victim not in _workers(proc), 20,
                        "the killed worker was not replaced")
            replacement = next(pid for pid in _workers(proc) if pid != survivor)
            before = done
            time.sleep(2.0)
            assert done > before  # the loop kept going
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        # Only requests in flight on the killed worker (4 clients: at most 4) may fail, once each.
        assert failed == 0
        assert first_attempt_failed <= len(threads)
        # New requests succeed, and the replacement serves some of them.
        assert all(_retrieve_ok(proc.url, b) for b in bodies)
        answered = _answering(proc)
        assert replacement in answered and victim not in answered
        log = proc.log_bytes().decode()
        assert f"(pid {victim}) was killed by SIGKILL" in log and "starting another" in log


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    return large_object_store(tmp_path_factory.mktemp("big-store"), 32 << 20)


def _worker_holding(workers: list[int], client_port: int) -> int | None:
    for pid in workers:
        for c in psutil.Process(pid).net_connections(kind="tcp"):
            if c.raddr and c.raddr.port == client_port:
                return pid
    return None


def test_sigterm_lets_transfers_on_every_worker_finish_whole_and_exits_0(big_store, tmp_path):
    root, path, body = big_store
    with served(root, tmp_path, _config(grace=30.0)) as proc:
        u = urlsplit(proc.url)
        workers = _workers(proc)
        transfers = []  # (connection, response, first bytes, worker)
        while {w for *_, w in transfers} != set(workers):
            assert len(transfers) < 12, "every new connection went to the same worker"
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            conn.request("POST", u.path, body=body, headers=SOAP)
            resp = conn.getresponse()
            assert resp.status == 200
            first = bytearray(resp.read(1 << 20))
            transfers.append((conn, resp, first, _worker_holding(workers, conn.sock.getsockname()[1])))
        proc.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not refused(proc.url):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.02)
        assert proc.proc.poll() is None  # still running: the transfers are not done
        for conn, resp, received, _ in transfers:
            while chunk := resp.read(1 << 20):  # each client reads on, slowly, to the end
                received += chunk
                time.sleep(0.002)
            conn.close()
            parsed = parse_response(resp.getheader("Content-Type"), bytes(received))
            assert parsed.status == "Success"
            assert parsed.documents()[0][1] == path.read_bytes()
        assert proc.proc.wait(20) == 0
        assert all(not psutil.pid_exists(w) or psutil.Process(w).status() == psutil.STATUS_ZOMBIE for w in workers)
        log = proc.log_bytes().decode()
        assert log.count("stopping: no new connections") == 2  # each worker drained


def test_a_worker_that_cannot_start_is_retried_with_back_off_then_the_server_exits_1(sample_store, tmp_path):
    with served(sample_store, tmp_path, _config(grace=5.0)) as proc:
        index = tmp_path / "wadows-index.sqlite"
        assert index.is_file()
        assert len(_answering(proc)) == 2  # both have opened the index
        garbage = tmp_path / "garbage"
        garbage.write_bytes(b"this is not an index" * 100)
        os.replace(garbage, index)  # the survivor keeps the old file open; a new worker cannot read this
        time.sleep(EARLY_SECONDS + 0.5)  # so its death is not itself a failed start
        victim, survivor = _workers(proc)
        started = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        time.sleep(1.0)
        # Meanwhile the survivor answers.
        assert _health(proc.base)["process"]["pid"] == survivor
        code = proc.proc.wait(60)
        elapsed = time.monotonic() - started
        log = proc.log_bytes().decode()
    assert code == 1
    # Retries backed off (0.5 + 1 + 2 + 4 s before the fifth), and stopped: no spinning.
    assert elapsed >= FIRST_BACKOFF_SECONDS * (2 ** (MAX_FAILED_STARTS - 1) - 1)
    assert log.count("cannot be read in a worker process") == MAX_FAILED_STARTS
    assert f"store index {index}" in log
    giving_up = [line for line in log.splitlines() if "giving up" in line]
    assert len(giving_up) == 1 and "worker" in giving_up[0] and "exited with code 1" in giving_up[0]
    assert not psutil.pid_exists(survivor) or psutil.Process(survivor).status() == psutil.STATUS_ZOMBIE


def test_workers_whose_parent_is_killed_drain_and_exit(sample_store, tmp_path):
    with served(sample_store, tmp_path, _config(grace=5.0)) as proc:
        # Both serving first: a worker still starting when its parent dies fails its ready report instead.
        assert _answering(proc) == set(_workers(proc))
        workers = [psutil.Process(pid) for pid in _workers(proc)]
        os.kill(proc.proc.pid, signal.SIGKILL)
        proc.proc.wait(10)
        gone, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, "workers outlived their parent"
        assert refused(proc.url)
        assert proc.log_bytes().decode().count("stopping: no new connections") == 2


def test_a_burst_of_connections_is_spread_over_the_workers(sample_store, tmp_path):
    """One shared socket gave 32/0 or 29/3 here (the first worker to wake takes them); kept-alive
    clients then stay where they landed."""
    with served(sample_store, tmp_path, _config()) as proc:
        u = urlsplit(proc.base)
        workers = _workers(proc)
        assert _answering(proc) == set(workers)  # both ready (until then one serves both queues)
        socks = [socket.create_connection((u.hostname, u.port)) for _ in range(32)]
        try:
            def held() -> list[int]:
                return [sum(1 for c in psutil.Process(w).net_connections("tcp")
                            if c.status == psutil.CONN_ESTABLISHED and c.raddr) for w in workers]

            _wait_until(lambda: sum(held()) == 32, 10, "not every connection was accepted")
            # A hash of the client port spreads them: fewer than 6 on one worker is ~1e-5 likely.
            assert min(held()) >= 6, held()
        finally:
            for sock in socks:
                sock.close()
