"""With Anonymize, a rendering without presentation state or pixel rule is made from the stored
header (retrieve/rendered.py _renders_as_stored), not from the de-identified one, and its annotation
from its attributes de-identified alone (deid/attributes.py): the answer must be the one the
de-identified header gives. Every Part-10 object pydicom and pydicom-data ship, the bundled samples
and a burned-in CT go through RetrieveRenderedImagingDocumentSet twice, with the stored-header path
and with it switched off (every document then de-identified before rendering, as it always was),
under six option sets, two of them with the annotation drawn; the images, their parameters, the
SourceDocumentUniqueIds and the errors must be identical, byte for byte. Without Anonymize, the
stored header remembered after a first rendering must render the same as one read again."""

from __future__ import annotations

import collections
import json
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

import wadows
from deid.objects import KEY
from support.needs import unavailable
from support.rendered import PIXEL_RULES, burned_in
from wadows.deid import load_rules
from wadows.deid.pixels import PixelRule
from wadows.retrieve import rendered
from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.retrieve.rendered import RenderedDocumentRequest, RenderedRequest, retrieve_rendered_imaging_document_set
from wadows.samples.ct_study import generate_ct_study
from wadows.security.uids import is_valid_uid
from wadows.store.filestore import FileStore

pytestmark = pytest.mark.slow

REPO = "1.2.3.4.5"
BUNDLED = Path(wadows.__file__).parent / "data" / "samples"
# (options, content type, rendering parameters): one request shape per option set, so the corpus
# is rendered as full-size PNG, 128-px JPEG thumbnails, a windowed region and a GIF, and annotated.
CASES = {
    "basic": ((), "image/png", {}),
    "clean descriptors, modified dates": (("CleanDescriptorsOption", "RetainLongitudinalTemporalInformationModifiedDatesOption"),
                                          "image/jpeg", {"rows": "128", "columns": "128", "image_quality": "90"}),
    "retain UIDs, device identity": (("RetainUIDsOption", "RetainDeviceIdentityOption"), "image/jpeg",
                                     {"region": "0.1,0.1,0.9,0.8", "window_center": "40", "window_width": "400"}),
    "clean pixel data, graphics": (("CleanPixelDataOption", "CleanGraphicsOption"), "image/gif", {"rows": "64"}),
    # The annotation's text then comes from its attributes de-identified alone (deid/attributes.py).
    "annotated, basic": ((), "image/png", {"annotation": "patient,technique"}),
    "annotated thumbnails, modified dates, patient characteristics": (
        ("RetainLongitudinalTemporalInformationModifiedDatesOption", "RetainPatientCharacteristicsOption",
         "CleanDescriptorsOption"), "image/jpeg", {"rows": "128", "columns": "128", "annotation": "patient,technique"}),
}


