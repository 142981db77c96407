"""The rendering parameters of one RenderedDocumentRequest (PS3.18 2016e §6.4.2.1), typed and checked.

Every check here is about the request alone; what depends on the object (frames, pixel data, the
transfer syntax) is checked in ``pipeline.check_object``. Values arrive as strings on the wire
(dcm4che's dicom.wado.ws.2011.xsd types them all xs:string), so ``RenderRequest.from_wire`` parses
them; a value that does not parse, or parses outside its range, is urn:dicom:wado:0012.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..dicom.errors import ErrorCode
from .errors import RenderError

JPEG, PNG, GIF = "image/jpeg", "image/png", "image/gif"
PRODUCIBLE = (JPEG, PNG, GIF)
# PS3.18 §6.4.2.1 lets a client list media-range wildcards; JPEG is what every client shows.
WILDCARDS = {"image/*": JPEG, "*/*": JPEG}
ANNOTATIONS = ("patient", "technique")   # PS3.18 §6.2.x Annotation: the two Defined Terms
DEFAULT_MAX_DIMENSION = 4096
DEFAULT_QUALITY = 90                      # used for JPEG when ImageQuality is absent (reported back)

_INT = re.compile(r"^[+]?\d{1,9}$")


@dataclass(frozen=True)
class Region:
    """Region (PS3.18 §6.2.x): the rectangle shown, as fractions 0.0-1.0 of the image's columns (x)
    and rows (y), top-left then bottom-right."""
    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        values = (self.x1, self.y1, self.x2, self.y2)
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "Region values must lie in 0.0-1.0")
        if not (self.x1 < self.x2 and self.y1 < self.y2):
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "Region must have x1 < x2 and y1 < y2")

    def text(self) -> str:
        return ",".join(_decimal(v) for v in (self.x1, self.y1, self.x2, self.y2))


WHOLE = Region(0.0, 0.0, 1.0, 1.0)


def parse_region(text: str) -> Region:
    """"x1,y1,x2,y2" as dcm4che's XSD has it (the XMin/YMin/XMax/YMax child form maps to the same
    four numbers in the SOAP layer)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "Region must be four decimals x1,y1,x2,y2")
    x1, y1, x2, y2 = (parse_decimal(p, "Region") for p in parts)
    return Region(x1, y1, x2, y2)


def parse_decimal(text: str, name: str) -> float:
    try:
        value = float(text.strip())
    except (AttributeError, ValueError):
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, f"{name} is not a decimal number") from None
    if not math.isfinite(value):
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, f"{name} is not a finite number")
    return value


def parse_int(text: str, name: str) -> int:
    text = text.strip()
    if not _INT.match(text):
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, f"{name} is not a positive integer")
    return int(text)


def parse_annotation(text: str) -> frozenset[str]:
    """"patient", "technique" or both, comma separated (PS3.18 §6.2.x Annotation)."""
    tokens = [t.strip().lower() for t in re.split(r"[,\s]+", text) if t.strip()]
    unknown = [t for t in tokens if t not in ANNOTATIONS]
    if unknown or not tokens:
        raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "Annotation must be patient and/or technique")
    return frozenset(tokens)


def _decimal(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def media_type(content_type: str) -> str:
    """The type/subtype of a ContentType, parameters and case dropped (RFC 9110 §8.3.1)."""
    return content_type.split(";", 1)[0].strip().lower()


def choose_content_type(content_types: Iterable[str]) -> str:
    """The first listed type we can produce (PS3.18 §6.4.2.1: the list is in order of preference);
    none -> urn:dicom:wado:0006."""
    for listed in content_types:
        kind = media_type(listed)
        if kind in PRODUCIBLE:
            return kind
        if kind in WILDCARDS:
            return WILDCARDS[kind]
    raise RenderError(ErrorCode.FORMAT_NOT_SUPPORTED, "none of the requested content types can be rendered")


@dataclass(frozen=True)
class RenderRequest:
    """What the client asked for; None means "not asked" (the renderer picks and reports a default)."""
    content_types: tuple[str, ...]
    rows: int | None = None
    columns: int | None = None
    region: Region | None = None
    window_center: float | None = None
    window_width: float | None = None
    image_quality: int | None = None
    frame_number: int | None = None           # 1-based, as on the wire
    annotation: frozenset[str] = field(default_factory=frozenset)
    presentation_uid: str | None = None

    @classmethod
    def from_wire(cls, content_types: Iterable[str], *, rows: str | None = None, columns: str | None = None,
                  region: str | None = None, window_center: str | None = None, window_width: str | None = None,
                  image_quality: str | None = None, frame_number: str | None = None,
                  annotation: str | None = None, presentation_uid: str | None = None,
                  max_dimension: int = DEFAULT_MAX_DIMENSION) -> RenderRequest:
        """Parse the request's string elements (absent or empty = not asked) and validate."""
        def given(value: str | None) -> str | None:
            return value if value is not None and value.strip() else None

        req = cls(
            content_types=tuple(content_types),
            rows=parse_int(rows, "Rows") if given(rows) else None,
            columns=parse_int(columns, "Columns") if given(columns) else None,
            region=parse_region(region) if given(region) else None,
            window_center=parse_decimal(window_center, "WindowCenter") if given(window_center) else None,
            window_width=parse_decimal(window_width, "WindowWidth") if given(window_width) else None,
            image_quality=parse_int(image_quality, "ImageQuality") if given(image_quality) else None,
            frame_number=_frame(frame_number) if given(frame_number) else None,
            annotation=parse_annotation(annotation) if given(annotation) else frozenset(),
            presentation_uid=presentation_uid.strip() if given(presentation_uid) else None,
        )
        req.validate(max_dimension)
        return req

    def validate(self, max_dimension: int = DEFAULT_MAX_DIMENSION) -> str:
        """Check the request on its own; returns the content type that will be produced."""
        for name, value in (("Rows", self.rows), ("Columns", self.columns)):
            if value is not None and not 1 <= value <= max_dimension:
                raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, f"{name} must be 1-{max_dimension}")
        if self.image_quality is not None and not 1 <= self.image_quality <= 100:
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "ImageQuality must be 1-100")
        if (self.window_center is None) != (self.window_width is None):
            # PS3.18 §6.2.x: windowWidth and windowCenter are required together.
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "WindowCenter and WindowWidth must be given together")
        if self.window_width is not None and not (math.isfinite(self.window_width) and self.window_width >= 1):
            # PS3.3 C.11.2.1.2.1: Window Width >= 1 for the LINEAR function the request implies.
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "WindowWidth must be at least 1")
        if self.window_center is not None and not math.isfinite(self.window_center):
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "WindowCenter is not a finite number")
        if self.window_center is not None and self.presentation_uid is not None:
            # PS3.18 §6.2.x: the presentation state's VOI and an explicit window exclude each other.
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "a window cannot be given with PresentationUID")
        if not self.annotation <= set(ANNOTATIONS):
            raise RenderError(ErrorCode.INVALID_PARAMETER_VALUE, "Annotation must be patient and/or technique")
        if self.region is not None:
            Region(self.region.x1, self.region.y1, self.region.x2, self.region.y2)
        return choose_content_type(self.content_types)


def _frame(text: str) -> int:
    return parse_int(text, "FrameNumber")
