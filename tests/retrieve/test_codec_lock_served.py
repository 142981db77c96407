"""Several concurrent RAD-69 requests asking JPEG 2000 for uncompressed objects (issue 17 item 1): the
served process survives (it segfaulted before the openjpeg lock) and every object decodes losslessly."""

from __future__ import annotations

import io
import threading

import numpy as np
import pydicom
import pytest
import requests
from pydicom.uid import JPEG2000, ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from support.process import served
from support.rad69 import Doc, parse_response, request_xml
from transfer_objects import ct, encode

REPOSITORY = "2.25.104010150727412930373520467207786914562"


@pytest.mark.slow
def test_concurrent_j2k_requests_do_not_crash_the_server(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    objects = [ct(rows=256, cols=256, n=n) for n in range(1, 5)]
    for n, ds in enumerate(objects):
        (store / f"{n}.dcm").write_bytes(encode(ds, ExplicitVRLittleEndian))
    docs = [Doc(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, REPOSITORY) for ds in objects]
    expected = {ds.SOPInstanceUID: ds.pixel_array for ds in objects}
    failures: list[str] = []
    with served(store, tmp_path / "run", '[auth]\nanonymous = "identified"\n') as proc:
        def client(seed: int) -> None:
            for i in range(6):
                ts = (JPEG2000Lossless, JPEG2000, RLELossless)[(seed + i) % 3]
                try:
                    r = requests.post(proc.url, data=request_xml(docs, (ts,)),
                                      headers={"Content-Type": "application/soap+xml"}, timeout=120)
                    resp = parse_response(r.headers["Content-Type"], r.content)
                    for uid, data in resp.documents():
                        got = pydicom.dcmread(io.BytesIO(data)).pixel_array
                        if ts != JPEG2000 and not np.array_equal(got, expected[uid]):
                            failures.append(f"{ts} not lossless")
                    if len(resp.documents()) != len(docs):
                        failures.append(f"{ts}: {resp.errors}")
                except Exception as exc:
                    failures.append(f"{ts}: {type(exc).__name__}")
        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert proc.proc.poll() is None, f"server died with {proc.proc.returncode}"
    assert not failures, failures[:5]
