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
