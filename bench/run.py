"""Benchmarks named in the issues, printed as one table.

W1: a 200-instance CT study (~0.5 MB each), one client: instances/s, as one RAD-69 request for the
    whole study and as 200 single-document requests; nginx serving the same files is the transfer limit.
W2: one ~500 MB multi-frame object: MB/s and the server's peak RSS, against nginx on the same file.

Run with `make bench` (or `python bench/run.py --quick` for a smaller smoke run).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pydicom

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from support.ports import free_port, wait_listening as wait_for  # noqa: E402,F401 (bench/orthanc.py imports them from here)
from support.rad69 import Doc, parse_response, request_xml  # noqa: E402

from wadows.config import load_config  # noqa: E402
from wadows.samples import generate_ct_study, generate_large_multiframe  # noqa: E402


class RssSampler(threading.Thread):
    """Peak RSS of the server and of each of its worker processes ([server] workers): ``peak`` is the
    largest single process, the figure a per-process memory bound is about; ``peaks`` has them all."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    @property
    def peak(self) -> int:
        return max(self.peaks.values(), default=0)

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            # children() reads every process's /proc entry: at 100 Hz that took a fifth of
            # a core (0.22 -> 0.03 cores measured, 3 processes watched), so the list is refreshed every 0.5 s.
            if turn % 50 == 0:
                try:
                    procs = [self.proc, *self.proc.children()]
                except psutil.Error:
                    return
            turn += 1
            for p in procs:
                try:
                    self.peaks[p.pid] = max(self.peaks.get(p.pid, 0), p.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.01)


def drain(resp: http.client.HTTPResponse) -> int:
    """Read the body into one reused buffer: the client must cost less than the server."""
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    while n := resp.readinto(view):
        total += n
    return total


def post(conn: http.client.HTTPConnection, body: bytes) -> int:
    conn.request("POST", "/wado-ws", body=body, headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:300]!r}")
    return drain(resp)


def get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"nginx HTTP {resp.status} for {path}")
    return drain(resp)


def start_wadows(store: Path, work: Path, workers: int | None = None,
                 wadows: Path | None = None, threads: int | None = None,
                 active_threads: int | None = None, extra_config: str = "") -> tuple[subprocess.Popen, int]:
    """``workers``: [server] workers (None: the default, one per core); ``wadows``: another checkout's
    `wadows` script (a baseline timed in the same run), else this one's; ``threads``: [server] threads
    (None: the default); ``active_threads``: [server] active_threads (None: the default);
    ``extra_config``: TOML tables appended to the configuration."""
    port = free_port()
    cfg = work / "bench.toml"
    # Unauthenticated requests trusted: plain rows measure retrieval; Anonymize rows ask for it per request.
    cfg.write_text("[log]\naccess_log = false\nlevel = \"WARNING\"\n[auth]\nanonymous = \"identified\"\n"
                   f"[deid]\nkey_file = \"{work / 'deid.key'}\"\n"
                   + "[server]\n" + (f"workers = {workers}\n" if workers is not None else "")
                   + (f"threads = {threads}\n" if threads is not None else "")
                   + (f"active_threads = {active_threads}\n" if active_threads is not None else "")
                   + extra_config)
    proc = subprocess.Popen([str(wadows or Path(sys.executable).parent / "wadows"), "serve", "--store", str(store),
                             "--port", str(port), "--index", str(work / "index.sqlite"), "--config", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=(work / "wadows.log").open("wb"))
    wait_for(port, 300, proc)
    return proc, port


def start_nginx(root: Path, work: Path) -> tuple[subprocess.Popen, int] | None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        return None
    port = free_port()
    conf = work / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 64; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path {work}/cb; proxy_temp_path {work}/px; fastcgi_temp_path {work}/fc; uwsgi_temp_path {work}/uw; scgi_temp_path {work}/sc;
  server {{ listen 127.0.0.1:{port}; root {root}; default_type application/dicom; }} }}
