"""Burned-in fixtures drawn with Pillow: a name, an ID and a date in the pixels of US and SC objects."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.uid import SecondaryCaptureImageStorage, UltrasoundImageStorage, UltrasoundMultiFrameImageStorage

from .objects import make_ct

WORDS = ("HOLLOWAY", "MRN4815162", "2019-03-14")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _frame(rows: int, cols: int, top: int) -> np.ndarray:
    img = Image.new("L", (cols, rows), 20)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype(FONT, 14)
    except OSError:
        font = ImageFont.load_default()
    draw.text((8, top), "HOLLOWAY^JANE  MRN4815162  2019-03-14", fill=235, font=font)
    draw.ellipse((cols // 3, rows // 3, cols // 2, rows // 2), fill=120)
    return np.asarray(img)


def make_burned(*, modality: str = "US", rgb: bool = False, frames: int = 1, flag: str | None = None,
                real_rule: bool = False):
    """real_rule: a Philips iU22 480x640 US, which deid's recipe blanks at ctpcoordinates 0,0,640,47."""
    rows, cols = (480, 640) if real_rule else (120, 400)
    ds = make_ct(rows=rows, cols=cols)
    ds.Modality = modality
    ds.PatientName = "HOLLOWAY^JANE"
    ds.PatientID = "MRN4815162"
    ds.StudyDate = "20190314"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    if real_rule:
        ds.Manufacturer, ds.ManufacturerModelName = "Philips Medical Systems", "iU22"
    else:
        ds.Manufacturer, ds.ManufacturerModelName = "Nowhere Imaging", "NX-1"
    if modality == "US":
        ds.SOPClassUID = UltrasoundMultiFrameImageStorage if frames > 1 else UltrasoundImageStorage
    else:
        ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    for kw in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        if kw in ds:
            delattr(ds, kw)
    planes = [_frame(rows, cols, 14) for _ in range(frames)]
    arr = np.stack(planes)
    if rgb:
        arr = np.repeat(arr[..., None], 3, axis=-1)
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameIncrementPointer = 0x00181063
        ds.FrameTime = 40
    ds.PixelData = arr.astype(np.uint8).tobytes()
    if "BurnedInAnnotation" in ds:
        del ds.BurnedInAnnotation
    if flag is not None:
        ds.BurnedInAnnotation = flag
    return ds
