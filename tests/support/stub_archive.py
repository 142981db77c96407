"""A DICOMweb archive stub on 127.0.0.1 that misbehaves on request: slow, stalled mid-answer, busy
(503), cut short, lying about the transfer syntax. Real archives do each of these now and then; the
real Orthanc of support/orthanc.py cannot be made to."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pydicom


@dataclass
class StubInstance:
    study: str
    series: str
    sop: str
    sop_class: str
    transfer_syntax: str
    data: bytes


@dataclass
class Behaviour:
    """What the stub does; tests change it between calls."""

    delay: float = 0.0            # before answering any request
    busy: int = 0                 # answer this many requests with 503 first
    status: int | None = None     # answer every request with this status
    cut_after: int | None = None  # WADO-RS: close the connection after this many body bytes
    stall_after: int | None = None  # WADO-RS: stop sending (without closing) after this many bytes
    announce_syntax: str | None = None  # transfer-syntax parameter on the part
    with_available_ts: bool = False  # QIDO answers AvailableTransferSyntaxUID
    chunked: bool = False         # WADO-RS body in chunked transfer coding
    refuse_as_stored: bool = False  # WADO-RS: 406 for transfer-syntax=*
    requests: list[str] = field(default_factory=list)  # "METHOD path?query", in order
    auth: list[str | None] = field(default_factory=list)  # Authorization header of each request
    accept: list[str | None] = field(default_factory=list)  # Accept header of each request


def stub_instances(paths: list[Path]) -> list[StubInstance]:
    out = []
    for p in paths:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        out.append(StubInstance(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, ds.SOPClassUID,
                                ds.file_meta.TransferSyntaxUID, p.read_bytes()))
    return out


class StubArchive:
    def __init__(self, instances: list[StubInstance], tls: tuple[Path, Path] | None = None) -> None:
        self.instances = {i.sop: i for i in instances}
        self.behaviour = Behaviour()
        self._release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                stub._answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda *_: None  # clients hanging up is what some tests do
        scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/dicom-web"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # -- answers -----------------------------------------------------------------------------------
    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        b = self.behaviour
        b.requests.append(f"GET {h.path}")
        b.auth.append(h.headers.get("Authorization"))
        b.accept.append(h.headers.get("Accept"))
        if b.delay:
            time.sleep(b.delay)
        if b.busy > 0:
            b.busy -= 1
            return self._plain(h, 503, b"busy")
        if b.status is not None:
            return self._plain(h, b.status, b"no")
        parts = urlsplit(h.path)
        path = parts.path.removeprefix("/dicom-web/").split("/")
        query = parse_qs(parts.query)
        if path == ["instances"]:
            uid = query.get("SOPInstanceUID", [""])[0]
            return self._json(h, [self._qido(i) for i in self.instances.values() if i.sop == uid])
        if path == ["studies"]:
            return self._json(h, [])
        if len(path) == 3 and path[0] == "studies" and path[2] == "instances":
            return self._json(h, [self._qido(i) for i in self.instances.values() if i.study == path[1]])
        if len(path) == 6 and path[0] == "studies" and path[2] == "series" and path[4] == "instances":
            inst = self.instances.get(path[5])
            if inst is None or inst.study != path[1] or inst.series != path[3]:
                return self._plain(h, 404, b"")
            if b.refuse_as_stored and "transfer-syntax=*" in h.headers.get("Accept", ""):
                return self._plain(h, 406, b"")
            return self._multipart(h, inst)
        return self._plain(h, 404, b"")

    def _qido(self, i: StubInstance) -> dict:
        item = {
            "0020000D": {"vr": "UI", "Value": [i.study]}, "0020000E": {"vr": "UI", "Value": [i.series]},
            "00080016": {"vr": "UI", "Value": [i.sop_class]}, "00080018": {"vr": "UI", "Value": [i.sop]},
        }
        if self.behaviour.with_available_ts:
            item["00083002"] = {"vr": "UI", "Value": [i.transfer_syntax]}
        return item

    @staticmethod
    def _plain(h: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def _json(h: BaseHTTPRequestHandler, items: list) -> None:
        body = json.dumps(items).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/dicom+json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _multipart(self, h: BaseHTTPRequestHandler, inst: StubInstance) -> None:
        b = self.behaviour
        boundary = uuid.uuid4().hex
        ctype = "application/dicom"
        if b.announce_syntax:
            ctype += f"; transfer-syntax={b.announce_syntax}"
        body = (f"--{boundary}\r\nContent-Type: {ctype}\r\n\r\n".encode() + inst.data
                + f"\r\n--{boundary}--\r\n".encode())
        h.send_response(200)
        h.send_header("Content-Type", f'multipart/related; type="application/dicom"; boundary={boundary}')
        if b.chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        limit = b.cut_after if b.cut_after is not None else b.stall_after
        payload = body if limit is None else body[:limit]
        if b.chunked:
            for i in range(0, len(payload), 65536):
                piece = payload[i:i + 65536]
                h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            if limit is None:
                h.wfile.write(b"0\r\n\r\n")
        else:
            h.wfile.write(payload)
        h.wfile.flush()
        if b.stall_after is not None:
            self._release.wait(30)
        if limit is not None:
            h.close_connection = True


@contextlib.contextmanager
def stub_archive(paths: list[Path], tls: tuple[Path, Path] | None = None) -> Iterator[StubArchive]:
    archive = StubArchive(stub_instances(paths), tls)
    try:
        yield archive
    finally:
        archive.close()
