"""A real Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) for tests and benches.

    from support.orthanc import running_orthanc, require_orthanc

    require_orthanc()                      # pytest: skip with the reason (fail when CI=true)
    with running_orthanc(tmp_path) as orthanc:
        ids = orthanc.upload(paths)        # Orthanc instance ids, in order
        orthanc.dicomweb                   # "http://127.0.0.1:PORT/dicom-web": give it to wadows
        orthanc.request("POST", f"/instances/{ids[0]}/anonymize", json={})  # any REST call
        orthanc.stop(); orthanc.start()    # same storage, same URL

Orthanc runs in a private network namespace that has only ``lo`` (see ``netns.py``: it cannot bind
to loopback only) with its SQLite index and storage under the given folder and its DICOM port
switched off; :attr:`Orthanc.base` is a 127.0.0.1 port of the calling process's namespace that leads
to it, so in-process servers, subprocesses and nginx reach it like any local server. To run a
command inside the namespace itself use ``orthanc.ns.command(argv)`` (an ``nsenter`` prefix).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import requests

from .netns import Forwarder, NetNamespace, unavailable_reason

ORTHANC = "/usr/sbin/Orthanc"
_PLUGIN_DIRS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc")
_PORT = 8042  # inside the namespace: nothing else lives there


def dicomweb_plugin() -> str | None:
    for d in _PLUGIN_DIRS:
        p = Path(d)
        if p.is_dir():
            found = sorted(p.glob("libOrthancDicomWeb.so*"))
            if found:
                return str(found[0])
    return None


def orthanc_unavailable_reason() -> str | None:
    """Why a test Orthanc cannot run here, or None."""
    if not (shutil.which("Orthanc") or os.path.exists(ORTHANC)):
        return "Orthanc is not installed (Debian package 'orthanc')"
    if dicomweb_plugin() is None:
        return "the Orthanc DICOMweb plugin is not installed (Debian package 'orthanc-dicomweb')"
    reason = unavailable_reason()
    return f"Orthanc 1.10 cannot bind to loopback only and {reason}" if reason else None


def require_orthanc() -> None:
    """In a test: skip with the reason when Orthanc cannot run, or fail under CI=true."""
    reason = orthanc_unavailable_reason()
    if reason is not None:
        from .needs import unavailable

        unavailable(reason)


class Orthanc:
    def __init__(self, workdir: Path, ns: NetNamespace, *, users: dict[str, str] | None = None,
                 settings: dict | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ns = ns
        self.users = dict(users or {})
        config = {
            "Name": "wadows-test",
            "StorageDirectory": str(self.workdir / "storage"),
            "IndexDirectory": str(self.workdir / "storage"),
            "HttpPort": _PORT,
            "DicomServerEnabled": False,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "Plugins": [dicomweb_plugin()],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            # Test data are thrown away: no fsync per upload.
            "SyncStorageArea": False,
            "HttpCompressionEnabled": False,
            **(settings or {}),
        }
        self.config_path = self.workdir / "orthanc.json"
        self.config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        self.log_path = self.workdir / "orthanc.log"
        self.proc: subprocess.Popen | None = None
        self._forwarder = Forwarder(ns, _PORT)
        self.base = f"http://127.0.0.1:{self._forwarder.port}"
        self.session = requests.Session()
        if self.users:
            self.session.auth = next(iter(self.users.items()))

    @property
    def dicomweb(self) -> str:
        return self.base + "/dicom-web"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def start(self, timeout: float = 60) -> None:
        if self.pid is not None:
            return
        with open(self.log_path, "ab") as log:
            self.proc = self.ns.popen([shutil.which("Orthanc") or ORTHANC, str(self.config_path)],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.proc.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if self.session.get(self.base + "/system", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Orthanc did not answer within {timeout} s")
            time.sleep(0.05)

    def stop(self, *, kill: bool = False) -> None:
        """Shut Orthanc down (about 2 s: its HTTP server drains), or with ``kill`` end it at once,
        as a crash would (SQLite keeps the index consistent either way)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def request(self, method: str, path: str, **kw) -> requests.Response:
        """A REST call to this Orthanc (``path`` from the root, e.g. "/instances"); raises on HTTP errors."""
        kw.setdefault("timeout", 120)
        r = self.session.request(method, self.base + path, **kw)
        r.raise_for_status()
        return r

    def upload(self, paths: Iterable[Path]) -> list[str]:
        """Store Part-10 files; returns their Orthanc instance ids in the same order."""
        ids = []
        for p in paths:
            with open(p, "rb") as f:
                ids.append(self.request("POST", "/instances", data=f,
                                        headers={"Content-Type": "application/dicom"}).json()["ID"])
        return ids

    def instance_id(self, sop_instance_uid: str) -> str | None:
        """Orthanc's own id for a SOP Instance UID (for the native REST API)."""
        found = self.request("POST", "/tools/lookup", data=sop_instance_uid).json()
        return next((f["ID"] for f in found if f["Type"] == "Instance"), None)

    def close(self) -> None:
        self.stop(kill=True)
        self._forwarder.close()
        self.session.close()


@contextlib.contextmanager
def running_orthanc(workdir: Path, *, users: dict[str, str] | None = None,
                    settings: dict | None = None) -> Iterator[Orthanc]:
    """Orthanc with DICOMweb in its own network namespace, data under ``workdir``; stopped on exit.
    ``users`` (name -> password) switches HTTP Basic authentication on; ``settings`` are merged
    into Orthanc's JSON configuration."""
    with NetNamespace() as ns:
        orthanc = Orthanc(workdir, ns, users=users, settings=settings)
        try:
            orthanc.start()
            yield orthanc
        finally:
            orthanc.close()
