"""Annotation: the lines read from a data set, and the text drawn into the rendered image read back
by Tesseract at 512 px (and at 128 px, the thumbnail size) with DejaVu and with Pillow's own font."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pydicom.data
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from wadows.deid import ocr
from wadows.render import RenderRequest, annotation_lines, render
from wadows.render import annotate

from support.needs import need_tool

BOTH = frozenset({"patient", "technique"})


def load(name: str) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(get_testdata_file(name))


def image(ds, size: int, annotation=BOTH, lines=None) -> np.ndarray:
    out = render(ds, RenderRequest(("image/png",), rows=size, columns=size, annotation=annotation), annotation=lines)
    assert out.parameters.annotation == tuple(n for n in ("patient", "technique") if n in annotation)
    return np.asarray(Image.open(io.BytesIO(out.data)).convert("L"))


def words(arr: np.ndarray) -> str:
    need_tool("tesseract", "tesseract-ocr")
    h = arr.shape[0]
    return ocr.read_text(arr[: h // 3]) + "\n" + ocr.read_text(arr[-(h // 3):])


def has(text: str, expected: str) -> bool:
    """OCR puts or drops spaces between tokens ("TR4000"): compare without them."""
    return "".join(expected.split()) in "".join(text.split())


def data_set(**values) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_lines_from_a_data_set():
    ds = data_set(PatientName="Holloway^Grace^Ann^Dr", PatientID="MRN4815162", PatientBirthDate="19470301",
                  PatientSex="F", StudyDate="20190314", StudyDescription="CT CHEST\x1bW/O", Modality="CT",
                  SeriesDescription="Axial 5mm", KVP="120", XRayTubeCurrent=250, SliceThickness="5.000")
    lines = annotation_lines(ds, ["patient", "technique"])
    assert lines["patient"] == ["Holloway, Dr Grace Ann", "ID MRN4815162  DOB 1947-03-01  Sex F",
                                "2019-03-14  CT CHEST W/O"]
    assert lines["technique"] == ["CT  Axial 5mm", "120 kVp  250 mA  ST 5 mm"]
    mr = load("MR_small.dcm")
    assert annotation_lines(mr, ["technique"]) == {"technique": [
        "MR", f"TR {float(mr.RepetitionTime):g}  TE {float(mr.EchoTime):g}  ST {float(mr.SliceThickness):g} mm"]}
    assert set(annotation_lines(mr, ["patient"])) == {"patient"}


def test_the_lines_read_only_the_attributes_named():
    """With Anonymize only annotate.ATTRIBUTES are de-identified for the lines (retrieve/rendered.py):
    the lines read from those alone are the lines read from the whole data set, for objects that
    carry each of them."""
    ds = data_set(SpecificCharacterSet="ISO_IR 100", PatientName="Müller^Jürgen", PatientID="MRN4815162",
                  PatientBirthDate="19470301", PatientSex="M", StudyDate="20190314", StudyDescription="CT CHEST",
                  Modality="CT", SeriesDescription="Axial 5mm", KVP="120", XRayTubeCurrentInmA="250.5",
                  SliceThickness="5.000")
    others = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted((Path(pydicom.data.__file__).parent / "test_files").rglob("*.dcm")):
            try:
                others.append(pydicom.dcmread(path, stop_before_pixels=True))
            except Exception:
                continue
    assert sum("EchoTime" in o for o in others) > 3 and sum("XRayTubeCurrent" in o for o in others) >= 3
    compared = 0
    for whole in [ds, *others]:
        part = Dataset()
        for tag in (0x00080005, *annotate.attribute_tags(annotate.ANNOTATION_ORDER)):
            if tag in whole:
                part[tag] = whole[tag]
        try:
            expected = annotation_lines(whole, annotate.ANNOTATION_ORDER)
        except Exception:
            continue  # a value the lines cannot use: render() answers it as the object's fault
        assert annotation_lines(part, annotate.ANNOTATION_ORDER) == expected
        compared += any(expected.values())
    assert compared > 50


def test_values_read_from_their_bytes_are_pydicom_s():
    """annotate._text reads ASCII values of the common VRs from their bytes: the text pydicom's
    value gives, for random values of each VR (padding, backslashes, NULs, signs, exponents,
    blanks), for another VR than the dictionary's, and for every file pydicom ships; what pydicom
    refuses is read through pydicom (and refused the same)."""
    import random
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import BaseTag

    rng = random.Random(7)
    keywords = {"LO": "StudyDescription", "SH": "PatientID", "CS": "Modality", "DA": "StudyDate", "DS": "KVP",
                "IS": "XRayTubeCurrent"}
    alphabet = [b" ", b"\\", b"\0", b"\t", b"1", b"2", b"0", b".", b"+", b"-", b"e", b"E", b"A", b"z", b"^", b"\x1b", b"\xe9"]
    fast = 0
    for vr, keyword in keywords.items():
        tag = BaseTag(pydicom.datadict.tag_for_keyword(keyword))
        for _ in range(400):
            data = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
            for charset in (None, "ISO_IR 100", "ISO_IR 192", "GB18030"):
                ds = Dataset()
                if charset:
                    ds.SpecificCharacterSet = charset
                ds._dict[tag] = RawDataElement(tag, vr, len(data), data, 0, False, True)
                fast += annotate._raw_text(ds._dict[tag]) is not None
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        shown = annotate._text(ds, keyword)
                    except Exception as exc:
                        with pytest.raises(type(exc)):
                            annotate._decoded_text(ds, keyword)
                        continue
                    assert shown == annotate._decoded_text(ds, keyword), (vr, data, charset)
    assert fast > 2000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted((Path(pydicom.data.__file__).parent / "test_files").rglob("*.dcm")):
            try:
                read, decoded = (pydicom.dcmread(path, stop_before_pixels=True) for _ in range(2))
            except Exception:
                continue
            for name in annotate.ANNOTATION_ORDER:
                for keyword in annotate.ATTRIBUTES[name]:
                    if keyword != "PatientName" and keyword in read:
                        assert annotate._text(read, keyword) == annotate._decoded_text(decoded, keyword), (path, keyword)


def test_long_values_are_cut():
    ds = Dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # longer than PN allows: exactly the case being tested
        ds.PatientName = "A" * 60 + "^" + "B" * 60
    assert len(annotation_lines(ds, ["patient"])["patient"][0]) == annotate.MAX_CHARS


@pytest.mark.parametrize("size", [10, 13, 20])
def test_a_line_too_wide_keeps_its_longest_start_that_fits(size):
    """_fit's search against measuring every start: the longest whose width with the ellipsis is
    within the band (nothing when none is), over lines and bands of every kind of fit."""
    import random
    from PIL import ImageDraw

    rng = random.Random(size)
    draw = ImageDraw.Draw(Image.new("L", (8, 8)))
    for face in (annotate.font(size), annotate.ImageFont.load_default(size=size)):
        for _ in range(60):
            text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzWMil0123456789 ,.-^ÄÖÜéñ") for _ in range(rng.randint(0, 64)))
            width = rng.randint(-2, 400)
            fitted, length = annotate._fit(draw, text, face, width)
            if draw.textlength(text, font=face) <= width:
                assert (fitted, length) == (text, draw.textlength(text, font=face))
                continue
            starts = [n for n in range(1, len(text)) if draw.textlength(text[:n] + "…", font=face) <= width]
            best = max(starts, default=0)
            assert fitted == (text[:best] + "…" if best else ""), (text, width)
            assert length == (draw.textlength(fitted, font=face) if best else 0.0)


@pytest.mark.tools
def test_ocr_reads_the_annotation_at_512():
    ds = load("MR_small.dcm")
    text = words(image(ds, 512))
    for expected in ("CompressedSamples", "4MR1", "2004-08-26", "MR", "TR 4000", "TE 240", "1600", "600"):
        assert has(text, expected), (expected, text)
    plain = words(image(ds, 512, annotation=frozenset()))
    assert not has(plain, "4MR1") and not has(plain, "TR 4000")


@pytest.mark.tools
def test_ocr_reads_a_128_px_thumbnail():
    text = words(image(load("MR_small.dcm"), 128))
    assert has(text, "4MR1") and has(text, "2004-08-26") and has(text, "TR 4000"), text


@pytest.mark.tools
def test_lines_given_by_the_caller_replace_the_header():
    ds = load("MR_small.dcm")
    text = words(image(ds, 512, lines={"patient": ["PSEUDONYM, KEYED", "ID X7Q2ZK"], "technique": ["MR"]}))
    assert has(text, "PSEUDONYM") and has(text, "X7Q2ZK")
    assert not has(text, "CompressedSamples") and not has(text, "4MR1")


def test_only_the_asked_set_is_drawn():
    ds = load("MR_small.dcm")
    plain, patient = image(ds, 256, frozenset()), image(ds, 256, frozenset({"patient"}))
    assert not np.array_equal(plain[:40], patient[:40])
    assert np.array_equal(plain[-40:], patient[-40:])


@pytest.mark.tools
def test_pillow_font_when_dejavu_is_absent(monkeypatch):
    monkeypatch.setattr(annotate, "FONT_CANDIDATES", ())
    annotate.font.cache_clear()
    try:
        assert not hasattr(annotate.font(20), "path") or "DejaVu" not in str(getattr(annotate.font(20), "path", ""))
        text = words(image(load("MR_small.dcm"), 512))
        assert has(text, "4MR1") and has(text, "TR 4000"), text
    finally:
        annotate.font.cache_clear()


def test_font_scales_with_the_image():
    assert annotate.font_size(128, 128) == annotate.MIN_FONT
    assert annotate.font_size(512, 512) > annotate.font_size(300, 300) > annotate.MIN_FONT
