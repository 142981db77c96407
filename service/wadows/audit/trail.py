"""The audit trail's hooks: one call per auditable event, each cheap and never raising.

Callers hand plain data (names, addresses, UIDs); this module builds the PS3.15 A.5 message and
queues it for the Audit Record Repository (sender.py). Switched off, every hook returns at once.
Nothing here writes a message's content to the application log.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from typing import TYPE_CHECKING, Iterable

from . import messages
from .messages import Peer, Source, TransferredInstance

if TYPE_CHECKING:
    from ..config import AuditConfig
    from .sender import Sender

log = logging.getLogger("wadows.audit")


class AuditTrail:
    def __init__(self, sender: Sender | None = None, source: Source | None = None, *,
                 app_name: str = "wadows", hostname: str | None = None, endpoint: str = "") -> None:
        self._sender = sender
        self.hostname = hostname or socket.getfqdn()
        self.source = source or Source(audit_source_id=self.hostname, process_id=str(os.getpid()))
        self.app_name = app_name
        self.endpoint = endpoint or self.source.user_id

    @property
    def enabled(self) -> bool:
        return self._sender is not None

    # -- hooks ------------------------------------------------------------------------------------
    def transferred(self, instances: Iterable[TransferredInstance], *, user: str | None, address: str | None,
                    complete: bool = True) -> None:
        """RAD-69 response sent: one DICOM Instances Transferred message per study that went out.
        ``complete`` False: the response was cut short (outcome 4), so the client may hold only part."""
        if self._sender is None:
            return
        peer = Peer(user, address)
        outcome = messages.OUTCOME_SUCCESS if complete else messages.OUTCOME_MINOR_FAILURE
        description = None if complete else "The response was cut short; the destination may hold only part of it"
        for study in messages.group_by_study(instances):
            self._emit(lambda s=study: messages.instances_transferred(
                self.source, peer, s, outcome=outcome, description=description))

    def authenticated(self, user: str, address: str | None) -> None:
        """A request's credentials were accepted (User Authentication, Login, outcome 0)."""
        if self._sender is not None:
            self._emit(lambda: messages.user_authentication(self.source, user, address, success=True))

    def authentication_failed(self, user: str | None, address: str | None, reason: str) -> None:
        """Credentials were refused (outcome 4); ``user`` is the name the attempt gave, if any."""
        if self._sender is not None:
            self._emit(lambda: messages.user_authentication(self.source, user or address or "unknown", address,
                                                            success=False, description=reason))

    def security_alert(self, kind: str, *, user: str | None, address: str | None) -> None:
        """``kind``: "doctype-refused", "nonce-replayed" or "login-throttled" (codes.ALERTS)."""
        if self._sender is not None:
            self._emit(lambda: messages.security_alert(self.source, kind, Peer(user, address), self.endpoint))

    def application_start(self) -> None:
        if self._sender is not None:
            self._emit(lambda: messages.application_activity(self.source, True, _launcher()))

    def application_stop(self) -> None:
        if self._sender is not None:
            self._emit(lambda: messages.application_activity(self.source, False, _launcher()))

    # -- plumbing ---------------------------------------------------------------------------------
    def health(self) -> dict[str, object]:
        """For /healthz: counters only, never a message's content."""
        if self._sender is None:
            return {"enabled": False}
        return {"enabled": True, **self._sender.health()}

    def close(self, timeout: float = 5.0) -> None:
        if self._sender is not None:
            self._sender.close(timeout)

    def _emit(self, build) -> None:
        from .syslog import frame

        try:
            xml = build()
            self._sender.put(frame(xml, app_name=self.app_name, hostname=self.hostname,
                                   procid=self.source.process_id))
        except Exception as exc:  # an audit failure never fails the request it records
            log.error("audit message not built (%s)", type(exc).__name__)


def _launcher() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


DISABLED = AuditTrail()


def from_config(config: AuditConfig, endpoint: str) -> AuditTrail:
    """The configured trail; a TLS configuration that cannot be loaded (a missing CA file, a key
    that does not match its certificate) stops the server at start, not at the first event."""
    if not config.enabled:
        return DISABLED
    from .sender import Sender
    from .syslog import TlsTransport, UdpTransport, tls_context

    if config.transport == "tls":
        try:
            context = tls_context(config.ca, config.cert, config.key)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise SystemExit(f"wadows: [audit] ca/cert/key: {reason}") from None
        transport = TlsTransport(config.host, config.port, context)
    else:
        transport = UdpTransport(config.host, config.port)
    hostname = socket.getfqdn()
    source = Source(audit_source_id=config.source_id or hostname, enterprise_site_id=config.enterprise_site_id,
                    user_id=endpoint, process_id=str(os.getpid()), network_access_point=hostname)
    sender = Sender(transport, config.queue_size, max_backoff=config.retry_max_seconds)
    return AuditTrail(sender, source, app_name=config.app_name, hostname=hostname, endpoint=endpoint)
