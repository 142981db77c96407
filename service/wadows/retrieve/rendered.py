"""RetrieveRenderedImagingDocumentSet (PS3.18 2016e §6.4.2): each document as a JPEG, PNG or GIF.

Per document, in request order: the resolution every operation shares (resolve.py: repository,
Anonymize, UIDs, lookup, study/series, availability, the de-identifier's decision and new UIDs),
the rendering parameters checked (render/request.py), what the object allows checked on its header
(frames, pixel data, video: render.check_object), the presentation state looked up, then the
object read, de-identified when asked, and rendered. Every failure is that document's RegistryError
and the others are still answered (PartialSuccess, as RAD-69: IHE RAD TF-3 4.69.4.2.3). Images are
small, so each is rendered completely before the response starts; nothing is cut short later.

Anonymize (PS3.18 §8.1.7): the rendering is made from the de-identified object, by the same
Deidentifier.deidentify RAD-69's stream runs, so burned-in text is blanked by the same rule or the
document is refused with urn:dicom:wado:0001; the annotation is read from de-identified values only
(dummies, the keyed pseudonymous ID, shifted dates: that data set's, or the same values of the
attributes it shows when the image is rendered from the stored header); SourceDocumentUniqueId is the new SOP Instance
UID, the one RAD-69 answers for the same object and key. A presentation state is de-identified with
the same key, so its references name the new UIDs and the PresentationUID echoed is the mapped one.
Overlays and graphic annotations are never drawn (render/presentation.py).
"""

from __future__ import annotations

import logging
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID

from ..deid import DeidentificationRefused, Deidentifier
from ..deid.attributes import deidentified_attributes
from ..dicom.part10 import read_element_header
from ..dicom.tags import DOUBLE_FLOAT_PIXEL_DATA, FLOAT_PIXEL_DATA, PIXEL_DATA
from ..render import RenderError, RenderRequest, check_object, render
from ..render.annotate import attribute_tags
from ..security.policy import TRUSTED, Caller
from ..security.uids import is_valid_uid
from ..store.base import HeaderRead, file_identity
from ..store.header import header_and_offset
from .errors import ErrorCode
from .model import DocumentRequest, RegistryError, RetrieveResult
from .remembered import Remembered
from .resolve import ResolvedDocument, Unresolved, unavailable
from .transfer.source import open_source

if TYPE_CHECKING:
    from .rad69 import ImagingDocumentSource

log = logging.getLogger("wadows")
PIXEL_TAGS = (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA)  # PS3.3 C.7.6.3


@dataclass(frozen=True, slots=True)
class RenderedDocumentRequest:
    """One wado:RenderedDocumentRequest; the rendering parameters as the strings the wire carries
    (dcm4che's XSD types them xs:string, so a bad value is this document's 0012, not a fault)."""

    document: DocumentRequest
    content_types: tuple[str, ...]
    annotation: str | None = None
    rows: str | None = None
    columns: str | None = None
    region: str | None = None  # "x1,y1,x2,y2", whichever spelling came (soap/requests.py)
    window_width: str | None = None
    window_center: str | None = None
    image_quality: str | None = None
    presentation_uid: str | None = None
    presentation_series_uid: str | None = None
    frame_number: str | None = None
    # Children that are no parameter of PS3.18 §8 this server knows (a vendor's, a later edition's), by
    # Clark name: the document is answered urn:dicom:wado:0013.
    unsupported: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedRequest:
    documents: tuple[RenderedDocumentRequest, ...]


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    repository_unique_id: str
    source_document_unique_id: str  # the new SOP Instance UID when anonymized
    mime_type: str
    # PS3.18 §6.4.2.2: the parameters used, defaults included, in dcm4che's XSD order.
    parameters: dict[str, str]
    data: bytes
    home_community_id: str | None = None


class RenderedResult(RetrieveResult):
    """RetrieveResult's status rules (Success / PartialSuccess / Failure) over rendered documents."""


