"""Transfer syntax negotiation and transcoding for RAD-69 (IHE RAD TF-3 4.69.4.1.2).

Negotiation: the first syntax in TransferSyntaxUIDList that can be produced wins; unknown UIDs are
skipped; when none can be produced the document gets urn:dicom:wado:0007 (IHE's rule, not PS3.18
§8.2.11's fallback to Explicit VR Little Endian).

Producing:

- the stored syntax: the file's own bytes, read and yielded ``chunk_size`` at a time, never parsed;
- Implicit VR LE, Explicit VR LE, Deflated Explicit VR LE, from any of those or Explicit VR BE
  (retired, read only): the header is parsed with pydicom, values over 64 KiB stay on disk and are
  copied by offset (byte-swapped from big endian by word size), Deflated goes out through a
  streaming raw deflate; memory stays bounded whatever the object's size;
- encapsulated -> native: frames decoded one at a time (pylibjpeg plugins preferred), the header
  changed as pydicom's ``Dataset.decompress()`` does it (Photometric Interpretation from the
  decoder, e.g. JPEG Baseline YBR_FULL_422 -> RGB; OB/OW by Bits Allocated; Number of Frames kept);
- -> encapsulated: frames decoded one at a time, encoded, spooled to a temporary file, then sent
  with a Basic Offset Table. Encoders: RLE Lossless (pylibjpeg-rle or pydicom), JPEG 2000 Lossless
  and JPEG 2000 (pylibjpeg-openjpeg). JPEG 2000 (.91) is written lossy (compression ratio
  ``lossy_ratio``, default 10), only ever because the client listed it, and marked per PS3.3
  C.7.6.1.1.5 (Lossy Image Compression 01, ratio and method ISO_15444_1 appended). No JPEG,
  JPEG-LS or HTJ2K encoder is installed (JPEG-LS would need pyjpegls): those are read only.
- no pixel data (SR, KOS, PR) and an encapsulated syntax asked for: allowed, and written Explicit VR
  LE under that UID. PS3.5 §A.4 ties those syntaxes to encapsulated Pixel Data; everything else in
  such a file is Explicit VR LE, so there is nothing to encode. dcm4che does the same. Callers that
  know whether an object has pixel data pass ``has_pixel_data`` to the negotiation.

Every file written gets a rebuilt File Meta (PS3.10 §7.1): Media Storage SOP Class/Instance UID
kept, Transfer Syntax UID the produced one, wadows's Implementation Class UID and Version Name,
group length recomputed; dataset Group Length elements are dropped (retired, PS3.5 §7.2). The SOP
Instance UID is never changed.

Errors: anything that fails is a TranscodeError. ``stream_as`` and ``write_part10`` do all that can
fail in the header, the encoder's acceptance of the image and the first decoded frame before they
return; only a corrupt later frame of a decode to native can fail once chunks have been sent.
"""

from __future__ import annotations

from typing import BinaryIO, Callable, Iterator

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_deferred_data_element
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from ...dicom.part10 import part10_chunks, swap_bytes, to_little_endian_words
from ...dicom.tags import PIXEL_DATA
from .errors import TranscodeError
from .pixels import DEFAULT_LOSSY_RATIO, FLOAT_PIXEL_DATA, PixelOutput, in_memory, plan_pixels
from .source import Source, SourceError, open_source
from .support import SUPPORTED, TransferSyntaxSupport, can_produce, choose_transfer_syntax

__all__ = [
    "SUPPORTED", "TransferSyntaxSupport", "TranscodeError", "can_produce", "choose_transfer_syntax",
    "convert_dataset", "stream_as", "write_part10",
]


def stream_as(src: BinaryIO, stored_ts: str, target_ts: str, *, chunk_size: int = 1 << 20,
              lossy_ratio: float = DEFAULT_LOSSY_RATIO) -> Iterator[bytes]:
    """The Part-10 bytes of ``src`` (a stored file, read from offset 0 and never written) in
    ``target_ts``, no chunk longer than ``chunk_size``. ``src`` must stay open while iterating.

    The syntax the file's own meta declares is trusted over ``stored_ts`` once the file is parsed;
    ``stored_ts == target_ts`` short-cuts to the raw bytes without parsing anything.
    """
    if stored_ts == target_ts:
        return _raw_chunks(src, chunk_size)
    target = UID(target_ts)
    try:
        source = open_source(src, chunk_size=chunk_size)
    except SourceError as exc:
        raise TranscodeError(str(exc)) from None
    if source.file_ts == target:
        source.original.seek(0)
        return _guarded(_raw_chunks(source.original, chunk_size), source.close)
    pixel = None
    try:
        ds = source.ds
        _check_producible(ds, source.file_ts, target)
        pixel = plan_pixels(ds, source.body_ts, target, _deferred_opener(source), lossy_ratio=lossy_ratio)
        replace = {PIXEL_DATA: pixel.element(target.is_implicit_VR)} if pixel else None
        chunks = part10_chunks(ds, target, read_deferred=source.value_chunks, replace=replace,
                               chunk_size=chunk_size)
    except BaseException as exc:
        _close(source, pixel)
        if isinstance(exc, Exception) and not isinstance(exc, TranscodeError):
            raise TranscodeError(f"cannot convert to {target.name} ({type(exc).__name__})") from None
        raise
    return _guarded(chunks, lambda: _close(source, pixel))


