"""RetrieveImagingDocumentSetInformation throughput (issue 13): a 200-instance CT study, one request
of every header x 3 XPath expressions, documents/s plain and with Anonymize, against RAD-69's plain
documents/s on the same study (the issue's goal: at least that).

Each request is checked once (status, one answer per document and per expression, the anonymized
DocumentUniqueIds new and equal to RAD-69's), then timed as the best of --repeat. The plain check is
the server's first request about these objects, so it is also timed, once, as the "first request" row:
every header read and rendered. Later plain requests answer from the remembered models
([information] cache_mib, retrieve/modelcache.py); Anonymize never does. The load average is printed
with the rows: the ratios of one run are what compares; so is the server's CPU time per document
(best of the repeats, workers included), which waiting for a core on a shared machine does not inflate.

    python bench/docinfo.py [--quick] [--repeat N] [--baseline OTHER-CHECKOUT/.venv/bin/wadows]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
import pydicom

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
from anon_w1 import cpu_seconds  # noqa: E402
from run import post, start_wadows, timed  # noqa: E402
from support import docinfo, rad69  # noqa: E402

from wadows.config import load_config  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402

XPATHS = ["string(//DicomAttribute[@keyword='PatientName']/PersonName/Alphabetic/FamilyName)",
          "//DicomAttribute[@keyword='ImagePositionPatient']", "count(//DicomAttribute)"]


def answer(conn: http.client.HTTPConnection, body: bytes, parse):
    conn.request("POST", "/wado-ws", body=body, headers={"Content-Type": "application/soap+xml"})
    r = conn.getresponse()
    return parse(r.getheader("Content-Type"), r.read())


def _connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def measured(server: psutil.Process, fn) -> tuple[float, float]:
    """Wall-clock seconds of ``fn`` and the CPU seconds the server spent meanwhile (its workers
    included): on a shared machine the wall clock includes waiting for a core, the CPU time does not."""
    cpu = cpu_seconds(server)
    wall = timed(fn)
    return wall, cpu_seconds(server) - cpu


def checked_first(conn: http.client.HTTPConnection, server: psutil.Process, bodies: dict, keys, metas,
                  n: int) -> tuple[float, float]:
    """The server's first request (timed: every header read and rendered), then each kind checked once."""
    got = None

    def first_request() -> None:
        nonlocal got
        got = answer(conn, bodies["plain"], docinfo.parse_response)

    first = measured(server, first_request)
    assert got.status == "Success" and len(got.answers()) == n
    assert all(len(a.responses) == 3 for a in got.answers())
    assert got.answers()[0].texts(1) == [metas[0].PatientName.family_name]
    got_anon = answer(conn, bodies["anon"], docinfo.parse_response)
    retrieved = answer(conn, bodies["anon_retrieve"], rad69.parse_response)
    new = [a.document_unique_id for a in got_anon.answers()]
    assert got_anon.status == "Success" and new == [uid for uid, _ in retrieved.documents()]
    assert not set(new) & {k[2] for k in keys}
    assert answer(conn, bodies["retrieve"], rad69.parse_response).status == "Success"
    return first


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20 instances")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path, help="another checkout's wadows script, timed in the same run "
                                                   "(each workload on both servers, one after the other)")
    args = ap.parse_args()
    n = 20 if args.quick else 200
    work = Path(tempfile.mkdtemp(prefix="wadows-bench-docinfo-"))
    os.chmod(work, 0o755)
    procs = []
    try:
        ct = generate_ct_study(work / "store" / "ct", n_instances=n)
        conns, servers = {}, {}
        for name, script in [("this checkout", None)] + ([("baseline", args.baseline)] if args.baseline else []):
            home = work / name.replace(" ", "-")
            home.mkdir()
            proc, port = start_wadows(work / "store", home, wadows=script)
            procs.append(proc)
            conns[name] = port  # a connection per workload: an idle one is closed by the server
            servers[name] = psutil.Process(proc.pid)
        repo = load_config(None).source.repository_unique_id
        metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
        keys = [(str(m.StudyInstanceUID), str(m.SeriesInstanceUID), str(m.SOPInstanceUID)) for m in metas]
        ts = str(metas[0].file_meta.TransferSyntaxUID)
        bodies = {"plain": docinfo.request_xml([docinfo.Doc(*k, repo) for k in keys], XPATHS),
                  "anon": docinfo.request_xml([docinfo.Doc(*k, repo) for k in keys], XPATHS, anonymize="yes"),
                  "retrieve": rad69.request_xml([rad69.Doc(*k, repo) for k in keys], [ts]),
                  "anon_retrieve": rad69.request_xml([rad69.Doc(*k, repo) for k in keys], [ts], anonymize="yes")}

        rows: dict[str, list] = {name: [] for name in conns}
        for name, port in reversed(conns.items()):  # the baseline first: the two first requests in a row
            first = checked_first(_connect(port), servers[name], bodies, keys, metas, n)
            rows[name].append(("RetrieveImagingDocumentSetInformation, 3 XPaths, first request", *first))
        for label, body in (("RetrieveImagingDocumentSetInformation, 3 XPaths", bodies["plain"]),
                            ("RetrieveImagingDocumentSetInformation, 3 XPaths, Anonymize", bodies["anon"]),
                            ("RAD-69 RetrieveImagingDocumentSet (whole objects)", bodies["retrieve"])):
            for name, port in reversed(conns.items()):
                conn = _connect(port)
                runs = [measured(servers[name], lambda b=body, c=conn: post(c, b)) for _ in range(args.repeat)]
                conn.close()
                rows[name].append((label, min(r[0] for r in runs), min(r[1] for r in runs)))
        print(f"\n{n} CT instances in one request (best of {args.repeat}; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")
        for name, table in rows.items():
            print(f"\n{name}\n\n| workload | seconds | documents/s | / RAD-69 | server CPU ms/document "
                  "| / RAD-69's |\n|---|---|---|---|---|---|")
            rad69_cpu = table[-1][2]
            for label, seconds, cpu in table:
                # A quick run's RAD-69 may use less CPU than the clock's tick (10 ms): no ratio then.
                cpu_ratio = f"{cpu / rad69_cpu:.2f}" if rad69_cpu > 0 else "-"
                print(f"| {label} | {seconds:.3f} | {n / seconds:.0f} | {table[-1][1] / seconds:.2f} "
                      f"| {cpu / n * 1e3:.2f} | {cpu_ratio} |")
        return 0
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
