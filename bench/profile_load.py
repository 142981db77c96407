"""Where a served worker's time goes under load: the W3 mix of bench/load.py (or only its Anonymize
requests) from wrk against `wadows serve` with one worker, sampled from outside with py-spy
(``pip install py-spy``; it reads the process's memory, so it sees every thread without changing
how the server runs). Only samples holding the GIL are kept (``--gil``): on one core that is the
time the process spends running Python, which is what workers and a faster header pass can buy back.

Prints the functions with the most samples on top of the stack (self) and anywhere in the stack
(inclusive), as shares of all samples.

    python bench/profile_load.py [--anonymized-only] [--seconds 30] [--clients 32]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import KINDS, lua_script  # noqa: E402
from run import start_wadows  # noqa: E402
from support.rad69 import Doc  # noqa: E402

import load  # noqa: E402
from wadows.config import load_config  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402


def frame_name(frame: str) -> str:
    """py-spy's raw frame "function (path/to/file.py:123)" -> "file.py function"."""
    func, _, where = frame.partition(" (")
    return f"{Path(where.rsplit(':', 1)[0]).name} {func}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--anonymized-only", action="store_true", help="only the 1- and 20-document Anonymize requests")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    wrk, spy = shutil.which("wrk"), shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if wrk is None or not Path(spy).exists():
        print("needs wrk (Debian package) and py-spy (pip install py-spy)", file=sys.stderr)
        return 2
    if args.anonymized_only:
        load.KINDS = tuple(k for k in KINDS if k[2])
    work = Path(tempfile.mkdtemp(prefix="wadows-profile-"))
    proc = None
    try:
        ct = generate_ct_study(work / "store" / "ct", n_instances=200)
        repo = load_config(None).source.repository_unique_id
        metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
        docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo) for m in metas]
        script = work / "mix.lua"
        script.write_text(lua_script(docs, metas[0].file_meta.TransferSyntaxUID))
        proc, port = start_wadows(work / "store", work, workers=1)
        raw = work / "profile.txt"
        load_run = subprocess.Popen([wrk, "-t", "2", "-c", str(args.clients), "-d", f"{args.seconds + 4:g}s",
                                     "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}"],
                                    stdout=subprocess.PIPE, text=True)
        subprocess.run([spy, "record", "--pid", str(proc.pid), "--duration", f"{args.seconds:g}", "--rate", "200",
                        "--gil", "--format", "raw", "--output", str(raw), "--nonblocking"],
                       check=True, capture_output=True, timeout=args.seconds + 60)
        out, _ = load_run.communicate(timeout=args.seconds + 60)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
    selfs: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [frame_name(f) for f in stack.split(";") if f]
        total += n
        if frames:
            selfs[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    shutil.rmtree(work, ignore_errors=True)
    summary = next((ln for ln in out.splitlines() if ln.startswith("WRK ")), "")
    print(f"{'anonymized only' if args.anonymized_only else 'W3 mix'}, {args.clients} clients, "
          f"{args.seconds:g} s, {total} GIL-holding samples at 200/s; {os.cpu_count()} CPUs; wrk: {summary[4:]}")
    for title, counter in (("self", selfs), ("inclusive", inclusive)):
        print(f"\n{title}:")
        for name, n in counter.most_common(args.top):
            print(f"  {100 * n / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
