"""The de-identifier: PS3.15 Annex E Basic Application Level Confidentiality Profile and its options,
applied to one object at a time (in memory, file to file, or as a stream).

Never trust a flag: Patient Identity Removed (0012,0062) YES on arrival changes nothing about UIDs.
PS3.18 §8.1.7 allows keeping the SOP Instance UID of content "already anonymized" but does not
require it, and a flag written by another tool (with "keep dates / keep private" methods) says
nothing about its UIDs, so every UID goes through the keyed map. Our own output stays stable: the
map recognises the UIDs it produced under the same key by their check bits (uids.py) and leaves them,
so no object's own original Study, Series or SOP Instance UID ever comes out, whatever it says about
itself. Dates are not shifted again only for our own output (marked YES and its SOP Instance UID
made by this key, which a forger cannot produce): a shift applied twice would move it, while a
foreign YES may have kept the real dates. Every other action applies as usual. All replacements are fixed dummies or keyed values
that map to themselves the second time, and the marking is the union of the old and new codes, so
de-identifying an output again with the same key and options gives identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from . import checks, private
from ..implementation import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from .dates import day_offset
from . import ocr
from .pixels import DeidentificationRefused, PixelRule, RuleChoice, blank_pixels, load_rules
from .profile import MODIFIED_DATES, compile_plan, parse_options
from .marking import PATIENT_IDENTITY_REMOVED, mark, previous_codes
from .plan import ObjectPlan
from .stream import open_stream, reads_whole_object
from .uids import UIDMap, produced_by
from .walk import Context, Walker

_KEYWORD_TAGS = {"SOPInstanceUID": 0x00080018, "StudyInstanceUID": 0x0020000D, "SeriesInstanceUID": 0x0020000E}


def _identity(uid: str) -> str:
    return uid.strip("\0 ")


def _already_deidentified(ds: Dataset) -> bool:
    elem = ds.get(PATIENT_IDENTITY_REMOVED)
    return elem is not None and str(elem.value or "").strip().upper() == "YES"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The identifiers a de-identified object will carry, known from its header alone."""

    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    # The object is read whole (a pixel rule blanks it and OCR verifies it, or its syntax is
    # deflated or big endian: stream.reads_whole_object), work that can still refuse.
    reads_whole_object: bool = False
    # The plan decided from the header, to apply to that same header (stream.rewrite_header) rather
    # than planning again.
    plan: ObjectPlan | None = field(default=None, compare=False, repr=False)


