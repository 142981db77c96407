"""Rendering one frame of a large multi-frame object reads that frame from the file, not the object.

A 24 MB Multi-frame Grayscale Word SC (samples/large.py, 384 frames of 256 x 256) in a file store whose
files count the bytes read through them: without Anonymize the rendered frame costs the header and the
one frame's 128 KiB; the image is the one rendered from the whole object read into memory."""

from __future__ import annotations

import io
import json

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from deid.objects import KEY
from support.rendered import PIXEL_RULES, burned_in
from wadows.deid.pixels import load_rules

from wadows.render import RenderRequest, render
from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.retrieve.rendered import RenderedDocumentRequest, RenderedRequest, retrieve_rendered_imaging_document_set
from wadows.samples.large import generate_large_multiframe
from wadows.store.filestore import FileStore

REPO = "1.2.3.4.5"
FRAME_BYTES = 256 * 256 * 2


class _Counted(io.RawIOBase):
    def __init__(self, f, counter: list[int]) -> None:
        self.f, self.counter = f, counter

    @property
    def name(self) -> str:
        return self.f.name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.f.read(len(b))
        b[:len(data)] = data
        self.counter[0] += len(data)
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        return self.f.seek(pos, whence)

    def tell(self) -> int:
        return self.f.tell()

    def close(self) -> None:
        self.f.close()
        super().close()


class CountingStore:
    """The file store, its opened files counting every byte read from them."""

    def __init__(self, store: FileStore) -> None:
        self.store, self.read = store, [0]

    def __getattr__(self, name):
        return getattr(self.store, name)

    def open(self, instance):
        return io.BufferedReader(_Counted(self.store.open(instance), self.read))


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    root = tmp_path_factory.mktemp("large-store")
    path = generate_large_multiframe(root / "large.dcm", 384 * FRAME_BYTES, rows=256, cols=256)
    fs = FileStore(root, tmp_path_factory.mktemp("large-index") / "index.sqlite")
    fs.refresh()
    yield path, fs
    fs.close()


def _request(path, **kw) -> RenderedDocumentRequest:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    doc = DocumentRequest(ds.StudyInstanceUID, ds.SeriesInstanceUID, REPO, ds.SOPInstanceUID, **kw)
    return RenderedDocumentRequest(doc, ("image/png",), frame_number="300")


def test_only_the_requested_frame_is_read(large):
    path, fs = large
    counting = CountingStore(fs)
    source = ImagingDocumentSource(counting, SourceSettings(frozenset({REPO})))
    result = retrieve_rendered_imaging_document_set(source, RenderedRequest((_request(path),)))
    assert result.errors == [] and len(result.documents) == 1
    size = path.stat().st_size
    assert size > 380 * FRAME_BYTES
    assert counting.read[0] < 3 * FRAME_BYTES, (counting.read[0], size)  # header + one frame (+ buffering)
    got = np.asarray(Image.open(io.BytesIO(result.documents[0].data)))
    whole = render(pydicom.dcmread(path), RenderRequest(("image/png",), frame_number=300))
    assert np.array_equal(got, np.asarray(Image.open(io.BytesIO(whole.data))))
    # another frame is another image: the frame read is the one asked for
    other = render(pydicom.dcmread(path), RenderRequest(("image/png",), frame_number=10))
    assert not np.array_equal(got, np.asarray(Image.open(io.BytesIO(other.data))))


def _anonymizing(store, **settings) -> ImagingDocumentSource:
    return ImagingDocumentSource(store, SourceSettings(frozenset({REPO}), **settings), Anonymizers(KEY, verify_pixels=False))


def test_with_anonymize_still_only_the_frame_is_read(large):
    path, fs = large
    counting = CountingStore(fs)
    result = retrieve_rendered_imaging_document_set(_anonymizing(counting),
                                                    RenderedRequest((_request(path, anonymize="yes"),)))
    assert result.errors == [] and len(result.documents) == 1 and result.anonymized
    original = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
    assert result.documents[0].source_document_unique_id != original
    assert counting.read[0] < 3 * FRAME_BYTES, counting.read[0]
    # no pixel rule applies: the pixels are the stored frame's, as without Anonymize
    plain = render(pydicom.dcmread(path), RenderRequest(("image/png",), frame_number=300))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(result.documents[0].data))),
                          np.asarray(Image.open(io.BytesIO(plain.data))))


def test_an_object_a_pixel_rule_blanks_is_read_whole_up_to_a_limit(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    ct = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    burned = burned_in(ct)
    burned.save_as(root / "burned.dcm", enforce_file_format=True)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(PIXEL_RULES))
    fs = FileStore(root, tmp_path / "index.sqlite")
    fs.refresh()
    doc = DocumentRequest(burned.StudyInstanceUID, burned.SeriesInstanceUID, REPO, burned.SOPInstanceUID,
                          anonymize="yes")
    request = RenderedRequest((RenderedDocumentRequest(doc, ("image/png",)),))
    size = (root / "burned.dcm").stat().st_size
    try:
        anonymizers = Anonymizers(KEY, pixel_rules=load_rules(rules), verify_pixels=False)
        small = ImagingDocumentSource(fs, SourceSettings(frozenset({REPO}), max_blanked_render_bytes=size - 1),
                                      anonymizers)
        (err,) = retrieve_rendered_imaging_document_set(small, request).errors
        assert err.code is ErrorCode.SIZE_EXCEEDS_LIMITS and "larger" in err.context
        enough = ImagingDocumentSource(fs, SourceSettings(frozenset({REPO}), max_blanked_render_bytes=size),
                                       anonymizers)
        result = retrieve_rendered_imaging_document_set(enough, request)
        assert result.errors == []
        img = np.asarray(Image.open(io.BytesIO(result.documents[0].data)))
        shown = np.asarray(Image.open(io.BytesIO(render(burned, RenderRequest(("image/png",))).data)))
        assert shown[2:14, 8:120].min() == 255 and img[2:14, 8:120].max() < 64  # the banner was blanked
    finally:
        fs.close()
