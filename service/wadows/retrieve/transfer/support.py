"""Which transfer syntaxes wadows reads and writes, and the RAD-69 choice among those a client lists.

The table is built from pydicom's own decoder and encoder registries at import, so it says what this
installation can do: adding an encoder package (pyjpegls for JPEG-LS) turns its syntaxes writable
without a code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from pydicom.pixels import get_decoder, get_encoder
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)


@dataclass(frozen=True)
class TransferSyntaxSupport:
    uid: str
    name: str
    can_read: bool
    can_write: bool
    via: str
    lossy_when_written: bool = False


# Native (uncompressed) pixel data; only Explicit VR Big Endian is not written: PS3.5 retired it.
UNCOMPRESSED_WRITABLE = (ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian)

# What writing each syntax costs in fidelity. JPEG 2000 (.91) may hold a reversible codestream, but
# pydicom's encoder only makes the irreversible one, so writing it is lossy (PS3.3 C.7.6.1.1.5 marking).
LOSSY_WHEN_WRITTEN = frozenset({JPEG2000, JPEGLSNearLossless, HTJ2K})

# Decoded output of these is lossy whatever the header says: the DCT processes (PS3.5 §8.2.1).
ALWAYS_LOSSY = frozenset({JPEGBaseline8Bit, JPEGExtended12Bit})

_ENCAPSULATED = (
    JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1, JPEGLSLossless, JPEGLSNearLossless,
    JPEG2000Lossless, JPEG2000, HTJ2KLossless, HTJ2KLosslessRPCL, HTJ2K, RLELossless,
)

# pydicom's plugin name "pylibjpeg" stands for one of three pylibjpeg packages, by syntax family.
_PYLIBJPEG_PACKAGE = {
    **dict.fromkeys((JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1,
                     JPEGLSLossless, JPEGLSNearLossless), "pylibjpeg-libjpeg"),
    **dict.fromkeys((JPEG2000Lossless, JPEG2000, HTJ2KLossless, HTJ2KLosslessRPCL, HTJ2K), "pylibjpeg-openjpeg"),
    RLELossless: "pylibjpeg-rle",
}


def preferred_plugin(uid: UID, *, encoder: bool) -> str:
    """pylibjpeg when it serves the syntax, so decoding does not depend on which of Pillow and
    pylibjpeg pydicom happens to try first; "" lets pydicom pick among the rest."""
    codec = codec_for(uid, encoder=encoder)
    plugins = codec.available_plugins if codec is not None else ()
    return "pylibjpeg" if "pylibjpeg" in plugins else ""


def codec_for(uid: UID, *, encoder: bool) -> Any:
    """pydicom's decoder or encoder for ``uid`` when one of its plugins is installed, else None."""
    try:
        codec = get_encoder(uid) if encoder else get_decoder(uid)
    except NotImplementedError:
        return None
    return codec if codec.is_available else None


def _via(uid: UID, codec, *, encoder: bool) -> str:
    if codec is None:
        return "-"
    plugin = preferred_plugin(uid, encoder=encoder) or codec.available_plugins[0]
    return _PYLIBJPEG_PACKAGE.get(uid, plugin) if plugin == "pylibjpeg" else plugin


def _compressed_row(uid: UID) -> TransferSyntaxSupport:
    decoder, encoder = codec_for(uid, encoder=False), codec_for(uid, encoder=True)
    via = f"decode: {_via(uid, decoder, encoder=False)}; encode: {_via(uid, encoder, encoder=True)}"
    return TransferSyntaxSupport(uid, uid.name, decoder is not None, encoder is not None, via, uid in LOSSY_WHEN_WRITTEN)


SUPPORTED: tuple[TransferSyntaxSupport, ...] = (
    *(TransferSyntaxSupport(u, u.name, True, True, "pydicom (header) + own streaming writer") for u in UNCOMPRESSED_WRITABLE),
    TransferSyntaxSupport(ExplicitVRBigEndian, ExplicitVRBigEndian.name, True, False, "pydicom (retired: read only)"),
    *(_compressed_row(u) for u in _ENCAPSULATED),
)
_BY_UID = {s.uid: s for s in SUPPORTED}


def can_produce(stored_ts: str, target_ts: str, *, has_pixel_data: bool = True) -> bool:
    """Whether an object stored in ``stored_ts`` can be sent in ``target_ts``.

    With ``has_pixel_data=False`` (SR, KOS, PR...) any encapsulated syntax we know is producible even
    without its encoder: PS3.5 §A.4 applies those syntaxes to encapsulated Pixel Data only, and the
    rest of the data set is Explicit VR Little Endian, so such an object is written Explicit VR Little
    Endian under the requested UID. dcm4che does the same; refusing would fail every SR of a study
    whose client lists only compressed syntaxes.
    """
    if stored_ts == target_ts:
        return True
    stored, target = _BY_UID.get(stored_ts), _BY_UID.get(target_ts)
    if stored is None or target is None or not stored.can_read:
        return False
    if not has_pixel_data and UID(target_ts).is_compressed:
        return True
    return target.can_write


def choose_transfer_syntax(stored_ts: str, requested: Sequence[str], *,
                           has_pixel_data: bool = True) -> str | None:
    """IHE RAD TF-3 4.69.4.1.2: the first listed syntax that can be produced; None means the caller
    answers urn:dicom:wado:0007. Unknown UIDs are skipped, not an error (a client may list syntaxes
    newer than us). PS3.18's fallback to Explicit VR Little Endian is deliberately not applied."""
    for ts in requested:
        ts = ts.strip()
        if can_produce(stored_ts, ts, has_pixel_data=has_pixel_data):
            return ts
    return None
