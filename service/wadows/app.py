"""The WSGI application: routes, and the SOAP pipeline every POST passes through.

parse (MIME, envelope) -> WS-Addressing and mustUnderstand -> authentication -> the operation's row
(soap/operations.py) -> XSD validation -> dispatch (spyne: the typed request) -> the row's handler, with
the caller -> the row's response writer -> response envelope -> MTOM writer. Each step lives in its own
module; this file only puts them in order, for any row, and turns any failure into a SOAP fault, never
an HTML page or a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import filespan
from .audit import DISABLED, AuditTrail, TransferredInstance
from .config import Config
from .memory import release_free_memory
from .retrieve.errors import ErrorCode
from .retrieve.model import RegistryError, RetrieveResult
from .retrieve.rad69 import ImagingDocumentSource
from .security.auth import AuthenticationFailed, Authenticator
from .soap import envelope, faults, mtom, wsa, wsse
from .soap.dispatch import dispatch
from .soap.operations import OPERATIONS, RAD69, Operation, operation_for
from .soap.faults import SOAP12_CONTENT_TYPE, SoapFault
from .soap.ns import WSSE
from .store.base import Backend

log = logging.getLogger("wadows")
access_log = logging.getLogger("wadows.access")

ENDPOINT = "/wado-ws"
# Trimming costs about a millisecond: worth it after big responses, not after each small one.
_TRIM_AFTER_BYTES = 4 << 20
UNDERSTOOD_HEADERS = wsa.WSA_HEADERS | wsse.SECURITY_HEADERS
# Keys of a backend's health answer that say where its data lives.
_LOCATION_KEYS = frozenset({"root", "archive", "index"})

StartResponse = Callable[..., object]


@dataclass
class _Exchange:
    """What the access log says about one request; filled as the pipeline goes, never with identifiers."""

    started: float = field(default_factory=time.monotonic)
    operation: str | None = None
    documents_requested: int = 0
    documents_returned: int = 0
    status: str | None = None
    http_status: str = "200 OK"
    fault: str | None = None
    caller: str | None = None  # the configured caller name; never the name a failed attempt gave
    anonymized: bool = False
    remote: str | None = None  # the client's address (the proxy's, unless [server] trusted_proxy is set)
    transferred: list[TransferredInstance] = field(default_factory=list)  # for the audit trail only


class WadoWsApp:
    def __init__(self, config: Config, backend: Backend, source: ImagingDocumentSource,
                 audit: AuditTrail = DISABLED) -> None:
        self.config = config
        self.audit = audit
        self._parse_limits = envelope.ParseLimits(max_documents=config.server.max_documents)
        self.backend = backend
        self.source = source
        self.authenticator = Authenticator(config.auth)
        self._wsdl_cache: bytes | None = None
        # Worker processes serving the listening socket (workers.py sets it before forking).
        self.workers = 1

    # -- routing ---------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        result = self._route(environ, start_response)
        if environ.get("REQUEST_METHOD") == "HEAD":
            # RFC 9110 §9.3.2: the headers a GET would get and no content. waitress sends whatever the
            # app returns, and a body after HEAD desynchronises a kept-alive connection (health probes).
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return []
        return result

    def _route(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        try:
            if path == ENDPOINT and method == "POST":
                return self._soap(environ, start_response)
            if method in ("GET", "HEAD"):
                if path == ENDPOINT and environ.get("QUERY_STRING", "").lower() in ("wsdl", "wsdl="):
                    return self._static(start_response, self._wsdl(), "text/xml; charset=utf-8")
                if path.startswith(ENDPOINT + "/schema/"):
                    return self._schema(path[len(ENDPOINT + "/schema/"):], start_response)
                if path == "/healthz":
                    return self._health(environ, start_response)
            if path == ENDPOINT:
                return self._text(start_response, "405 Method Not Allowed", "POST a SOAP 1.2 request, or GET ?wsdl\n",
                                  [("Allow", "GET, POST")])
            return self._text(start_response, "404 Not Found", "not found\n")
        except Exception:  # never an HTML page or a traceback to the client
            log_failure("unexpected failure on %s %s" % (method, path[:64]))
            fault = SoapFault(faults.RECEIVER, "Internal processing failure")
            return self._fault(start_response, fault, _Exchange())

    # -- GET -------------------------------------------------------------------------------------
    def _wsdl(self) -> bytes:
        if self._wsdl_cache is None:
            from .soap.wsdl import render_wsdl

            self._wsdl_cache = render_wsdl(self.config.server.effective_public_url)
        return self._wsdl_cache

    def _schema(self, relpath: str, start_response: StartResponse) -> Iterable[bytes]:
        from .soap.wsdl import schema_file

        found = schema_file(relpath)
        if found is None:
            return self._text(start_response, "404 Not Found", "no such schema\n")
        return self._static(start_response, found.read_bytes(), "text/xml; charset=utf-8")

    def _health(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        try:
            backend = self.backend.health()
        except Exception as exc:  # a broken backend is a health answer, not a crash
            backend = {"ok": False, "error": type(exc).__name__}
        if not self._may_see_locations(environ):
            # Where the store lives (a path, an archive URL) helps an attacker, not a load balancer.
            backend = {k: v for k, v in backend.items() if k not in _LOCATION_KEYS}
        body = json.dumps({"status": "ok", "backend": backend, "verify_pixels": self._verify_pixels(),
                           "process": {"pid": os.getpid(), "workers": self.workers},
                           "audit": self.audit.health()}).encode()
        return self._static(start_response, body, "application/json")

    def _may_see_locations(self, environ: dict) -> bool:
        """Only a caller that logged in (HTTP Basic) and has identified access; anything else,
        including a failed login, gets the public answer rather than a fault."""
        authorization = environ.get("HTTP_AUTHORIZATION")
        if not authorization:
            return False
        try:
            caller = self.authenticator.authenticate(authorization, None)
        except AuthenticationFailed:
            return False
        return caller.name is not None and caller.access.value == "identified"

    def _verify_pixels(self) -> bool:
        """Whether OCR verification of blanked pixels is active ([deid] verify_pixels, README)."""
        from .deid import ocr

        setting = self.config.deid.verify_pixels
        return self.config.deid.enabled and (ocr.available() if setting == "auto" else bool(setting))

    @staticmethod
    def _static(start_response: StartResponse, body: bytes, ctype: str) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _text(start_response: StartResponse, status: str, text: str, extra: list | None = None) -> Iterable[bytes]:
        body = text.encode()
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
                       + (extra or []))
        return [body]

    # -- SOAP ------------------------------------------------------------------------------------
    def _read_body(self, environ: dict) -> bytes:
        limit = self.config.server.max_request_bytes
        too_big = faults.sender(f"The request is larger than this server accepts ({limit} bytes)",
                                http_status="413 Content Too Large")
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            raise faults.sender("Invalid Content-Length") from None
        if length > limit:
            raise too_big
        stream = environ["wsgi.input"]
        data = stream.read(length) if length >= 0 else stream.read(limit + 1)
        if len(data) > limit:
            raise too_big
        return data

    def _soap(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        ex = _Exchange(remote=environ.get("REMOTE_ADDR"))
        addr = wsa.Addressing()
        try:
            content_type = _content_type(environ)
            body = self._read_body(environ)
            media = mtom.media_type(content_type)
            attachments: dict[str, bytes] = {}
            if media == "multipart/related":
                body, attachments = mtom.parse_request(content_type, body)
                http_action = mtom.content_type_param(content_type, "action")
            elif media == "application/soap+xml":
                http_action = mtom.content_type_param(content_type, "action")
            elif media == "text/xml":
                return self._soap11(start_response, ex)
            else:
                raise faults.sender(f"Unsupported Content-Type '{media[:100]}'; send application/soap+xml or multipart/related (MTOM)",
                                    http_status="415 Unsupported Media Type")
            try:
                env = envelope.parse_envelope(body, attachments, self._parse_limits)
            except envelope.TooManyDocuments as exc:
                # The pre-scan counts every operation's DocumentRequest and names the Body's element.
                counted = OPERATIONS.get(exc.request or "", RAD69)
                ex.operation = counted.request.rpartition("}")[2]
                return self._respond(start_response, counted, _too_many_documents(exc.limit), None, ex)
            addr = wsa.read(env.headers)
            wsa.check_must_understand(env.headers, UNDERSTOOD_HEADERS)
            caller = self.authenticator.authenticate(environ.get("HTTP_AUTHORIZATION"), wsse.read(env.headers))
            ex.caller = caller.name
            if caller.name is not None:
                self.audit.authenticated(caller.name, ex.remote)
            op = operation_for(env.body)
            ex.operation = op.request.rpartition("}")[2]
            wsa.check_action(addr, set(op.actions), http_action)
            from .soap.validate import SchemaViolation, validate_body

            try:
                validate_body(env.body)
            except SchemaViolation as exc:
                raise faults.sender(f"The request does not match the schema: {exc}") from None
            result = op.handle(self.source, dispatch(env.body), caller)
        except AuthenticationFailed as exc:
            self.audit.authentication_failed(exc.user, ex.remote, exc.reason)
            if exc.alert:
                self.audit.security_alert(exc.alert, user=exc.user, address=ex.remote)
            # RFC 9110 §11.6.1: a 401 must carry the challenge; a failed token alone is a plain Sender fault.
            status = "401 Unauthorized" if exc.challenge else None
            headers = [("WWW-Authenticate", f'Basic realm="{self.authenticator.realm}", charset="UTF-8"')] \
                if exc.challenge else []
            if exc.retry_after:
                # RFC 6585 §4: too many attempts; RFC 9110 §10.2.3: when to come back.
                status, headers = "429 Too Many Requests", [("Retry-After", str(exc.retry_after))]
            return self._fault(start_response, faults.sender(exc.reason, (WSSE, exc.subcode), http_status=status),
                               ex, addr.message_id, headers)
        except SoapFault as fault:
            if fault.alert:
                self.audit.security_alert(fault.alert, user=ex.caller, address=ex.remote)
            ex.fault = fault.code
            return self._fault(start_response, fault, ex, addr.message_id)
        return self._respond(start_response, op, result, addr.message_id, ex,
                             spans=bool(environ.get(filespan.ENVIRON_KEY)))

    def _respond(self, start_response: StartResponse, op: Operation, result: RetrieveResult,
                 relates_to: str | None, ex: _Exchange, spans: bool = False) -> Iterable[bytes]:
        """Any row's answer: its writer's body and parts in the one envelope and MTOM writer."""
        action = op.response_action
        body_el, attachments = op.write(result)
        env = envelope.build_envelope(wsa.response_headers(action, relates_to), body_el)
        ctype, chunks = mtom.write_response(env, attachments, action=action)
        if not spans:
            # A server that cannot send file spans itself gets their bytes.
            chunks = filespan.materialize(chunks, self.config.server.chunk_size)
        ex.status = result.status.rpartition(":")[2]
        ex.anonymized = result.anonymized
        ex.documents_returned = len(result.documents)
        ex.documents_requested = len(result.documents) + len(result.errors)
        if self.audit.enabled:
            ex.transferred = [d.provenance for d in result.documents if d.provenance is not None]
        start_response("200 OK", [("Content-Type", ctype)])
        return self._logged(chunks, ex)

    def _soap11(self, start_response: StartResponse, ex: _Exchange) -> Iterable[bytes]:
        """SOAP 1.1's HTTP binding sends faults with 500; the fault itself says the client is at fault."""
        body = faults.soap11_version_mismatch(
            "SOAP 1.1 (text/xml) is not supported; send SOAP 1.2 (application/soap+xml), see the WSDL")
        ex.http_status = "500 Internal Server Error"
        ex.fault = faults.VERSION_MISMATCH
        start_response(ex.http_status, [("Content-Type", faults.SOAP11_CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return self._logged([body], ex)

    def _fault(self, start_response: StartResponse, fault: SoapFault, ex: _Exchange,
               relates_to: str | None = None, extra_headers: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        body = faults.fault_envelope(fault, relates_to=relates_to)
        ex.http_status = fault.status
        ex.fault = fault.code
        start_response(fault.status, [("Content-Type", SOAP12_CONTENT_TYPE), ("Content-Length", str(len(body)))]
                       + (extra_headers or []))
        return self._logged([body], ex)

    def _logged(self, chunks: Iterable[bytes], ex: _Exchange) -> Iterator[bytes]:
        sent = 0
        outcome = "complete"
        try:
            for chunk in chunks:
                sent += len(chunk)
                yield chunk
        except GeneratorExit:
            outcome = "client-closed"
            raise
        except Exception:
            # Headers are gone already: the only honest signal left is to cut the connection short,
            # which the server does when an exception escapes. It logs that exception with its
            # traceback, so what escapes is our own, without the original's message or context.
            outcome = "aborted"
            log_failure("response aborted while streaming")
            raise ResponseAborted() from None
        finally:
            if sent >= _TRIM_AFTER_BYTES:
                release_free_memory()
            if ex.transferred:  # after the last byte went out (or did not): PS3.15 A.5.3.7
                self.audit.transferred(ex.transferred, user=ex.caller, address=ex.remote,
                                       complete=outcome == "complete")
            if self.config.log.access_log:
                access_log.info(json.dumps({
                    "remote": ex.remote, "caller": ex.caller, "anonymized": ex.anonymized,
                    "operation": ex.operation, "http": ex.http_status.split()[0], "status": ex.status,
                    "fault": ex.fault, "documents_requested": ex.documents_requested,
                    "documents_returned": ex.documents_returned, "bytes": sent, "outcome": outcome,
                    "ms": round((time.monotonic() - ex.started) * 1000, 1),
                }))


def _content_type(environ: dict) -> str:
    """RFC 9110 §8.3 and §5.5: a media type and its parameters are ASCII tokens and quoted strings.
    Anything else (a control character, or a byte above 0x7F such as U+0085, which Python's header
    parser takes for a line break and raises on) is the client's error, answered before any parser
    sees it."""
    value = environ.get("CONTENT_TYPE", "")
    if not all(" " <= c <= "~" or c == "\t" for c in value):
        raise faults.sender("Invalid Content-Type header: only printable ASCII is allowed",
                            http_status="415 Unsupported Media Type")
    return value


class ResponseAborted(Exception):
    """Raised to the WSGI server to cut a response short; the cause was logged by log_failure."""

    def __init__(self) -> None:
        super().__init__("response cut short; the wadows log line 'response aborted while streaming' names the cause")


def log_failure(what: str) -> None:
    """Log the exception being handled by its type and where it was raised, never its message or
    arguments: those may quote a value from an object (a name, a UID, a path in the store), and the
    request may have been an anonymized one."""
    exc = sys.exc_info()[1]
    frames = traceback.extract_tb(exc.__traceback__) if exc is not None else []
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    log.error("%s: %s at %s", what, type(exc).__name__ if exc is not None else "?", where or "?")


def _too_many_documents(limit: int) -> RetrieveResult:
    """The 0005 answer rad69 gives, found by the envelope's pre-scan before the request was built."""
    result = RetrieveResult()
    result.errors.append(RegistryError(
        ErrorCode.SIZE_EXCEEDS_LIMITS,
        f"The request asks for more than {limit} documents; this server returns at most {limit} per request"))
    return result