class Deidentifier:
    """One key, one option set, one set of pixel rules; reusable across objects and thread-safe for
    reading (its only mutable state is the UID cache, a dict)."""

    def __init__(self, key: bytes, options: Iterable[str] = (), *, pixel_rules: Sequence[PixelRule] | None = None,
                 verify_pixels: bool | None = None):
        if len(key) < 16:
            raise ValueError("the de-identification key must be at least 16 bytes")
        self.key = bytes(key)
        self.options = parse_options(options)
        self.plan = compile_plan(self.options)
        self.pixel_rules = tuple(load_rules() if pixel_rules is None else pixel_rules)
        self._choose_rule = RuleChoice(self.pixel_rules, clean_pixel_data="CleanPixelDataOption" in self.options,
                                       clean_visual_features="CleanRecognizableVisualFeaturesOption" in self.options)
        self._uid_map = UIDMap(self.key)
        self._retain_uids = "RetainUIDsOption" in self.options
        # OCR after blanking (ocr.py); None: on where tesseract is installed.
        self.verify_pixels = ocr.available() if verify_pixels is None else bool(verify_pixels)

    def map_uid(self, uid: str) -> str:
        """The keyed remap of one UID (identity under Retain UIDs; well-known UIDs never change)."""
        return _identity(uid) if self._retain_uids else self._uid_map(uid)

    # -- the pieces ---------------------------------------------------------------------------
    def plan_object(self, ds: Dataset) -> ObjectPlan:
        """Everything decided from the original values, before any change: refusal, pixel rule,
        UID map and date offset (plan.py). Raises DeidentificationRefused."""
        checks.check_object(ds)
        rule = self._choose_rule.for_object(ds)
        already = _already_deidentified(ds)
        # Under Retain UIDs the table itself says K for the UIDs it retains; its other U rows (a Digital
        # Signature UID, say) are still remapped, so the walk keeps the keyed map.
        map_uid = self._uid_map
        shift = None
        ours = already and produced_by(self.key, str(ds.get("SOPInstanceUID", "") or "").strip("\0 "))
        if MODIFIED_DATES in self.options and not ours:
            shift = day_offset(self.key, str(ds.get("PatientID", "") or ""))
        declared = private.declared_safe(ds) if self.plan.private == "C" else None
        ctx = Context(self.plan, self.key, map_uid, shift, rule.regions if rule else None, declared)
        return ObjectPlan(ctx, rule, already, self._apply)

    def _apply(self, ds: Dataset, plan: ObjectPlan) -> Dataset:
        rule = plan.pixel_rule
        if rule is not None and "PixelData" in ds:
            words = ocr.identifying_words(ds) if self.verify_pixels else frozenset()
            arr = blank_pixels(ds, rule.regions)
            if self.verify_pixels and ocr.shows_identity(arr, int(ds.get("NumberOfFrames", 1) or 1), words):
                raise DeidentificationRefused("text recognition still reads identifying values in the blanked "
                                              "pixel data")
        ts = self._transfer_syntax(ds)
        old_codes = previous_codes(ds) if plan.already_deidentified else set()
        Walker(plan.context).walk(ds)
        mark(ds, self.options, old_codes)
        self._file_meta(ds, ts)
        return ds

    @staticmethod
    def _transfer_syntax(ds: Dataset) -> UID:
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "TransferSyntaxUID" in meta:
            return UID(meta.TransferSyntaxUID)
        implicit = ds.original_encoding[0] if ds.original_encoding[0] is not None else False
        return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian

    @staticmethod
    def _file_meta(ds: Dataset, ts: UID) -> None:
        current = getattr(ds, "file_meta", None)
        if current is not None and "TransferSyntaxUID" in current:
            ts = UID(current.TransferSyntaxUID)  # blanking may have changed it
        meta = FileMetaDataset()
        meta.FileMetaInformationVersion = b"\x00\x01"
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ts
        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        ds.file_meta = meta
        if hasattr(ds, "preamble"):
            ds.preamble = b"\0" * 128  # E.1.1 item 7: the preamble may carry identity too

    # -- public -------------------------------------------------------------------------------
    def decide(self, header: Dataset) -> Outcome:
        """What de-identifying the object with this header will give, without changing anything:
        raises DeidentificationRefused when it will refuse, else the new UIDs. A service answers
        with these before streaming the object (PS3.18 §8.1.7 wants the new SOP Instance UID in the
        response metadata), so a refusal becomes a per-document error instead of a cut connection.
        ``header`` may lack the pixel data; the stream decides the same from the same header."""
        plan = self.plan_object(header)
        remap = self.map_uid
        meta = getattr(header, "file_meta", None)
        blanks = plan.pixel_rule is not None and "PixelData" in header
        whole = reads_whole_object(blanks, UID(meta.TransferSyntaxUID)) \
            if meta is not None and "TransferSyntaxUID" in meta else blanks

        def uid(keyword: str) -> str:
            # Decoded aside, not in the header: RAD-69 writes this same header out (stream.rewrite_header),
            # and an element pydicom decoded in place would be written with its dictionary VR (a UI
            # stored as UN would change), where the profile keeps it as read.
            tag = _KEYWORD_TAGS[keyword]
            if tag not in header:
                return ""
            elem = header.get_item(tag)
            if isinstance(elem, RawDataElement):
                elem = convert_raw_data_element(elem, ds=header)
            return remap(str(elem.value)) if elem.value is not None else ""

        return Outcome(uid("SOPInstanceUID"), uid("StudyInstanceUID"), uid("SeriesInstanceUID"), whole, plan)

    def deidentify(self, ds: Dataset) -> Dataset:
        """De-identify ``ds`` in place (file meta and preamble included) and return it."""
        if getattr(ds, "file_meta", None) is None or "TransferSyntaxUID" not in ds.file_meta:
            ds.file_meta = FileMetaDataset()
            ds.file_meta.TransferSyntaxUID = self._transfer_syntax(ds)
        return self.plan_object(ds).apply(ds)

    def stream(self, src: BinaryIO, *, chunk_size: int = 1 << 20, spans: bool = False):
        """See stream.py. Without ``spans`` every chunk is bytes."""
        return open_stream(self, src, chunk_size, spans)

    def deidentify_file(self, src: str | Path | BinaryIO, dst: str | Path | BinaryIO) -> str:
        """Write the de-identified copy of ``src`` to ``dst``; returns the new SOP Instance UID."""
        if isinstance(src, (str, Path)) and isinstance(dst, (str, Path)) and \
                Path(src).resolve() == Path(dst).resolve():
            raise ValueError("refusing to overwrite the input file")
        with _opened(src, "rb") as fin:
            out = self.stream(fin)
            with _opened(dst, "wb") as fout:
                for chunk in out:
                    fout.write(chunk)
        return out.sop_instance_uid


class _opened:
    """Open a path, or pass a file object through without closing it."""

    def __init__(self, target, mode: str):
        self.target, self.mode, self.f = target, mode, None

    def __enter__(self) -> BinaryIO:
        if isinstance(self.target, (str, Path)):
            self.f = open(self.target, self.mode)  # noqa: SIM115 - closed in __exit__
            return self.f
        return self.target

    def __exit__(self, *exc) -> None:
        if self.f is not None:
            self.f.close()