""")
    proc = subprocess.Popen([nginx, "-p", str(work), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port, 30, proc)
    return proc, port


def best_of(n: int, fn) -> float:
    return min(fn() for _ in range(n))


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller data (20 instances, 50 MB object)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n_inst = 20 if args.quick else 200
    big = (50 if args.quick else 500) * 2**20

    work = Path(tempfile.mkdtemp(prefix="wadows-bench-"))
    os.chmod(work, 0o755)
    store = work / "store"
    print(f"generating data in {work} ...", file=sys.stderr)
    ct = generate_ct_study(store / "ct", n_instances=n_inst)
    big_path = generate_large_multiframe(store / "big" / "big.dcm", big)
    rows = []
    procs = []
    try:
        wproc, wport = start_wadows(store, work)
        procs.append(wproc)
        repo = load_config(None).source.repository_unique_id
        metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
        docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo) for m in metas]
        ts = metas[0].file_meta.TransferSyntaxUID
        study_req = request_xml(docs, [ts])
        single_reqs = [request_xml([d], [ts]) for d in docs]
        anon_study_req = request_xml(docs, [ts], anonymize="yes")

        # correctness once, outside the timings
        conn = http.client.HTTPConnection("127.0.0.1", wport, timeout=600)
        conn.request("POST", "/wado-ws", body=study_req, headers={"Content-Type": "application/soap+xml"})
        r = conn.getresponse()
        parsed = parse_response(r.getheader("Content-Type"), r.read())
        assert parsed.status == "Success" and len(parsed.documents()) == n_inst
        assert parsed.documents()[0][1] == Path(ct[0]).read_bytes()

        conn.request("POST", "/wado-ws", body=anon_study_req, headers={"Content-Type": "application/soap+xml"})
        r = conn.getresponse()
        parsed = parse_response(r.getheader("Content-Type"), r.read())
        assert parsed.status == "Success" and len(parsed.documents()) == n_inst
        assert parsed.documents()[0][0] != docs[0].sop  # de-identified: a new SOP Instance UID

        t_study = best_of(args.repeat, lambda: timed(lambda: post(conn, study_req)))
        t_anon_study = best_of(args.repeat, lambda: timed(lambda: post(conn, anon_study_req)))
        t_single = best_of(args.repeat, lambda: timed(lambda: [post(conn, b) for b in single_reqs]))

        m = pydicom.dcmread(big_path, stop_before_pixels=True)
        big_req = request_xml([Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo)],
                              [m.file_meta.TransferSyntaxUID])
        sampler = RssSampler(wproc.pid)
        rss_before = psutil.Process(wproc.pid).memory_info().rss
        sampler.start()
        t_big = best_of(args.repeat, lambda: timed(lambda: post(conn, big_req)))
        sampler.stop.set()
        sampler.join()
        anon_big_req = request_xml([Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo)],
                                   [m.file_meta.TransferSyntaxUID], anonymize="yes")
        anon_sampler = RssSampler(wproc.pid)
        anon_sampler.start()
        t_anon_big = best_of(args.repeat, lambda: timed(lambda: post(conn, anon_big_req)))
        anon_sampler.stop.set()
        anon_sampler.join()
        conn.close()

        ng = start_nginx(store, work)
        if ng:
            procs.append(ng[0])
            nconn = http.client.HTTPConnection("127.0.0.1", ng[1], timeout=600)
            paths = ["/" + str(Path(p).relative_to(store)) for p in ct]
            n_single = best_of(args.repeat, lambda: timed(lambda: [get(nconn, p) for p in paths]))
            big_rel = "/" + str(Path(big_path).relative_to(store))
            n_big = best_of(args.repeat, lambda: timed(lambda: get(nconn, big_rel)))
        size_mb = Path(big_path).stat().st_size / 2**20
        rows.append(("W1 study, 1 request", f"{n_inst / t_study:,.0f} inst/s", f"{n_inst / n_single:,.0f} inst/s" if ng else "-",
                     f"{n_single / t_study:.2f}" if ng else "-"))
        rows.append(("W1 study, 1 request/instance", f"{n_inst / t_single:,.0f} inst/s",
                     f"{n_inst / n_single:,.0f} inst/s" if ng else "-", f"{n_single / t_single:.2f}" if ng else "-"))
        rows.append((f"W2 {size_mb:.0f} MB object", f"{size_mb / t_big:,.0f} MB/s", f"{size_mb / n_big:,.0f} MB/s" if ng else "-",
                     f"{n_big / t_big:.2f}" if ng else "-"))
        rows.append(("W2 server peak RSS", f"{sampler.peak / 2**20:,.0f} MB (idle {rss_before / 2**20:,.0f} MB)", "-", "-"))
        # nginx anonymizes nothing: these ratios say how close de-identification comes to the transfer limit.
        rows.append(("W1 study, 1 request, Anonymize", f"{n_inst / t_anon_study:,.0f} inst/s",
                     f"{n_inst / n_single:,.0f} inst/s" if ng else "-", f"{n_single / t_anon_study:.2f}" if ng else "-"))
        rows.append((f"W2 {size_mb:.0f} MB object, Anonymize", f"{size_mb / t_anon_big:,.0f} MB/s",
                     f"{size_mb / n_big:,.0f} MB/s" if ng else "-", f"{n_big / t_anon_big:.2f}" if ng else "-"))
        rows.append(("W2 Anonymize peak RSS", f"{anon_sampler.peak / 2**20:,.0f} MB", "-", "-"))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    head = ("workload", "wadows", "nginx (same files)", "wadows / nginx")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, best of {args.repeat}, loopback, one client")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
