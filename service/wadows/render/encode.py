"""The rendered image as bytes of the chosen media type (PS3.18 §6.4.2.1 ContentType), by Pillow.

Only pixels are written: no EXIF, no comment, no text chunk, no ICC profile, so nothing from the
object's header can travel in the file (an anonymized rendering carries only what was drawn)."""

from __future__ import annotations

import io

from PIL import Image

from .request import GIF, JPEG, PNG


def encode(img: Image.Image, media_type: str, quality: int) -> bytes:
    buf = io.BytesIO()
    if media_type == JPEG:
        # 4:4:4 above 90: a clinician asking for high quality does not want chroma halved.
        img.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2)
    elif media_type == PNG:
        img.save(buf, "PNG", compress_level=6)
    elif media_type == GIF:
        if img.mode == "RGB":
            # GIF holds 256 colours: an adaptive palette, dithered, is the best it can do.
            img = img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
        img.save(buf, "GIF")
    else:  # pragma: no cover - choose_content_type only returns the three above
        raise ValueError(media_type)
    return buf.getvalue()
