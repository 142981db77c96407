"""Cost of burned-in text handling per object: blanking by deid's Philips iU22 rule alone
(verify_pixels false) and with Tesseract verification (on), for a single frame and a 3-frame RGB cine
(OCR samples first, middle and last frame). Prints ms/object.

    .venv/bin/python bench/ocr.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.deid.burned import make_burned  # noqa: E402
from tests.deid.objects import KEY, to_bytes  # noqa: E402
from wadows.deid import Deidentifier, ocr  # noqa: E402


def _time(deid: Deidentifier, data: bytes, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        b"".join(deid.stream(io.BytesIO(data)))
        runs.append(time.perf_counter() - t)
    return statistics.median(runs) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if not ocr.available():
        print("bench/ocr.py: tesseract not installed (Debian tesseract-ocr): OCR cost not measured")
        return
    cases = {"US 640x480 mono, 1 frame": make_burned(real_rule=True),
             "US 640x480 RGB, 3-frame cine": make_burned(real_rule=True, rgb=True, frames=3)}
    for name, ds in cases.items():
        data = to_bytes(ds)
        off = _time(Deidentifier(KEY, verify_pixels=False), data, args.repeat)
        on = _time(Deidentifier(KEY, verify_pixels=True), data, args.repeat)
        print(f"{name}: blanking {off:.1f} ms/object, with OCR {on:.1f} ms/object (OCR {on - off:.1f} ms)")


if __name__ == "__main__":
    main()
