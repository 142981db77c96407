"""waitress sending FileSpans with os.sendfile: exact bytes in every HTTP framing, the kernel doing
the copying, and no descriptor left behind when a client leaves or a file shrinks."""

from __future__ import annotations

import http.client
import io
import os
import socket
import threading
import time

import pytest

from wadows import sendfile
from wadows.config import load_config
from wadows.filespan import ENVIRON_KEY, FileSpan
from wadows.server import make_server

from conftest import ServerThread, free_port
from support.rad69 import EXPLICIT_LE, IMPLICIT_LE, Doc, parse_response, request_xml

pytestmark = pytest.mark.skipif(not hasattr(os, "sendfile"), reason="no os.sendfile on this platform")

HEAD, TAIL = b"--frame\r\n\r\n", b"\r\n--frame--\r\n"
# Above the server's 8 MB high-water mark, so the app thread has to wait for the socket.
BIG = 20 << 20


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("span") / "big.bin"
    data = os.urandom(BIG)
    path.write_bytes(data)
    return path, data


class SpanApp:
    """A WSGI app answering like the MTOM writer: framing bytes around a span of one file."""

    def __init__(self, path, content_length: bool = False) -> None:
        self.path = path
        self.content_length = content_length
        self.saw_key: list[bool] = []
        self.spans: list[FileSpan] = []

    def __call__(self, environ, start_response):
        self.saw_key.append(bool(environ.get(ENVIRON_KEY)))
        size = os.path.getsize(self.path)
        headers = [("Content-Type", "application/octet-stream")]
        if self.content_length:
            headers.append(("Content-Length", str(len(HEAD) + size + len(TAIL))))
        start_response("200 OK", headers)
        return self._body()

    def _body(self):
        yield HEAD
        with open(self.path, "rb") as f:
            span = FileSpan.of_file(f)
        self.spans.append(span)
        yield span
        yield TAIL


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(app):
        config = load_config(None, server__port=free_port(), store__path=str(tmp_path))
        servers.append(ServerThread(make_server(config, app)))
        return config.server.port

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def counted_sendfile(monkeypatch):
    """Bytes the server moved with os.sendfile (the real call, counted)."""
    moved = []
    real = os.sendfile

    def counting(out_fd, in_fd, offset, count):
        n = real(out_fd, in_fd, offset, count)
        moved.append(n)
        return n

    monkeypatch.setattr(sendfile.os, "sendfile", counting)
    return moved


