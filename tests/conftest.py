"""Shared fixtures: a generated store and a real wadows server on 127.0.0.1 in a background thread."""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
import requests

from support.ports import free_port  # noqa: F401 - tests import it from here
from wadows.wiring import create_app
from wadows.config import Config, load_config
from wadows.server import make_server
from wadows.store.filestore import FileStore

REPO = Path(__file__).resolve().parents[1]

# Servers started by tests create their de-identification key (and index) here, never in the
# developer's home; subprocesses inherit it.
os.environ["WADOWS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="wadows-test-config-")
os.environ.setdefault("WADOWS_CACHE_DIR", tempfile.mkdtemp(prefix="wadows-test-cache-"))
os.environ.pop("WADOWS_DEID_KEY", None)

SHARED = (REPO / ".." / "shared").resolve()


@dataclass(frozen=True)
class Instance:
    study: str
    series: str
    sop: str
    transfer_syntax: str
    path: Path


def instances_in(root: Path) -> list[Instance]:
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        out.append(Instance(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                            ds.file_meta.TransferSyntaxUID, path))
    return out


@dataclass
class RunningServer:
    base: str
    config: Config
    root: Path

    @property
    def url(self) -> str:
        return self.base + "/wado-ws"

    @property
    def repository(self) -> str:
        return self.config.source.repository_unique_id

    def post(self, body: bytes, content_type: str = "application/soap+xml; charset=utf-8", **kw) -> requests.Response:
        return requests.post(self.url, data=body, headers={"Content-Type": content_type}, timeout=60, **kw)


def run_server(root: Path, tmp: Path, **overrides) -> tuple[RunningServer, object]:
    # Tests compare returned objects byte for byte, so an unauthenticated request is trusted here
    # unless a test says otherwise (the shipped default anonymizes it).
    overrides.setdefault("auth__anonymous", "identified")
    # A known port up front, so the WSDL's public URL (from config) is where the server listens.
    config = load_config(None, server__port=free_port(), store__path=str(root),
                         store__index=str(tmp / "index.sqlite"), **overrides)
    server = ServerThread(make_server(config, create_app(config, FileStore(root, tmp / "index.sqlite"))))
    return RunningServer(f"http://127.0.0.1:{config.server.port}", config, root), server


class ServerThread:
    """A waitress server running in a thread. ``close()`` stops it from inside its own loop: closing its
    sockets from this thread would race the loop's select (EBADF in the server thread)."""

    def __init__(self, server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        from waitress import wasyncore

        socket_map = self.server._map
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(socket_map))
        except OSError:
            # The trigger's descriptor is already closed: an earlier test's server, collected, closed
            # the number this one's trigger reuses (seen once on a loaded machine). The loop is then
            # stuck in select() on a dead descriptor or gone; closing from here is all that is left.
            wasyncore.close_all(socket_map)
        self.thread.join(10)
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        from wadows.connections import health_dispatchers

        for dispatcher in health_dispatchers(self.server):
            dispatcher.shutdown(cancel_pending=True, timeout=1)


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> Path:
    from wadows.samples import generate_samples

    root = tmp_path_factory.mktemp("store")
    generate_samples(root)
    return root


@pytest.fixture(scope="session")
def sample_instances(sample_store) -> list[Instance]:
    return instances_in(sample_store)


@pytest.fixture(scope="session")
def server(sample_store, tmp_path_factory):
    running, srv = run_server(sample_store, tmp_path_factory.mktemp("server"))
    yield running
    srv.close()
