"""What one single-document RAD-69 request costs the app itself, without HTTP: the WSGI app called
in-process (SOAP parsing, validation, spyne's dispatch, the index lookup, the response envelope and
MTOM framing; the object goes out as a file span, as under `wadows serve`). Set against bench/run.py's
one-request-per-instance rate, it tells the app's share from waitress's.

    python bench/request_cost.py [--anonymize] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("WADOWS_CONFIG_DIR", tempfile.mkdtemp(prefix="wadows-bench-config-"))

import pydicom  # noqa: E402

from support.rad69 import Doc, request_xml  # noqa: E402
from wadows.wiring import create_app  # noqa: E402
from wadows.config import load_config  # noqa: E402
from wadows.filespan import ENVIRON_KEY, FileSpan  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402
from wadows.store.filestore import FileStore  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--anonymize", action="store_true", help="each request carries <Anonymize>yes</Anonymize>")
    ap.add_argument("--profile", action="store_true", help="print the 30 costliest functions (cumulative)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wadows-bench-cost-"))
    files = generate_ct_study(work / "store", n_instances=args.instances)
    config = load_config(None, store__path=str(work / "store"), store__index=str(work / "index.sqlite"),
                         auth__anonymous="identified", log__access_log=False)
    app = create_app(config, FileStore(work / "store", work / "index.sqlite"))
    repo = config.source.repository_unique_id
    metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    requests = [request_xml([Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo)],
                            [m.file_meta.TransferSyntaxUID], anonymize="yes" if args.anonymize else None)
                for m in metas]

    def call(body: bytes) -> None:
        def start_response(status, headers, exc_info=None):
            if not status.startswith("200"):
                raise RuntimeError(f"HTTP {status}")

        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/wado-ws", "CONTENT_TYPE": "application/soap+xml",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), ENVIRON_KEY: True}
        for chunk in app(environ, start_response):
            if isinstance(chunk, FileSpan):
                chunk.close()

    for body in requests:  # warm: imports, caches, page cache
        call(body)
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.rounds):
        for body in requests:
            call(body)
    n = args.rounds * len(requests)
    per_request = (time.perf_counter() - started) / n
    cpu = (time.process_time() - cpu_started) / n
    kind = "with Anonymize" if args.anonymize else "as stored"
    # CPU time too: on a loaded machine the wall clock includes waiting for a core, the CPU time less so.
    print(f"one-document request, {kind}: {per_request * 1000:.2f} ms in the app, {cpu * 1000:.2f} ms CPU "
          f"({n} requests, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for body in requests:
            call(body)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
