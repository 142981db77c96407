"""The stored headers the rendered operation remembers (retrieve/rendered.py _remember, remembered.py):
rendering the same objects again reads no header and gives the same images; a changed file is never
rendered from memory; with Anonymize a remembered header serves only where the image is rendered as
stored (the de-identifier's decision reads it, the pixels come from it, an annotation's text from its
attributes de-identified alone), never where it is de-identified whole; the bound holds.
The corpus-wide comparison is tests/retrieve/test_rendered_stored.py."""

from __future__ import annotations

import os

import numpy as np
import pydicom
import pytest

from support.filestores import indexed_copies
from wadows.render import annotate
from wadows.retrieve import rendered
from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.retrieve.rendered import RenderedDocumentRequest, RenderedRequest, retrieve_rendered_imaging_document_set

REPO_ID = "1.2.3.4.5"
KEY = b"rendered-memory-test-key-0123456"
FILES = ("CT_small.dcm", "MR_small.dcm", "MR2_J2KR.dcm")


@pytest.fixture()
def store(tmp_path):
    root, s = indexed_copies(tmp_path, FILES)
    yield root, s
    s.close()


@pytest.fixture()
def reads(monkeypatch):
    """How many headers the operation read (store/header.py header_and_offset)."""
    count = []
    read = rendered.header_and_offset
    monkeypatch.setattr(rendered, "header_and_offset", lambda f: count.append(1) or read(f))
    return count


def source_for(store, cache_bytes: int = 64 << 20) -> ImagingDocumentSource:
    return ImagingDocumentSource(store[1], SourceSettings(frozenset({REPO_ID}), render_header_cache_bytes=cache_bytes),
                                 Anonymizers(KEY))


def render(source, store, names=FILES, anonymize=None, annotation="patient"):
    docs = []
    for name in names:
        ds = pydicom.dcmread(store[0] / name, stop_before_pixels=True)
        doc = DocumentRequest(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), REPO_ID, str(ds.SOPInstanceUID),
                              anonymize=anonymize)
        docs.append(RenderedDocumentRequest(doc, ("image/png",), annotation=annotation, rows="64"))
    result = retrieve_rendered_imaging_document_set(source, RenderedRequest(tuple(docs)))
    assert not result.errors, result.errors
    return [d.data for d in result.documents]


def test_rendering_again_reads_no_header_and_gives_the_same_images(store, reads):
    source = source_for(store)
    first = render(source, store)
    assert len(reads) == len(FILES) == len(source.render_headers)
    assert render(source, store) == first and len(reads) == len(FILES)


def test_a_changed_file_is_never_rendered_from_memory(store, reads):
    source = source_for(store)
    (before,) = render(source, store, ["CT_small.dcm"], annotation=None)
    path = store[0] / "CT_small.dcm"
    ds = pydicom.dcmread(path)
    ds.PixelData = (ds.pixel_array // 2).astype(ds.pixel_array.dtype).tobytes()
    ds.save_as(path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10_000_000))
    store[1].refresh()
    (after,) = render(source, store, ["CT_small.dcm"], annotation=None)
    assert len(reads) == 2 and after != before
    assert after == render(source_for(store, 0), store, ["CT_small.dcm"], annotation=None)[0]


def test_an_annotated_anonymized_rendering_from_memory_draws_no_stored_value(store, reads, monkeypatch):
    """The annotated image with Anonymize is rendered as stored, so from the remembered header; its
    text is read from the annotation's attributes de-identified alone (retrieve/rendered.py
    _annotated_from), never from that header's stored values."""
    drawn: list[list[str]] = []
    lines_of = annotate.annotation_lines
    monkeypatch.setattr(annotate, "annotation_lines",
                        lambda ds, sets: drawn.append(lines_of(ds, sets)["patient"]) or lines_of(ds, sets))
    source = source_for(store)
    render(source, store)
    assert len(source.render_headers) == len(FILES)
    stored, drawn[:] = list(drawn), []
    count = len(reads)
    render(source, store, anonymize="yes")
    assert len(reads) == count and len(drawn) == len(FILES)   # no header read again
    for name, plain, lines in zip(FILES, stored, drawn):
        family = pydicom.dcmread(store[0] / name, stop_before_pixels=True).PatientName.family_name
        assert family and any(family in line for line in plain), (name, plain)
        assert not any(family in line for line in lines), (name, lines)


def result_of(source, store, anonymize):
    docs = []
    for name in FILES:
        ds = pydicom.dcmread(store[0] / name, stop_before_pixels=True)
        docs.append(RenderedDocumentRequest(
            DocumentRequest(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), REPO_ID, str(ds.SOPInstanceUID),
                            anonymize=anonymize), ("image/jpeg",), rows="64"))
    result = retrieve_rendered_imaging_document_set(source, RenderedRequest(tuple(docs)))
    return [(d.source_document_unique_id, d.parameters, d.data) for d in result.documents], result.errors


def test_an_anonymized_rendering_as_stored_reads_the_remembered_header(store, monkeypatch):
    source = source_for(store)
    opened = []
    header_read = store[1].header_read
    monkeypatch.setattr(store[1], "header_read", lambda instance: opened.append(1) or header_read(instance))
    first = result_of(source, store, "yes")
    assert len(opened) == len(FILES) == len(source.render_headers)   # the decision's reads, kept
    again = result_of(source, store, "yes")
    assert len(opened) == len(FILES) and again == first              # decided from memory
    plain = result_of(source, store, None)
    assert len(opened) == len(FILES)                                 # and plain rendering too
    assert [d[2] for d in plain[0]] == [d[2] for d in first[0]]      # the same pixels
    new = {d[0] for d in first[0]}
    assert not new & {d[0] for d in plain[0]}                        # new SOP Instance UIDs only when asked
    assert result_of(source_for(store, 0), store, "yes") == first


def test_the_bound_in_bytes_holds(store, reads):
    source = source_for(store)
    render(source, store)
    costs = [cost for _, cost in source.render_headers._items.values()]
    assert all(cost >= rendered.HEADER_COST * 100 for cost in costs)
    bounded = source_for(store, min(costs))
    render(bounded, store)
    assert bounded.render_headers.bytes <= min(costs) and len(bounded.render_headers) <= 1
    off = source_for(store, 0)
    render(off, store)
    assert len(off.render_headers) == 0


def test_rendering_leaves_the_remembered_header_as_stored(store):
    """Plain and anonymized annotated renderings both read the remembered headers (the latter its
    annotation's attributes de-identified alone, deid/attributes.py): neither may change them."""
    source = source_for(store)
    render(source, store, annotation="patient,technique")
    render(source, store, anonymize="yes", annotation="patient,technique")
    assert len(source.render_headers) == len(FILES)
    for instance, (read, _) in source.render_headers._items.items():
        stored = pydicom.dcmread(store[0] / instance.location, stop_before_pixels=True)
        for element in stored:
            assert read.dataset[element.tag].value == element.value, (instance.location, element.keyword)
        assert np.isfinite(read.pixel_at)
