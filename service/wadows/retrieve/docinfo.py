"""RetrieveImagingDocumentSetInformation (PS3.18 2016e §6.4.3): what a client's XPath expressions
select in each document's PS3.19 Native DICOM Model, instead of the document itself.

The expressions are checked, all of them, before any document is read (retrieve/xpath.py): one
that is refused fails the whole request with its 0012 (or 0005) and its 1-based position, since
every document would be answered with the same refusal. Then each document goes through the
resolution every operation shares (resolve.py), and is answered or refused on its own
(PartialSuccess, as RAD-69 does, IHE RAD TF-3 4.69.4.2.3).

Only the header is read, never the pixel data: §6.4.3 defines the XML "of the non-pixel data", and
the store's header read stops before it (store/header.py), keeping a Pixel Data element the object
has as an empty marker. That marker is written as a BulkData reference (``bulkdata/7FE00010``), like
any other bulk value of the Native DICOM writer, so ``//DicomAttribute[@keyword='PixelData']``
still tells an image from an SR. Elements stored after the pixel data (Data Set Trailing Padding,
private groups above 7FE0) are not read, so not in the answer; RAD-69's de-identified objects drop
them too (deid/stream.py).

With Anonymize (PS3.18 §8.1.7: "information extracted from them in the response shall be
anonymized"), the XML is built from the de-identified header only, by the same de-identifier
(engine, options, key) that RetrieveImagingDocumentSet uses for that caller, so an answer never
holds a value the de-identified object would not, and every UID in it is the one RAD-69's
de-identified object carries. The one difference: when a pixel rule blanks burned-in text, RAD-69
decodes the pixel data and may rewrite attributes that describe its encoding (transfer syntax,
photometric interpretation); with no pixel data read, this answer describes the object as stored.

A document answered as stored has its model remembered (modelcache.py, remembered.py: keyed by the
index entry and the file's identity, which the store checks on every open), so asking again costs the XPath only; a
de-identified model is never remembered, nor is one used for a de-identified answer.

FrameNumber (§6.4.3.2) is checked against the object's frames (urn:dicom:wado:0018 outside them,
as the rendered operation does) and echoed; the expressions see the whole object, where a frame's
own attributes are the frame's Item of the Per-frame Functional Groups Sequence.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Collection
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from lxml import etree
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from ..deid import DeidentificationRefused
from ..deid.rewrite import rewrite
from ..dicom.frames import FrameError, frame_count
from ..dicom.nativexml import to_native_xml_counted, to_native_xml_from_part10
from ..dicom.tags import PIXEL_TAGS
from ..security.policy import TRUSTED, Caller
from ..audit.messages import TransferredInstance
from ..store.header import header_from_file
from .errors import ErrorCode
from .modelcache import CachedModel
from .model import DocumentRequest, RegistryError, response_status
from .rad69 import ImagingDocumentSource, _provenance
from .resolve import ResolvedDocument, Unresolved
from .xpath import CompiledXPath, ResultItem, XPathLimits, XPathRefused, compile_all, evaluate_sized

if TYPE_CHECKING:
    from ..deid import Deidentifier
    from ..deid.plan import ObjectPlan

log = logging.getLogger("wadows")

_POSITIVE = re.compile(r"^\s*\+?0*[1-9][0-9]{0,9}\s*$")


@dataclass(frozen=True, slots=True)
class InformationDocument:
    document: DocumentRequest
    frame_number: str | None = None  # as the client wrote it


@dataclass(frozen=True, slots=True)
class InformationRequest:
    documents: tuple[InformationDocument, ...]
    xpaths: tuple[str, ...]
    anonymize: str | None = None  # request-level form: applies to every document


@dataclass(slots=True)
class DocumentInformation:
    document_unique_id: str  # the new SOP Instance UID when anonymized
    answers: list[list[ResultItem]]  # one per expression, in request order
    home_community_id: str | None = None
    frame_number: int | None = None
    # What the answer disclosed, for the audit trail only (PS3.15 A.5.3.7, as RAD-69's documents).
    provenance: TransferredInstance | None = None


@dataclass(slots=True)
class InformationResult:
    documents: list[DocumentInformation] = field(default_factory=list)
    errors: list[RegistryError] = field(default_factory=list)
    anonymized: bool = False  # the edge then logs nothing that could identify

    @property
    def status(self) -> str:
        return response_status(bool(self.documents), self.errors)


def retrieve_imaging_document_set_information(source: ImagingDocumentSource, request: InformationRequest,
                                              caller: Caller = TRUSTED, limits: XPathLimits | None = None,
                                              max_response_bytes: int | None = None) -> InformationResult:
    """``limits`` and ``max_response_bytes`` default to the source's ([information] in the config)."""
    limits = limits if limits is not None else source.settings.xpath_limits
    if max_response_bytes is None:
        max_response_bytes = source.settings.max_information_bytes
    result = InformationResult()
    # Decided from the request and the caller alone, so that even a request refused below logs as such.
    result.anonymized = caller.force_anonymize or request.anonymize is not None or any(
        d.document.anonymize is not None for d in request.documents)
    if len(request.documents) > source.settings.max_documents:
        result.errors.append(RegistryError(
            ErrorCode.SIZE_EXCEEDS_LIMITS,
            f"The request asks for {len(request.documents)} documents; this server answers at most "
            f"{source.settings.max_documents} per request"))
        return result
    try:
        compiled = compile_all(request.xpaths, limits)
    except XPathRefused as refused:
        result.errors.append(_refusal(refused))
        return result
    budget = _Budget(max_response_bytes)
    for item in request.documents:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's warnings quote the values they complain about
            outcome = _document(source, item, request, caller, compiled, limits, budget, result)
        if isinstance(outcome, RegistryError):
            result.errors.append(outcome)
        else:
            result.documents.append(outcome)
    return result


