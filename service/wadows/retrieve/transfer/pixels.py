"""Pixel Data across the native/encapsulated boundary, one frame at a time.

Decoding goes through pydicom's decoders (the pylibjpeg plugins first) frame by frame from the open
file, so a multi-frame object is never whole in memory. Encoded frames are collected in a spooled
temporary file before the first byte goes out: the Basic Offset Table and the lossy compression
ratio are only known once every frame is encoded, and an encoder that refuses the image (wrong
Photometric Interpretation for the syntax, PS3.5 §8.2) does so before the response has started.

What a decode changes in the header follows pydicom 3's ``Dataset.decompress()``: Photometric
Interpretation from the decoder (YBR_FULL_422 from a JPEG Baseline codestream comes out RGB),
Planar Configuration 0, Number of Frames kept, VR OB up to 8 bits allocated and OW above. The SOP
Instance UID is kept, unlike pydicom's default: the document is asked for by that UID (RAD-69
DocumentUniqueId), and a change of transfer syntax on the way does not make a new instance, as in a
negotiated C-GET/C-MOVE transfer.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import HTJ2K, JPEG2000, UID, ExplicitVRLittleEndian, JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless

from ...codeclock import encoding
from ...dicom.part10 import element_header, item_header
from ...dicom.tags import ITEM, PIXEL_DATA, SEQUENCE_DELIMITER, UNDEFINED_LENGTH
from .errors import TranscodeError
from .support import ALWAYS_LOSSY, LOSSY_WHEN_WRITTEN, codec_for, preferred_plugin

FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
EXTENDED_OFFSET_TABLE = (0x7FE00001, 0x7FE00002)
ICON_IMAGE_SEQUENCE = 0x00880200
SPOOL_IN_MEMORY = 8 << 20

# PS3.3 C.7.6.1.1.5.1 Defined Terms for Lossy Image Compression Method.
_LOSSY_METHOD = {JPEGBaseline8Bit: "ISO_10918_1", JPEGExtended12Bit: "ISO_10918_1", JPEG2000: "ISO_15444_1",
                 HTJ2K: "ISO_15444_15", JPEGLSNearLossless: "ISO_14495_1"}

DEFAULT_LOSSY_RATIO = 10.0


@dataclass
class PixelOutput:
    """The new (7FE0,0010): ``value`` yields the value bytes (items only, when encapsulated: the
    sequence delimiter belongs to the element, as pydicom holds it)."""
    vr: str
    length: int
    value: Callable[[], Iterator[bytes]]
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def encapsulated(self) -> bool:
        return self.length == UNDEFINED_LENGTH

    def element(self, implicit: bool) -> Callable[[], Iterator[bytes]]:
        def produce() -> Iterator[bytes]:
            yield element_header(PIXEL_DATA, self.vr, self.length, implicit and not self.encapsulated)
            yield from self.value()
            if self.encapsulated:
                yield item_header(SEQUENCE_DELIMITER, 0)
        return produce

    def close(self) -> None:
        for close in self.closers:
            close()


def is_encapsulated(elem: Any) -> bool:
    if isinstance(elem, RawDataElement):
        return elem.length == UNDEFINED_LENGTH
    return bool(elem.is_undefined_length)


def plan_pixels(ds: Dataset, source_ts: UID, target: UID, open_value: Callable[[], BinaryIO], *,
                lossy_ratio: float = DEFAULT_LOSSY_RATIO) -> PixelOutput | None:
    """What (7FE0,0010) becomes in ``target``, with the header updated to match; None when its
    value can be copied as it is (native to native, or the same encapsulated syntax)."""
    px = ds._dict.get(PIXEL_DATA)
    if px is None:
        if target.is_compressed and any(t in ds._dict for t in FLOAT_PIXEL_DATA):
            raise TranscodeError(f"float pixel data has no encapsulated form in {target.name}")
        return None
    encapsulated = is_encapsulated(px)
    if encapsulated == target.is_compressed and (not encapsulated or source_ts == target):
        return None
    if encapsulated and not source_ts.is_compressed:
        raise TranscodeError("encapsulated pixel data under a native transfer syntax")
    decode_ts = source_ts if encapsulated or not source_ts.is_compressed else ExplicitVRLittleEndian
    opts = _pixel_options(ds)
    # decompress() converts colour to RGB for encapsulated sources; native colour is kept as stored
    # (only YBR_FULL_422 loses its subsampling, which no encoder accepts).
    frames = _decode(decode_ts, open_value, opts, as_rgb=encapsulated)
    if source_ts in ALWAYS_LOSSY and encapsulated:
        ds.LossyImageCompression = "01"  # PS3.3 C.7.6.1.1.5: once lossy, never reset
    if target.is_compressed:
        return _encode(ds, frames, target, lossy_ratio)
    return _to_native(ds, frames, opts)


def _pixel_options(ds: Dataset) -> dict[str, Any]:
    try:
        opts = as_pixel_options(ds)
        opts["number_of_frames"] = int(opts["number_of_frames"])
        opts["pixel_keyword"] = "PixelData"
        for key in ("rows", "columns", "bits_allocated", "samples_per_pixel"):
            if key not in opts:
                raise TranscodeError(f"the Image Pixel module lacks {key}")
    except TranscodeError:
        raise
    except Exception as exc:
        raise TranscodeError(f"the Image Pixel module cannot be read ({type(exc).__name__})") from None
    return opts


def _decode(ts: UID, open_value: Callable[[], BinaryIO], opts: dict[str, Any], *,
            as_rgb: bool) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
    decoder = _codec(ts, encoder=False)
    plugin = preferred_plugin(ts, encoder=False)
    frames = decoder.iter_array(open_value(), decoding_plugin=plugin, as_rgb=as_rgb, **opts)
    index = 0
    while True:
        try:
            arr, meta = next(frames)
        except StopIteration:
            return
        except Exception as exc:
            raise TranscodeError(f"{ts.name} frame {index + 1} cannot be decoded ({type(exc).__name__})") from None
        index += 1
        yield _little_endian(arr), meta


def _codec(uid: UID, *, encoder: bool) -> Any:
    codec = codec_for(uid, encoder=encoder)
    if codec is None:
        raise TranscodeError(f"no {'encoder' if encoder else 'decoder'} for {uid.name} is installed")
    return codec


def _little_endian(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.byteorder == ">":
        arr = arr.byteswap().view(arr.dtype.newbyteorder("<"))
    return np.ascontiguousarray(arr)


def _to_native(ds: Dataset, frames: Iterator[tuple[np.ndarray, dict[str, Any]]],
               opts: dict[str, Any]) -> PixelOutput:
    # The first frame is decoded now: the header (written before Pixel Data) needs its outcome.
    try:
        first, meta = next(frames)
    except StopIteration:
        raise TranscodeError("the pixel data holds no frame") from None
    count = opts["number_of_frames"]
    frame_size = first.nbytes
    total = frame_size * count
    if total + total % 2 >= UNDEFINED_LENGTH:
        raise TranscodeError("native pixel data would exceed the 32-bit value length (PS3.5 §7.1)")
    _update_image_pixel(ds, meta, count)
    for tag in EXTENDED_OFFSET_TABLE:
        ds._dict.pop(tag, None)  # PS3.3 C.7.6.3: only with encapsulated pixel data
    _drop_encapsulated_icons(ds)
    vr = "OW" if int(meta["bits_allocated"]) > 8 else "OB"

    def value() -> Iterator[bytes]:
        yield first.tobytes()
        produced = 1
        for arr, _ in frames:
            if arr.nbytes != frame_size:
                raise TranscodeError(f"frame {produced + 1} decodes to another size than frame 1")
            yield arr.tobytes()
            produced += 1
        if produced != count:
            raise TranscodeError(f"{produced} frames decoded, Number of Frames says {count}")
        if total % 2:
            yield b"\0"

    return PixelOutput(vr, total + total % 2, value)


def _encode(ds: Dataset, frames: Iterator[tuple[np.ndarray, dict[str, Any]]], target: UID,
            lossy_ratio: float) -> PixelOutput:
    encoder = _codec(target, encoder=True)
    plugin = preferred_plugin(target, encoder=True)
    extra: dict[str, Any] = {"j2k_cr": [lossy_ratio]} if target in (JPEG2000, HTJ2K) else {}
    spool = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY)
    lengths: list[int] = []
    raw_size = 0
    meta: dict[str, Any] = {}
    try:
        for arr, meta in frames:
            options = {k: meta[k] for k in ("rows", "columns", "samples_per_pixel", "bits_allocated",
                                            "bits_stored", "pixel_representation", "photometric_interpretation")}
            try:
                with encoding(target):
                    data = encoder.encode(arr, encoding_plugin=plugin, number_of_frames=1, planar_configuration=0,
                                          **options, **extra)
            except Exception as exc:
                raise TranscodeError(f"frame {len(lengths) + 1} cannot be encoded as {target.name} "
                                     f"({type(exc).__name__})") from None
            if len(data) % 2:
                data += b"\0"  # PS3.5 §A.4: fragments have even length
            spool.write(data)
            lengths.append(len(data))
            raw_size += arr.nbytes
    except BaseException:
        spool.close()
        raise
    if not lengths:
        spool.close()
        raise TranscodeError("the pixel data holds no frame")
    _update_image_pixel(ds, meta, len(lengths))
    for tag in EXTENDED_OFFSET_TABLE:
        ds._dict.pop(tag, None)  # offsets of the old codestreams; ours are in the Basic Offset Table
    if target in LOSSY_WHEN_WRITTEN:
        _mark_lossy(ds, raw_size / sum(lengths), _LOSSY_METHOD[target])
    offsets = _basic_offsets(lengths)

    def value() -> Iterator[bytes]:
        yield item_header(ITEM, len(offsets)) + offsets
        spool.seek(0)
        for length in lengths:
            yield item_header(ITEM, length)
            remaining = length
            while remaining:
                data = spool.read(min(remaining, 1 << 20))
                remaining -= len(data)
                yield data

    return PixelOutput("OB", UNDEFINED_LENGTH, value, [spool.close])


def _basic_offsets(lengths: list[int]) -> bytes:
    """PS3.5 §A.4: one offset per frame (one fragment each), relative to the first fragment's item
    tag; left empty, as the standard allows, when they would not fit 32 bits."""
    starts = np.cumsum([0] + [8 + n for n in lengths[:-1]], dtype=np.uint64)
    return b"" if int(starts[-1]) > 0xFFFFFFFF else starts.astype("<u4").tobytes()


def _update_image_pixel(ds: Dataset, meta: dict[str, Any], count: int) -> None:
    ds.PhotometricInterpretation = meta["photometric_interpretation"]
    if int(meta["samples_per_pixel"]) > 1:
        ds.PlanarConfiguration = 0
    if "NumberOfFrames" in ds._dict or count > 1:
        ds.NumberOfFrames = count


def _mark_lossy(ds: Dataset, ratio: float, method: str) -> None:
    """PS3.3 C.7.6.1.1.5: one Ratio and one Method value per lossy step, in the order applied."""
    ratios, methods = _values(ds.get("LossyImageCompressionRatio")), _values(ds.get("LossyImageCompressionMethod"))
    if len(ratios) != len(methods):
        ratios, methods = [], []  # inconsistent history: record what we know for sure
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = [*ratios, f"{ratio:.2f}"]
    ds.LossyImageCompressionMethod = [*methods, method]


def _values(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]


def _drop_encapsulated_icons(ds: Dataset) -> None:
    """An Icon Image Sequence item may hold encapsulated pixels in a compressed syntax (PS3.5 §A.4);
    that is unreadable once the syntax is native. The sequence is Type 3: drop it rather than send
    a broken icon."""
    if ICON_IMAGE_SEQUENCE not in ds._dict:
        return
    for item in ds[ICON_IMAGE_SEQUENCE].value:
        icon = item._dict.get(PIXEL_DATA)
        if icon is not None and is_encapsulated(icon):
            del ds[ICON_IMAGE_SEQUENCE]
            return


def in_memory(value: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(value)
