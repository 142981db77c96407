"""Syslog framing (RFC 5424) and the two transports ATNA allows: TLS (RFC 5425) and UDP (RFC 5426).

ITI TF-2 3.20.4.1.2 (3.20.6.3 in revisions before 15): facility 10 (security/authorization) with
severity 5 (notice), so PRI is <85>; MSGID "IHE+RFC-3881"; the MSG is the XML audit message, UTF-8.
RFC 5424 §6.4 marks UTF-8 MSG content with a leading BOM; no STRUCTURED-DATA ("-").

RFC 5425 §4.3 frames each message as MSG-LEN SP SYSLOG-MSG (octet counting) on a TLS connection
that stays open; mutual authentication (RFC 5425 §5.2) uses the configured client certificate.
With TLS 1.3 a server that rejects the client's certificate says so only after the client's side of
the handshake has finished, so a fresh connection waits briefly for that refusal before anything is
sent on it, and a connection is checked for a close from the peer before every send: syslog has no
acknowledgement (RFC 5425 §4.3.1), and a message written into a connection the peer already closed
would be lost without an error.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
from datetime import datetime, timezone

PRI = "<85>"  # facility 10 * 8 + severity 5
MSGID = "IHE+RFC-3881"
BOM = b"\xef\xbb\xbf"
# RFC 5426 §3.2: one message per datagram; an IPv4 datagram carries at most this much.
MAX_UDP_PAYLOAD = 65507


class Refused(OSError):
    """The repository refused this client's TLS credentials (or we refused its certificate)."""


def _printusascii(value: str, limit: int) -> str:
    """RFC 5424 §6.2: header fields are PRINTUSASCII without spaces, with a length limit; "-" is NILVALUE."""
    cleaned = "".join(c for c in value if "!" <= c <= "~")[:limit]
    return cleaned or "-"


def frame(xml: bytes, *, app_name: str, hostname: str, procid: str | None = None,
          when: datetime | None = None) -> bytes:
    """One SYSLOG-MSG (RFC 5424 §6): HEADER SP STRUCTURED-DATA SP MSG."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    timestamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}Z"
    header = " ".join([
        f"{PRI}1", timestamp, _printusascii(hostname, 255), _printusascii(app_name, 48),
        _printusascii(procid if procid is not None else str(os.getpid()), 128), MSGID, "-",
    ])
    return header.encode("ascii") + b" " + BOM + xml


def octet_counted(message: bytes) -> bytes:
    """RFC 5425 §4.3: SYSLOG-FRAME = MSG-LEN SP SYSLOG-MSG."""
    return str(len(message)).encode("ascii") + b" " + message


def tls_context(ca: str, cert: str = "", key: str = "") -> ssl.SSLContext:
    """Client context: the repository's certificate checked against ``ca`` and its name (RFC 5425
    §5.2, certificate-based authentication of the server); our certificate offered when given."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 9325 (BCP 195), which ITI TF-2 3.20 refers to
    if cert:
        context.load_cert_chain(cert, key or None)
    return context


class TlsTransport:
    def __init__(self, host: str, port: int, context: ssl.SSLContext, *, timeout: float = 10.0,
                 refusal_wait: float = 0.3) -> None:
        self.host, self.port = host, port
        self._context = context
        self._timeout = timeout
        self._refusal_wait = refusal_wait
        self._sock: ssl.SSLSocket | None = None

    def send(self, message: bytes) -> None:
        if self._sock is not None and _peer_closed(self._sock):
            self.close()
        if self._sock is None:
            self._sock = self._connect()
        try:
            self._sock.sendall(octet_counted(message))
        except OSError:
            self.close()
            raise

    def _connect(self) -> ssl.SSLSocket:
        raw = socket.create_connection((self.host, self.port), timeout=self._timeout)
        try:
            sock = self._context.wrap_socket(raw, server_hostname=self.host)
        except ssl.SSLError as exc:
            raw.close()
            raise Refused(f"TLS handshake failed ({exc.reason or type(exc).__name__})") from None
        except OSError:
            raw.close()
            raise
        if _peer_closed(sock, self._refusal_wait):
            sock.close()
            raise Refused("the repository closed the connection after the TLS handshake (client certificate refused)")
        return sock

    def forget_connection(self) -> None:
        """In a forked child: drop the parent's TLS connection without a close_notify (which would
        end the parent's session); the child connects anew on its first message."""
        if self._sock is not None:
            os.close(self._sock.detach())
            self._sock = None

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None


class UdpTransport:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)

    def send(self, message: bytes) -> None:
        if len(message) > MAX_UDP_PAYLOAD:
            raise TooLarge(len(message))
        self._sock.sendto(message, (self.host, self.port))

    def close(self) -> None:
        self._sock.close()


class TooLarge(ValueError):
    """A message no UDP datagram can carry; retrying cannot help, so it is dropped and counted."""


def _peer_closed(sock: ssl.SSLSocket, wait: float = 0.0) -> bool:
    """True when the peer closed the connection or sent an alert: a syslog receiver sends no data,
    so anything readable is one of those (or TLS 1.3 session tickets, which read as nothing)."""
    try:
        readable, _, _ = select.select([sock], [], [], wait)
    except (OSError, ValueError):
        return True
    if not readable:
        return False
    previous = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        return sock.recv(1) == b""
    except ssl.SSLWantReadError:
        return False
    except (ssl.SSLError, OSError):
        return True
    finally:
        try:
            sock.settimeout(previous)
        except OSError:
            pass
