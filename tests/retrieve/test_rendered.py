"""RetrieveRenderedImagingDocumentSet over HTTP with raw SOAP, on real objects (pydicom's test files):
the images decoded and compared with render() called directly, every error code from a request that
triggers it, PartialSuccess/Failure, Region's two spellings, the presentation state, and Anonymize
rendering exactly what RAD-69 returns for the same object and key."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pydicom
import pytest
from PIL import Image

from conftest import run_server
from support.rad69 import EXPLICIT_LE, Doc, parse_response, request_xml
from support.rendered import PIXEL_RULES, GSPS_SERIES, GSPS_UID, RDoc, build_store, read, rendered_documents, rendered_xml
from wadows.render import RenderRequest, render
from wadows.retrieve.errors import ErrorCode

UNKNOWN = "1.2.3.4.5.6.7.8.9.999999"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("rendered-store")
    return root, build_store(root)


@pytest.fixture(scope="module")
def srv(store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rendered-server")
    rules = tmp / "rules.json"
    rules.write_text(json.dumps(PIXEL_RULES))
    running, thread = run_server(store[0], tmp, render__max_dimension=1024, deid__pixel_rules=str(rules))
    yield running
    thread.close()


@pytest.fixture(scope="module")
def objs(store):
    return store[1]


def ask(srv, docs, **kw):
    r = srv.post(rendered_xml(docs, **kw))
    assert r.status_code == 200, r.text[:800]
    resp = parse_response(r.headers["Content-Type"], r.content)
    return resp, rendered_documents(resp)


def rdoc(srv, obj, content_types=("image/png",), **params) -> RDoc:
    region = params.pop("region_children", None)
    return RDoc(obj.study, obj.series, obj.sop, srv.repository, params, content_types, region)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_png_is_exactly_what_render_gives_and_the_parameters_are_echoed(srv, objs):
    ct = objs["CT_small.dcm"]
    resp, (doc,) = ask(srv, [rdoc(srv, ct, Rows="64", Columns="64", WindowCenter="40", WindowWidth="400")])
    assert resp.status == "Success" and not resp.errors
    direct = render(read(ct.path), RenderRequest(("image/png",), rows=64, columns=64, window_center=40, window_width=400))
    assert doc.mime_type == doc.content_type == "image/png" and doc.source_uid == ct.sop
    assert np.array_equal(pixels(doc.data), pixels(direct.data))
    assert doc.fields == {"Rows": "64", "Columns": "64", "Region": "0,0,1,1", "WindowWidth": "400",
                          "WindowCenter": "40", "FrameNumber": "1"}
    assert resp.header("Action") == "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSetResponse"


def test_jpeg_defaults_are_reported_and_decode_close_to_render(srv, objs):
    mr = objs["MR_small.dcm"]
    _, (doc,) = ask(srv, [rdoc(srv, mr, ("image/gif;q=0.1", "image/*"))])  # GIF is producible: chosen first
    assert doc.mime_type == "image/gif"
    _, (doc,) = ask(srv, [rdoc(srv, mr, ("text/html", "image/*"), ImageQuality="80")])
    assert doc.mime_type == "image/jpeg" and doc.data[:3] == b"\xff\xd8\xff"
    direct = render(read(mr.path), RenderRequest(("image/jpeg",), image_quality=80))
    assert doc.data == direct.data  # the same encoder on the same pixels
    assert doc.fields["ImageQuality"] == "80" and "WindowWidth" in doc.fields  # the object's window, reported
    assert doc.fields["Rows"] == str(read(mr.path).Rows)  # never upscaled, nothing asked


def test_region_in_both_spellings_gives_the_same_image(srv, objs):
    ct = objs["CT_small.dcm"]
    _, (a,) = ask(srv, [rdoc(srv, ct, Region="0.25,0.25,0.75,0.75")])
    _, (b,) = ask(srv, [rdoc(srv, ct, region_children=("0.25", "0.25", "0.75", "0.75"))])
    assert a.data == b.data and a.fields["Region"] == "0.25,0.25,0.75,0.75"
    assert pixels(a.data).shape == (64, 64)


def test_rgb_multiframe_and_partial_success_in_request_order(srv, objs):
    rgb, emri = objs["SC_rgb.dcm"], objs["emri_small.dcm"]
    resp, docs = ask(srv, [rdoc(srv, rgb), rdoc(srv, emri, FrameNumber="3"),
                           RDoc(rgb.study, rgb.series, UNKNOWN, srv.repository)])
    assert resp.status == "PartialSuccess"
    assert [d.source_uid for d in docs] == [rgb.sop, emri.sop]
    assert pixels(docs[0].data).ndim == 3 and docs[1].fields["FrameNumber"] == "3"
    direct = render(read(emri.path), RenderRequest(("image/png",), frame_number=3))
    assert np.array_equal(pixels(docs[1].data), pixels(direct.data))
    (err,) = resp.errors
    assert err["errorCode"] == ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR.value and err["location"] == UNKNOWN



@pytest.mark.parametrize("anonymize", [False, True])
def test_a_real_multiframe_file_renders_the_frame_asked_for(srv, objs, anonymize):
    """pydicom's emri_small.dcm (10 frames of 64 x 64 MR, 12 of 16 bits, no window): each frame asked
    for through the served operation is that frame, against an independent numpy rendering of it
    (no window in the object: a LINEAR_EXACT window from the frame's minimum to its maximum,
    C.11.2.1.3.2), and no other frame's rendering."""
    from render.reference import eight_bit, linear_exact, rescaled

    emri = objs["emri_small.dcm"]
    ds = read(emri.path)
    frames = ds.pixel_array
    values = [rescaled(frame, ds) for frame in frames]
    expected = [eight_bit(linear_exact(x, (x.min() + x.max()) / 2, x.max() - x.min())) for x in values]
    extra = {"Anonymize": "yes"} if anonymize else {}
    for number in (1, 6, 10):
        resp, (doc,) = ask(srv, [rdoc(srv, emri, FrameNumber=str(number), **extra)])
        assert resp.status == "Success" and doc.fields["FrameNumber"] == str(number)
        got = pixels(doc.data)
        assert got.shape == (64, 64)
        matches = [k + 1 for k, want in enumerate(expected) if np.array_equal(got, want)]
        assert matches == [number]
        assert (doc.source_uid != emri.sop) is anonymize


