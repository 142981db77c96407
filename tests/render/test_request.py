"""Request parsing and validation: each invalid value is urn:dicom:wado:0012, no producible content
type is 0006, and the first producible type in the client's order wins."""

from __future__ import annotations

import pytest

from wadows.render import Region, RenderError, RenderRequest, choose_content_type, parse_region


def code(fn) -> str:
    with pytest.raises(RenderError) as e:
        fn()
    return e.value.code


def test_first_producible_type_wins_and_wildcards_are_jpeg():
    assert choose_content_type(["application/pdf", "image/png", "image/jpeg"]) == "image/png"
    assert choose_content_type(["Image/GIF; q=0.5"]) == "image/gif"
    assert choose_content_type(["video/mpeg", "image/*"]) == "image/jpeg"
    assert choose_content_type(["*/*"]) == "image/jpeg"


def test_no_producible_type_is_0006():
    assert code(lambda: RenderRequest(("application/dicom", "image/jp2")).validate()) == "urn:dicom:wado:0006"
    assert code(lambda: RenderRequest(()).validate()) == "urn:dicom:wado:0006"


def test_from_wire_parses_every_element():
    req = RenderRequest.from_wire(["image/png"], rows="64", columns=" 128 ", region="0.1,0.2,0.9,1",
                                  window_center="40.5", window_width="400", image_quality="75", frame_number="3",
                                  annotation="patient, technique")
    assert (req.rows, req.columns, req.window_center, req.window_width, req.image_quality, req.frame_number) == \
        (64, 128, 40.5, 400.0, 75, 3)
    assert req.region == Region(0.1, 0.2, 0.9, 1.0) and req.annotation == {"patient", "technique"}
    assert RenderRequest.from_wire(["image/png"], rows="", region=None).rows is None


@pytest.mark.parametrize("kw", [
    dict(rows="0"), dict(rows="4097"), dict(columns="-5"), dict(rows="12.5"), dict(columns="abc"),
    dict(image_quality="0"), dict(image_quality="101"), dict(image_quality="high"),
    dict(window_center="40"), dict(window_width="400"),
    dict(window_center="40", window_width="0.5"), dict(window_center="nan", window_width="400"),
    dict(window_center="40", window_width="inf"),
    dict(region="0,0,1"), dict(region="0.5,0,0.4,1"), dict(region="0,0,1.5,1"), dict(region="-0.1,0,1,1"),
    dict(region="a,b,c,d"), dict(region="0,0.5,1,0.5"),
    dict(annotation="patient,dose"), dict(annotation=","),
    dict(window_center="40", window_width="400", presentation_uid="1.2.3"),
    dict(frame_number="-1"), dict(frame_number="one"),
])
def test_invalid_values_are_0012(kw):
    assert code(lambda: RenderRequest.from_wire(["image/jpeg"], **kw)) == "urn:dicom:wado:0012"


def test_the_size_cap_is_configurable():
    assert RenderRequest.from_wire(["image/png"], rows="4096").rows == 4096
    assert code(lambda: RenderRequest.from_wire(["image/png"], rows="600", max_dimension=512)) == "urn:dicom:wado:0012"
    assert code(lambda: RenderRequest(("image/png",), columns=5000).validate()) == "urn:dicom:wado:0012"


def test_region_text_round_trips():
    assert parse_region(" 0.25, 0 ,0.75,1 ").text() == "0.25,0,0.75,1"
