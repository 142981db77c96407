"""Rendering one frame of a large multi-frame object reads that frame from the file, not the object.

A 24 MB Multi-frame Grayscale Word SC (samples/large.py, 384 frames of 256 x 256) in a file store whose
files count the bytes read through them: without Anonymize the rendered frame costs the header and the
one frame's 128 KiB; the image is the one rendered from the whole object read into memory."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from PIL import Image

from wadows.render import RenderRequest, render
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
