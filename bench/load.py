"""W3: many clients at once, with wrk. The mix: a quarter each of 1-document, 1-document + Anonymize,
20-document and 20-document + Anonymize RAD-69 requests over the 200-instance CT study of bench/run.py
(a Lua script picks the body of each request). Per client count: requests/s, latency p50/p99/max,
errors (wrk's socket errors and HTTP errors; a response of the checking client that is not HTTP 200
with status Success), the server's peak RSS, /healthz latency measured by a separate client while the
load runs, the server's CPU per request, and the cores the server, wrk and this process used.

Run with `make bench`, or `python bench/load.py --quick` for a few seconds on a small study.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import RssSampler, start_wadows  # noqa: E402 (also puts tests/ on the path)
from support.rad69 import Doc, request_xml  # noqa: E402

from wadows.config import load_config  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402

KINDS = (("1", 1, None), ("1+anon", 1, "yes"), ("20", 20, None), ("20+anon", 20, "yes"))
VARIANTS = 10  # bodies per kind, each over other instances, so no one object is always hot

# No response() hook: with one, wrk keeps every response body in a buffer per connection (grown 1 KiB at
# a time and never shrunk) and copies each into a Lua string. At 128 connections of these 5-10 MB
# responses that was 1 GB of wrk RSS and a third of a core of the two the server runs on, more per
# request the more connections (about 9 ms of wrk CPU per request at 32 clients, 29 at 128), so the
# client's own cost made throughput fall with the client count. wrk counts HTTP errors itself (status
# 400 and up); whether a response says Success is checked by CheckingClient, one more client that
# sends the same mix.
LUA = r"""
local bodies = { %(bodies)s }
local headers = { ["Content-Type"] = "application/soap+xml; charset=utf-8" }
function request() return wrk.format("POST", "/wado-ws", headers, bodies[math.random(#bodies)]) end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %%d, "duration_us": %%d, "bytes": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "failed": %%d, "socket_errors": %%d}\n', summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""

SUCCESS = b"ResponseStatusType:Success"


class CheckingClient(threading.Thread):
    """One more client alongside wrk's, sending the same bodies (each kind in turn) on a kept-alive
    connection and checking every response: HTTP 200 and a RegistryResponse status of Success (it comes
    before the first document: the root part leads the body). Its latencies, by kind, say how the
    server shares itself between small and large requests."""

    def __init__(self, port: int, bodies: dict[str, list[bytes]], timeout: float = 60.0) -> None:
        super().__init__(daemon=True)
        self.port, self.bodies, self.timeout = port, bodies, timeout
        self.latencies: dict[str, list[float]] = {kind: [] for kind in bodies}
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        turn = 0
        while not self.stop.is_set():
            kind = list(self.bodies)[turn % len(self.bodies)]
            body = self.bodies[kind][(turn // len(self.bodies)) % len(self.bodies[kind])]
            turn += 1
            started = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                conn.request("POST", "/wado-ws", body=body,
                             headers={"Content-Type": "application/soap+xml; charset=utf-8"})
                resp = conn.getresponse()
                head = bytearray()
                while len(head) < 8192 and (n := resp.readinto(view[:8192 - len(head)])):
                    head += view[:n]
                while resp.readinto(view):
                    pass
                if resp.status != 200 or SUCCESS not in head:
                    raise OSError(f"HTTP {resp.status}")
                if not self.stop.is_set():  # one cut short by the end of the run is not counted
                    self.latencies[kind].append(time.perf_counter() - started)
            except (OSError, http.client.HTTPException):
                if not self.stop.is_set():
                    self.failures += 1
                if conn is not None:
                    conn.close()
                conn = None


class HealthProbe(threading.Thread):
    """GET /healthz every ``interval`` on a kept-alive connection, as a load balancer would."""

    def __init__(self, port: int, interval: float = 0.1, timeout: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.port, self.interval, self.timeout = port, interval, timeout
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise OSError(resp.status)
                self.latencies.append(time.perf_counter() - started)
            except (OSError, http.client.HTTPException):
                self.failures += 1
                if conn is not None:
                    conn.close()
                conn = None
            self.stop.wait(self.interval)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def mix_bodies(docs: list[Doc], ts: str) -> dict[str, list[bytes]]:
    """VARIANTS request bodies of each kind, each over other instances (the same ones every run)."""
    rng = random.Random(0)
    bodies: dict[str, list[bytes]] = {}
    for kind, count, anonymize in KINDS:
        for _ in range(VARIANTS):
            start = rng.randrange(0, len(docs) - count + 1)
            bodies.setdefault(kind, []).append(request_xml(docs[start:start + count], [ts], anonymize=anonymize))
    return bodies


def lua_script(docs: list[Doc], ts: str) -> str:
    quoted = []
    for xml in (b.decode() for kind in mix_bodies(docs, ts).values() for b in kind):
        assert "]==]" not in xml
        quoted.append(f"[==[{xml}]==]")
    return LUA % {"bodies": ",\n".join(quoted)}


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of the server and its worker processes so far."""
    top = psutil.Process(pid)
    total = 0.0
    for p in [top, *top.children()]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_load(wrk: str, port: int, pid: int, script: Path, bodies: dict[str, list[bytes]], clients: int,
             seconds: float) -> dict:
    sampler = RssSampler(pid)
    probe = HealthProbe(port)
    checker = CheckingClient(port, bodies)
    sampler.start()
    probe.start()
    checker.start()
    # CPU seconds: the server's (what a request costs it), wrk's (the client shares the cores) and
    # this process's (the RSS sampler and the health probe), so a row taken on a busy machine says
    # how much of the cores the server had.
    cpu0, wrk0, own0, wall0 = server_cpu(pid), children_cpu(), time.process_time(), time.monotonic()
    try:
        out = subprocess.run([wrk, "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "30s",
                              "-s", str(script), f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=seconds + 120)
    finally:
        cpu = server_cpu(pid) - cpu0
        wrk_cpu, own_cpu, wall = children_cpu() - wrk0, time.process_time() - own0, time.monotonic() - wall0
        probe.stop.set()
        checker.stop.set()
        sampler.stop.set()
        probe.join(15)
        checker.join(60)
        sampler.join()
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRK ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-1500:]} {out.stderr[-1500:]}")
    stats = json.loads(line[4:])
    # Errors: wrk's socket errors and HTTP errors, and the checking client's failed responses.
    return {"clients": clients, "seconds": stats["duration_us"] / 1e6, "requests": stats["requests"],
            "rps": stats["requests"] / (stats["duration_us"] / 1e6), "p50": stats["p50_us"] / 1e6,
            "p99": stats["p99_us"] / 1e6, "max": stats["max_us"] / 1e6,
            "errors": stats["failed"] + stats["socket_errors"] + checker.failures, "rss": sampler.peak,
            "checked": checker.latencies,
            "rss_by_process": sorted(sampler.peaks.values(), reverse=True),
            "health": probe.latencies, "health_failures": probe.failures,
            "cpu_per_request": cpu / max(1, stats["requests"]), "server_cores": cpu / wall,
            "wrk_cores": wrk_cpu / wall, "bench_cores": own_cpu / wall}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a few seconds on a 40-instance study")
    ap.add_argument("--duration", type=float, default=None, help="seconds per client count (default 60; quick 3)")
    ap.add_argument("--clients", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 0],
                    help="[server] workers for each run (0: one per core, the default)")
    ap.add_argument("--threads", type=int, default=None, help="[server] threads per worker (default: the server's)")
    ap.add_argument("--active-threads", type=int, default=None,
                    help="[server] active_threads per worker (default: the server's; 0: no limit)")
    args = ap.parse_args()
    seconds = args.duration or (3.0 if args.quick else 60.0)
    n_inst = 40 if args.quick else 200
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (Debian package wrk; `make sysdeps` installs it)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="wadows-load-"))
    os.chmod(work, 0o755)
    print(f"generating data in {work} ...", file=sys.stderr)
    ct = generate_ct_study(work / "store" / "ct", n_instances=n_inst)
    rows = []
    idle_rss = {}
    proc = None
    repo = load_config(None).source.repository_unique_id
    metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
    docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo) for m in metas]
    script = work / "mix.lua"
    ts = metas[0].file_meta.TransferSyntaxUID
    script.write_text(lua_script(docs, ts))
    bodies = mix_bodies(docs, ts)
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    try:
        for workers in args.workers:
            count = workers or os.cpu_count() or 1
            proc, port = start_wadows(work / "store", work, workers, threads=args.threads,
                                       active_threads=args.active_threads)
            idle_rss[count] = max(p.memory_info().rss for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children()])
            for clients in args.clients:
                print(f"{count} worker(s), {clients} clients for {seconds:g} s ...", file=sys.stderr)
                rows.append({"workers": count, **run_load(wrk, port, proc.pid, script, bodies, clients, seconds)})
            proc.terminate()
            proc.wait(timeout=60)
            proc = None
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    head = ("workers", "clients", "requests/s", "p50", "p99", "max", "errors", "peak RSS per process",
            "/healthz p50 / p99 / max", "server CPU / request", "cores: server / wrk / bench")
    table = [head]
    for r in rows:
        h = r["health"]
        health = (f"{percentile(h, 50) * 1000:,.0f} / {percentile(h, 99) * 1000:,.0f} / "
                  f"{max(h, default=float('nan')) * 1000:,.0f} ms" + (f", {r['health_failures']} failed"
                                                                      if r["health_failures"] else ""))
        # Largest first; with several workers the last (smallest) is the parent, which serves nothing.
        rss = " / ".join(f"{v / 2**20:,.0f}" for v in r["rss_by_process"]) + " MB"
        table.append((str(r["workers"]), str(r["clients"]), f"{r['rps']:,.1f}", f"{r['p50'] * 1000:,.0f} ms",
                      f"{r['p99'] * 1000:,.0f} ms", f"{r['max'] * 1000:,.0f} ms",
                      f"{r['errors']} of {r['requests']}", rss, health, f"{r['cpu_per_request'] * 1000:,.0f} ms",
                      f"{r['server_cores']:.2f} / {r['wrk_cores']:.2f} / {r['bench_cores']:.2f}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table[1:]:
        print(line(row))
    print(f"\nW3 mix (quarter each: 1 doc, 1 doc + Anonymize, 20 docs, 20 docs + Anonymize) over a {n_inst}-instance "
          f"CT study, {seconds:g} s per row, wrk -t2, {args.threads or load_config(None).server.threads} threads per "
          f"worker, {load_config(None).server.active_threads if args.active_threads is None else args.active_threads} "
          f"running the app at once; idle RSS of a serving process "
          f"{', '.join(f'{v / 2**20:,.0f} MB ({n} workers)' for n, v in idle_rss.items())}; {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, loopback; load average before the runs {load_before}")
    print("\nLatency by kind (p50 / max, responses) of the checking client, one more client sending the same "
          "mix and checking each response:")
    for r in rows:
        kinds = "; ".join(f"{kind} {percentile(v, 50) * 1000:,.0f} / {max(v, default=float('nan')) * 1000:,.0f} ms "
                          f"({len(v)})" for kind, v in r["checked"].items())
        print(f"- {r['workers']} worker(s), {r['clients']} clients: {kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
