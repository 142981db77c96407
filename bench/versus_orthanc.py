"""The start every bench timing wadows against Orthanc on the generated CT study shares (bench/orthanc.py,
bench/rendered.py): one command line, Orthanc required, one scratch folder.

    python bench/<name>.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from support.orthanc import orthanc_unavailable_reason  # noqa: E402

INSTANCES, QUICK_INSTANCES = 200, 20


def run_versus_orthanc(doc: str, bench: Callable[[Path, int, int], int]) -> int:
    """Parse ``[--quick] [--repeat N]``; exit 2 saying why when Orthanc cannot run here; otherwise return
    ``bench(work, instances, repeat)`` run in a fresh folder under the temporary directory, removed
    afterwards. The folder is opened to other users (0755) like bench/run.py's, so a server running as
    another user can read what is generated there."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_INSTANCES} instances instead of {INSTANCES}")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reason = orthanc_unavailable_reason()
    if reason:
        print(f"bench/{ap.prog}: {reason}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix=f"wadows-bench-{Path(ap.prog).stem}-"))
    os.chmod(work, 0o755)
    try:
        return bench(work, QUICK_INSTANCES if args.quick else INSTANCES, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
