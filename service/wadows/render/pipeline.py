"""Render one frame of one object (PS3.18 2016e §6.4.2 RetrieveRenderedImagingDocumentSet).

Grayscale: Modality LUT -> VOI (request, object window, VOI LUT, min/max) -> MONOCHROME1 inverted,
or the presentation state's pipeline instead (presentation.py). Colour: to RGB (color.py). Then
Region, aspect correction and fit into Rows x Columns, annotation, encoding. The result carries the
parameters actually used, defaults included, for the response to echo (PS3.18 §6.4.2.2).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import BinaryIO, Callable, Mapping, Sequence

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import MPEGTransferSyntaxes

from ..dicom.errors import ErrorCode
from ..dicom.frames import Frame, FrameError, UnsupportedFrame, decode_frame, frame_count, pixel_keyword, \
    transfer_syntax
from . import annotate
from .color import GRAYSCALE, to_rgb
from .encode import encode
from .errors import RenderError
from .geometry import crop, fit, natural_size, pixel_aspect, resize
from .presentation import present
from .request import DEFAULT_MAX_DIMENSION, DEFAULT_QUALITY, JPEG, WHOLE, Region, RenderRequest
from .voi import Window, frame_view, modality_values, to_uint8, voi

# A decoded frame is held as float64 while the LUTs run: 64 Mpx is 512 MB, the most one request
# may cost (PS3.18 §6.4.4 0005 "size exceeds limits" for the rest).
MAX_SOURCE_PIXELS = 64 << 20
_TABLE_LIMIT = 1 << 17   # distinct stored values worth a lookup table (16 bits signed or not)
_PAD_LIMIT = 1 << 16     # unsigned samples index the table directly when it starts this low


@dataclass(frozen=True)
class RenderedParameters:
    rows: int
    columns: int
    region: Region
    window: Window | None          # the window applied (None: colour, or a VOI LUT)
    voi: str | None                # "request", "object window", "VOI LUT", "min/max", "presentation state"
    image_quality: int | None      # JPEG only
    frame_number: int              # 1-based; 1 for a single-frame object
    annotation: tuple[str, ...]
    presentation_uid: str | None

    def response_fields(self) -> dict[str, str]:
        """The RenderedDocumentResponse elements (dcm4che's dicom.wado.ws.2011.xsd) with their text."""
        out = {"Rows": str(self.rows), "Columns": str(self.columns), "Region": self.region.text(),
               "FrameNumber": str(self.frame_number)}
        if self.annotation:
            out["Annotation"] = ",".join(self.annotation)
        if self.window is not None:
            out["WindowWidth"] = f"{self.window.width:.6g}"
            out["WindowCenter"] = f"{self.window.center:.6g}"
        if self.image_quality is not None:
            out["ImageQuality"] = str(self.image_quality)
        if self.presentation_uid:
            out["PresentationUID"] = self.presentation_uid
        order = ("Annotation", "Rows", "Columns", "Region", "WindowWidth", "WindowCenter", "ImageQuality",
                 "PresentationUID", "FrameNumber")
        return {key: out[key] for key in order if key in out}


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mime_type: str
    parameters: RenderedParameters


def check_object(ds: Dataset, request: RenderRequest) -> int:
    """What the object allows, before any pixel is decoded; returns the 0-based frame index."""
    if pixel_keyword(ds) is None:
        # SR, KOS, RT Plan, waveforms, encapsulated documents: nothing to render (PS3.18 §6.4.4).
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "the object has no pixel data to render")
    try:
        ts = transfer_syntax(ds)
    except FrameError:
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "the object names no transfer syntax") from None
    if ts in MPEGTransferSyntaxes:
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "video is not rendered as a still image")
    try:
        frames = frame_count(ds)
        rows, columns = int(ds.Rows), int(ds.Columns)
    except (FrameError, AttributeError, TypeError, ValueError):
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "the Image Pixel module is incomplete") from None
    if rows < 1 or columns < 1:
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "the image has no rows or columns")
    if rows * columns > MAX_SOURCE_PIXELS:
        raise RenderError(ErrorCode.SIZE_EXCEEDS_LIMITS, "the image is larger than the renderer accepts")
    if frames == 1:
        return 0   # PS3.18 §6.2.x: FrameNumber is ignored for a single-frame object
    if request.frame_number is None:
        raise RenderError(ErrorCode.SINGLE_IMAGE_FORMAT_MULTIFRAME, "a multi-frame object needs FrameNumber")
    if not 1 <= request.frame_number <= frames:
        raise RenderError(ErrorCode.FRAME_OUT_OF_RANGE, "FrameNumber is outside the object's frames")
    return request.frame_number - 1


