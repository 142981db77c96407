"""A large multi-frame object goes out byte-identical with bounded server memory (issue: streaming).

The server runs as its own process (`wadows serve`) so its RSS is measured alone.
"""

from __future__ import annotations

import hashlib
import mmap
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pydicom
import pytest
import requests

from conftest import free_port
from support.rad69 import Doc, request_xml
from wadows.config import load_config
from wadows.samples import generate_large_multiframe

SIZE = 200 * 2**20
RSS_LIMIT = 150 * 2**20


@pytest.mark.slow
def test_large_object_streams_with_bounded_server_rss(tmp_path):
    store = tmp_path / "store"
    big = generate_large_multiframe(store / "big.dcm", SIZE)
    port = free_port()
    config = tmp_path / "wadows.toml"
    # The object must come back untouched; one process, so its RSS is the serving process's.
    config.write_text('[auth]\nanonymous = "identified"\n[server]\nworkers = 1\n')
    proc = subprocess.Popen([str(Path(sys.executable).parent / "wadows"), "serve", "--store", str(store), "--port", str(port),
                             "--index", str(tmp_path / "index.sqlite"), "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        p = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                peak = max(peak, p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.01)

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        m = pydicom.dcmread(big, stop_before_pixels=True)
        doc = Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, load_config().source.repository_unique_id)
        body = request_xml([doc], [m.file_meta.TransferSyntaxUID])
        out = tmp_path / "response.mime"
        with requests.post(f"http://127.0.0.1:{port}/wado-ws", data=body, stream=True, timeout=300,
                           headers={"Content-Type": "application/soap+xml"}) as r, out.open("wb") as f:
            assert r.status_code == 200
            boundary = r.headers["Content-Type"].split('boundary="', 1)[1].split('"', 1)[0].encode()
            for chunk in r.iter_content(1 << 20):
                f.write(chunk)
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=30)
    assert peak < RSS_LIMIT, f"server peak RSS {peak / 2**20:.0f} MB for a {SIZE / 2**20:.0f} MB object"
    with out.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        second = m.find(b"\r\n--" + boundary + b"\r\n")
        begin = m.find(b"\r\n\r\n", second) + 4
        finish = m.rfind(b"\r\n--" + boundary + b"--")
        assert hashlib.sha256(m[begin:finish]).digest() == hashlib.sha256(big.read_bytes()).digest()