ERRORS = [
    ("0006", "CT_small.dcm", {}, ("application/dicom", "text/plain")),
    ("0007", "rtplan.dcm", {}, ("image/png",)),
    ("0008", "emri_small.dcm", {}, ("image/png",)),
    ("0018", "emri_small.dcm", {"FrameNumber": "11"}, ("image/png",)),
    ("0012", "CT_small.dcm", {"Rows": "1025"}, ("image/png",)),          # above [render] max_dimension
    ("0012", "CT_small.dcm", {"Region": "0.5,0.5,0.2,0.9"}, ("image/png",)),
    ("0012", "CT_small.dcm", {"WindowWidth": "400"}, ("image/png",)),     # without WindowCenter
    ("0012", "CT_small.dcm", {"ImageQuality": "101"}, ("image/jpeg",)),
    ("0012", "CT_small.dcm", {"Annotation": "everything"}, ("image/png",)),
    ("0012", "CT_small.dcm", {"Anonymize": "no"}, ("image/png",)),
    ("0012", "CT_small.dcm", {"PresentationUID": "not a uid"}, ("image/png",)),
    ("0012", "MR_small.dcm", {"PresentationUID": GSPS_UID}, ("image/png",)),  # the state is not about MR_small
    ("0019", "CT_small.dcm", {"PresentationUID": UNKNOWN}, ("image/png",)),
    ("0020", "CT_small.dcm", {"PresentationUID": GSPS_UID, "PresentationSeriesUID": "1.2.3.4"}, ("image/png",)),
]


