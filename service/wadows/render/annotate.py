"""Annotation (PS3.18 §6.2.x, §6.4.2.1): the text a viewer shows, burned into the rendered image.

"patient" is who and which study (name, ID, birth date, sex, study date and description); "technique"
is how the image was made (modality, series, kVp/mA or TR/TE, slice thickness) plus the window and
frame the rendering used. ``annotation_lines`` reads them from a data set; the operation passes the
de-identified one when the request asked for Anonymize, so only dummies, pseudonyms and shifted dates
can be drawn. ``draw`` burns whatever lines it is given into corner bands.

Legibility: the font is scaled with the image (about 1/26 of its shorter side, never below 10 px),
white on an opaque black band, DejaVu Sans (Debian fonts-dejavu-core) when installed, else Pillow's
bundled font, so a 128-px thumbnail is still readable and OCR reads a 512-px rendering.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont
from pydicom import config as pydicom_config
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),            # Fedora/RHEL layout
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
MIN_FONT = 10
FONT_DIVISOR = 26
MAX_CHARS = 64
ANNOTATION_ORDER = ("patient", "technique")
# What each set reads from the header (patient_lines, technique_lines): with Anonymize, only these
# are de-identified for the annotation (retrieve/rendered.py), so a line reading another attribute
# must name it here or it finds nothing (tests/render/test_annotate.py checks the two agree).
ATTRIBUTES = {
    "patient": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyDescription"),
    "technique": ("Modality", "SeriesDescription", "RepetitionTime", "EchoTime", "KVP", "XRayTubeCurrent",
                  "XRayTubeCurrentInmA", "SliceThickness"),
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def font(size: int) -> Font:
    """DejaVu Sans if a candidate path holds it, else Pillow's bundled scalable font (Pillow >= 10.1)."""
    for path in FONT_CANDIDATES:
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def font_size(width: int, height: int) -> int:
    return max(MIN_FONT, round(min(width, height) / FONT_DIVISOR))


def _clean(value: object) -> str:
    """Printable text only: a control character in a header must not reach the drawing."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(value))
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


# A value is read from the bytes read where pydicom's conversion is a split and a strip: ASCII
# text (the same text under every Specific Character Set, no ISO 2022 escape) of the VRs below, and
# numbers pydicom keeps as written. The text is the one pydicom's value gives (tests/render/
# test_annotate.py compares both over every file pydicom ships and random values), without the
# cost of its conversion, which was most of reading the lines; anything else goes through pydicom.
_PLAIN = re.compile(rb"[\x00\x09-\x0d\x20-\x7e]*")
_IS_TEXT = re.compile(r" *[+-]?[0-9]+ *")
_DS_TEXT = re.compile(r" *[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *")


def _raw_text(elem: object) -> str | None:
    """The text of a value as read (str() of pydicom's value, several values joined with a
    backslash), or None when pydicom's conversion must decide it."""
    if type(elem) is not RawDataElement or elem.value is None or _PLAIN.fullmatch(elem.value) is None:
        return None
    vr, text = elem.VR, elem.value.decode("ascii")
    if vr in ("LO", "SH"):
        return "\\".join(v.rstrip("\0 ") for v in text.split("\\"))        # values.convert_text
    if vr == "CS" or (vr == "DA" and not pydicom_config.datetime_conversion):
        return text.rstrip(" \0")                                           # values.multi_string
    numbers = _IS_TEXT if vr == "IS" and not pydicom_config.use_IS_numpy else \
        _DS_TEXT if vr == "DS" and not (pydicom_config.use_DS_numpy or pydicom_config.use_DS_decimal) else None
    if numbers is not None:
        values = text.rstrip(" \0").split("\\")
        if all(numbers.fullmatch(v) and len(v.strip()) <= 16 for v in values):
            return "\\".join(v.strip() for v in values)                        # their original_string
    return None


def _decoded_text(ds: Dataset, keyword: str) -> str:
    """What ``_text`` shows, from pydicom's value."""
    value = ds.get(keyword)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) and hasattr(value, "__iter__") and not hasattr(value, "components"):
        value = "\\".join(str(v) for v in value)
    return _clean(value)


def _text(ds: Dataset, keyword: str) -> str:
    text = _raw_text(ds._dict.get(tag_for_keyword(keyword)))
    if text is None:
        return _decoded_text(ds, keyword)
    return _clean(text) if text else ""


def person_name(ds: Dataset, keyword: str = "PatientName") -> str:
    """PS3.5 §6.2.1: family^given^middle^prefix^suffix, alphabetic group first; shown "Family, Given Middle"."""
    value = ds.get(keyword)
    if not value:
        return ""
    groups = str(value).split("=")
    group = next((g for g in groups if g.strip("^ ")), "")
    parts = [p.strip() for p in group.split("^")] + [""] * 5
    family, given, middle, prefix, suffix = parts[:5]
    rest = " ".join(p for p in (prefix, given, middle, suffix) if p)
    return _clean(f"{family}, {rest}" if family and rest else family or rest)


def date(ds: Dataset, keyword: str) -> str:
    """DA (PS3.5 §6.2) YYYYMMDD shown as YYYY-MM-DD; anything else as it is."""
    text = _text(ds, keyword)
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def _number(ds: Dataset, keyword: str) -> str:
    text = _text(ds, keyword)
    try:
        value = float(text)
    except ValueError:
        return text
    return f"{value:.6g}"


def _join(*parts: str) -> str:
    return "  ".join(p for p in parts if p)