def convert_dataset(ds: Dataset, target_ts: str, *, lossy_ratio: float = DEFAULT_LOSSY_RATIO) -> Dataset:
    """Re-encode ``ds`` in place (and return it) so that its pixel data and File Meta Transfer Syntax
    UID are those of ``target_ts``. Its current syntax is ``ds.file_meta.TransferSyntaxUID``, or the
    encoding it was read with. Whole values are held in memory (used after de-identification)."""
    target = UID(target_ts)
    current = _current_ts(ds)
    if current == target:
        return ds
    _check_producible(ds, current, target)
    try:
        if not current.is_little_endian:
            to_little_endian_words(ds)
            current = ExplicitVRLittleEndian
        if PIXEL_DATA in ds._dict:
            pixel = plan_pixels(ds, current, target, in_memory(ds.PixelData), lossy_ratio=lossy_ratio)
            if pixel is not None:
                _set_pixel_data(ds, pixel)
    except TranscodeError:
        raise
    except Exception as exc:
        raise TranscodeError(f"cannot convert to {target.name} ({type(exc).__name__})") from None
    if getattr(ds, "file_meta", None) is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = target
    return ds


def write_part10(ds: Dataset, target_ts: str, *, chunk_size: int = 1 << 20,
                 lossy_ratio: float = DEFAULT_LOSSY_RATIO) -> Iterator[bytes]:
    """``ds`` as a Part-10 file in ``target_ts``, as chunks; converts ``ds`` in place first when
    its syntax differs (see ``convert_dataset``)."""
    convert_dataset(ds, target_ts, lossy_ratio=lossy_ratio)
    try:
        chunks = part10_chunks(ds, target_ts, read_deferred=_pydicom_deferred(ds), chunk_size=chunk_size)
    except Exception as exc:
        raise TranscodeError(f"cannot write a File Meta ({type(exc).__name__})") from None
    return _guarded(chunks)


def _check_producible(ds: Dataset, current: UID, target: UID) -> None:
    has_pixels = PIXEL_DATA in ds._dict or any(t in ds._dict for t in FLOAT_PIXEL_DATA)
    if not can_produce(current, target, has_pixel_data=has_pixels):
        raise TranscodeError(f"{current.name} cannot be converted to {target.name}")


def _current_ts(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return UID(meta.TransferSyntaxUID)
    implicit, little = ds.original_encoding
    if little is False:
        return ExplicitVRBigEndian
    return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


def _set_pixel_data(ds: Dataset, pixel: PixelOutput) -> None:
    try:
        value = b"".join(pixel.value())
    finally:
        pixel.close()
    ds.PixelData = value
    elem = ds["PixelData"]
    elem.VR = pixel.vr
    elem.is_undefined_length = pixel.encapsulated


def _deferred_opener(source: Source) -> Callable[[], BinaryIO]:
    def open_value() -> BinaryIO:
        on_disk = source.value_opener(PIXEL_DATA)
        return on_disk() if on_disk is not None else in_memory(source.ds.PixelData)()
    return open_value


def _pydicom_deferred(ds: Dataset) -> Callable[[RawDataElement, int], Iterator[bytes]]:
    def read(raw: RawDataElement, word: int) -> Iterator[bytes]:
        origin = getattr(ds, "buffer", None) or getattr(ds, "filename", None)
        loaded = read_deferred_data_element(getattr(ds, "fileobj_type", open), origin, None, raw)
        yield swap_bytes(loaded.value or b"", word)
    return read


def _raw_chunks(src: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    while chunk := src.read(chunk_size):
        yield chunk


def _guarded(chunks: Iterator[bytes], cleanup: Callable[[], None] | None = None) -> Iterator[bytes]:
    try:
        yield from chunks
    except TranscodeError:
        raise
    except Exception as exc:
        raise TranscodeError(f"writing failed ({type(exc).__name__})") from None
    finally:
        if cleanup is not None:
            cleanup()


def _close(source: Source, pixel: PixelOutput | None) -> None:
    if pixel is not None:
        pixel.close()
    source.close()
