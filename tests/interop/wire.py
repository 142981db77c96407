"""A recording relay between a toolkit's client and wadows, so the tests can say what each toolkit
really puts on the wire (MTOM or not, SOAP 1.2, WS-Addressing) instead of what its documentation claims.

The server's public URL is set to the relay's, so the served WSDL names the relay as the endpoint and
every schema location goes through it too: a client generated from that WSDL needs no endpoint override
to be observed. Bodies are relayed unchanged; only hop-by-hop framing (chunked encoding, keep-alive) is
the relay's own.
"""

from __future__ import annotations

import http.client
import threading
from email.message import EmailMessage
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

from support.rad69 import NS, parse_response

RAD69_ACTION = "urn:ihe:rad:2009:RetrieveImagingDocumentSet"
RENDERED_ACTION = "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet"  # the served WSDL's and dcm4che's
DOCINFO_ACTION = "urn:wado:2011:RetrieveImagingDocumentSetInformation"  # PS3.18 2016e §6.4.3.1
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
               "content-length", "host", "expect"}


@dataclass
class Exchange:
    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    @property
    def request_type(self) -> str:
        return self.request_headers.get("content-type", "")

    @property
    def response_type(self) -> str:
        return self.response_headers.get("content-type", "")

    def request_envelope(self) -> etree._Element:
        return _envelope(self.request_type, self.request_body)

    def response_envelope(self) -> etree._Element:
        return _envelope(self.response_type, self.response_body)


def _envelope(content_type: str, body: bytes) -> etree._Element:
    if content_type.lower().startswith("multipart/"):
        return parse_response(content_type, body).envelope
    return etree.fromstring(body)


def is_mtom(content_type: str) -> bool:
    """An XOP package (MTOM, SOAP 1.2 binding): multipart/related whose root is application/xop+xml."""
    lowered = content_type.lower()
    return lowered.startswith("multipart/related") and "application/xop+xml" in lowered


def wsa_header(envelope: etree._Element, name: str) -> str | None:
    text = envelope.findtext(f"env:Header/wsa:{name}", namespaces=NS)
    return text.strip() if text is not None else None


class WireRecorder:
    """``http://127.0.0.1:<port>`` relaying to ``upstream`` (host, port), keeping every exchange."""

    def __init__(self) -> None:
        self.upstream: tuple[str, int] | None = None
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                recorder._relay(self)

            do_POST = do_HEAD = do_GET

            def log_message(self, *args) -> None:  # keep request lines out of the test output
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def take(self) -> list[Exchange]:
        """The exchanges since the previous call."""
        with self._lock:
            out, self._exchanges = self._exchanges, []
        return out

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _relay(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        headers = {k.lower(): v for k, v in h.headers.items()}
        assert self.upstream is not None, "WireRecorder.upstream not set"
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(h.command, h.path, body=body if h.command == "POST" else None,
                         headers={k: v for k, v in h.headers.items() if k.lower() not in _HOP_BY_HOP})
            resp = conn.getresponse()
            data = resp.read()
            out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            status = resp.status
        finally:
            conn.close()
        with self._lock:
            self._exchanges.append(Exchange(h.command, h.path, headers, body, status,
                                            {k.lower(): v for k, v in out_headers}, data))
        h.send_response(status)
        for k, v in out_headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            size = int(h.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


@dataclass(frozen=True)
class WireFacts:
    """What one SOAP exchange shows about the client that made it."""

    soap12: bool  # the request envelope is SOAP 1.2
    mtom_request: bool
    mtom_response: bool
    wsa_action: str | None  # wsa:Action header sent, if any
    wsa_message_id: str | None
    http_action: str | None  # the action parameter of the SOAP 1.2 media type (or SOAPAction)
    relates_to: str | None  # the response's wsa:RelatesTo


def soap_post(exchanges: list[Exchange]) -> Exchange:
    posts = [e for e in exchanges if e.method == "POST"]
    assert len(posts) == 1, f"expected one SOAP request, saw {[(e.method, e.path) for e in exchanges]}"
    return posts[0]


def facts(exchanges: list[Exchange]) -> WireFacts:
    post = soap_post(exchanges)
    request = post.request_envelope()
    response = post.response_envelope()
    ctype = EmailMessage()
    ctype["Content-Type"] = post.request_type
    http_action = ctype.get_param("action") or post.request_headers.get("soapaction", "").strip('"') or None
    return WireFacts(
        soap12=request.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope",
        mtom_request=is_mtom(post.request_type),
        mtom_response=is_mtom(post.response_type),
        wsa_action=wsa_header(request, "Action"),
        wsa_message_id=wsa_header(request, "MessageID"),
        http_action=http_action,
        relates_to=wsa_header(response, "RelatesTo"),
    )