# -- quiet: pydicom quotes element values in its warnings and log records ------------------------------

class _DropWhileRendering(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        return self.active == 0


_PYDICOM_FILTER = _DropWhileRendering()
logging.getLogger("pydicom").addFilter(_PYDICOM_FILTER)


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """While a document is read, de-identified and rendered, pydicom says nothing: its warnings and
    log records quote the values they object to (a name, a UID), which are PHI when anonymizing.
    Process-wide silencing (wiring.quiet_libraries) is the default; this holds when it is not."""
    with _PYDICOM_FILTER.lock:
        _PYDICOM_FILTER.active += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        with _PYDICOM_FILTER.lock:
            _PYDICOM_FILTER.active -= 1


# -- the operation -------------------------------------------------------------------------------------

def retrieve_rendered_imaging_document_set(source: ImagingDocumentSource, request: RenderedRequest,
                                           caller: Caller = TRUSTED) -> RenderedResult:
    result = RenderedResult()
    limit = source.settings.max_documents
    if len(request.documents) > limit:
        result.errors.append(RegistryError(
            ErrorCode.SIZE_EXCEEDS_LIMITS,
            f"The request asks for {len(request.documents)} documents; this server returns at most {limit} per request"))
        return result
    for doc in request.documents:
        outcome = _document(source, doc, caller, result)
        if isinstance(outcome, RegistryError):
            result.errors.append(outcome)
        else:
            result.documents.append(outcome)
    return result


def _document(source: ImagingDocumentSource, doc: RenderedDocumentRequest, caller: Caller,
              result: RenderedResult) -> RenderedDocument | RegistryError:
    # The header is read here only when anonymizing (the decision needs it); otherwise the one parse
    # is the renderer's, of the object opened with its bulk values on disk (_opened).
    resolved = source.resolver.resolve(doc.document, caller, header_wanted=lambda _i: False, opens_itself=True,
                                       remembered=source.render_headers.get)
    result.anonymized |= resolved.anonymized
    if isinstance(resolved, Unresolved):
        return resolved.error
    if doc.unsupported:
        # PS3.18's error table: "Unsupported parameter in request". The name is the client's own markup.
        return resolved.error(ErrorCode.UNSUPPORTED_PARAMETER,
                              f"Unsupported parameter {doc.unsupported[0][:200]}")
    max_dimension = source.settings.max_render_dimension
    try:
        wanted = RenderRequest.from_wire(
            doc.content_types, rows=doc.rows, columns=doc.columns, region=doc.region,
            window_center=doc.window_center, window_width=doc.window_width, image_quality=doc.image_quality,
            frame_number=doc.frame_number, annotation=doc.annotation, presentation_uid=doc.presentation_uid,
            max_dimension=max_dimension)
        if resolved.header is not None:
            with quiet_pydicom():
                # Frames, pixel data, video, size: answered from the header, before the object is read
                # whole (render() checks the same on the object it is given, before decoding a frame).
                check_object(resolved.header, wanted)
    except RenderError as exc:
        return resolved.error(ErrorCode(exc.code), exc.message)
    state = _presentation_state(source, doc, resolved)
    if isinstance(state, RegistryError):
        return state
    whole = resolved.new_uids is not None and resolved.new_uids.reads_whole_object
    if whole and resolved.instance.size > source.settings.max_blanked_render_bytes:
        return resolved.error(ErrorCode.SIZE_EXCEEDS_LIMITS,
                              "De-identifying this object's pixel data needs the whole object, which is larger "
                              "than this server renders with Anonymize")
    stored = _renders_as_stored(resolved, wanted, state, whole)
    try:
        with quiet_pydicom(), _opened(source, resolved, whole, stored) as (ds, open_value):
            annotation = None
            if resolved.deidentifier is not None and not stored:
                ds = _deidentified(resolved.deidentifier, ds, whole)
                if state is not None:
                    state = resolved.deidentifier.deidentify(state)
                    wanted = replace(wanted, presentation_uid=str(state.SOPInstanceUID))
            elif stored and wanted.annotation:
                annotation = _annotated_from(resolved, wanted)
            rendered = render(ds, wanted, presentation=state, annotation=annotation, open_value=open_value,
                              max_dimension=max_dimension)
    except OSError as exc:
        return resolved.error(*unavailable(exc))
    except DeidentificationRefused:
        # The reason may describe the object (what OCR still read): the client learns only the refusal.
        return resolved.error(ErrorCode.UNABLE_TO_ANONYMIZE,
                              "This document cannot be de-identified under the server's profile and options")
    except RenderError as exc:
        return resolved.error(ErrorCode(exc.code), exc.message)
    except Exception as exc:  # a file pydicom or the de-identifier cannot use: this document only
        log.error("rendering failed (%s)", type(exc).__name__)  # never its message
        code = ErrorCode.UNABLE_TO_ANONYMIZE if resolved.anonymized else ErrorCode.PROCESSING_FAILURE
        return resolved.error(code, "This document could not be rendered")
    fields = rendered.parameters.response_fields()
    if wanted.presentation_uid is not None and doc.presentation_series_uid:
        fields["PresentationSeriesUID"] = (str(state.SeriesInstanceUID) if state is not None
                                           else doc.presentation_series_uid.strip())
    if resolved.anonymized:
        fields["Anonymize"] = "yes"
    return RenderedDocument(
        repository_unique_id=doc.document.repository_unique_id,
        source_document_unique_id=resolved.document_unique_id,
        mime_type=rendered.mime_type,
        parameters=fields,
        data=rendered.data,
        home_community_id=doc.document.home_community_id,
    )


def _renders_as_stored(resolved: ResolvedDocument, wanted: RenderRequest, state: Dataset | None,
                       whole: bool) -> bool:
    """With Anonymize, whether the image is rendered from the stored header, its de-identified copy
    never made. The pixels of a rendering depend on the Image Pixel module, the Modality and VOI
    LUT modules, the functional group macros that carry them per frame (PS3.3 C.7.6.3, C.11,
    C.7.6.16), Pixel Spacing and Pixel Aspect Ratio: none of them is in PS3.15 Table E.1-1 under any
    option, so de-identification leaves them as stored, and the rendering is the same image
    (tests/retrieve/test_rendered_stored.py compares the two over the corpus and six option sets, two annotated).
    An annotation's text is read from the de-identified values of the attributes it shows, walked
    alone (_annotated_from), never from the stored header. What still needs the de-identified
    object: a pixel rule's blanking (``whole``: the engine blanks and verifies the pixel data while
    it walks) and a presentation state (its references must name the new UIDs). The decision
    (refusal, new UIDs) was made in resolve.py either way, and nothing else read from the header
    leaves with the image: only pixels are encoded (render/encode.py), and errors and logs carry
    fixed texts."""
    return (resolved.deidentifier is not None and not whole and state is None
            and wanted.presentation_uid is None)


def _annotated_from(resolved: ResolvedDocument, wanted: RenderRequest) -> Dataset:
    """What an annotation of a document rendered from its stored header (_renders_as_stored) is
    read from: the attributes it shows (render/annotate.py ATTRIBUTES) as the de-identified object
    carries them (deid/attributes.py: dummies, the keyed pseudonymous ID, shifted dates), by the
    plan resolve.py's decision made from this header; the same text as the whole walk's."""
    deid, header = resolved.deidentifier, resolved.header
    assert deid is not None and header is not None
    plan = resolved.new_uids.plan if resolved.new_uids is not None else None
    return deidentified_attributes(header, plan if plan is not None else deid.plan_object(header),
                                   attribute_tags(wanted.annotation))


@contextmanager
def _opened(source: ImagingDocumentSource, resolved: ResolvedDocument, whole: bool, stored: bool = False) \
        -> Iterator[tuple[Dataset, Callable[[], BinaryIO] | None]]:
    """The stored object, and where its pixel data value starts when it was left on disk.

    The header is parsed with bulk values deferred (transfer/source.py) and the renderer decodes only
    the requested frame from the file (dicom/frames.py): one frame of a multi-frame object is read,
    never the whole Pixel Data, with or without Anonymize. ``whole``: a pixel rule blanks the object
    (its regions and OCR see every frame, as RAD-69's), so it is read whole, within the size limit
    checked before. ``stored``: rendered from the stored header (_renders_as_stored), which is then
    the one resolve.py read for the decision, when the file opened now is the one it was read from;
    only the pixel data's position is read here, not the header again. Otherwise the header is read
    as resolve.py reads it (store/header.py, the fast reader of dicom/reader.py for the common case)
    and the pixel data found after it; pydicom's deferred parse (transfer/source.py) is kept for
    what that declines (a non-seekable stream, big endian, deflated). Without Anonymize, a header
    read that way is remembered ([render] header_cache_mib, _remember): rendering the object again
    reads only its frame (about a quarter of a 128-px thumbnail's cost was the header)."""
    with source.backend.open(resolved.instance) as f:
        if whole:
            yield dcmread(f), None
            return
        # Remembered where the header is only read, never where it is de-identified (in place).
        memory = source.render_headers if resolved.deidentifier is None or stored else None
        if stored:
            read = resolved.header_read   # the decision's, read from the file or remembered (resolve.py)
        else:
            read = memory.get(resolved.instance) if memory is not None else None
        if read is None:
            read = _header_read(f)
        on_disk = _pixel_value(f, read) if read is not None else None
        if on_disk is not None:
            if memory is not None:
                _remember(memory, resolved, read, f)
            yield read.dataset, on_disk
            return
        if read is not None:
            f.seek(0)  # a seekable file (the held header's, or _header_read's): pydicom starts again
        opened = open_source(f)
        try:
            # Explicit VR Big Endian (retired): the value is taken through pydicom, which swaps it.
            on_disk = opened.value_opener(PIXEL_DATA) if opened.body_ts.is_little_endian else None
            yield opened.ds, on_disk
        finally:
            opened.close()


def _header_read(f: BinaryIO) -> HeaderRead | None:
    """The header of the file ``f`` (seekable, at byte 0) up to its pixel data, or None, ``f`` back
    at byte 0, when it cannot be read that way (a header store/header.py refuses: pydicom tries)."""
    try:
        if not f.seekable():
            return None
    except (AttributeError, OSError, ValueError):
        return None
    try:
        ds, pixel_at = header_and_offset(f)
    except (OSError, ValueError):
        f.seek(0)
        return None
    return HeaderRead(ds, pixel_at, None)  # f itself: no identity to compare


HEADER_COST = 32          # bytes of memory per byte of header, once read and used (a CT header: 23 measured)
MAX_REMEMBERED_HEADER = 64 << 10   # longer headers (enhanced multi-frame objects) are read each time


def _remember(memory: Remembered[HeaderRead], resolved: ResolvedDocument, read: HeaderRead, f: BinaryIO) -> None:
    """Keep a stored header, read from ``f`` and used, for rendering the object again: keyed by its
    index entry, so by the file's identity the store checks on every open (remembered.py); with this
    file's identity, which _pixel_value compares with the file opened next time. Only a header that
    nothing changes goes in (_opened): rendering only reads it (render/ never sets an element), and
    so does the de-identifier's decision (Deidentifier.decide changes nothing), which reads a
    remembered header for Anonymize (resolve.py); de-identifying works on a header read afresh."""
    if read.pixel_at > MAX_REMEMBERED_HEADER:
        return
    if memory.get(resolved.instance) is read:
        return
    try:
        identity = read.identity if read.identity is not None else file_identity(f.fileno())
    except (AttributeError, OSError, ValueError):
        return
    memory.put(resolved.instance, HeaderRead(read.dataset, read.pixel_at, identity),
               HEADER_COST * read.pixel_at + 4096)


def _pixel_value(f: BinaryIO, read: HeaderRead) -> Callable[[], BinaryIO] | None:
    """Where the pixel data value of ``read``'s file starts in ``f``, if ``f`` is that same file (its
    identity, as RAD-69 checks before streaming a held header) and the element there is the one the
    header stopped at, in a little endian encoding; else None (the header is then read again).
    ``read.identity`` None: ``read`` was just made from ``f`` itself (_header_read)."""
    ts = read.dataset.file_meta.get("TransferSyntaxUID") if hasattr(read.dataset, "file_meta") else None
    try:
        if ts is None or (read.identity is not None and file_identity(f.fileno()) != read.identity):
            return None
        ts = UID(str(ts))
        if not ts.is_little_endian or ts.is_deflated:
            return None
        f.seek(read.pixel_at)
        head = read_element_header(f.read(12), ts.is_implicit_VR)
    except (AttributeError, OSError, ValueError):
        return None
    if head is None or head[0] not in PIXEL_TAGS or head[0] not in read.dataset._dict:
        return None
    at = read.pixel_at + head[3]

    def open_value() -> BinaryIO:
        f.seek(at)
        return f
    return open_value


def _deidentified(deid: Deidentifier, ds: Dataset, whole: bool) -> Dataset:
    """The object de-identified by RAD-69's engine. Unless a pixel rule blanks it (``whole``) the
    pixel data is not the engine's business (no rule touches it, PS3.15 E.1.1 leaves it as stored):
    its element, still on disk, is set aside while the header is walked, so the walk cannot read
    it into memory, and put back for the renderer to read one frame of."""
    if whole:
        return deid.deidentify(ds)
    aside = {tag: ds._dict.pop(tag) for tag in PIXEL_TAGS if tag in ds._dict}
    ds = deid.deidentify(ds)
    ds._dict.update(aside)
    return ds


def _presentation_state(source: ImagingDocumentSource, doc: RenderedDocumentRequest,
                        resolved: ResolvedDocument) -> Dataset | None | RegistryError:
    """PresentationUID / PresentationSeriesUID (PS3.18 §6.2.x): a GSPS this store holds, in the series
    named; unknown -> urn:dicom:wado:0019, in another series -> 0020. Whether it references the image
    is render/'s check (0012)."""
    uid = (doc.presentation_uid or "").strip()
    series = (doc.presentation_series_uid or "").strip()
    if not uid:
        if series:
            return resolved.error(ErrorCode.INVALID_PARAMETER_VALUE, "PresentationSeriesUID needs PresentationUID")
        return None
    if not is_valid_uid(uid) or (series and not is_valid_uid(series)):
        return resolved.error(ErrorCode.INVALID_PARAMETER_VALUE,
                              "PresentationUID or PresentationSeriesUID is not a valid DICOM UID")
    try:
        found = source.backend.lookup(uid)
    except OSError as exc:
        return resolved.error(*unavailable(exc))
    if found is None:
        return resolved.error(ErrorCode.PRESENTATION_UID_UNKNOWN, "No presentation state with this PresentationUID")
    if series and found.series_uid != series:
        return resolved.error(ErrorCode.PRESENTATION_SERIES_UID_UNKNOWN,
                              "The presentation state is not in the series PresentationSeriesUID names")
    try:
        with quiet_pydicom(), source.backend.open(found) as f:
            return dcmread(f)
    except OSError as exc:
        return resolved.error(*unavailable(exc))
    except Exception as exc:
        log.error("presentation state unreadable (%s)", type(exc).__name__)
        return resolved.error(ErrorCode.PROCESSING_FAILURE, "The presentation state could not be read")