@dataclass(slots=True)
class _Budget:
    """What is left of the response's bytes (all answers together)."""

    limit: int
    left: int = -1

    def __post_init__(self) -> None:
        self.left = self.limit


def _refusal(refused: XPathRefused, doc: DocumentRequest | None = None) -> RegistryError:
    where = f"XPath {refused.position}: " if refused.position else ""
    location = doc.document_unique_id[:128] if doc is not None else (
        f"XPathList/XPath[{refused.position}]" if refused.position else None)
    return RegistryError(refused.code, where + refused.reason, location)


def _document(source: ImagingDocumentSource, item: InformationDocument, request: InformationRequest,
              caller: Caller, compiled: list[CompiledXPath], limits: XPathLimits, budget: _Budget,
              result: InformationResult) -> DocumentInformation | RegistryError:
    remembered: list[CachedModel] = []

    def header_wanted(instance) -> bool:
        # Called only for a document that goes out as stored (resolve.py decides Anonymize first).
        found = source.native_models.get(instance)
        if found is not None:
            remembered.append(found)
        return found is None

    resolved = source.resolver.resolve(item.document, caller, anonymize_all=request.anonymize,
                                       header_wanted=header_wanted)
    if isinstance(resolved, Unresolved):
        result.anonymized |= resolved.anonymized
        return resolved.error
    result.anonymized |= resolved.anonymized
    if remembered and not resolved.anonymized and resolved.header is None:
        model = remembered[0]  # the file was checked to be the one indexed (modelcache.py)
        provenance = replace(_provenance(resolved, None), patient_id=model.patient_id,
                             patient_name=model.patient_name)
    else:
        header = resolved.header
        assert header is not None  # header_wanted: read unless remembered
        # Before de-identification changes the header in place: the audit names the stored patient.
        provenance = _provenance(resolved, header)
        try:
            frames: int | None = frame_count(header)
        except FrameError:
            frames = None
        try:
            root, nodes = native_model(resolved)
        except DeidentificationRefused:
            return resolved.error(ErrorCode.UNABLE_TO_ANONYMIZE,
                                  "This document cannot be de-identified under the server's profile and options")
        except Exception as exc:  # one unreadable header fails its document, not the request
            log.error("document information failed (%s)", type(exc).__name__)  # never its message: it may quote values
            code = ErrorCode.UNABLE_TO_ANONYMIZE if resolved.anonymized else ErrorCode.PROCESSING_FAILURE
            return resolved.error(code, "This document's header could not be rendered as Native DICOM XML")
        model = CachedModel(root, nodes, frames, provenance.patient_id,
                            provenance.patient_name)
        if not resolved.anonymized:  # never a de-identified model (modelcache.py)
            source.native_models.put(resolved.instance, model, model.size)
    refused = _frame_refusal(item, model.frames, resolved)
    if refused is not None:
        return refused
    answers = []
    for position, expression in enumerate(compiled, start=1):
        try:
            answer, size = evaluate_sized(model.root, expression, limits, nodes=model.nodes)
        except XPathRefused as refused_xpath:
            refused_xpath.position = position
            return _refusal(refused_xpath, item.document)
        budget.left -= size
        if budget.left < 0:
            return resolved.error(ErrorCode.SIZE_EXCEEDS_LIMITS,
                                  f"The answers of this request exceed {budget.limit} bytes; "
                                  "ask for fewer documents or narrower expressions")
        answers.append(answer)
    frame = int(item.frame_number) if item.frame_number is not None else None
    return DocumentInformation(resolved.document_unique_id, answers, item.document.home_community_id, frame,
                               provenance)


