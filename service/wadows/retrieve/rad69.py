"""RetrieveImagingDocumentSet (IHE RAD-69): per-document outcomes in request order.

Every check that can fail runs before the response starts (the resolution every operation shares,
resolve.py: identifiers, lookup, availability and with Anonymize the de-identifier's decision; then
RAD-69's own transfer syntax and any conversion), so each failure becomes a RegistryError for that
document while the others are still returned (PartialSuccess, IHE RAD TF-3 4.69.4.2.3). Only the
bytes are produced later, lazily.

Anonymize (PS3.18 §8.1.7): the object is de-identified per PS3.15 and the response metadata with
it: the DocumentUniqueId answered is the new SOP Instance UID, the one inside the returned object.
Documents come back in request order, which is how a client matches them to what it asked for.
An error for a document in an anonymized request says only what the client sent (its
DocumentUniqueId as @location) and never a value read from the object.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

from pydicom.uid import UID

from ..audit.messages import TransferredInstance
from ..deid import DeidentificationRefused
from ..deid.stream import rewrite_header, stream_rewritten
from ..filespan import FileSpan, materialize
from ..security.policy import TRUSTED, Caller
from ..store.base import Backend, FileIdentity, StoredInstance, file_identity
from ..store.errors import InstanceChanged
from . import transfer
from .errors import ErrorCode
from ..store.base import HeaderRead
from .modelcache import CachedModel
from .remembered import Remembered
from .model import DocumentRequest, DocumentResult, RegistryError, RetrieveRequest, RetrieveResult
from .resolve import DocumentResolver, ResolvedDocument, Unresolved, deidentification_failed, unavailable
from .xpath import XPathLimits

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from ..deid import Deidentifier
    from .anonymize import Anonymizers

log = logging.getLogger("wadows")

DICOM_MIME = "application/dicom"
# A de-identified object that must still change transfer syntax is spooled: memory up to this, then disk.
_SPOOL_IN_MEMORY = 8 << 20
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
# De-identified headers rewritten before the response and held until streamed, at most this many
# source header bytes per request; the documents beyond it read their header again while streaming.
HELD_HEADER_BYTES = 16 << 20


@dataclass(frozen=True)
class SourceSettings:
    repository_unique_ids: frozenset[str]
    max_documents: int = 1000
    chunk_size: int = 1 << 20
    # The audit trail names each document's patient (PS3.15 A.5.3.7), which only the header knows:
    # read it for every document, not only for Anonymize (one open per document, as check() costs).
    read_patient: bool = False
    # Rows/Columns of a rendered image at most this ([render] max_dimension; PS3.18 §6.4.4 0012 beyond).
    max_render_dimension: int = 4096
    # An anonymized rendering that a pixel rule blanks reads the whole object; larger ones get 0005
    # ([render] max_blanked_object_bytes). Every other rendering reads one frame.
    max_blanked_render_bytes: int = 256 << 20
    # The stored headers the rendered operation read, remembered for rendering them again
    # ([render] header_cache_mib; rendered.py).
    render_header_cache_bytes: int = 64 << 20
    # RetrieveImagingDocumentSetInformation ([information]): the XPath bounds (xpath.py), all answers
    # of one response together (serialised bytes), and the plain models remembered (modelcache.py).
    xpath_limits: XPathLimits = XPathLimits()
    max_information_bytes: int = 64 << 20
    native_model_cache_bytes: int = 128 << 20


class ImagingDocumentSource:
    """The Imaging Document Source actor over one backend; ``anonymizers`` None switches
    anonymization off (resolve.py)."""

    def __init__(self, backend: Backend, settings: SourceSettings, anonymizers: Anonymizers | None = None) -> None:
        self.backend = backend
        self.settings = settings
        self.anonymizers = anonymizers
        self.resolver = DocumentResolver(backend, settings.repository_unique_ids, anonymizers)
        self.native_models: Remembered[CachedModel] = Remembered(settings.native_model_cache_bytes)
        self.render_headers: Remembered[HeaderRead] = Remembered(settings.render_header_cache_bytes)

    def retrieve_imaging_document_set(self, request: RetrieveRequest, caller: Caller = TRUSTED) -> RetrieveResult:
        result = RetrieveResult()
        if len(request.documents) > self.settings.max_documents:
            result.errors.append(RegistryError(
                ErrorCode.SIZE_EXCEEDS_LIMITS,
                f"The request asks for {len(request.documents)} documents; this server returns at most "
                f"{self.settings.max_documents} per request",
            ))
            return result
        held = [HELD_HEADER_BYTES]
        for doc in request.documents:
            outcome = self._document(doc, request, caller, result, held)
            if isinstance(outcome, RegistryError):
                result.errors.append(outcome)
            else:
                result.documents.append(outcome)
        return result

    def _document(self, doc: DocumentRequest, request: RetrieveRequest, caller: Caller,
                  result: RetrieveResult, held: list[int]) -> DocumentResult | RegistryError:
        """RAD-69's own step after resolution: the transfer syntax (RAD TF-3 4.69.4.1.2), a
        conversion made before the response starts, and the stream."""
        requested = request.transfer_syntaxes
        resolved = self.resolver.resolve(
            doc, caller, anonymize_all=request.anonymize,
            # An object without pixel data (SR, KOS, PR) can go to any syntax of the family; only
            # then is the header worth reading.
            # The audit trail's patient is in the header too (SourceSettings.read_patient).
            header_wanted=lambda i: self.settings.read_patient
            or transfer.choose_transfer_syntax(i.transfer_syntax_uid, requested) is None)
        if isinstance(resolved, Unresolved):
            result.anonymized |= resolved.anonymized
            return resolved.error
        result.anonymized |= resolved.anonymized
        instance, header = resolved.instance, resolved.header
        no_pixels = header is not None and not any(k in header for k in _PIXEL_KEYWORDS)
        target = transfer.choose_transfer_syntax(instance.transfer_syntax_uid, requested)
        if target is None and no_pixels:
            target = transfer.choose_transfer_syntax(instance.transfer_syntax_uid, requested, has_pixel_data=False)
        if target is None:
            return resolved.error(ErrorCode.CANNOT_PROVIDE_IN_FORMAT,
                                  "None of the requested transfer syntaxes can be produced for this document")
        # Before de-identification changes the header in place: the audit names the stored patient.
        provenance = _provenance(resolved, header)
        # Blanking, its OCR verification and whole-object rewrites run while the object is produced
        # and may still refuse: produced before the response starts, as a conversion is, so a refusal
        # or a failing Tesseract is this document's 0001, never a response cut short.
        whole = resolved.new_uids is not None and resolved.new_uids.reads_whole_object
        deid = resolved.deidentifier
        if deid is None:
            produce = lambda t: self._stream(instance, t)  # noqa: E731
        else:
            rewritten = None if whole else _rewrite_now(resolved, held)
            if isinstance(rewritten, tuple):
                return resolved.error(*rewritten)
            produce = lambda t: self._stream_anonymized(instance, t, deid, rewritten)  # noqa: E731
        chunks = lambda: produce(target)  # noqa: E731
        if target != instance.transfer_syntax_uid or whole:
            converted = self._convert_first(instance, target, requested, no_pixels, produce, spool_stored=whole)
            if isinstance(converted, tuple):
                return resolved.error(*converted)
            chunks = lambda: _replay(converted, self.settings.chunk_size)  # noqa: E731
        return DocumentResult(
            repository_unique_id=doc.repository_unique_id,
            document_unique_id=resolved.document_unique_id,
            mime_type=DICOM_MIME,
            chunks=chunks,
            home_community_id=doc.home_community_id,
            provenance=provenance,
        )

    def _convert_first(self, instance: StoredInstance, target: str, requested: tuple[str, ...],
                       no_pixels: bool, produce: Callable[[str], Iterator[bytes | FileSpan]],
                       spool_stored: bool = False) -> BinaryIO | _StoredLater | tuple[ErrorCode, str]:
        """Convert now, into a bounded spool (memory up to _SPOOL_IN_MEMORY, then a nameless temp
        file), so that a conversion that fails becomes this document's error before any byte of the
        response is promised; on failure the next listed syntax is tried (RAD TF-3 4.69.4.1.2:
        the first syntax in the list that can be produced). ``spool_stored``: the stored syntax is
        produced now too (a de-identification that reads the whole object)."""
        remaining = [ts.strip() for ts in requested]
        while target is not None:
            if target == instance.transfer_syntax_uid and not spool_stored:
                return _StoredLater(lambda t=target: produce(t))
            spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
            try:
                for piece in materialize(produce(target), self.settings.chunk_size):
                    spool.write(piece)
                spool.seek(0)
                return spool
            except transfer.TranscodeError:
                spool.close()
                log.info("conversion to a requested transfer syntax failed; trying the next one")
            except OSError as exc:
                spool.close()
                return unavailable(exc)
            except DeidentificationRefused:  # OCR still reads identifying text, or could not run
                spool.close()
                return (ErrorCode.UNABLE_TO_ANONYMIZE, "This document cannot be de-identified under the server's "
                        "profile and options (its cleaned pixel data could not be verified)")
            except Exception as exc:  # e.g. the de-identifier failing while writing: this document only
                spool.close()
                log.error("conversion failed (%s)", type(exc).__name__)  # never its message
                return (ErrorCode.PROCESSING_FAILURE, "This document could not be produced in the requested transfer syntax")
            remaining = remaining[remaining.index(target) + 1:] if target in remaining else []
            target = transfer.choose_transfer_syntax(instance.transfer_syntax_uid, remaining)
            if target is None and no_pixels:
                target = transfer.choose_transfer_syntax(instance.transfer_syntax_uid, remaining, has_pixel_data=False)
        return (ErrorCode.CANNOT_PROVIDE_IN_FORMAT,
                "This document's pixel data could not be converted to any of the requested transfer syntaxes "
                "(the encoder or decoder refused it)")

    def _stream(self, instance: StoredInstance, target_ts: str) -> Iterator[bytes | FileSpan]:
        with self.backend.open(instance) as src:
            if instance.transfer_syntax_uid == target_ts:
                # As stored: a span of the file (sent by the kernel where the server can), else bytes.
                span = FileSpan.of_file(src)
                if span is not None:
                    yield span
                    return
            yield from transfer.stream_as(src, instance.transfer_syntax_uid, target_ts, chunk_size=self.settings.chunk_size)

    def _stream_anonymized(self, instance: StoredInstance, target_ts: str, deid: Deidentifier,
                           rewritten: _Rewritten | None = None) -> Iterator[bytes | FileSpan]:
        """De-identify in the stored syntax (header only, pixel data copied), then change syntax if
        asked: the transcoder reads a seekable spool of the de-identified object, so memory stays
        bounded as without Anonymize. With ``rewritten`` the header was read and rewritten before
        the response (_rewrite_now) and only the pixel data is read here, from a file that must be
        the one that header came from: another file under the name (replaced, rewritten, even with
        the same SOP Instance UID) raises InstanceChanged before any byte of this object."""
        chunk = self.settings.chunk_size
        with self.backend.open(instance) as raw, _seekable(raw) as src:
            # Pixel data copied from a stored file may go as file spans when it goes out as it is;
            # never from a spool, whose fileno() would force it onto disk.
            spans = src is raw and instance.transfer_syntax_uid == target_ts
            if rewritten is not None:
                if src is not raw or _identity_of(raw) != rewritten.identity:
                    raise InstanceChanged("the file is not the one whose header was de-identified")
                out: Iterator[bytes | FileSpan] = stream_rewritten(
                    rewritten.header, src, rewritten.pixel_at, rewritten.implicit, chunk, spans)
                out_ts = rewritten.transfer_syntax_uid
            else:
                stream = deid.stream(src, chunk_size=chunk, spans=spans)
                out, out_ts = stream, stream.transfer_syntax_uid
            if out_ts == target_ts:
                yield from out
                return
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
                for piece in materialize(out, chunk):  # bytes already, unless the index's syntax was wrong
                    spool.write(piece)
                spool.seek(0)
                yield from transfer.stream_as(spool, out_ts, target_ts, chunk_size=chunk)


def _provenance(resolved: ResolvedDocument, header: Dataset | None) -> TransferredInstance:
    """The stored object's identity for the audit trail (PS3.15 A.5.3.7), with the identifiers given
    out when it went de-identified; the patient only when the header was read."""
    instance, new = resolved.instance, resolved.new_uids
    patient_id = patient_name = ""
    if header is not None:
        patient_id = str(header.get("PatientID", "") or "")
        patient_name = str(header.get("PatientName", "") or "")
    return TransferredInstance(instance.study_uid, instance.sop_class_uid, instance.sop_instance_uid,
                               patient_id, patient_name, new.study_instance_uid if new else "",
                               new.sop_instance_uid if new else "")


@dataclass(frozen=True, slots=True)
class _Rewritten:
    """A de-identified header made before the response from the one header read (resolve.py), with
    what streaming the rest of the object from the same file needs."""

    header: bytes
    pixel_at: int
    implicit: bool
    transfer_syntax_uid: str
    identity: FileIdentity


def _rewrite_now(resolved: ResolvedDocument, held: list[int]) -> _Rewritten | tuple[ErrorCode, str] | None:
    """The header that ``resolved`` read and planned, de-identified now (its refusal or failure this
    document's error); None when the backend gave no file position or the request's budget of held
    header bytes (HELD_HEADER_BYTES) is spent: the stream then reads the header again."""
    read, outcome = resolved.header_read, resolved.new_uids
    if read is None or outcome is None or outcome.plan is None or read.pixel_at > held[0]:
        return None
    held[0] -= read.pixel_at
    try:
        header = rewrite_header(read.dataset, outcome.plan)
        ts = str(read.dataset.file_meta.TransferSyntaxUID)
    except Exception as exc:
        return deidentification_failed(exc, "of the header")
    return _Rewritten(header, read.pixel_at, UID(ts).is_implicit_VR, ts, read.identity)


def _identity_of(f: BinaryIO) -> FileIdentity | None:
    try:
        return file_identity(f.fileno())
    except (AttributeError, OSError, ValueError):
        return None


class _StoredLater:
    """A fallback that landed on the stored syntax: sent from the file as usual (file spans)."""

    def __init__(self, stream: Callable[[], Iterator[bytes | FileSpan]]) -> None:
        self.stream = stream


def _replay(spool: BinaryIO | _StoredLater, chunk_size: int) -> Iterator[bytes | FileSpan]:
    if isinstance(spool, _StoredLater):
        yield from spool.stream()
        return
    # Not closed here: the spool lives as long as the result (a replay re-reads it), and a
    # SpooledTemporaryFile frees its memory or nameless file when released.
    spool.seek(0)
    while piece := spool.read(chunk_size):
        yield piece


class _seekable:
    """The stream itself when it can seek (the file store), else a spool of it (a DICOMweb part):
    the de-identifier reads the header, then seeks back to copy the pixel data."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._spool: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        try:
            if self._raw.seekable():
                return self._raw
        except (AttributeError, OSError):
            pass
        self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
        while piece := self._raw.read(1 << 20):
            self._spool.write(piece)
        self._spool.seek(0)
        return self._spool

    def __exit__(self, *exc: object) -> None:
        if self._spool is not None:
            self._spool.close()
