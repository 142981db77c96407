"""Who may see what: the outcome of authentication that retrieval acts on.

Retrieval never sees credentials, only a ``Caller``; the SOAP edge builds it (HTTP Basic or
WS-Security UsernameToken, or the anonymous caller) from configuration, in the spirit of
dcm4chee-arc's attribute coercion rules: the server, not the client, has the last word on whether
identified data leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Access(str, Enum):
    IDENTIFIED = "identified"  # gets what it asks for: identified data, or anonymized when it sends Anonymize
    ANONYMIZED = "anonymized"  # always gets anonymized data, whatever it asks (forced Anonymize)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user, or the anonymous caller (``name`` None)."""

    name: str | None
    access: Access
    # PS3.15 options for this caller's anonymized responses; None: the server's [deid] options.
    deid_options: tuple[str, ...] | None = None

    @property
    def force_anonymize(self) -> bool:
        return self.access is Access.ANONYMIZED


# What retrieval assumes when called without a caller (library use, tests of retrieval alone).
TRUSTED = Caller(name=None, access=Access.IDENTIFIED)