def _frame_refusal(item: InformationDocument, frames: int | None,
                   resolved: ResolvedDocument) -> RegistryError | None:
    """FrameNumber (§6.4.3.2): a positive integer within the object's frames, else this document's error."""
    if item.frame_number is None:
        return None
    if not _POSITIVE.match(item.frame_number):
        return resolved.error(ErrorCode.INVALID_PARAMETER_VALUE, "FrameNumber is not a positive integer")
    if frames is None:
        return resolved.error(ErrorCode.PROCESSING_FAILURE, "The object's Number of Frames is not an integer")
    if int(item.frame_number) > frames:
        return resolved.error(ErrorCode.FRAME_OUT_OF_RANGE, "FrameNumber is outside the object's frames")
    return None


def native_model(resolved: ResolvedDocument) -> tuple[etree._Element, int]:
    """The Native DICOM Model of the document's header, de-identified first when it goes out so,
    and its element count (the XPath cost estimate's N)."""
    header = resolved.header
    assert header is not None
    markers = {tag: header[tag] for tag in PIXEL_TAGS if tag in header}
    if resolved.deidentifier is not None:
        plan = resolved.new_uids.plan if resolved.new_uids is not None else None
        # The header RAD-69 sends, as bytes (deid/rewrite.py), read back: cheaper than the walk, and
        # the same model (tests/retrieve/test_docinfo_part10.py); the walk where the rewriter declines.
        done = rewrite(header, plan) if plan is not None else None
        if done is not None:
            return native_model_from_part10(done.header, markers)
        header = _deidentified(header, resolved.deidentifier, markers, plan)
    return _marked(header, markers)


def native_model_from_part10(data: bytes, markers: dict[int, DataElement]) -> tuple[etree._Element, int]:
    """The Native DICOM Model of a header given as Part-10 bytes up to its pixel data, such as a
    de-identifier's rewritten header (deid/stream.py rewrite_header), which leaves the pixel data
    element out: ``markers`` are the stored header's pixel data markers (store/header.py), put
    back and written as bulk references as native_model() writes them. Read again, every element
    is as the bytes have it, so the fast writer (dicom/nativexml.py) decodes each from its bytes."""
    written = to_native_xml_from_part10(data, {tag: element.VR for tag, element in markers.items()})
    if written is not None:
        return written
    header = header_from_file(io.BytesIO(data))
    for tag, element in markers.items():
        header[tag] = element
    return _marked(header, markers)


def _marked(header: Dataset, markers: Collection[int]) -> tuple[etree._Element, int]:
    """The model, each pixel data marker (present in the object, not read) as a bulk reference."""
    return to_native_xml_counted(header, bulk_markers=frozenset(markers))


def _deidentified(header: Dataset, deid: Deidentifier, markers: dict, plan: ObjectPlan | None = None) -> Dataset:
    """The header as RAD-69's de-identified object carries it. Planned with the pixel marker in
    place (the decision, pixel rule included, is the one resolve.py's decide() took), applied
    without it (nothing to blank: no pixel data was read), and the marker put back: the profile
    keeps pixel data (PS3.15 Table E.1-1 has no row removing it)."""
    plan = plan if plan is not None else deid.plan_object(header)  # decide()'s, when it kept one
    for tag in markers:
        del header[tag]
    plan.apply(header)
    for tag, element in markers.items():
        header[tag] = element
    return header
