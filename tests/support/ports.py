"""Ports on 127.0.0.1 for servers started by tests and benches, and waiting until one listens."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, timeout: float = 60, proc: subprocess.Popen | None = None, what: str = "server",
                   log=None) -> None:
    """Return once something accepts on ``port``; raise if ``proc`` exits first or time runs out
    (with the tail of ``log``, a Path, when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening {tail}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what}: nothing listening on {port} after {timeout} s")
