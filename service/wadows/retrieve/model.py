"""What a retrieval asks for and what it answers, free of SOAP so retrieval can be tested alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from ..audit.messages import TransferredInstance
from .errors import ErrorCode

if TYPE_CHECKING:
    from ..filespan import FileSpan

SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
SEVERITY_ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
SEVERITY_WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    study_uid: str
    series_uid: str
    repository_unique_id: str
    document_unique_id: str
    home_community_id: str | None = None
    anonymize: str | None = None  # the raw value the client sent (only "yes" is valid, PS3.18 §8.1.7)


@dataclass(frozen=True, slots=True)
class RetrieveRequest:
    documents: tuple[DocumentRequest, ...]
    transfer_syntaxes: tuple[str, ...]
    anonymize: str | None = None  # request-level form: applies to every document


@dataclass(frozen=True, slots=True)
class RegistryError:
    """One rs:RegistryError; ``context`` and ``location`` go to the client, so they carry no PHI."""

    code: ErrorCode
    context: str
    location: str | None = None
    severity: str = SEVERITY_ERROR


@dataclass(slots=True)
class DocumentResult:
    repository_unique_id: str
    document_unique_id: str
    mime_type: str
    # Opened lazily, while the response is being written; a FileSpan stands for bytes sent as stored.
    chunks: Callable[[], Iterable[bytes | FileSpan]]
    home_community_id: str | None = None
    # Where it came from, for the audit trail only (never sent to the client; PS3.15 A.5.3.7).
    provenance: TransferredInstance | None = None


@dataclass(slots=True)
class RetrieveResult:
    documents: list[DocumentResult] = field(default_factory=list)
    errors: list[RegistryError] = field(default_factory=list)
    # Some document was (to be) anonymized: the edge then logs nothing that could identify.
    anonymized: bool = False

    @property
    def status(self) -> str:
        return response_status(bool(self.documents), self.errors)


def response_status(answered: bool, errors: Iterable[RegistryError]) -> str:
    """rs:RegistryResponse@status for any operation answering per document (IHE RAD TF-3 4.69.4.2.3):
    Success without errors, PartialSuccess when some document was answered anyway, else Failure."""
    if not any(e.severity == SEVERITY_ERROR for e in errors):
        return SUCCESS
    return PARTIAL_SUCCESS if answered else FAILURE
