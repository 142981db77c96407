"""A `wadows serve` in its own process, as a deployment runs it: for what only a process shows
(its stderr log, its memory, two replicas sharing a key)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from .ports import free_port


@dataclass
class ServedProcess:
    base: str
    proc: subprocess.Popen
    log: Path  # the process's stderr (logging and anything else it printed)

    @property
    def url(self) -> str:
        return self.base + "/wado-ws"

    def log_bytes(self) -> bytes:
        return self.log.read_bytes()


@contextlib.contextmanager
def served(store: Path, workdir: Path, config_text: str = "", *, name: str = "wadows",
           extra_args: tuple[str, ...] = ()) -> Iterator[ServedProcess]:
    """Start `wadows serve` on a free 127.0.0.1 port with ``config_text`` as its config file and
    wait until /healthz answers; stop it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / f"{name}.toml"
    config.write_text(config_text, encoding="utf-8")
    log = workdir / f"{name}.stderr"
    cmd = [str(Path(sys.executable).parent / "wadows"), "serve", "--store", str(store), "--port", str(port),
           "--index", str(workdir / f"{name}-index.sqlite"), "--config", str(config), *extra_args]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"wadows exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("wadows did not start within 60 s") from None
                time.sleep(0.05)
        yield ServedProcess(f"http://127.0.0.1:{port}", proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def refused(url: str) -> bool:
    """Whether a new connection to ``url``'s host and port is refused (nothing listening any more)."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(url)
    try:
        socket.create_connection((u.hostname, u.port), timeout=1).close()
    except OSError:
        return True
    return False


def large_object_store(root: Path, size: int) -> tuple[Path, Path, bytes]:
    """A store holding one multi-frame object of about ``size`` bytes, and the RAD-69 request for it."""
    import pydicom

    from wadows.config import load_config
    from wadows.samples import generate_large_multiframe

    from .rad69 import Doc, request_xml

    path = generate_large_multiframe(root / "big.dcm", size)
    meta = pydicom.dcmread(path, stop_before_pixels=True)
    doc = Doc(meta.StudyInstanceUID, meta.SeriesInstanceUID, meta.SOPInstanceUID,
              load_config(None).source.repository_unique_id)
    return root, path, request_xml([doc], [meta.file_meta.TransferSyntaxUID])