def _decode(ds: Dataset, index: int, open_value: Callable[[], BinaryIO] | None) -> Frame:
    try:
        return decode_frame(ds, index, open_value=open_value)
    except UnsupportedFrame:
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "no installed decoder handles the pixel data") from None
    except FrameError:
        raise RenderError(ErrorCode.PROCESSING_FAILURE, "the pixel data cannot be decoded") from None


def _table_index(stored: np.ndarray, lo: int) -> tuple[np.ndarray, int]:
    """The frame as indexes into a table of its values from ``lo`` up, without an intp copy (numpy's
    take() widens a narrow index as it goes, cheaper than a full int64 frame), and where ``lo`` sits
    in those indexes: unsigned samples index themselves (the table is then padded below ``lo``, a
    few KB at most), signed ones are offset by ``lo`` in their own width, modulo 2**bits, which is
    the exact offset as the value range is below 2**bits, read as unsigned."""
    if stored.dtype.kind == "u" and lo < _PAD_LIMIT:
        return stored, lo
    native = stored.dtype.newbyteorder("=")
    offset = np.subtract(stored, native.type(lo), dtype=native)
    return offset.view(f"u{native.itemsize}"), 0


def _grayscale(frame: Frame, view: Dataset, request: RenderRequest) -> tuple[np.ndarray, Window | None, str]:
    stored = frame.pixels
    if stored.ndim != 2:
        raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "a grayscale image with more than one sample per pixel")
    asked = Window(request.window_center, request.window_width) if request.window_center is not None else None
    lo, hi = (int(stored.min()), int(stored.max())) if stored.dtype.kind in "iu" else (0, -1)
    if 0 <= hi - lo < _TABLE_LIMIT:
        # Integer samples: run Modality LUT, VOI and rounding once per possible value, then index
        # (the same elementwise functions, so the same result, at a fraction of the cost).
        # The per-pixel modality values are built only if min/max needs them (no window, no VOI LUT);
        # one uint8 gather maps the frame.
        table = modality_values(np.arange(lo, hi + 1, dtype=stored.dtype), view)
        index, start = _table_index(stored, lo)
        result = voi(lambda: np.take(table, index - start), view, asked, stored, domain=table)
        lut = to_uint8(result.display)
        if start:
            lut = np.concatenate((np.zeros(start, np.uint8), lut))
        img = np.take(lut, index)
    else:
        result = voi(modality_values(stored, view), view, asked, stored)
        img = to_uint8(result.display)
    if frame.photometric == "MONOCHROME1":
        img = 255 - img    # PS3.3 C.7.6.3.1.2: minimum value is white
    return img, result.window, result.source


def _technique_extra(window: Window | None, voi_source: str | None, frame_number: int, frames: int) -> list[str]:
    parts = []
    if window is not None:
        parts.append(f"W {window.width:.6g}  C {window.center:.6g}")
    elif voi_source == "VOI LUT":
        parts.append("VOI LUT")
    if frames > 1:
        parts.append(f"Frame {frame_number}/{frames}")
    return ["  ".join(parts)] if parts else []


