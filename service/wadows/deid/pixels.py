"""Burned-in text: when pixel data must be cleaned, by what rule, and the blanking itself
(Clean Pixel Data Option, PS3.15 E.3.1; Clean Recognizable Visual Features, E.3.2).

Which objects carry burned-in text is decided before anything else (refusal must come before the
first byte of output):

* Burned In Annotation (0028,0301) YES, or absent/empty on the kinds of object that usually carry
  text in their pixels (modality US, SC, OT, XC, ES, or a Secondary Capture SOP class), or
  Recognizable Visual Features YES: the object may carry text.
* Under every option set (PS3.18 §8.1.7 note 2), such an object is blanked by the matching rules of
  pixel_rules.json (deid's recipe, see choose_rule) or refused; it is never marked de-identified with
  its pixels untouched. A matching graylist rule is applied even when the object says NO: the rule
  describes the device, which knows better than the flag. OCR then checks the result (ocr.py).

Blanking decodes the pixel data (the only case where wadows decodes it). Lossless syntaxes that
pydicom can encode again (RLE Lossless; JPEG 2000 Lossless for one sample per pixel) are encoded
again in the same transfer syntax; everything else is written Explicit VR Little Endian, because
re-encoding a lossy syntax would add a second generation of loss.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from ..codeclock import encoding

TEXT_PRONE_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES"})
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"  # SC Image Storage and its multi-frame kin
_REENCODABLE = {RLELossless: None, JPEG2000Lossless: 1}  # TS -> required Samples per Pixel (None: any)


class DeidentificationRefused(Exception):
    """The object cannot be de-identified under the requested profile and options. The message names
    the reason and never a value taken from the object."""


@dataclass(frozen=True)
class PixelRule:
    """One LABEL of deid's recipe (tools/gen_pixel_rules.py), or a legacy {match, regions} rule.

    ``lines`` are deid filter lines, all of which must hold (deid's evaluate_group ANDs the lines of
    a label, whatever their leading + or ||); inside one line the and/or operators apply left to
    right without precedence, as in deid. ``coordinates`` are [keep, "x0,y0,x1,y1" | "all" |
    "from:Field"]; only keep=0 boxes are blanked (deid's default recipe has no keep boxes)."""

    name: str
    match: Mapping[str, str | int]
    regions: tuple[tuple[int, int, int, int], ...]
    section: str = "graylist"
    lines: tuple = ()
    coordinates: tuple = ()

    def matches(self, facts: Mapping[str, object]) -> bool:
        if self.lines:
            return all(_line_holds(line, facts) for line in self.lines)
        if not self.match:
            return bool(self.coordinates or self.regions)  # deid: coordinates without filters always apply
        for keyword, wanted in self.match.items():
            have = facts.get(keyword)
            if isinstance(wanted, int):
                if have is None or str(have).strip() == "" or int(have) != wanted:  # type: ignore[call-overload]
                    return False
            elif have is None or str(have).strip().upper() != str(wanted).strip().upper():
                return False
        return True

    def boxes(self, facts: Mapping[str, object]) -> tuple[tuple[int, int, int, int], ...]:
        out = list(self.regions)
        for keep, coord in self.coordinates:
            if int(keep) != 0:
                continue
            if coord == "all":
                out.append((0, 0, int(facts.get("Columns", 0) or 0), int(facts.get("Rows", 0) or 0)))
            elif not str(coord).startswith("from:"):  # from: needs per-object region parsing: not applied
                x0, y0, x1, y1 = (int(v) for v in str(coord).split(","))
                out.append((x0, y0, x1, y1))
        return tuple(out)


def _text(value: object) -> str:
    """deid compares str(value) lower-cased and stripped (filter.py compareBase/equalsBase)."""
    return str(value).lower().strip()


def _verb(action: str, field: str, value: str, facts: Mapping[str, object]) -> bool:
    present = field in facts
    have = facts.get(field)
    if action == "missing":
        return not present
    if action == "present":
        return present
    if action == "empty":
        return present and (have is None or _text(have) in ("", "[]"))
    if action in ("contains", "notcontains"):
        hit = present and have is not None and re.search(value.lower().strip(), _text(have)) is not None
        return hit if action == "contains" else not hit
    if action in ("equals", "notequals"):
        hit = present and have is not None and _text(have) == value.lower().strip()
        return hit if action == "equals" else not hit
    return False


def _line_holds(line: Mapping[str, Sequence[str]], facts: Mapping[str, object]) -> bool:
    actions, fields, values, ops = line["actions"], line["fields"], line["values"], line["inner_operators"]
    vi = 0
    result = False
    for i, (action, field) in enumerate(zip(actions, fields)):
        value = ""
        if action in ("contains", "notcontains", "equals", "notequals"):
            value = values[vi] if vi < len(values) else ""
            vi += 1
        flag = _verb(action, field, value, facts)
        if i == 0:
            result = flag
        else:
            result = (result or flag) if ops[i - 1] == "or" else (result and flag)
    return result


def load_rules(path: str | Path | None = None) -> tuple[PixelRule, ...]:
    """The rules in ``path``, or the rule set converted from deid's recipe (pixel_rules.json)."""
    if path is None:
        text = resources.files("wadows").joinpath("data", "deid", "pixel_rules.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    out = []
    for r in json.loads(text)["rules"]:
        out.append(PixelRule(r["name"], dict(r.get("match", {})),
                             tuple(tuple(int(v) for v in reg) for reg in r.get("regions", ())),
                             r.get("section", "graylist"), tuple(r.get("lines", ())),
                             tuple(tuple(c) for c in r.get("coordinates", ()))))
    return tuple(out)


def rules_about() -> dict[str, str]:
    """Source, version and digest of the bundled rule set, for /healthz and the README."""
    data = json.loads(resources.files("wadows").joinpath("data", "deid", "pixel_rules.json").read_text("utf-8"))
    return {"source": data.get("source", ""), "version": data.get("deid_version", ""), "sha256": data.get("sha256", "")}


# The attributes the bundled rules and the decision read, before de-identification changes anything.
FACT_KEYWORDS = ("Manufacturer", "ManufacturerModelName", "Modality", "Rows", "Columns", "SOPClassUID",
                 "BurnedInAnnotation", "RecognizableVisualFeatures", "SoftwareVersions", "StationName",
                 "ImageType", "SeriesDescription", "CodeMeaning", "CommentsOnRadiationDose", "NumberOfFrames",
                 "DeviceSerialNumber", "Model", "StudyDescription", "ProtocolName", "DerivationDescription")


def _fact_keywords(rules: Iterable[PixelRule] = ()) -> tuple[str, ...]:
    extra = {f for r in rules for line in r.lines for f in line["fields"]}
    return tuple(dict.fromkeys(FACT_KEYWORDS + tuple(sorted(extra))))


def fact_tags(rules: Iterable[PixelRule] = ()) -> tuple[tuple[str, int], ...]:
    """The (keyword, tag) pairs facts_of reads for ``rules``: worked out once per rule set."""
    return tuple((k, t) for k in _fact_keywords(rules) if (t := tag_for_keyword(k)) is not None)


def facts_of(ds: Dataset, rules: Iterable[PixelRule] = (), *,
             tags: tuple[tuple[str, int], ...] | None = None) -> dict[str, object]:
    """Present attributes (empty ones too: deid tells "missing" from "empty"), top level only as in
    deid, plus the File Meta's Implementation Version Name (deid's MINDRAY rule names it). ``tags``:
    fact_tags(rules), when the caller keeps it."""
    out: dict[str, object] = {}
    present = ds._dict  # only decode what is there
    for keyword, tag in (fact_tags(rules) if tags is None else tags):
        if tag in present:
            elem = present[tag]
            if isinstance(elem, RawDataElement):
                # Decoded aside: an element decoded in place would be written re-encoded, where the
                # profile keeps what it keeps byte for byte (walk.py).
                elem = convert_raw_data_element(elem, ds=ds)
            value = elem.value
            out[keyword] = "" if value is None else value
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "ImplementationVersionName" in meta and "ImplementationVersionName" not in out:
        out["ImplementationVersionName"] = meta.ImplementationVersionName
    return out


def burned_in(facts: Mapping[str, object]) -> bool:
    flag = str(facts.get("BurnedInAnnotation", "")).strip().upper()
    if flag:
        return flag == "YES"
    modality = str(facts.get("Modality", "")).strip().upper()
    return modality in TEXT_PRONE_MODALITIES or str(facts.get("SOPClassUID", "")).startswith(SECONDARY_CAPTURE_PREFIX)


def may_carry_text(facts: Mapping[str, object]) -> bool:
    return burned_in(facts) or str(facts.get("RecognizableVisualFeatures", "")).strip().upper() == "YES"


def choose_rule(facts: Mapping[str, object], rules: Iterable[PixelRule], *, clean_pixel_data: bool = False,
                clean_visual_features: bool = False) -> PixelRule | None:
    """The blanking to apply, None if the pixels stay as they are; raises DeidentificationRefused.

    Applied under every option set (PS3.18 §8.1.7 note 2: refuse unless certain): an object that may
    carry text in its pixels is blanked by every matching graylist rule with coordinates, or refused;
    a blacklist match refuses such an object even when a graylist box matches (deid: "flag, do not
    trust coordinates"); on other images (CT, MR without the flag: the recipe's blacklist has
    site catch-alls such as "secondary or derived" and "missing Image Type") it is recorded only, as
    refusing every derived CT would refuse images with no sign of text; whitelist matches never clear a may-carry-text object (they would
    trust the flag). ``clean_pixel_data`` is accepted for callers and changes nothing: the basic
    profile cannot honestly mark such an object de-identified either."""
    if clean_visual_features and str(facts.get("RecognizableVisualFeatures", "")).strip().upper() == "YES":
        # No face or body-surface removal is implemented, so this option can only refuse such objects.
        raise DeidentificationRefused("Recognizable Visual Features is YES and wadows cannot remove them")
    if "Rows" not in facts:
        return None  # no image: nothing burned in
    hits = [r for r in rules if r.matches(facts)]
    text = may_carry_text(facts)
    if text and any(r.section == "blacklist" for r in hits):
        raise DeidentificationRefused("the object matches a blacklist rule of the burned-in text rule set")
    gray = [r for r in hits if r.section == "graylist"]
    boxes = tuple(dict.fromkeys(b for r in gray for b in r.boxes(facts)))
    if boxes:
        return PixelRule(" + ".join(r.name for r in gray if r.boxes(facts)), {}, boxes)
    if text:
        raise DeidentificationRefused("the pixel data may contain burned-in text and no blanking rule matches "
                                      "this device and frame size")
    return None


class RuleChoice:
    """choose_rule for one rule set and option flags, remembered by the facts it was given.

    The choice depends on nothing but the facts (a few device and image attributes) and the flags,
    and the objects of one series, or one scanner, share them: evaluating every rule of the set
    (about 120 filter lines) for each object repeats the same answer. Refusals are remembered as
    their reason and raised again. Bounded: forgotten all at once when full."""

    def __init__(self, rules: Sequence[PixelRule], *, clean_pixel_data: bool = False,
                 clean_visual_features: bool = False, size: int = 4096) -> None:
        self.rules = tuple(rules)
        self.tags = fact_tags(self.rules)
        self._flags = {"clean_pixel_data": clean_pixel_data, "clean_visual_features": clean_visual_features}
        self._size = size
        self._known: dict[tuple, PixelRule | str | None] = {}

    def facts(self, ds: Dataset) -> dict[str, object]:
        return facts_of(ds, tags=self.tags)

    def for_object(self, ds: Dataset) -> PixelRule | None:
        """The choice for ``ds``, remembered also by the stored bytes of its fact attributes (with their
        VR and the character set that decodes them): a series' objects then skip decoding the facts."""
        present = ds._dict
        charset = ds._character_set
        key: list = [tuple(charset) if isinstance(charset, list) else charset]
        for _keyword, tag in self.tags:
            elem = present.get(tag)
            if elem is None:
                key.append(None)
            elif isinstance(elem, RawDataElement):
                key.append((elem.VR, elem.value))
            else:
                key.append((elem.VR, type(elem.value).__name__, str(elem.value)))
        meta = getattr(ds, "file_meta", None)
        key.append(str(meta.get("ImplementationVersionName", "")) if meta is not None else None)
        return self._known_or(("raw", *key), lambda: self(self.facts(ds)))

    def __call__(self, facts: Mapping[str, object]) -> PixelRule | None:
        # The type too: matching converts with int() and str(), which could tell "512" from 512.
        key = tuple((k, type(v).__name__, str(v)) for k, v in facts.items())
        return self._known_or(key, lambda: choose_rule(facts, self.rules, **self._flags))

    def _known_or(self, key: tuple, choose: Callable[[], PixelRule | None]) -> PixelRule | None:
        try:
            known = self._known[key]
        except KeyError:
            try:
                known = choose()
            except DeidentificationRefused as exc:
                known = str(exc)
            if len(self._known) >= self._size:
                self._known.clear()
            self._known[key] = known
        if isinstance(known, str):
            raise DeidentificationRefused(known)
        return known


def _blank_array(arr, regions: Sequence[tuple[int, int, int, int]], frames: int, samples: int):
    """Zero the rectangles in every frame; arr is (rows, cols[, samples]) or (frames, rows, cols[, samples])."""
    view = arr if frames > 1 else arr[None, ...]
    for x0, y0, x1, y1 in regions:
        view[:, y0:y1, x0:x1, ...] = 0
    return arr


def samples_per_pixel(ds: Dataset) -> int:
    return int(ds.get("SamplesPerPixel", 1) or 1)


def blank_pixels(ds: Dataset, regions: Sequence[tuple[int, int, int, int]]):
    """Blank ``regions`` of Pixel Data in place, updating the transfer syntax as documented above."""
    if "PixelData" not in ds:
        return None
    ts = UID(ds.file_meta.TransferSyntaxUID)
    if ts.is_compressed:
        ds.decompress(generate_instance_uid=False)
    arr = ds.pixel_array.copy()
    if samples_per_pixel(ds) > 1:
        # pixel_array gives colour as interleaved RGB (YBR converted): the header must say so.
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = samples_per_pixel(ds)
    _blank_array(arr, regions, frames, samples)
    target = ts if ts in _REENCODABLE and _REENCODABLE[ts] in (None, samples) else ExplicitVRLittleEndian
    if target != ExplicitVRLittleEndian and target != UID(ds.file_meta.TransferSyntaxUID):
        with encoding(target):
            ds.compress(target, arr, generate_instance_uid=False)
    else:
        ds.PixelData = arr.tobytes()
    ds.BurnedInAnnotation = "NO"
    return arr


def blank_overlay(data: bytes, rows: int, cols: int, regions: Sequence[tuple[int, int, int, int]]) -> bytes:
    """Overlay Data (60xx,3000) is one bit per pixel, little-endian bit order (PS3.5 §8.1.2)."""
    import numpy as np

    n = rows * cols
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
    frames = max(1, len(bits) // n) if n else 0
    plane = bits[: frames * n].reshape(frames, rows, cols)
    for x0, y0, x1, y1 in regions:
        plane[:, y0:y1, x0:x1] = 0
    bits[: frames * n] = plane.reshape(-1)
    out = np.packbits(bits, bitorder="little").tobytes()
    return out + (b"\0" if len(out) % 2 else b"")
