"""W1 with Anonymize from the file store against Orthanc's own anonymize, in one run (issue 14): the
200-instance CT study as 10 RAD-69 requests of 20 documents with <Anonymize>yes</Anonymize>, and the
same instances through Orthanc's `POST /instances/{id}/anonymize` (uploaded first, untimed).

Every side is timed with the same C client, curl, all its requests on one keep-alive connection
(`--next`), output to /dev/null: Python HTTP clients read large chunked responses slower than the
servers send them. Correctness is checked once, untimed. ``--baseline`` times another checkout's
`wadows` (its venv's script) in the same run, alternating with this one, so a change is measured
against what it replaces under the same load.

    python bench/anon_w1.py [--repeat 5] [--baseline /work/main/.venv/bin/wadows] [--no-orthanc]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pydicom

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
from run import start_wadows  # noqa: E402
from support.orthanc import orthanc_unavailable_reason, running_orthanc  # noqa: E402
from support.rad69 import Doc, parse_response, request_xml  # noqa: E402

from orthanc import ORTHANC_BODY  # noqa: E402  (bench/orthanc.py: what bench/deid.py asks too)
from wadows.config import load_config  # noqa: E402
from wadows.deid import Deidentifier  # noqa: E402
from wadows.deid.rewrite import Rewritten, attempt  # noqa: E402
from wadows.store.header import header_from_file  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402

PER_REQUEST = 20


def curl(args_per_request: list[list[str]]) -> float:
    """Wall clock of one curl process sending every request on one connection."""
    cmd = ["curl", "-sS", "--fail", "-o", "/dev/null"]
    for n, args in enumerate(args_per_request):
        if n:
            cmd += ["--next", "-sS", "--fail", "-o", "/dev/null"]
        cmd += args
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def cpu_seconds(root: psutil.Process, name: str | None = None) -> float:
    """User + system CPU time of ``root``'s process tree so far (its workers included), or of the
    processes in it called ``name``. On a loaded machine a side's wall clock includes waiting for a
    core; its CPU time per instance says what it costs."""
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            if name is None or proc.name() == name:
                t = proc.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", type=Path, help="another checkout's wadows script, timed in the same run")
    ap.add_argument("--no-orthanc", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wadows-bench-anon-"))
    os.chmod(work, 0o755)
    ct = generate_ct_study(work / "store" / "ct", n_instances=args.instances)
    metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
    repo = load_config(None).source.repository_unique_id
    ts = metas[0].file_meta.TransferSyntaxUID
    docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo) for m in metas]
    bodies = []
    for i in range(0, len(docs), PER_REQUEST):
        path = work / f"request-{i:04d}.xml"
        path.write_bytes(request_xml(docs[i:i + PER_REQUEST], [ts], anonymize="yes"))
        bodies.append(path)

    servers, procs, cpu_of = {}, [], {}
    try:
        for name, script in [("wadows (this checkout)", None)] + ([("wadows (baseline)", args.baseline)]
                                                                    if args.baseline else []):
            home = work / name.split()[1].strip("()")
            home.mkdir()
            (home / "deid.key").write_text("ab" * 32 + "\n")
            (home / "deid.key").chmod(0o600)
            proc, port = start_wadows(work / "store", home, wadows=script)
            procs.append(proc)
            # Correctness once, untimed: every document anonymized.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("POST", "/wado-ws", body=bodies[0].read_bytes(), headers={"Content-Type": "application/soap+xml"})
            r = conn.getresponse()
            parsed = parse_response(r.getheader("Content-Type"), r.read())
            conn.close()
            got = parsed.documents()
            assert parsed.status.endswith("Success") and len(got) == min(PER_REQUEST, len(docs)), parsed.errors
            assert all(uid != d.sop for (uid, _), d in zip(got, docs))
            url = f"http://127.0.0.1:{port}/wado-ws"
            cpu_of[name] = lambda p=psutil.Process(proc.pid): cpu_seconds(p)
            servers[name] = [["-H", "Content-Type: application/soap+xml", "--data-binary", f"@{b}", url] for b in bodies]

        times: dict[str, list[float]] = {name: [] for name in servers}
        cpu: dict[str, list[float]] = {}
        orthanc_ctx = None
        if not args.no_orthanc and not orthanc_unavailable_reason():
            orthanc_ctx = running_orthanc(work / "orthanc")
            orthanc = orthanc_ctx.__enter__()
            ids = orthanc.upload(ct)
            origin = urlsplit(orthanc.base)
            body = json.dumps(ORTHANC_BODY)
            servers["Orthanc anonymize"] = [["-X", "POST", "-H", "Content-Type: application/json", "--data", body,
                                            f"http://{origin.hostname}:{origin.port}/instances/{i}/anonymize"]
                                           for i in ids]
            times["Orthanc anonymize"] = []
            cpu_of["Orthanc anonymize"] = lambda: cpu_seconds(psutil.Process(), "Orthanc")
            curl(servers["Orthanc anonymize"][:5])  # warm-up
        try:
            for name, reqs in servers.items():
                curl(reqs)  # warm: page cache, caches, imports
            for _ in range(args.repeat):  # alternating, so every side sees the same load
                for name, reqs in servers.items():
                    before = cpu_of[name]()
                    times[name].append(curl(reqs))
                    cpu.setdefault(name, []).append(cpu_of[name]() - before)
        finally:
            if orthanc_ctx is not None:
                orthanc_ctx.__exit__(None, None, None)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)

    n = len(docs)
    ref = min(times["Orthanc anonymize"]) if "Orthanc anonymize" in times else None
    print(f"{n} CT instances, {len(bodies)} requests of {PER_REQUEST} with Anonymize, curl, best of {args.repeat}, "
          f"load {os.getloadavg()[0]:.1f} (1 min) at the end")
    ref_cpu = min(cpu["Orthanc anonymize"]) if ref else None
    print(f"| {'side':<24} | {'inst/s best':>11} | {'inst/s median':>13} | {'vs Orthanc':>10} "
          f"| {'server CPU ms/inst':>18} | {'CPU vs Orthanc':>14} |")
    print(f"|{'-' * 26}|{'-' * 13}|{'-' * 15}|{'-' * 12}|{'-' * 20}|{'-' * 16}|")
    for name, ts_ in times.items():
        best, median, least = min(ts_), sorted(ts_)[len(ts_) // 2], min(cpu[name])
        ratio = f"{ref / best:.2f}" if ref else "-"
        cpu_ratio = f"{ref_cpu / least:.2f}" if ref_cpu else "-"
        print(f"| {name:<24} | {n / best:>11,.0f} | {n / median:>13,.0f} | {ratio:>10} "
              f"| {least / n * 1000:>18.2f} | {cpu_ratio:>14} |")
    print(header_paths(ct))
    return 0


def header_paths(paths: list[Path]) -> str:
    """How many of the study's headers the byte-level rewriter takes and why it declines the others
    (deid/rewrite.py), counted in-process with the server's profile (the basic one): the walker's share
    is what the fast path leaves."""
    deid = Deidentifier(b"\xab" * 32)
    reasons: collections.Counter[str] = collections.Counter()
    for path in paths:
        with open(path, "rb") as f:
            header = header_from_file(f)
        done = attempt(header, deid.decide(header).plan)
        reasons["bytes" if isinstance(done, Rewritten) else done] += 1
    declined = ", ".join(f"{why} {n}" for why, n in sorted(reasons.items()) if why != "bytes") or "none"
    return f"headers rewritten from their bytes: {reasons['bytes']} of {len(paths)} (declined to the walker: {declined})"


if __name__ == "__main__":
    raise SystemExit(main())