def _get(port: int, method: str = "GET", version: str = "HTTP/1.1") -> tuple[bytes, bytes]:
    """The raw response head and body, read to the end of the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"{method} / {version}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = bytearray()
        while chunk := s.recv(1 << 20):
            raw += chunk
    head, _, body = bytes(raw).partition(b"\r\n\r\n")
    return head, body


def _dechunk(body: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol], 16)
        if size == 0:
            return bytes(out)
        out += body[eol + 2:eol + 2 + size]
        assert body[eol + 2 + size:eol + 4 + size] == b"\r\n"
        pos = eol + 4 + size


def test_chunked_http11_response_is_exact_and_the_file_goes_by_sendfile(big_file, serve, counted_sendfile):
    path, data = big_file
    app = SpanApp(path)
    port = serve(app)
    head, body = _get(port)
    assert b"Transfer-Encoding: chunked" in head
    assert _dechunk(body) == HEAD + data + TAIL
    assert app.saw_key == [True]
    assert sum(counted_sendfile) == len(data)
    assert app.spans[0].closed


def test_http10_close_delimited_response_is_exact(big_file, serve, counted_sendfile):
    path, data = big_file
    port = serve(SpanApp(path))
    head, body = _get(port, version="HTTP/1.0")
    assert b"chunked" not in head
    assert body == HEAD + data + TAIL
    assert sum(counted_sendfile) == len(data)


def test_a_declared_content_length_is_honoured_exactly(big_file, serve):
    path, data = big_file
    port = serve(SpanApp(path, content_length=True))
    head, body = _get(port)
    assert f"Content-Length: {len(HEAD) + len(data) + len(TAIL)}".encode() in head
    assert body == HEAD + data + TAIL


def test_keep_alive_requests_follow_each_other_exactly_on_one_connection(big_file, serve):
    path, data = big_file
    port = serve(SpanApp(path))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sockets = []
        for _ in range(3):
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert resp.getheader("Transfer-Encoding") == "chunked" and resp.getheader("Connection") is None
            assert resp.read() == HEAD + data + TAIL
            sockets.append(conn.sock)
        # waitress alone closes after every chunked response; http.client would silently reconnect.
        assert sockets[0] is not None and all(s is sockets[0] for s in sockets)
    finally:
        conn.close()


def test_a_client_asking_to_close_gets_its_connection_closed(big_file, serve):
    path, data = big_file
    port = serve(SpanApp(path))
    head, body = _get(port)  # sends Connection: close and reads to EOF: returns only if the server closes
    assert b"Connection: close" in head and _dechunk(body) == HEAD + data + TAIL


def test_a_response_cut_short_by_an_error_closes_without_the_last_chunk(serve):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])

        def body():
            yield b"first part"
            raise ValueError("the archive went away")

        return body()

    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive asked
        raw = bytearray()
        while chunk := s.recv(1 << 20):  # ends only because the server closes
            raw += chunk
    assert b"first part" in raw and not raw.endswith(b"0\r\n\r\n")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count descriptors")
def test_a_client_leaving_mid_file_leaves_no_descriptor_open(big_file, serve):
    path, _ = big_file
    app = SpanApp(path)
    port = serve(app)
    before = _open_fds()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1000)
    assert _settle(lambda: len(app.spans) == 5 and all(sp.closed for sp in app.spans))
    assert _settle(lambda: _open_fds() <= before)
    # The server still answers.
    head, _ = _get(port)
    assert head.startswith(b"HTTP/1.1 200")


def test_a_file_shrinking_while_sent_cuts_the_response_short(tmp_path, serve):
    path = tmp_path / "shrinks.bin"
    path.write_bytes(os.urandom(BIG))

    class Shrinking(SpanApp):
        def _body(self):
            yield HEAD
            with open(self.path, "rb") as f:
                span = FileSpan.of_file(f)
            os.truncate(self.path, 1 << 20)
            self.spans.append(span)
            yield span
            yield TAIL

    app = Shrinking(path)
    port = serve(app)
    started = time.monotonic()
    head, body = _get(port)
    assert time.monotonic() - started < 30  # cut, not left hanging until a timeout
    assert head.startswith(b"HTTP/1.1 200")
    # Never padded, never followed by the closing frame as if whole.
    assert len(body) < BIG and not body.endswith(b"0\r\n\r\n")
    assert _settle(lambda: app.spans[0].closed)


def test_without_os_sendfile_install_changes_nothing(monkeypatch, tmp_path):
    config = load_config(None, server__port=free_port(), store__path=str(tmp_path))
    server = make_server(config, SpanApp(tmp_path))
    try:
        original = server.channel_class
        monkeypatch.delattr(sendfile.os, "sendfile")
        assert sendfile.install(server) is False
        assert server.channel_class is original
    finally:
        server.close()


# -- the RAD-69 pipeline on top ------------------------------------------------------------------

def _wsgi_call(app, body: bytes, **environ) -> list:
    def start_response(status, headers, exc_info=None):
        assert status.startswith("200")

    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/wado-ws", "CONTENT_TYPE": "application/soap+xml",
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), **environ}
    return list(app(env, start_response))


@pytest.fixture
def rad69_app(sample_store, tmp_path):
    from wadows.wiring import create_app
    from wadows.store.filestore import FileStore

    config = load_config(None, store__path=str(sample_store), store__index=str(tmp_path / "i.sqlite"),
                         auth__anonymous="identified")
    return config, create_app(config, FileStore(sample_store, tmp_path / "i.sqlite"))


def test_the_app_hands_spans_only_to_a_server_that_takes_them(rad69_app, sample_instances):
    config, app = rad69_app
    inst = sample_instances[0]
    body = request_xml([Doc(inst.study, inst.series, inst.sop, config.source.repository_unique_id)],
                       [inst.transfer_syntax])
    plain = _wsgi_call(app, body)
    assert all(isinstance(c, bytes) for c in plain)
    assert inst.path.read_bytes() in b"".join(plain)
    with_spans = _wsgi_call(app, body, **{ENVIRON_KEY: True})
    spans = [c for c in with_spans if isinstance(c, FileSpan)]
    assert [len(s) for s in spans] == [inst.path.stat().st_size]
    for s in spans:
        s.close()


def test_rad69_sends_stored_objects_by_sendfile_and_transcoded_ones_as_bytes(server, sample_instances, counted_sendfile):
    inst = next(i for i in sample_instances if i.transfer_syntax == EXPLICIT_LE)
    doc = Doc(inst.study, inst.series, inst.sop, server.repository)
    for syntax, by_sendfile in ((EXPLICIT_LE, inst.path.stat().st_size), (IMPLICIT_LE, 0)):
        counted_sendfile.clear()
        resp = server.post(request_xml([doc], [syntax]))
        r = parse_response(resp.headers["Content-Type"], resp.content)
        assert r.status == "Success"
        if syntax == EXPLICIT_LE:
            assert r.documents() == [(inst.sop, inst.path.read_bytes())]
        assert sum(counted_sendfile) == by_sendfile


def test_descriptors_held_by_queued_spans_stay_bounded(tmp_path, serve, monkeypatch):
    """Many small objects while the socket takes nothing (sendfile would block): beyond
    MAX_QUEUED_SPANS the rest go as bytes, so one connection never holds more descriptors than that,
    and once the socket drains the body is still exact."""
    parts = []
    for n in range(40):
        p = tmp_path / f"{n}.bin"
        p.write_bytes(os.urandom(100_000))
        parts.append(p)
    live, peak = [0], [0]
    real_init, real_close = sendfile.SpanBuffer.__init__, sendfile.SpanBuffer.close

    def counting_init(self, span):
        real_init(self, span)
        live[0] += 1
        peak[0] = max(peak[0], live[0])

    def counting_close(self):
        if not self.span.closed:
            live[0] -= 1
        real_close(self)

    socket_full = threading.Event()
    socket_full.set()
    real_sendfile = os.sendfile

    def blocking_sendfile(out_fd, in_fd, offset, count):
        if socket_full.is_set():
            raise BlockingIOError
        return real_sendfile(out_fd, in_fd, offset, count)

    monkeypatch.setattr(sendfile.SpanBuffer, "__init__", counting_init)
    monkeypatch.setattr(sendfile.SpanBuffer, "close", counting_close)
    monkeypatch.setattr(sendfile, "MAX_QUEUED_SPANS", 3)
    monkeypatch.setattr(sendfile.os, "sendfile", blocking_sendfile)
    done = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])

        def body():
            for p in parts:
                with open(p, "rb") as f:
                    span = FileSpan.of_file(f)
                yield span
            done.set()

        return body()

    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert done.wait(10)  # the app got everything out while no span could be sent
        assert peak[0] == 3
        socket_full.clear()
        raw = bytearray()
        while chunk := s.recv(1 << 20):
            raw += chunk
    _, _, body = bytes(raw).partition(b"\r\n\r\n")
    assert _dechunk(body) == b"".join(p.read_bytes() for p in parts)
    assert _settle(lambda: live[0] == 0)
