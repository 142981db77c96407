"""Burned-in text: refusals (Clean Pixel Data and Clean Recognizable Visual Features options) and
blanking by rule, in uncompressed and compressed pixel data and in overlays."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, SecondaryCaptureImageStorage

from wadows.deid import DeidentificationRefused, Deidentifier, PixelRule, load_rules

from .objects import KEY, make_ct, to_bytes

RULE = PixelRule("test US banner", {"Modality": "US", "Manufacturer": "Test Echo", "Rows": 32, "Columns": 48},
                 ((0, 0, 48, 6), (40, 28, 48, 32)))


def _us(burned_in: str | None = None):
    ds = make_ct(rows=32, cols=48)
    ds.Modality = "US"
    ds.Manufacturer = "Test Echo"
    ds.PixelData = np.full(32 * 48, 1000, dtype=np.uint16).tobytes()
    if burned_in is None:
        del ds.BurnedInAnnotation
    else:
        ds.BurnedInAnnotation = burned_in
    return ds


def _run(ds, *options, rules=(RULE,)):
    data = b"".join(Deidentifier(KEY, options, pixel_rules=rules).stream(io.BytesIO(to_bytes(ds))))
    return pydicom.dcmread(io.BytesIO(data))


@pytest.mark.parametrize("flag", [None, "YES"])
def test_basic_profile_refuses_burned_in_without_a_rule(flag):
    with pytest.raises(DeidentificationRefused) as err:
        _run(_us(flag), rules=())
    assert "Doe" not in str(err.value) and "Test Echo" not in str(err.value)


@pytest.mark.parametrize("flag", [None, "YES"])
def test_basic_profile_blanks_by_a_matching_rule(flag):
    out = _run(_us(flag))
    assert np.all(out.pixel_array[0:6] == 0) and out.pixel_array[10, 10] == 1000
    assert out.BurnedInAnnotation == "NO" and out.PatientIdentityRemoved == "YES"


@pytest.mark.parametrize("flag", [None, "YES"])
def test_clean_pixel_data_without_matching_rule_is_refused(flag):
    with pytest.raises(DeidentificationRefused, match="no blanking rule"):
        _run(_us(flag), "CleanPixelDataOption", rules=())


def test_secondary_capture_without_flag_counts_as_burned_in():
    ds = make_ct()
    del ds.BurnedInAnnotation
    ds.SOPClassUID = SecondaryCaptureImageStorage
    with pytest.raises(DeidentificationRefused):
        _run(ds, "CleanPixelDataOption", rules=())


def test_ct_without_burned_in_text_needs_no_rule():
    out = _run(make_ct(), "CleanPixelDataOption", rules=())
    assert "113101" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, RLELossless])
def test_rule_blanks_regions_in_every_frame_and_keeps_the_syntax(ts):
    ds = _us("YES")
    ds.NumberOfFrames = 2
    ds.PixelData = np.full(2 * 32 * 48, 1000, dtype=np.uint16).tobytes()
    if ts == RLELossless:
        ds.compress(RLELossless, generate_instance_uid=False)
    out = _run(ds, "CleanPixelDataOption")
    arr = out.pixel_array
    assert out.file_meta.TransferSyntaxUID == ts
    assert np.all(arr[:, 0:6, :] == 0) and np.all(arr[:, 28:32, 40:48] == 0)
    assert np.all(arr[:, 6:28, :] == 1000)
    assert out.BurnedInAnnotation == "NO"
    assert "113101" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]


def test_blanking_is_idempotent():
    deid = Deidentifier(KEY, ["CleanPixelDataOption"], pixel_rules=[RULE])
    once = b"".join(deid.stream(io.BytesIO(to_bytes(_us("YES")))))
    assert b"".join(deid.stream(io.BytesIO(once))) == once


def test_overlay_blanked_with_clean_graphics_and_a_rule():
    ds = _us("YES")
    ds.add_new(0x60000010, "US", 32)
    ds.add_new(0x60000011, "US", 48)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", b"\xff" * (32 * 48 // 8))
    out = _run(ds, "CleanPixelDataOption", "CleanGraphicsOption")
    bits = np.unpackbits(np.frombuffer(out[0x60003000].value, np.uint8), bitorder="little").reshape(32, 48)
    assert np.all(bits[0:6] == 0) and np.all(bits[6:28] == 1)


def test_recognizable_visual_features():
    ds = make_ct()
    ds.RecognizableVisualFeatures = "YES"
    with pytest.raises(DeidentificationRefused, match="Recognizable"):
        _run(ds, "CleanRecognizableVisualFeaturesOption")
    ds.RecognizableVisualFeatures = "NO"
    out = _run(ds, "CleanRecognizableVisualFeaturesOption")
    assert "113102" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    del ds.RecognizableVisualFeatures
    out = _run(ds, "CleanRecognizableVisualFeaturesOption")
    assert "113102" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert "RecognizableVisualFeatures" not in out  # never claimed NO on its own


def test_bundled_rules_load():
    rules = load_rules()
    assert len(rules) > 100 and {r.section for r in rules} == {"whitelist", "graylist", "blacklist"}
    assert sum(1 for r in rules if r.coordinates) > 100


def test_colour_ybr_is_written_as_rgb_after_blanking():
    ds = _us("YES")
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.full(32 * 48 * 3, 128, dtype=np.uint8).tobytes()
    out = _run(ds, "CleanPixelDataOption")
    assert out.PhotometricInterpretation == "RGB"
    arr = out.pixel_array
    assert arr.shape == (32, 48, 3) and np.all(arr[0:6] == 0) and np.all(arr[10, 10] == arr[10, 10, 0])
