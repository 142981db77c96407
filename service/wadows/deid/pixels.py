"""Burned-in text: when pixel data must be cleaned, by what rule, and the blanking itself
(Clean Pixel Data Option, PS3.15 E.3.1; Clean Recognizable Visual Features, E.3.2).

Which objects carry burned-in text is decided before anything else (refusal must come before the
first byte of output):

* Burned In Annotation (0028,0301) YES, or absent on the kinds of object that usually carry
  text in their pixels (modality US, SC, OT, XC, ES, or a Secondary Capture SOP class), counts as
  burned in.
* Under every option set, the basic profile included, a burned-in object needs a matching rule
  (pixel_rules.json: device and frame size -> rectangles) and is blanked by it, else it is refused:
  burned-in text is PHI (PS3.18 §8.1.7 note 2: a server should refuse unless it is certain), and an
  object marked Patient Identity Removed YES with its pixels untouched would be a false promise.
* With CleanPixelDataOption a matching rule is applied even when the object says NO: the rule
  describes the device, which knows better than the flag.
* Recognizable Visual Features YES is refused under every option set: no face or body-surface
  removal is implemented.

Blanking decodes the pixel data (the only case where wadows decodes it). Lossless syntaxes that
pydicom can encode again (RLE Lossless; JPEG 2000 Lossless for one sample per pixel) are encoded
again in the same transfer syntax; everything else is written Explicit VR Little Endian, because
re-encoding a lossy syntax would add a second generation of loss.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydicom.datadict import tag_for_keyword
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
    name: str
    match: Mapping[str, str | int]
    regions: tuple[tuple[int, int, int, int], ...]

    def matches(self, facts: Mapping[str, object]) -> bool:
        for keyword, wanted in self.match.items():
            have = facts.get(keyword)
            if isinstance(wanted, int):
                if have is None or int(have) != wanted:  # type: ignore[call-overload]
                    return False
            elif have is None or str(have).strip().upper() != str(wanted).strip().upper():
                return False
        return True


def load_rules(path: str | Path | None = None) -> tuple[PixelRule, ...]:
    """The rules in ``path``, or the example rules shipped with wadows."""
    if path is None:
        text = resources.files("wadows").joinpath("data", "deid", "pixel_rules.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return tuple(PixelRule(r["name"], dict(r["match"]), tuple(tuple(int(v) for v in reg) for reg in r["regions"]))
                 for r in json.loads(text)["rules"])


# The attributes a rule may match on; read before de-identification changes anything.
FACT_KEYWORDS = ("Manufacturer", "ManufacturerModelName", "Modality", "Rows", "Columns", "SOPClassUID",
                 "BurnedInAnnotation", "RecognizableVisualFeatures", "SoftwareVersions", "StationName")


_FACT_TAGS = tuple((keyword, tag_for_keyword(keyword)) for keyword in FACT_KEYWORDS)


def facts_of(ds: Dataset) -> dict[str, object]:
    out: dict[str, object] = {}
    present = ds._dict  # only decode what is there
    for keyword, tag in _FACT_TAGS:
        if tag in present:
            value = ds[tag].value
            if value is not None and value != "":
                out[keyword] = value
    return out


def burned_in(facts: Mapping[str, object]) -> bool:
    flag = str(facts.get("BurnedInAnnotation", "")).strip().upper()
    if flag:
        return flag == "YES"
    modality = str(facts.get("Modality", "")).strip().upper()
    return modality in TEXT_PRONE_MODALITIES or str(facts.get("SOPClassUID", "")).startswith(SECONDARY_CAPTURE_PREFIX)


def choose_rule(facts: Mapping[str, object], rules: Iterable[PixelRule], *, clean_pixel_data: bool) -> PixelRule | None:
    """The rule to apply, None if the pixels stay as they are; raises DeidentificationRefused."""
    if str(facts.get("RecognizableVisualFeatures", "")).strip().upper() == "YES":
        raise DeidentificationRefused("Recognizable Visual Features is YES and wadows cannot remove them")
    rule = next((r for r in rules if r.matches(facts)), None)
    if burned_in(facts):
        if rule is None:
            raise DeidentificationRefused("the pixel data may contain burned-in text and no blanking rule matches "
                                          "this device and frame size")
        return rule
    return rule if clean_pixel_data else None


def _blank_array(arr, regions: Sequence[tuple[int, int, int, int]], frames: int, samples: int):
    """Zero the rectangles in every frame; arr is (rows, cols[, samples]) or (frames, rows, cols[, samples])."""
    view = arr if frames > 1 else arr[None, ...]
    for x0, y0, x1, y1 in regions:
        view[:, y0:y1, x0:x1, ...] = 0
    return arr


def samples_per_pixel(ds: Dataset) -> int:
    return int(ds.get("SamplesPerPixel", 1) or 1)


def blank_pixels(ds: Dataset, regions: Sequence[tuple[int, int, int, int]]) -> None:
    """Blank ``regions`` of Pixel Data in place, updating the transfer syntax as documented above."""
    if "PixelData" not in ds:
        return
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
