"""Rendered pixels against an independent numpy computation (reference.py) on real files from
pydicom's test data: PNG compared exactly, JPEG within a tolerance."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.uid import MPEG4HP41, MPEG2MPML, HEVCMP51

from wadows.render import RenderError, RenderRequest, render

from .reference import decoded, eight_bit, linear, linear_exact, lut_lookup, min_max, rescaled, sigmoid, ybr_full_to_rgb

PNG = ("image/png",)


def load(name: str) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(get_testdata_file(name))


def png(ds, **kw) -> tuple[np.ndarray, object]:
    out = render(ds, RenderRequest(PNG, **kw))
    assert out.mime_type == "image/png"
    return decoded(out.data), out.parameters


def test_ct_with_the_requested_window():
    ds = load("CT_small.dcm")
    got, used = png(ds, window_center=40, window_width=400)
    want = eight_bit(linear(rescaled(ds.pixel_array, ds), 40, 400))
    assert np.array_equal(got, want)
    assert (used.window.center, used.window.width, used.voi) == (40, 400, "request")
    assert used.response_fields() == {"Rows": "128", "Columns": "128", "Region": "0,0,1,1",
                                      "WindowWidth": "400", "WindowCenter": "40", "FrameNumber": "1"}


def test_mr_uses_its_first_window():
    ds = load("MR_small.dcm")
    got, used = png(ds)
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    assert np.array_equal(got, eight_bit(linear(rescaled(ds.pixel_array, ds), center, width)))
    assert used.voi == "object window" and used.window.center == center


def test_without_a_window_the_value_range_is_used():
    ds = load("CT_small.dcm")
    for kw in ("WindowCenter", "WindowWidth"):
        ds.pop(kw, None)
    got, used = png(ds)
    assert np.array_equal(got, min_max(rescaled(ds.pixel_array, ds)))
    assert used.voi == "min/max"


@pytest.mark.parametrize("function, formula", [("LINEAR_EXACT", linear_exact), ("SIGMOID", sigmoid)])
def test_voi_lut_functions(function, formula):
    ds = load("MR_small.dcm")
    ds.VOILUTFunction = function
    got, used = png(ds)
    want = eight_bit(formula(rescaled(ds.pixel_array, ds), float(ds.WindowCenter), float(ds.WindowWidth)))
    assert used.window.function == function
    assert np.abs(got.astype(int) - want).max() <= 1 and np.mean(got == want) > 0.999


def test_monochrome1_is_inverted():
    ds = load("RG1_UNCR.dcm")
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    got, _ = png(ds, window_center=2000, window_width=3000)
    assert np.array_equal(got, 255 - eight_bit(linear(rescaled(ds.pixel_array, ds), 2000, 3000)))


def test_modality_lut_sequence():
    ds = load("mlut_18.dcm")
    item = ds.ModalityLUTSequence[0]
    values = lut_lookup(ds.pixel_array, item.LUTDescriptor, item.LUTData)
    got, used = png(ds, window_center=float(values.mean()), window_width=float(np.ptp(values)))
    assert np.array_equal(got, eight_bit(linear(values, float(values.mean()), float(np.ptp(values)))))


def test_voi_lut_sequence():
    ds = load("vlut_04.dcm")
    for kw in ("WindowCenter", "WindowWidth"):
        ds.pop(kw, None)
    item = ds.VOILUTSequence[0]
    bits = int(item.LUTDescriptor[2])
    want = eight_bit(lut_lookup(rescaled(ds.pixel_array, ds), item.LUTDescriptor, item.LUTData) / (2 ** bits - 1) * 255)
    got, used = png(ds)
    assert used.voi == "VOI LUT" and used.window is None and "WindowWidth" not in used.response_fields()
    assert np.array_equal(got, want)


def test_region_crops_before_scaling():
    ds = load("CT_small.dcm")
    got, used = png(ds, window_center=40, window_width=400, region=_region(0.25, 0.5, 0.75, 1.0))
    full = eight_bit(linear(rescaled(ds.pixel_array, ds), 40, 400))
    assert np.array_equal(got, full[64:128, 32:96])
    assert used.response_fields()["Region"] == "0.25,0.5,0.75,1"


def _region(*v):
    from wadows.render import Region
    return Region(*v)


def test_downscale_is_lanczos_and_fits_the_box():
    ds = load("CT_small.dcm")
    got, used = png(ds, window_center=40, window_width=400, rows=64, columns=100)
    full = eight_bit(linear(rescaled(ds.pixel_array, ds), 40, 400))
    assert got.shape == (64, 64) and (used.rows, used.columns) == (64, 64)
    assert np.array_equal(got, np.asarray(Image.fromarray(full).resize((64, 64), Image.Resampling.LANCZOS)))
    # A real low-pass filter: close to the 2x2 mean, unlike nearest-neighbour picking.
    box = full.reshape(64, 2, 64, 2).astype(float).mean(axis=(1, 3))
    nearest = full[::2, ::2].astype(float)
    assert np.abs(got - box).mean() < np.abs(nearest - box).mean()


def test_fits_the_box_and_keeps_the_size_when_none_is_asked():
    ds = load("US1_J2KR.dcm")   # 640 x 480
    assert png(ds)[0].shape[:2] == (480, 640)
    assert png(ds, rows=1000, columns=320)[0].shape[:2] == (240, 320)
    assert png(ds, rows=120)[0].shape[:2] == (120, 160)


def test_pixel_aspect_ratio_and_unequal_spacing():
    ds = load("color-px.dcm")  # Pixel Aspect Ratio 4\3: pixels taller than wide
    arr, _ = png(ds)
    assert arr.shape[:2] == (round(int(ds.Rows) * 4 / 3), int(ds.Columns))
    ct = load("CT_small.dcm")
    ct.PixelSpacing = [0.5, 1.0]  # rows 0.5 mm apart, columns 1 mm: pixels twice as wide as tall
    assert png(ct)[0].shape == (128, 256)
    assert png(ct, rows=64, columns=64)[0].shape == (32, 64)


def test_rgb_as_stored_and_ybr_converted():
    ds = load("SC_rgb.dcm")
    assert np.array_equal(png(ds)[0], ds.pixel_array)
    ybr = load("SC_ybr_full_uncompressed.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = ybr.pixel_array if ybr.PhotometricInterpretation != "YBR_FULL" else _raw(ybr)
    got = png(ybr)[0].astype(int)
    assert np.abs(got - ybr_full_to_rgb(raw)).max() <= 1
    # The same picture as SC_rgb, up to the rounding of the stored YBR samples.
    assert np.abs(got - np.asarray(ds.pixel_array, dtype=int)).mean() < 1


def _raw(ds) -> np.ndarray:
    from pydicom.pixels import pixel_array
    return pixel_array(ds, raw=True)


def test_ybr_full_422_and_jpeg_baseline_colour():
    ref = load("SC_rgb.dcm").pixel_array.astype(int)
    for name in ("SC_ybr_full_422_uncompressed.dcm", "SC_rgb_dcmtk_+eb+cy+s2.dcm", "SC_rgb_jpeg_dcmtk.dcm"):
        got = png(load(name))[0].astype(int)
        assert got.shape == ref.shape and np.abs(got - ref).mean() < 3, name


def test_palette_colour():
    ds = load("OBXXXX1A.dcm")
    stored = ds.pixel_array
    channels = []
    for colour in ("Red", "Green", "Blue"):
        descriptor = getattr(ds, f"{colour}PaletteColorLookupTableDescriptor")
        data = np.frombuffer(getattr(ds, f"{colour}PaletteColorLookupTableData"), dtype="<u2")
        channels.append(lut_lookup(stored, descriptor, data) / (2 ** int(descriptor[2]) - 1) * 255)
    assert np.array_equal(png(ds)[0], eight_bit(np.stack(channels, axis=-1)))


def test_multiframe_frame_and_its_errors():
    ds = load("emri_small.dcm")
    got, used = png(ds, frame_number=4)
    stored = ds.pixel_array[3]
    assert np.array_equal(got, min_max(rescaled(stored, ds))) if "WindowCenter" not in ds else True
    assert used.frame_number == 4
    with pytest.raises(RenderError) as e:
        render(ds, RenderRequest(PNG))
    assert e.value.code == "urn:dicom:wado:0008"
    for frame in (0, int(ds.NumberOfFrames) + 1):
        with pytest.raises(RenderError) as e:
            render(ds, RenderRequest(PNG, frame_number=frame))
        assert e.value.code == "urn:dicom:wado:0018"
    # Ignored for a single-frame object.
    assert png(load("CT_small.dcm"), frame_number=7)[1].frame_number == 1


def test_enhanced_multiframe_uses_the_frame_functional_groups():
    ds = load("liver.dcm")
    got, used = png(ds, frame_number=2)
    groups = ds.PerFrameFunctionalGroupsSequence[1]
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    voi = next((g.FrameVOILUTSequence[0] for g in (groups, shared) if g is not None and "FrameVOILUTSequence" in g), None)
    stored = ds.pixel_array[1]
    if voi is not None:
        want = eight_bit(linear(stored.astype(float), float(voi.WindowCenter), float(voi.WindowWidth)))
        assert used.voi == "object window"
    else:
        want = min_max(stored.astype(float))
    assert np.array_equal(got, want)


def test_jpeg_within_tolerance_and_quality_reported():
    ds = load("CT_small.dcm")
    want = eight_bit(linear(rescaled(ds.pixel_array, ds), 40, 400)).astype(int)
    sizes = {}
    for q in (95, 30):
        out = render(ds, RenderRequest(("image/jpeg",), window_center=40, window_width=400, image_quality=q))
        assert out.mime_type == "image/jpeg" and out.parameters.image_quality == q
        got = decoded(out.data).astype(int)
        assert np.abs(got - want).mean() < (2 if q == 95 else 6)
        sizes[q] = len(out.data)
    assert sizes[30] < sizes[95]
    default = render(ds, RenderRequest(("*/*",)))
    assert default.mime_type == "image/jpeg" and default.parameters.image_quality == 90
    assert default.data[:2] == b"\xff\xd8"


def test_gif_grayscale_is_exact():
    ds = load("CT_small.dcm")
    out = render(ds, RenderRequest(("image/gif",), window_center=40, window_width=400))
    img = Image.open(io.BytesIO(out.data))
    assert out.data[:6] in (b"GIF87a", b"GIF89a") and out.parameters.image_quality is None
    assert np.array_equal(np.asarray(img.convert("L")), eight_bit(linear(rescaled(ds.pixel_array, ds), 40, 400)))


@pytest.mark.parametrize("name", ["rtplan.dcm", "test-SR.dcm", "waveform_ecg.dcm"])
def test_non_image_objects_are_0007(name):
    with pytest.raises(RenderError) as e:
        render(load(name), RenderRequest(PNG))
    assert e.value.code == "urn:dicom:wado:0007"


@pytest.mark.parametrize("ts", [MPEG2MPML, MPEG4HP41, HEVCMP51])
def test_video_transfer_syntaxes_are_0007(ts):
    ds = load("CT_small.dcm")
    ds.file_meta.TransferSyntaxUID = ts
    with pytest.raises(RenderError) as e:
        render(ds, RenderRequest(PNG))
    assert e.value.code == "urn:dicom:wado:0007"


def test_undecodable_pixel_data_is_an_error_code_not_a_traceback():
    with pytest.raises(RenderError) as e:
        render(load("MR_truncated.dcm"), RenderRequest(PNG))
    assert e.value.code == "urn:dicom:wado:0014"


def test_no_warning_escapes(capsys):
    ds = load("CT_small.dcm")
    # A malformed DS, as read from a file: pydicom warns about it quoting the value when it is used.
    ds._dict[Tag("RescaleIntercept")] = RawDataElement(Tag("RescaleIntercept"), "DS", 12, b"MRN-4815162 ", 0,
                                                       False, True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            render(ds, RenderRequest(PNG))
        except RenderError as e:
            assert "4815162" not in e.message
    assert not [w for w in caught if "4815162" in str(w.message)]
    assert "4815162" not in capsys.readouterr().err


def test_frame_read_from_the_file_renders_the_same():
    name = "emri_small_jpeg_2k_lossless.dcm"
    path = get_testdata_file(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = pydicom.dcmread(path, defer_size=1024)
    offset = header._dict[0x7FE00010].value_tell
    with open(path, "rb") as f:
        def open_value():
            f.seek(offset)
            return f
        from_file = render(header, RenderRequest(PNG, frame_number=8), open_value=open_value)
    assert from_file.data == render(load(name), RenderRequest(PNG, frame_number=8)).data