def patient_lines(ds: Dataset) -> list[str]:
    sex = _text(ds, "PatientSex")
    lines = [
        person_name(ds),
        _join(f"ID {_text(ds, 'PatientID')}" if _text(ds, "PatientID") else "",
              f"DOB {date(ds, 'PatientBirthDate')}" if _text(ds, "PatientBirthDate") else "",
              f"Sex {sex}" if sex else ""),
        _join(date(ds, "StudyDate"), _text(ds, "StudyDescription")),
    ]
    return [line for line in lines if line]


def technique_lines(ds: Dataset) -> list[str]:
    modality = _text(ds, "Modality")
    exposure = ""
    if "RepetitionTime" in ds or "EchoTime" in ds:
        exposure = _join(f"TR {_number(ds, 'RepetitionTime')}" if _text(ds, "RepetitionTime") else "",
                         f"TE {_number(ds, 'EchoTime')}" if _text(ds, "EchoTime") else "")
    else:
        current = "XRayTubeCurrent" if _text(ds, "XRayTubeCurrent") else "XRayTubeCurrentInmA"
        exposure = _join(f"{_number(ds, 'KVP')} kVp" if _text(ds, "KVP") else "",
                         f"{_number(ds, current)} mA" if _text(ds, current) else "")
    thickness = f"ST {_number(ds, 'SliceThickness')} mm" if _text(ds, "SliceThickness") else ""
    lines = [_join(modality, _text(ds, "SeriesDescription")), _join(exposure, thickness)]
    return [line for line in lines if line]


def annotation_lines(ds: Dataset, which: Iterable[str]) -> dict[str, list[str]]:
    """The header-derived lines of each requested set; rendering adds the window and frame lines."""
    wanted = set(which)
    out: dict[str, list[str]] = {}
    if "patient" in wanted:
        out["patient"] = patient_lines(ds)
    if "technique" in wanted:
        out["technique"] = technique_lines(ds)
    return out


_TAGS = {name: tuple(int(tag_for_keyword(keyword) or 0) for keyword in keywords) for name, keywords in ATTRIBUTES.items()}


def attribute_tags(which: Iterable[str]) -> tuple[int, ...]:
    """The tags annotation_lines reads for the sets ``which``."""
    wanted = set(which)
    return tuple(tag for name in ANNOTATION_ORDER if name in wanted for tag in _TAGS[name])


@lru_cache(maxsize=32)
def _advances(face: Font) -> dict[str, float]:
    """The advance of each printable ASCII character and of the ellipsis alone, measured once per
    font: what the search for a line's cut starts from (an estimate: kerning and shaping are not in
    it; the measurements decide)."""
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    return {ch: draw.textlength(ch, font=face) for ch in [chr(c) for c in range(0x20, 0x7F)] + ["…"]}


def _fit(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> tuple[str, float]:
    """Cut a line that is wider than the band may be, keeping its start (the name, the ID); with
    the width of what is kept, which the band's size needs."""
    whole = draw.textlength(text, font=face)
    if whole <= width:
        return text, whole
    # The longest start that fits with the ellipsis (a line's width grows with its length), searched
    # from where the characters' own advances put it, in steps that double, then halved: two or
    # three measurements where a bisection over the whole line took five or six (each measurement
    # lays the text out again, and measuring was most of drawing a thumbnail's annotation).
    if len(text) < 2:
        return "", 0.0
    widths: dict[int, float] = {}

    def fits(n: int) -> bool:
        widths[n] = draw.textlength(text[:n] + "…", font=face)
        return widths[n] <= width

    # Known: no start at all fits (``lo`` 0, drawn as nothing) and the whole line does not (``hi``).
    lo, hi = 0, len(text)
    advances = _advances(face)
    other = whole / len(text)  # a character outside the table: the line's average
    room, probe = width - advances["…"], 0
    for ch in text[:hi - 1]:
        room -= advances.get(ch, other)
        if room < 0:
            break
        probe += 1
    probe = max(1, probe)
    step = 1
    if fits(probe):
        lo = probe
        while lo + step < hi and fits(lo + step):
            lo, step = lo + step, step * 2
        hi = min(hi, lo + step)
    else:
        hi = probe
        while hi - step > lo and not fits(hi - step):
            hi, step = hi - step, step * 2
        lo = max(lo, hi - step)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return (text[:lo] + "…", widths[lo]) if lo else ("", 0.0)


def _block(img: Image.Image, lines: Sequence[str], face: Font, size: int, *, bottom: bool) -> None:
    if not lines:
        return
    draw = ImageDraw.Draw(img)
    pad = max(2, size // 4)
    line_height = int(size * 1.25)
    width = img.width - 2 * pad
    fitted = [fit for fit in (_fit(draw, line, face, width) for line in lines) if fit[0]]
    if not fitted:
        return
    shown = [line for line, _ in fitted]
    text_w = max(int(length) for _, length in fitted)
    band_h = line_height * len(shown) + 2 * pad
    top = img.height - band_h if bottom else 0
    black = 0 if img.mode == "L" else (0, 0, 0)
    white = 255 if img.mode == "L" else (255, 255, 255)
    draw.rectangle((0, top, min(img.width, text_w + 2 * pad) - 1, top + band_h - 1), fill=black)
    for n, line in enumerate(shown):
        draw.text((pad, top + pad + n * line_height), line, font=face, fill=white)


def draw(img: Image.Image, lines: Mapping[str, Sequence[str]]) -> Image.Image:
    """Patient lines in the top-left corner, technique lines in the bottom-left (where viewers put them)."""
    out = img.copy()
    size = font_size(out.width, out.height)
    face = font(size)
    _block(out, list(lines.get("patient", ())), face, size, bottom=False)
    _block(out, list(lines.get("technique", ())), face, size, bottom=True)
    return out
