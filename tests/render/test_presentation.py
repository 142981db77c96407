"""A synthetic Grayscale Softcopy Presentation State applied to CT_small, checked against numpy:
VOI, inversion, Presentation LUT, rotation and flip, displayed area, the three shutter shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from support.rendered import GSPS, presentation_state
from wadows.render import RenderError, RenderRequest, render

from .reference import decoded, eight_bit, linear, rescaled

def ct() -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(get_testdata_file("CT_small.dcm"))


def state(image: pydicom.Dataset, **attrs) -> Dataset:
    ps = presentation_state(image, "2.25.1")
    for key, value in attrs.items():
        setattr(ps, key, value)
    return ps


def shown(image, ps, **kw) -> np.ndarray:
    out = render(image, RenderRequest(("image/png",), presentation_uid=ps.SOPInstanceUID, **kw), presentation=ps)
    assert out.parameters.voi == "presentation state" and out.parameters.presentation_uid == "2.25.1"
    return decoded(out.data)


def windowed(image) -> np.ndarray:
    return eight_bit(linear(rescaled(image.pixel_array, image), 40, 400))


def test_voi_and_identity():
    image = ct()
    assert np.array_equal(shown(image, state(image)), windowed(image))


def test_inverse_presentation_lut():
    image = ct()
    assert np.array_equal(shown(image, state(image, PresentationLUTShape="INVERSE")), 255 - windowed(image))


def test_presentation_lut_sequence():
    image = ct()
    ps = state(image)
    del ps.PresentationLUTShape
    lut = Dataset()
    lut.LUTDescriptor = [256, 0, 8]
    lut.LUTData = [255 - i for i in range(256)]   # a ramp down: inversion by table
    ps.PresentationLUTSequence = Sequence([lut])
    assert np.array_equal(shown(image, ps), 255 - windowed(image))


@pytest.mark.parametrize("rotation, flip", [(90, "N"), (180, "N"), (270, "Y"), (0, "Y")])
def test_rotation_then_flip(rotation, flip):
    image = ct()
    want = np.rot90(windowed(image), k=-rotation // 90)   # clockwise
    if flip == "Y":
        want = want[:, ::-1]
    assert np.array_equal(shown(image, state(image, ImageRotation=rotation, ImageHorizontalFlip=flip)), want)


def test_rotation_of_a_non_square_area():
    image = ct()
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [11, 21]    # column\row, 1-based
    area.DisplayedAreaBottomRightHandCorner = [100, 60]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    ps = state(image, ImageRotation=90, DisplayedAreaSelectionSequence=Sequence([area]))
    got = shown(image, ps)
    assert got.shape == (90, 40)
    assert np.array_equal(got, np.rot90(windowed(image)[20:60, 10:100], k=-1))


def test_displayed_area_outside_the_image_is_black():
    image = ct()
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [-9, 1]
    area.DisplayedAreaBottomRightHandCorner = [128, 128]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    got = shown(image, state(image, DisplayedAreaSelectionSequence=Sequence([area])))
    assert got.shape == (128, 138) and not got[:, :10].any()
    assert np.array_equal(got[:, 10:], windowed(image))


def test_shutters():
    image = ct()
    rows, cols = np.mgrid[1:129, 1:129]
    rect = (cols >= 20) & (cols <= 100) & (rows >= 30) & (rows <= 90)
    ps = state(image, ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=20, ShutterRightVerticalEdge=100,
               ShutterUpperHorizontalEdge=30, ShutterLowerHorizontalEdge=90, ShutterPresentationValue=0xFFFF)
    assert np.array_equal(shown(image, ps), np.where(rect, windowed(image), 255))
    circle = (rows - 64) ** 2 + (cols - 70) ** 2 <= 40 ** 2
    ps = state(image, ShutterShape="CIRCULAR\\RECTANGULAR", CenterOfCircularShutter=[64, 70],
               RadiusOfCircularShutter=40, ShutterLeftVerticalEdge=20, ShutterRightVerticalEdge=100,
               ShutterUpperHorizontalEdge=30, ShutterLowerHorizontalEdge=90)
    assert np.array_equal(shown(image, ps), np.where(circle & rect, windowed(image), 0))
    # A triangle (row\column vertices): inside points shown, outside points shuttered.
    ps = state(image, ShutterShape="POLYGONAL", VerticesOfThePolygonalShutter=[10, 10, 10, 110, 110, 10],
               ShutterPresentationValue=0x8000)
    got, full = shown(image, ps), windowed(image)
    triangle = (rows >= 10) & (cols >= 10) & (rows + cols <= 120)
    interior = triangle & (rows > 11) & (cols > 11) & (rows + cols < 118)
    assert np.array_equal(got[interior], full[interior])
    assert (got[~triangle & ~((rows + cols <= 122) & (rows >= 9) & (cols >= 9))] == 128).all()


def test_the_state_must_reference_the_image():
    image = ct()
    ps = state(image)
    ps.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID = "2.25.99"
    with pytest.raises(RenderError) as e:
        shown(image, ps)
    assert e.value.code == "urn:dicom:wado:0012"
    ps = state(image)
    ps.SOPClassUID = "1.2.840.10008.5.1.4.1.1.11.2"   # Color Softcopy Presentation State
    with pytest.raises(RenderError) as e:
        shown(image, ps)
    assert e.value.code == "urn:dicom:wado:0012"


def test_a_missing_state_is_0019_and_a_window_with_it_0012():
    image = ct()
    with pytest.raises(RenderError) as e:
        render(image, RenderRequest(("image/png",), presentation_uid="2.25.1"))
    assert e.value.code == "urn:dicom:wado:0019"
    with pytest.raises(RenderError) as e:
        render(image, RenderRequest(("image/png",), presentation_uid="2.25.1", window_center=1, window_width=2),
               presentation=state(image))
    assert e.value.code == "urn:dicom:wado:0012"


def test_a_malformed_state_is_0012():
    image = ct()
    ps = state(image, ShutterShape="RECTANGULAR")   # edges missing
    with pytest.raises(RenderError) as e:
        shown(image, ps)
    assert e.value.code == "urn:dicom:wado:0012"