def _part10(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(132)[128:] == b"DICM"


def _uid(path: Path) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        except Exception:  # noqa: BLE001 - unreadable or UID-less: no store holds it
            return None


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The corpus in as few file stores as its duplicated SOP Instance UIDs allow (pydicom's test
    files share UIDs between variants of one image; a store holds one object per UID)."""
    files = [Path(p) for p in sorted(set(get_testdata_files())) if Path(p).is_file()]
    if len(files) < 200:
        unavailable("pydicom-data is not installed (fewer than 200 test files)")
    tmp = tmp_path_factory.mktemp("stored-corpus")
    extra = tmp / "extra"
    extra.mkdir()
    burned_in(pydicom.dcmread(get_testdata_file("CT_small.dcm"))).save_as(extra / "burned.dcm",
                                                                          enforce_file_format=True)
    files += sorted(BUNDLED.rglob("*.dcm")) + generate_ct_study(extra / "ct", n_instances=1) + [extra / "burned.dcm"]
    groups: list[dict[str, Path]] = []
    for path in files:
        uid = _uid(path) if _part10(path) else None
        if uid is None or not is_valid_uid(uid):
            continue
        group = next((g for g in groups if uid not in g), None)
        if group is None:
            groups.append(group := {})
        group[uid] = path
    out = []
    for n, group in enumerate(groups):
        root = tmp / f"store-{n}"
        root.mkdir()
        for k, path in enumerate(group.values()):
            shutil.copy(path, root / f"{k}-{path.name}")
        fs = FileStore(root, tmp / f"index-{n}.sqlite")
        fs.refresh()
        docs = []
        for uid in group:
            instance = fs.lookup(uid)
            if instance is not None:
                docs.append(DocumentRequest(instance.study_uid, instance.series_uid, REPO, uid, anonymize="yes"))
        out.append((fs, docs))
    yield out
    for fs, _ in out:
        fs.close()


def _answers(source, docs, content_type, params):
    request = RenderedRequest(tuple(RenderedDocumentRequest(d, (content_type,), frame_number="2", **params)
                                    for d in docs))
    result = retrieve_rendered_imaging_document_set(source, request)
    return ([(d.source_document_unique_id, d.mime_type, d.parameters, d.data) for d in result.documents],
            [(e.code, e.context, e.location) for e in result.errors], result.status)


@pytest.mark.parametrize("case", list(CASES))
def test_rendered_from_the_stored_header_is_the_de_identified_rendering(stores, case, monkeypatch, tmp_path):
    options, content_type, params = CASES[case]
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps(PIXEL_RULES))
    rules: list[PixelRule] = list(load_rules()) + list(load_rules(rules_file))
    stored_used = []
    as_stored = rendered._renders_as_stored

    def counting(*args):
        decided = as_stored(*args)
        stored_used.append(decided)
        return decided

    rendered_docs = 0
    codes: collections.Counter[str] = collections.Counter()
    for fs, docs in stores:
        source = ImagingDocumentSource(fs, SourceSettings(frozenset({REPO})),
                                       Anonymizers(KEY, options, pixel_rules=rules, verify_pixels=False))
        monkeypatch.setattr(rendered, "_renders_as_stored", counting)
        fast = _answers(source, docs, content_type, params)
        monkeypatch.setattr(rendered, "_renders_as_stored", lambda *args: False)
        walked = _answers(source, docs, content_type, params)
        assert fast[1] == walked[1] and fast[2] == walked[2]
        assert [d[:3] for d in fast[0]] == [d[:3] for d in walked[0]]
        assert [d[3] for d in fast[0]] == [d[3] for d in walked[0]]
        rendered_docs += len(fast[0])
        codes.update(e[0].value for e in fast[1])
    # The comparison is not vacuous: most of the corpus rendered, most of it by the stored header,
    # and some documents (the burned-in CT's pixel rule) still went the de-identified way.
    print(f"\n{case}: {rendered_docs} rendered, {stored_used.count(True)} from the stored header, errors {dict(codes)}")
    assert rendered_docs >= 80, rendered_docs
    assert stored_used.count(True) >= 60 and False in stored_used


def test_rendering_again_from_the_remembered_header_is_the_same(stores, monkeypatch):
    """Without Anonymize a stored header, once read, is remembered ([render] header_cache_mib): the
    corpus rendered a second time (annotated, windowed, as a region: every attribute the renderer
    reads) must give what it gave the first time and what a server remembering nothing gives."""
    reads = []
    read = rendered.header_and_offset
    monkeypatch.setattr(rendered, "header_and_offset", lambda f: reads.append(1) or read(f))
    params = {"annotation": "patient,technique", "region": "0.1,0.1,0.9,0.8", "rows": "96"}
    first_reads = second_reads = remembered = 0
    for fs, docs in stores:
        plain = [replace(d, anonymize=None) for d in docs]
        remembering = ImagingDocumentSource(fs, SourceSettings(frozenset({REPO})))
        forgetting = ImagingDocumentSource(fs, SourceSettings(frozenset({REPO}), render_header_cache_bytes=0))
        reads.clear()
        first = _answers(remembering, plain, "image/png", params)
        first_reads += len(reads)
        reads.clear()
        second = _answers(remembering, plain, "image/png", params)
        second_reads += len(reads)
        assert second == first == _answers(forgetting, plain, "image/png", params)
        assert len(forgetting.render_headers) == 0
        remembered += len(remembering.render_headers)
    # Not vacuous: most headers came from memory the second time. The others are read each time:
    # objects without pixel data (answered 0007), big endian or deflated ones (pydicom reads those).
    print(f"\nheader reads: {first_reads} the first time, {second_reads} the second ({remembered} remembered)")
    assert remembered >= 120 and second_reads == first_reads - remembered, (first_reads, second_reads, remembered)
