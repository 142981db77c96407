"""The Part-10 files wadows writes (PS3.10 §7), produced as a stream of chunks.

pydicom's dcmwrite needs every value in memory; here the data set is written element by element,
and a caller-supplied reader fills in the values pydicom left on disk (read with ``defer_size``), so a
500 MB Pixel Data element passes through in fixed-size chunks. Raw little endian values go out as
they came in (only the element header is re-encoded), which keeps text byte-exact whatever its
character set; sequences and everything else go through pydicom's own ``write_data_element``.
"""

from __future__ import annotations

import zlib
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import correct_ambiguous_vr_element, write_data_element, write_file_meta_info
from pydicom.uid import UID
from pydicom.valuerep import AMBIGUOUS_VR

from ..implementation import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from .elementheader import EXPLICIT_LONG, EXPLICIT_SHORT, TAG_LENGTH, TruncatedHeader, UnknownVR, header_reader
from .tags import PIXEL_DATA, UNDEFINED_LENGTH
from .vr import LONG_VRS, WORD_SIZE

# Bound here, not imported: CPython (3.12+) calls a method of an imported name through a bound method
# made per call, which costs a header written ~25% more.
_IMPLICIT, _SHORT, _LONG = TAG_LENGTH, EXPLICIT_SHORT, EXPLICIT_LONG


# A deferred value is handed over as chunks of little endian bytes; the int is the word size to
# byte-swap by when the source is big endian (1: none).
DeferredReader = Callable[[RawDataElement, int], Iterator[bytes]]


def file_meta_for(ds: Dataset, transfer_syntax_uid: str) -> FileMetaDataset:
    """PS3.10 §7.1, rebuilt rather than copied: the Implementation Class UID and Version Name name the
    writer of this file, which is now wadows, and the Source/Sending/Receiving AE Titles described the
    exchange that wrote the stored file, not this response."""
    old = getattr(ds, "file_meta", None) or FileMetaDataset()
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = old.get("MediaStorageSOPClassUID") or ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = old.get("MediaStorageSOPInstanceUID") or ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(transfer_syntax_uid)
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


def meta_bytes(meta: FileMetaDataset) -> bytes:
    """Preamble (unused, so zeros: PS3.10 §7.1), 'DICM' and the meta group, its group length
    recomputed by pydicom."""
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    fp.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(fp, meta, enforce_standard=True)
    return fp.getvalue()


def element_header(tag: int, vr: str, length: int, implicit: bool) -> bytes:
    if implicit:
        return _IMPLICIT.pack(tag >> 16, tag & 0xFFFF, length)
    if vr not in LONG_VRS and length > 0xFFFF:
        vr = "UN"  # PS3.5 §6.2.2 Note 2: a value too long for a 16-bit length field is sent as UN
    if vr in LONG_VRS:
        return _LONG.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)
    return _SHORT.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)


def read_element_header(head: bytes, implicit: bool) -> tuple[int, str | None, int, int] | None:
    """The inverse of element_header for a little endian element starting ``head`` (12 bytes or the
    rest of the file): its tag, VR (None when implicit or an item's), value length and the length of
    the header itself (dicom/elementheader.py); None if ``head`` is too short to hold one."""
    try:
        return header_reader(implicit)(head, 0, len(head))
    except TruncatedHeader:
        return None
    except UnknownVR as exc:
        return exc.header


def item_header(tag: int, length: int) -> bytes:
    return _IMPLICIT.pack(tag >> 16, tag & 0xFFFF, length)