@pytest.mark.parametrize("code,name,params,types", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_each_error_code_from_a_request_that_triggers_it(srv, objs, code, name, params, types):
    obj = objs[name]
    resp, docs = ask(srv, [rdoc(srv, obj, types, **params), rdoc(srv, objs["CT_small.dcm"])])
    assert resp.status == "PartialSuccess" and len(docs) == 1
    (err,) = resp.errors
    assert err["errorCode"] == f"urn:dicom:wado:{code}" and err["location"] == obj.sop
    assert err["codeContext"] and "Traceback" not in err["codeContext"]


VENDOR = 'xmlns:v="urn:example:vendor"'
EXTENSIONS = [
    {"ContentTypeList": f"<v:Sharpen {VENDOR}>2</v:Sharpen>"},        # where the XSD's wildcard admits it
    {"DocumentUniqueId": f"<v:Sharpen {VENDOR}>2</v:Sharpen>"},       # before the parameters
    {"Rows": "<wado:Gamma>1.8</wado:Gamma>"},                         # a WADO name this server does not know
]


@pytest.mark.parametrize("extra", EXTENSIONS, ids=["vendor-last", "vendor-first", "wado-unknown"])
def test_a_parameter_the_server_does_not_know_is_0013_for_its_document(srv, objs, extra):
    ct = objs["CT_small.dcm"]
    asked = replace(rdoc(srv, ct, Rows="64"), extra=extra)
    resp, docs = ask(srv, [asked, rdoc(srv, objs["MR_small.dcm"])])
    assert resp.status == "PartialSuccess" and [d.source_uid for d in docs] == [objs["MR_small.dcm"].sop]
    (err,) = resp.errors
    assert err["errorCode"] == ErrorCode.UNSUPPORTED_PARAMETER.value and err["location"] == ct.sop
    assert "Sharpen" in err["codeContext"] or "Gamma" in err["codeContext"]
    # the same document without it is rendered
    resp, docs = ask(srv, [rdoc(srv, ct, Rows="64")])
    assert resp.status == "Success" and len(docs) == 1


def test_an_unknown_parameter_does_not_excuse_known_ones_out_of_order(srv, objs):
    asked = replace(rdoc(srv, objs["CT_small.dcm"], Rows="64", Columns="64"),
                    extra={"Rows": "<wado:Gamma>1.8</wado:Gamma>"})
    body = rendered_xml([asked]).replace(b"<wado:Rows>64</wado:Rows>", b"").replace(
        b"</wado:Columns>", b"</wado:Columns><wado:Rows>64</wado:Rows>")
    r = srv.post(body)
    assert r.status_code in (400, 500) and b"does not match the schema" in r.content and b"Rows" in r.content


def test_identity_errors_and_failure(srv, objs):
    ct = objs["CT_small.dcm"]
    resp, docs = ask(srv, [RDoc(ct.study, ct.series, ct.sop, "1.2.3.999"),
                           RDoc(ct.study, "1.2.3.4", ct.sop, srv.repository)])
    assert resp.status == "Failure" and docs == []
    assert [e["errorCode"] for e in resp.errors] == [ErrorCode.XDS_UNKNOWN_REPOSITORY_ID.value,
                                                     ErrorCode.INCONSISTENT_IDENTIFIERS.value]


def test_presentation_state_is_applied(srv, objs):
    ct = objs["CT_small.dcm"]
    resp, docs = ask(srv, [rdoc(srv, ct, PresentationUID=GSPS_UID, PresentationSeriesUID=GSPS_SERIES)])
    assert resp.status == "Success", resp.errors
    (doc,) = docs
    direct = render(read(ct.path), RenderRequest(("image/png",), presentation_uid=GSPS_UID),
                    presentation=read(objs["gsps"].path))
    assert np.array_equal(pixels(doc.data), pixels(direct.data))
    assert doc.fields["PresentationUID"] == GSPS_UID and doc.fields["PresentationSeriesUID"] == GSPS_SERIES


def test_too_many_documents_is_0005_in_the_rendered_response(store, tmp_path):
    running, thread = run_server(store[0], tmp_path, server__max_documents=2)
    try:
        ct = store[1]["CT_small.dcm"]
        docs = [RDoc(ct.study, ct.series, ct.sop, running.repository)] * 3
        resp, out = ask(running, docs)
    finally:
        thread.close()
    assert resp.status == "Failure" and out == []
    assert resp.envelope.find(".//{urn:dicom:wado:ws:2011}RetrieveRenderedImagingDocumentSetResponse") is not None
    assert [e["errorCode"] for e in resp.errors] == [ErrorCode.SIZE_EXCEEDS_LIMITS.value]


def test_both_action_prefixes_and_no_action(srv, objs):
    ct = objs["CT_small.dcm"]
    for action in ("urn:dicom:ws:wado:2011:RetrieveRenderedImagingDocumentSet", None):
        resp, (doc,) = ask(srv, [rdoc(srv, ct)], action=action)
        assert resp.status == "Success"
    r = srv.post(rendered_xml([rdoc(srv, ct)], action="urn:ihe:rad:2009:RetrieveImagingDocumentSet"))
    assert r.status_code >= 400 and b"Fault" in r.content


def test_anonymized_rendering_is_the_rendering_of_what_rad69_returns(srv, objs):
    """Same object, same key: SourceDocumentUniqueId is RAD-69's DocumentUniqueId, and the pixels are
    those of RAD-69's de-identified object (blanked by the same rule), or both refuse with 0001."""
    outcomes = []
    for name in ("CT_small.dcm", "burned", "US1_J2KR.dcm", "SC_rgb.dcm"):
        obj = objs[name]
        r = srv.post(request_xml([Doc(obj.study, obj.series, obj.sop, srv.repository, "yes")],
                                 (EXPLICIT_LE, "1.2.840.10008.1.2.4.90")))
        rad69 = parse_response(r.headers["Content-Type"], r.content)
        resp, docs = ask(srv, [rdoc(srv, obj, Anonymize="yes", Annotation="patient,technique")])
        outcomes.append("refused" if rad69.errors else "rendered")
        if rad69.errors:
            assert [e["errorCode"] for e in resp.errors] == [e["errorCode"] for e in rad69.errors]
            assert ErrorCode.UNABLE_TO_ANONYMIZE.value in [e["errorCode"] for e in resp.errors]
            continue
        ((uid, data),) = rad69.documents()
        (doc,) = docs
        assert doc.source_uid == uid != obj.sop and doc.fields["Anonymize"] == "yes"
        deidentified = pydicom.dcmread(io.BytesIO(data))
        direct = render(deidentified, RenderRequest(("image/png",), annotation=frozenset({"patient", "technique"})))
        assert np.array_equal(pixels(doc.data), pixels(direct.data)), name
        if name == "burned":
            # the banner the rule names is blank in the rendering, and was not without Anonymize
            # (no annotation band drawn over it here)
            _, (plain,) = ask(srv, [rdoc(srv, obj)])
            _, (blanked,) = ask(srv, [rdoc(srv, obj, Anonymize="yes")])
            band = (slice(2, 14), slice(8, 120))
            assert pixels(plain.data)[band].min() == 255 and pixels(blanked.data)[band].max() == 0
    assert outcomes == ["rendered", "rendered", "refused", "refused"]


def test_anonymized_presentation_state_follows_the_new_uids(srv, objs):
    ct = objs["CT_small.dcm"]
    resp, (doc,) = ask(srv, [rdoc(srv, ct, Anonymize="yes", PresentationUID=GSPS_UID,
                                  PresentationSeriesUID=GSPS_SERIES)])
    assert resp.status == "Success"
    assert doc.fields["PresentationUID"] not in (GSPS_UID, "") and doc.fields["PresentationSeriesUID"] != GSPS_SERIES
    # The GSPS window is what was applied (the same picture as without Anonymize: CT_small has no burned-in text).
    _, (plain,) = ask(srv, [rdoc(srv, ct, PresentationUID=GSPS_UID)])
    assert np.array_equal(pixels(doc.data), pixels(plain.data))
