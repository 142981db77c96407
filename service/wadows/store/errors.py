"""Why a backend (mostly a remote archive) could not serve a document. All are OSError, the one failure retrieval
already turns into a per-document RegistryError; the class says which code fits. Messages never
carry a UID, a URL or anything the archive said (they may reach a client of an anonymized request).
"""

from __future__ import annotations

import errno


class ArchiveError(OSError):
    """The archive could not serve the document (base class)."""

    default_errno = errno.EIO

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(code if code is not None else self.default_errno, message)


class ArchiveUnavailable(ArchiveError):
    """Not reachable now: connection refused or reset, name not resolved, TLS handshake failed, or
    502/503/504 after the retries. Worth trying again later (urn:dicom:wado:0003)."""

    default_errno = errno.ECONNREFUSED


class ArchiveTimeout(ArchiveUnavailable):
    """The archive did not answer within the configured timeout."""

    default_errno = errno.ETIMEDOUT


class ArchiveDenied(ArchiveError):
    """401/403: the credentials configured for the archive are missing or refused (an operator's
    problem, not the client's)."""

    default_errno = errno.EACCES


class ArchiveAnswerError(ArchiveError):
    """An answer that cannot be used: unexpected status, malformed JSON or multipart, cut short,
    or an object in another transfer syntax than announced."""

    default_errno = errno.EPROTO


class InstanceGone(ArchiveError):
    """The instance was found but the archive no longer returns it (404/410 on retrieve)
    (urn:dicom:wado:0004)."""

    default_errno = errno.ENOENT


class InstanceChanged(InstanceGone):
    """The object opened is not the one indexed or asked for: another file under its name, or an
    archive answering with another instance (urn:dicom:wado:0004, like a vanished object)."""

    default_errno = errno.ESTALE
