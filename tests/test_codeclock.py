"""Concurrent encoding can never take the process down (pylibjpeg-openjpeg corrupts its heap when
two threads encode at once). The stress runs in a child process: a crash is a signal exit there,
not a dead test run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from wadows.codeclock import encoding
from wadows.retrieve.transfer.support import SUPPORTED

COMPRESSED_WRITABLE = [s.uid for s in SUPPORTED if s.can_write and s.uid.startswith("1.2.840.10008.1.2.4")
                       or s.can_write and s.uid == "1.2.840.10008.1.2.5"]

STRESS = textwrap.dedent("""
    import io, sys, threading
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UID, generate_uid
    from pydicom.pixels import decompress
    import pydicom
    from wadows.retrieve.transfer import stream_as

    target = UID(sys.argv[1])
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 4095, (96, 80), dtype=np.uint16)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 96, 80, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.tobytes()
    buf = io.BytesIO(); ds.save_as(buf, enforce_file_format=True); stored = buf.getvalue()
    failures = []

    def work():
        for _ in range(50):
            out = b"".join(stream_as(io.BytesIO(stored), ExplicitVRLittleEndian, target))
            back = pydicom.dcmread(io.BytesIO(out))
            if not target.is_compressed:
                continue
            arr = decompress(back).pixel_array
            if target in LOSSLESS and not (arr == pixels).all():
                failures.append("pixels differ")

    LOSSLESS = {UID("1.2.840.10008.1.2.4.90"), UID("1.2.840.10008.1.2.5"), UID("1.2.840.10008.1.2.4.201"),
                UID("1.2.840.10008.1.2.4.202"), UID("1.2.840.10008.1.2.4.70"), UID("1.2.840.10008.1.2.4.57")}
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("failures", len(failures))
    sys.exit(1 if failures else 0)
""")


@pytest.mark.slow
@pytest.mark.parametrize("target", COMPRESSED_WRITABLE)
def test_eight_threads_encoding_at_once_neither_crash_nor_corrupt(target):
    run = subprocess.run([sys.executable, "-c", STRESS, target], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert "failures 0" in run.stdout


def test_openjpeg_syntaxes_share_one_lock_and_others_take_none():
    assert encoding("1.2.840.10008.1.2.4.90") is encoding("1.2.840.10008.1.2.4.91")
    assert encoding("1.2.840.10008.1.2.4.203") is encoding("1.2.840.10008.1.2.4.90")
    with encoding("1.2.840.10008.1.2.5"):
        with encoding("1.2.840.10008.1.2.5"):  # no lock: re-entering is fine
            pass