def render(ds: Dataset, request: RenderRequest, *, presentation: Dataset | None = None,
           annotation: Mapping[str, Sequence[str]] | Dataset | None = None,
           open_value: Callable[[], BinaryIO] | None = None,
           max_dimension: int = DEFAULT_MAX_DIMENSION) -> Rendered:
    """Render ``ds`` as ``request`` asks. ``presentation`` is the state PresentationUID resolved to
    (the caller answers 0019/0020 for unknown UIDs); ``annotation`` overrides the lines read from
    ``ds``: the lines themselves, or the data set to read them from (when anonymizing, the
    de-identified one, or the de-identified values of annotate.attribute_tags); ``open_value`` lets
    the decoder read only the frame from the stored file (see dicom.frames.decode_frame)."""
    with warnings.catch_warnings():
        # pydicom warns with element values quoted (PHI when anonymizing): nothing may reach stderr.
        warnings.simplefilter("ignore")
        try:
            return _render(ds, request, presentation, annotation, open_value, max_dimension)
        except RenderError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, IndexError, OverflowError, ZeroDivisionError):
            # A header value the pipeline cannot use (a malformed DS, a LUT shorter than its descriptor):
            # the object's fault, reported as one code with a fixed text, never a traceback.
            raise RenderError(ErrorCode.PROCESSING_FAILURE, "the object's image attributes cannot be used") from None


def _render(ds: Dataset, request: RenderRequest, presentation: Dataset | None,
            annotation: Mapping[str, Sequence[str]] | Dataset | None, open_value: Callable[[], BinaryIO] | None,
            max_dimension: int) -> Rendered:
    mime = request.validate(max_dimension)
    index = check_object(ds, request)
    if request.presentation_uid is not None and presentation is None:
        raise RenderError(ErrorCode.PRESENTATION_UID_UNKNOWN, "the presentation state was not found")
    frame = _decode(ds, index, open_value)
    view = frame_view(ds, index)
    aspect = pixel_aspect(view)
    space = frame.photometric.upper()
    if presentation is not None:
        if space not in GRAYSCALE or frame.pixels.ndim != 2:
            raise RenderError(ErrorCode.CANNOT_PROVIDE_IN_FORMAT, "a grayscale presentation state cannot apply to colour")
        shown = present(frame.pixels, ds, presentation, index + 1, aspect)
        img, window, source, aspect = shown.image, shown.window, "presentation state", shown.aspect
        mode = "L"
    elif space in GRAYSCALE:
        img, window, source = _grayscale(frame, view, request)
        mode = "L"
    else:
        img, window, source, mode = to_rgb(frame, ds), None, None, "RGB"
    region = request.region or WHOLE
    img = crop(img, region)
    picture = Image.fromarray(np.ascontiguousarray(img), mode=mode)
    width, height = natural_size(picture.width, picture.height, aspect)
    size = fit(width, height, request.rows, request.columns)
    picture = resize(picture, size)
    sets = tuple(name for name in annotate.ANNOTATION_ORDER if name in request.annotation)
    frames = frame_count(ds)
    if sets:
        if annotation is None or isinstance(annotation, Dataset):
            lines = annotate.annotation_lines(ds if annotation is None else annotation, sets)
        else:
            lines = dict(annotation)
        lines = {name: list(lines.get(name, ())) for name in sets}
        if "technique" in lines:
            lines["technique"] += _technique_extra(window, source, index + 1, frames)
        picture = annotate.draw(picture, lines)
    quality = (request.image_quality or DEFAULT_QUALITY) if mime == JPEG else None
    data = encode(picture, mime, quality or DEFAULT_QUALITY)
    params = RenderedParameters(rows=picture.height, columns=picture.width, region=region, window=window,
                                voi=source, image_quality=quality, frame_number=index + 1, annotation=sets,
                                presentation_uid=request.presentation_uid)
    return Rendered(data, mime, params)
