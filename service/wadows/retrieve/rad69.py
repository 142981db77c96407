"""RetrieveImagingDocumentSet (IHE RAD-69): per-document outcomes in request order.

Every check that can fail runs before the response starts (lookup, identifiers, transfer syntax),
so each failure becomes a RegistryError for that document while the others are still returned
(PartialSuccess, IHE RAD TF-3 4.69.4.2.3). Only the bytes are produced later, lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..security.uids import is_valid_uid
from ..store.base import Backend, StoredInstance
from . import transfer
from .errors import ErrorCode
from .model import DocumentRequest, DocumentResult, RegistryError, RetrieveRequest, RetrieveResult

DICOM_MIME = "application/dicom"


@dataclass(frozen=True)
class SourceSettings:
    repository_unique_ids: frozenset[str]
    max_documents: int = 1000
    chunk_size: int = 1 << 20


class ImagingDocumentSource:
    """The Imaging Document Source actor over one backend."""

    def __init__(self, backend: Backend, settings: SourceSettings) -> None:
        self.backend = backend
        self.settings = settings

    def retrieve_imaging_document_set(self, request: RetrieveRequest) -> RetrieveResult:
        result = RetrieveResult()
        if len(request.documents) > self.settings.max_documents:
            result.errors.append(RegistryError(
                ErrorCode.SIZE_EXCEEDS_LIMITS,
                f"The request asks for {len(request.documents)} documents; this server returns at most "
                f"{self.settings.max_documents} per request",
            ))
            return result
        for doc in request.documents:
            outcome = self._prepare(doc, request)
            if isinstance(outcome, RegistryError):
                result.errors.append(outcome)
            else:
                result.documents.append(outcome)
        return result

    def _prepare(self, doc: DocumentRequest, request: RetrieveRequest) -> DocumentResult | RegistryError:
        location = doc.document_unique_id[:128]

        def error(code: ErrorCode, context: str) -> RegistryError:
            return RegistryError(code, context, location)

        if doc.repository_unique_id not in self.settings.repository_unique_ids:
            return error(ErrorCode.XDS_UNKNOWN_REPOSITORY_ID, "RepositoryUniqueId is not this Imaging Document Source")
        anonymize = doc.anonymize if doc.anonymize is not None else request.anonymize
        if anonymize is not None:
            if anonymize.strip() != "yes":
                return error(ErrorCode.INVALID_PARAMETER_VALUE, "Anonymize accepts only the value 'yes' (PS3.18 §8.1.7)")
            return error(ErrorCode.ANONYMIZE_NOT_SUPPORTED, "This server is not configured to anonymize")
        if not is_valid_uid(doc.document_unique_id):
            return error(ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, "DocumentUniqueId is not a valid DICOM UID")
        if not (is_valid_uid(doc.study_uid) and is_valid_uid(doc.series_uid)):
            return error(ErrorCode.INVALID_PARAMETER_VALUE, "studyInstanceUID or seriesInstanceUID is not a valid DICOM UID")
        instance = self.backend.lookup(doc.document_unique_id)
        if instance is None:
            return error(ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, "urn:dicom:wado:0017: no such document (SOP Instance UID unknown)")
        if instance.study_uid != doc.study_uid or instance.series_uid != doc.series_uid:
            return error(ErrorCode.INCONSISTENT_IDENTIFIERS, "The document is not in the study and series the request names")
        target = transfer.choose_transfer_syntax(instance.transfer_syntax_uid, request.transfer_syntaxes)
        if target is None:
            return error(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "None of the requested transfer syntaxes can be produced for this document")
        try:
            # Fail here, per document, rather than cutting the response short once it has started.
            self.backend.open(instance).close()
        except OSError:
            return error(ErrorCode.NO_LONGER_AVAILABLE, "The document is indexed but can no longer be read")
        return DocumentResult(
            repository_unique_id=doc.repository_unique_id,
            document_unique_id=instance.sop_instance_uid,
            mime_type=DICOM_MIME,
            chunks=lambda: self._stream(instance, target),
            home_community_id=doc.home_community_id,
        )

    def _stream(self, instance: StoredInstance, target_ts: str) -> Iterator[bytes]:
        with self.backend.open(instance) as src:
            yield from transfer.stream_as(src, instance.transfer_syntax_uid, target_ts, chunk_size=self.settings.chunk_size)
