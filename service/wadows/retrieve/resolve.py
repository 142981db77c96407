"""The per-document step every WADO-WS operation runs first: from what the client named to a stored
object it may have, or the RegistryError that says why not.

RAD-69, the rendered and the metadata operations answer per document (IHE RAD TF-3 4.69.4.2.3:
PartialSuccess), and they agree on what a document is: this Imaging Document Source (its
RepositoryUniqueId), a valid SOP Instance UID that the store holds in the study and series named,
readable now. With Anonymize (PS3.18 §8.1.7), asked by the client or forced by the caller's policy,
the de-identifier's decision and the new UIDs are known here too, before any byte is promised, so a
refusal is this document's urn:dicom:wado:0001 and the response metadata can name the new SOP
Instance UID. What each operation adds (a transfer syntax, a rendering) comes after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..deid import DeidentificationRefused
from ..security.policy import Caller
from ..security.uids import is_valid_uid
from ..store.base import Backend, HeaderRead, StoredInstance
from ..store.errors import ArchiveAnswerError, ArchiveDenied, ArchiveUnavailable
from .errors import ErrorCode
from .model import DocumentRequest, RegistryError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from ..deid import Deidentifier
    from ..deid.engine import Outcome
    from .anonymize import Anonymizers

log = logging.getLogger("wadows")


@dataclass(frozen=True, slots=True)
class ResolvedDocument:
    request: DocumentRequest
    instance: StoredInstance
    # Read when anonymizing (the decision needs it) or when the operation asked for it; else None.
    header: Dataset | None = None
    # Set when this document goes out de-identified, with the identifiers it will then carry.
    deidentifier: Deidentifier | None = None
    new_uids: Outcome | None = None
    # Where the header ends and which file it came from, when the backend reads files (the file
    # store) and the document is anonymized: RAD-69 then streams this header, not a second read.
    header_read: HeaderRead | None = None

    @property
    def anonymized(self) -> bool:
        return self.deidentifier is not None

    @property
    def document_unique_id(self) -> str:
        """The DocumentUniqueId to answer: the new SOP Instance UID when anonymized (PS3.18 §8.1.7)."""
        return self.new_uids.sop_instance_uid if self.new_uids is not None else self.instance.sop_instance_uid

    def error(self, code: ErrorCode, context: str) -> RegistryError:
        return _error(self.request, code, context)


@dataclass(frozen=True, slots=True)
class Unresolved:
    error: RegistryError
    # Anonymize was decided before the failure: the edge then logs nothing that could identify.
    anonymized: bool = False


def _error(doc: DocumentRequest, code: ErrorCode, context: str) -> RegistryError:
    # Only what the client sent is quoted back (its DocumentUniqueId), never a value read from the object.
    return RegistryError(code, context, doc.document_unique_id[:128])


class DocumentResolver:
    """``anonymizers`` None means anonymization is switched off: Anonymize gets urn:dicom:wado:0002,
    and a caller whose policy forces it gets that for every document (never identified data)."""

    def __init__(self, backend: Backend, repository_unique_ids: frozenset[str],
                 anonymizers: Anonymizers | None = None) -> None:
        self.backend = backend
        self.repository_unique_ids = repository_unique_ids
        self.anonymizers = anonymizers

    def resolve(self, doc: DocumentRequest, caller: Caller, *, anonymize_all: str | None = None,
                header_wanted: Callable[[StoredInstance], bool] | None = None,
                opens_itself: bool = False,
                remembered: Callable[[StoredInstance], HeaderRead | None] | None = None) -> ResolvedDocument | Unresolved:
        """``anonymize_all`` is the request-level Anonymize, which a document's own overrides.
        ``header_wanted`` says whether the operation will need the header anyway: that read is then
        the availability check (one open, or one archive fetch, not two). ``opens_itself``: the
        operation opens the object before it answers anything (the rendered operation renders each
        image whole first), so that open is the check and none is made here. ``remembered``: the
        stored header the operation kept from an earlier read of this index entry, if any, which the
        decision then reads instead of the file (only with ``opens_itself``: the operation's own open
        checks the file is still the one indexed, and the header is compared with it there)."""

        def refused(code: ErrorCode, context: str, anonymized: bool = False) -> Unresolved:
            return Unresolved(_error(doc, code, context), anonymized)

        if doc.repository_unique_id not in self.repository_unique_ids:
            return refused(ErrorCode.XDS_UNKNOWN_REPOSITORY_ID, "RepositoryUniqueId is not this Imaging Document Source")
        asked = doc.anonymize if doc.anonymize is not None else anonymize_all
        if asked is not None and asked.strip() != "yes":
            return refused(ErrorCode.INVALID_PARAMETER_VALUE, "Anonymize accepts only the value 'yes' (PS3.18 §8.1.7)")
        # Decided before anything is looked up, so nothing about the object can leak from here on.
        anonymize = asked is not None or caller.force_anonymize
        if anonymize and self.anonymizers is None:
            return refused(ErrorCode.ANONYMIZE_NOT_SUPPORTED, "This server is not configured to anonymize", anonymize)
        if not is_valid_uid(doc.document_unique_id):
            return refused(ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, "DocumentUniqueId is not a valid DICOM UID", anonymize)
        if not (is_valid_uid(doc.study_uid) and is_valid_uid(doc.series_uid)):
            return refused(ErrorCode.INVALID_PARAMETER_VALUE,
                           "studyInstanceUID or seriesInstanceUID is not a valid DICOM UID", anonymize)
        try:
            instance = self.backend.lookup(doc.document_unique_id)
        except OSError as exc:
            return refused(*unavailable(exc), anonymize)
        if instance is None:
            return refused(ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR,
                           "urn:dicom:wado:0017: no such document (SOP Instance UID unknown)", anonymize)
        if instance.study_uid != doc.study_uid or instance.series_uid != doc.series_uid:
            return refused(ErrorCode.INCONSISTENT_IDENTIFIERS,
                           "The document is not in the study and series the request names", anonymize)
        header = read = None
        try:
            # Fail here, per document, rather than cutting the response short once it has started.
            if anonymize and opens_itself and remembered is not None and (read := remembered(instance)) is not None:
                header = read.dataset
            elif anonymize and hasattr(self.backend, "header_read"):
                read = self.backend.header_read(instance)
                header = read.dataset
            elif anonymize or (header_wanted is not None and header_wanted(instance)):
                header = self.backend.header(instance)
            elif not opens_itself:
                self.backend.check(instance)
        except OSError as exc:
            return refused(*unavailable(exc), anonymize)
        if not anonymize:
            return ResolvedDocument(doc, instance, header)
        assert self.anonymizers is not None and header is not None
        deid = self.anonymizers.get(caller.deid_options)
        try:
            new = deid.decide(header)
        except Exception as exc:
            return refused(*deidentification_failed(exc, "decision"), True)
        return ResolvedDocument(doc, instance, header, deid, new, read)


def deidentification_failed(exc: Exception, step: str) -> tuple[ErrorCode, str]:
    """The code for a de-identifier that refused or failed on this document's header (the decision
    here, or RAD-69 rewriting the header before the response): this document fails, not the request."""
    if isinstance(exc, DeidentificationRefused):
        # The refusal's reason may describe the object; the client learns only that it was refused.
        return (ErrorCode.UNABLE_TO_ANONYMIZE, "This document cannot be de-identified under the server's profile "
                "and options (for example burned-in annotation with no pixel cleaning rule)")
    log.error("de-identification %s failed (%s)", step, type(exc).__name__)  # never its message
    return ErrorCode.UNABLE_TO_ANONYMIZE, "This document's header could not be de-identified"


def unavailable(exc: OSError) -> tuple[ErrorCode, str]:
    """The code for a backend failure, by what failed (store/errors.py); the text is ours, never the
    exception's, which could name a path or what an archive said."""
    if isinstance(exc, ArchiveUnavailable):
        return ErrorCode.NOT_IMMEDIATELY_AVAILABLE, "The archive holding the document cannot be reached now; try again later"
    if isinstance(exc, ArchiveDenied):
        return ErrorCode.XDS_REPOSITORY_ERROR, "The archive refused this server's credentials"
    if isinstance(exc, ArchiveAnswerError):
        return ErrorCode.PROCESSING_FAILURE, "The archive's answer for this document could not be used"
    return ErrorCode.NO_LONGER_AVAILABLE, "The document is indexed but can no longer be read"
