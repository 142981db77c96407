"""Transfer syntax negotiation and transcoding for RAD-69 (IHE RAD TF-3 4.69.4.1.2).

The first listed syntax the server can produce wins; when none can, the document gets
urn:dicom:wado:0007 (IHE's rule, not PS3.18's fallback to Explicit VR Little Endian). When the
stored syntax is chosen, the file goes out untouched, read in fixed-size chunks, so memory stays
bounded whatever the object's size. Any other syntax means decoding through pydicom (and the
pylibjpeg plugins) and so holds that one object in memory while it is converted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Sequence

import pydicom
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLossless,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from .part10 import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME


class TranscodeError(Exception):
    """Conversion failed for this object (corrupt or unsupported pixel data)."""


@dataclass(frozen=True)
class TransferSyntaxSupport:
    uid: str
    name: str
    can_read: bool
    can_write: bool
    via: str


_NATIVE_WRITE = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian)
_ENCODERS = {RLELossless: "pydicom (native RLE encoder)", JPEG2000Lossless: "pylibjpeg-openjpeg"}
_DECODERS = {
    JPEGBaseline8Bit: "pylibjpeg-libjpeg", JPEGExtended12Bit: "pylibjpeg-libjpeg", JPEGLossless: "pylibjpeg-libjpeg",
    JPEGLosslessSV1: "pylibjpeg-libjpeg", JPEGLSLossless: "pylibjpeg-libjpeg", JPEGLSNearLossless: "pylibjpeg-libjpeg",
    JPEG2000Lossless: "pylibjpeg-openjpeg", JPEG2000: "pylibjpeg-openjpeg", RLELossless: "pylibjpeg-rle / pydicom",
}

SUPPORTED: tuple[TransferSyntaxSupport, ...] = (
    *(TransferSyntaxSupport(u, u.name, True, True, "pydicom") for u in _NATIVE_WRITE),
    TransferSyntaxSupport(ExplicitVRBigEndian, ExplicitVRBigEndian.name, True, False, "pydicom (retired; read only)"),
    *(TransferSyntaxSupport(u, u.name, True, u in _ENCODERS, _ENCODERS.get(u, via)) for u, via in _DECODERS.items()),
)
_READABLE = frozenset(s.uid for s in SUPPORTED if s.can_read)
_WRITABLE = frozenset(s.uid for s in SUPPORTED if s.can_write)


def can_produce(stored_ts: str, target_ts: str) -> bool:
    return stored_ts == target_ts or (stored_ts in _READABLE and target_ts in _WRITABLE)


def choose_transfer_syntax(stored_ts: str, requested: Sequence[str]) -> str | None:
    return next((ts for ts in requested if can_produce(stored_ts, ts)), None)


def stream_as(src: BinaryIO, stored_ts: str, target_ts: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    if stored_ts == target_ts:
        while chunk := src.read(chunk_size):
            yield chunk
        return
    try:
        ds = pydicom.dcmread(src)
    except Exception as exc:
        raise TranscodeError(f"the stored object cannot be read: {type(exc).__name__}") from None
    data = write_part10(convert_dataset(ds, target_ts))
    for start in range(0, len(data), chunk_size):
        yield data[start:start + chunk_size]


def convert_dataset(ds: pydicom.Dataset, target_ts: str) -> pydicom.Dataset:
    """Re-encode in place. An object without Pixel Data asked for a compressed syntax is written
    Explicit VR Little Endian under that UID, as dcm4che does: PS3.5 §10 ties compression to
    encapsulated pixel data only."""
    target = UID(target_ts)
    current = ds.file_meta.TransferSyntaxUID
    try:
        has_pixels = "PixelData" in ds
        if has_pixels and current.is_compressed and current != target:
            ds.decompress()
        if has_pixels and target.is_compressed and ds.file_meta.TransferSyntaxUID != target:
            ds.compress(target)
        ds.file_meta.TransferSyntaxUID = target
    except Exception as exc:
        raise TranscodeError(f"cannot convert to {target.name}: {type(exc).__name__}: {exc}") from None
    return ds


def write_part10(ds: pydicom.Dataset) -> bytes:
    ds.file_meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    ds.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    target = ds.file_meta.TransferSyntaxUID
    out = io.BytesIO()
    try:
        if target.is_compressed and "PixelData" not in ds:
            ds.save_as(out, enforce_file_format=True, implicit_vr=False, little_endian=True)
        else:
            ds.save_as(out, enforce_file_format=True)
    except Exception as exc:
        raise TranscodeError(f"cannot write {target.name}: {type(exc).__name__}") from None
    return out.getvalue()
