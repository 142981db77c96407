"""A conversion that fails is that document's error, decided before the response starts, and the
next listed transfer syntax is tried (issue 12 item 3)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from wadows.filespan import materialize
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest, RetrieveRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.store.filestore import FileStore

from transfer_objects import ct, encode

REPO = "1.2.3.4.5"


def _source(tmp_path: Path, objects) -> ImagingDocumentSource:
    root = tmp_path / "store"
    root.mkdir()
    for n, ds in enumerate(objects):
        (root / f"{n}.dcm").write_bytes(encode(ds, ExplicitVRLittleEndian))
    store = FileStore(root, tmp_path / "index.sqlite")
    store.refresh()
    return ImagingDocumentSource(store, SourceSettings(frozenset({REPO})))


def _request(objects, syntaxes):
    docs = tuple(DocumentRequest(ds.StudyInstanceUID, ds.SeriesInstanceUID, REPO, ds.SOPInstanceUID) for ds in objects)
    return RetrieveRequest(docs, tuple(syntaxes))


def _body(doc) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(b"".join(materialize(doc.chunks(), 1 << 20))))


def test_tiny_image_falls_back_from_j2k_to_explicit_and_others_still_encode(tmp_path):
    tiny, normal = ct(rows=16, cols=16, n=1), ct(rows=64, cols=64, n=2)
    source = _source(tmp_path, [tiny, normal])
    result = source.retrieve_imaging_document_set(_request([tiny, normal], [JPEG2000Lossless, ExplicitVRLittleEndian]))
    assert not result.errors
    syntaxes = [_body(d).file_meta.TransferSyntaxUID for d in result.documents]
    assert syntaxes == [ExplicitVRLittleEndian, JPEG2000Lossless]
    for doc, ds in zip(result.documents, [tiny, normal]):
        assert np.array_equal(_body(doc).pixel_array, ds.pixel_array)


def test_no_syntax_left_is_that_documents_error_in_words(tmp_path):
    tiny, normal = ct(rows=16, cols=16, n=3), ct(rows=64, cols=64, n=4)
    source = _source(tmp_path, [tiny, normal])
    result = source.retrieve_imaging_document_set(_request([tiny, normal], [JPEG2000Lossless]))
    assert [e.code for e in result.errors] == [ErrorCode.CANNOT_PROVIDE_IN_FORMAT]
    assert "could not be converted" in result.errors[0].context
    assert result.errors[0].location == tiny.SOPInstanceUID
    assert [d.document_unique_id for d in result.documents] == [normal.SOPInstanceUID]


def test_rle_still_served(tmp_path):
    ds = ct(rows=16, cols=16, n=5)
    source = _source(tmp_path, [ds])
    result = source.retrieve_imaging_document_set(_request([ds], [RLELossless]))
    assert not result.errors
    assert np.array_equal(_body(result.documents[0]).pixel_array, ds.pixel_array)
