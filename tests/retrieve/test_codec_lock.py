"""Concurrent encodes and decodes for every syntax wadows writes (issue 17 item 1).

Without the openjpeg lock, 8 threads encoding JPEG 2000 at once segfault the process (heap
corruption inside pylibjpeg-openjpeg). The work runs in a child process so that a crash fails this
test instead of taking pytest down with it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from wadows.retrieve.transfer import SUPPORTED

WRITTEN = [s.uid for s in SUPPORTED if s.can_write]

CHILD = textwrap.dedent("""
    import io, sys, threading
    import numpy as np, pydicom
    sys.path[:0] = [sys.argv[1], str(__import__("pathlib").Path(sys.argv[1]).parent)]
    from transfer_objects import ct, encode, joined
    from wadows.retrieve.transfer import stream_as
    from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEG2000

    targets = sys.argv[2:]
    source = ct(rows=256, cols=256)
    native = encode(source, ExplicitVRLittleEndian)
    j2k = encode(source, JPEG2000Lossless)
    expected = pydicom.dcmread(io.BytesIO(native)).pixel_array
    failures = []

    def work(seed):
        for i in range(50):
            target = targets[(seed + i) % len(targets)]
            try:
                out = joined(stream_as(io.BytesIO(native), ExplicitVRLittleEndian, target))  # encode
                back = joined(stream_as(io.BytesIO(j2k), JPEG2000Lossless, target))          # decode (+ encode)
                for data in (out, back):
                    got = pydicom.dcmread(io.BytesIO(data)).pixel_array
                    if target != JPEG2000 and not np.array_equal(got, expected):
                        failures.append(f"{target} not lossless")
            except Exception as exc:
                failures.append(f"{target}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("\\n".join(failures[:5]) or "OK")
""")


@pytest.mark.slow
def test_eight_threads_fifty_conversions_each_neither_crash_nor_lose_pixels() -> None:
    here = str(__import__("pathlib").Path(__file__).parent)
    run = subprocess.run([sys.executable, "-c", CHILD, here, *WRITTEN], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"child died with {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.strip() == "OK", run.stdout
    assert "ERROR" not in run.stderr