def swap_bytes(data: bytes, word: int) -> bytes:
    if word <= 1 or len(data) < word:
        return data
    whole = len(data) - len(data) % word
    return np.frombuffer(data, dtype=f"u{word}", count=whole // word).byteswap().tobytes() + data[whole:]


def pixel_word_size(ds: Dataset, tag: int, vr: str) -> int:
    """pydicom reads big endian native pixels in units of Bits Allocated (OW with 8 bits: pairs)."""
    if tag == PIXEL_DATA and vr == "OW":
        return max(2, int(ds.get("BitsAllocated") or 16) // 8)
    return WORD_SIZE.get(vr, 1)


def resolve_vr(ds: Dataset, raw: RawDataElement) -> str | None:
    """The VR to write for a raw element, or None when only pydicom's full conversion can tell (a
    private tag in implicit VR, an ambiguous VR other than the bulk ones)."""
    tag = int(raw.tag)
    vr = raw.VR
    if vr is None:
        if tag >> 16 & 1:
            return "UN" if raw.value is None else None  # deferred: too big to convert just for its VR
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            return "UN"
    if vr in AMBIGUOUS_VR:
        if tag == PIXEL_DATA:
            # PS3.5 §A.2: OW above 8 bits allocated; OB or OW below, and OB is what decompress() picks.
            return "OW" if int(ds.get("BitsAllocated") or 16) > 8 else "OB"
        if tag >> 16 & 0xFF00 == 0x6000 and tag & 0xFFFF == 0x3000:
            return "OW"  # Overlay Data, PS3.5 §8.1.2
        return "OW" if raw.value is None and "OW" in vr else None
    return vr


def to_little_endian_words(ds: Dataset) -> None:
    """Byte-swap the word-valued elements pydicom keeps as big endian bytes, at every depth (PS3.5
    retired Explicit VR Big Endian; pydicom converts numbers but leaves OW/OF/OD/OL/OV alone)."""
    for tag in list(ds._dict):
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value:
                to_little_endian_words(item)
        elif elem.VR in WORD_SIZE and isinstance(elem.value, (bytes, bytearray)):
            elem.value = swap_bytes(bytes(elem.value), pixel_word_size(ds, tag, elem.VR))


def dataset_pieces(ds: Dataset, target: UID, *, read_deferred: DeferredReader,
                   replace: Mapping[int, Callable[[], Iterable[bytes]]] | None = None,
                   flush_at: int = 1 << 20) -> Iterator[bytes]:
    """The data set of ``ds`` encoded in ``target`` (Implicit or Explicit VR, little endian).

    ``replace`` maps a top-level tag to a producer of the whole encoded element (the pixel data of a
    transcode). Group Length elements are left out: retired (PS3.5 §7.2), and their values would be
    wrong once element headers change size between implicit and explicit VR.
    """
    implicit = target.is_implicit_VR
    replace = replace or {}
    encodings = ds.get("SpecificCharacterSet") or "iso8859"
    buf = _buffer(implicit)

    def flush() -> Iterator[bytes]:
        nonlocal buf
        if buf.tell():
            yield buf.getvalue()
            buf = _buffer(implicit)

    for tag in sorted(ds._dict):
        if tag & 0xFFFF == 0 or tag >> 16 <= 2:
            continue  # group lengths; file meta elements misplaced in the data set
        if tag in replace:
            yield from flush()
            yield from replace[tag]()
            continue
        elem = ds._dict[tag]
        if isinstance(elem, RawDataElement) and elem.length != UNDEFINED_LENGTH:
            vr = resolve_vr(ds, elem)
            if vr is not None and vr != "SQ":
                word = 1 if elem.is_little_endian else pixel_word_size(ds, tag, vr)
                if elem.is_little_endian or vr in WORD_SIZE or vr in ("OB", "UN"):
                    head = element_header(tag, vr, elem.length, implicit)
                    if elem.value is None and elem.length:
                        yield from flush()
                        yield head
                        yield from read_deferred(elem, word)
                    else:
                        buf.write(head)
                        buf.write(swap_bytes(elem.value or b"", word))
                    if buf.tell() >= flush_at:
                        yield from flush()
                    continue
        converted: DataElement = ds[tag]
        if converted.VR in AMBIGUOUS_VR:
            converted = correct_ambiguous_vr_element(converted, ds, True)
        if converted.VR == "SQ" and ds.original_encoding[1] is False:
            for item in converted.value:
                to_little_endian_words(item)
        write_data_element(buf, converted, encodings)
        if buf.tell() >= flush_at:
            yield from flush()
    yield from flush()


def _buffer(implicit: bool) -> DicomBytesIO:
    buf = DicomBytesIO()
    buf.is_little_endian = True
    buf.is_implicit_VR = implicit
    return buf


def deflated(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """PS3.5 §A.5: the data set (never the File Meta) as a raw deflate stream, no zlib header."""
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    for piece in pieces:
        if out := z.compress(piece):
            yield out
    yield z.flush()


def rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Chunks of at most ``size`` bytes: small pieces (12-byte element headers, deflate output) are
    gathered, big ones are sliced, and a piece of exactly ``size`` passes through uncopied."""
    pending = bytearray()
    for piece in pieces:
        if len(pending) + len(piece) <= size:
            pending += piece
            continue
        if pending:
            yield bytes(pending)
            pending = bytearray()
        whole = len(piece) - len(piece) % size
        for start in range(0, whole, size):
            yield piece[start:start + size]
        pending += piece[whole:]
    if pending:
        yield bytes(pending)


def part10_chunks(ds: Dataset, target_ts: str, *, read_deferred: DeferredReader,
                  replace: Mapping[int, Callable[[], Iterable[bytes]]] | None = None,
                  chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """A whole Part-10 file for ``ds`` in ``target_ts``, whose pixel data must already match it.
    Encapsulated syntaxes and objects without pixel data share the Explicit VR Little Endian
    encoding of the data set (PS3.5 §A.4)."""
    target = UID(target_ts)
    meta = file_meta_for(ds, target)
    encoding = target if not target.is_compressed else UID("1.2.840.10008.1.2.1")
    pieces = dataset_pieces(ds, encoding, read_deferred=read_deferred, replace=replace, flush_at=chunk_size)
    if target.is_deflated:
        pieces = deflated(pieces)

    def whole() -> Iterator[bytes]:
        yield meta_bytes(meta)
        yield from pieces

    return rechunk(whole(), chunk_size)
