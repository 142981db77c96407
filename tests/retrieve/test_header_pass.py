"""RAD-69 with Anonymize reads each header once: the header read before the response for the decision
and the new UIDs is the one rewritten and streamed, with the pixel data of the same file.

Held to the reference, the de-identifier's own stream (which reads the file from the start), byte for
byte over the planted-PHI corpus, the bundled samples and every Part-10 file pydicom ships; the read
counts, the per-request cap on held header bytes and a file replaced between the two passes."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import sqlite3
from pathlib import Path

import pydicom
import pytest
import pydicom.data

import wadows.deid.stream as deid_stream
import wadows.store.filestore as filestore
from wadows.deid import DeidentificationRefused, Deidentifier
from wadows.filespan import materialize
from wadows.retrieve import rad69
from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.model import DocumentRequest, RetrieveRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.store.errors import InstanceChanged
from wadows.store.filestore import FileStore

from phi.corpus import corpus_for_tests

REPO_ID = "1.2.3.4.5"
KEY = b"header-pass-key-0123456789abcdef"
OPTION_SETS = ((), ("CleanDescriptorsOption", "RetainLongitudinalTemporalInformationModifiedDatesOption"),
               ("RetainUIDsOption", "RetainDeviceIdentityOption"))

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _served(store: FileStore) -> list[tuple[str, str, str, str, Path]]:
    db = sqlite3.connect(store.index_path)
    try:
        rows = db.execute("SELECT study_uid, series_uid, sop_instance_uid, transfer_syntax_uid, path FROM instance "
                          "ORDER BY path").fetchall()
    finally:
        db.close()
    return [(st, se, sop, ts, store.root / path) for st, se, sop, ts, path in rows]


def _request(rows, anonymize="yes") -> RetrieveRequest:
    docs = tuple(DocumentRequest(st, se, REPO_ID, sop) for st, se, sop, _ts, _p in rows)
    return RetrieveRequest(docs, tuple(dict.fromkeys(ts for *_x, ts, _p in rows)), anonymize=anonymize)


def _reference(deid: Deidentifier, path: Path) -> bytes | None:
    """What the de-identifier's own stream writes for the file; None when it refuses it."""
    with open(path, "rb") as f:
        try:
            return b"".join(materialize(deid.stream(f)))
        except DeidentificationRefused:
            return None


@pytest.fixture(scope="module")
def wide_store(tmp_path_factory, sample_store) -> FileStore:
    root = tmp_path_factory.mktemp("header-pass-store")
    corpus = corpus_for_tests(root / "phi", seed=0)
    assert corpus.objects
    shutil.copytree(sample_store, root / "samples")
    shipped = root / "pydicom"
    shipped.mkdir()
    shipped_by_pydicom = sorted(p for p in (Path(pydicom.data.__file__).parent / "test_files").rglob("*") if p.is_file())
    for n, path in enumerate(shipped_by_pydicom):
        with open(path, "rb") as f:
            if f.read(132)[128:] != b"DICM":
                continue  # only Part-10 files are stored objects
        shutil.copy(path, shipped / f"{n:04d}-{Path(path).name}")
    store = FileStore(root, tmp_path_factory.mktemp("header-pass-index") / "index.sqlite")
    store.refresh()
    return store


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "+".join(o) or "basic")
def test_one_pass_output_equals_the_reference_stream(wide_store, options):
    rows = _served(wide_store)
    source = ImagingDocumentSource(wide_store, SourceSettings(frozenset({REPO_ID})), Anonymizers(KEY, options))
    reference = Deidentifier(KEY, options)
    counts = {"one pass": 0, "whole object": 0, "refused": 0}
    for row in rows:
        path = row[4]
        result = source.retrieve_imaging_document_set(_request([row]))
        expected = _reference(reference, path)
        if result.errors:
            assert expected is None, path.name  # refused here exactly when the reference refuses
            counts["refused"] += 1
            continue
        (doc,) = result.documents
        assert b"".join(materialize(doc.chunks())) == expected, path.name
        with open(path, "rb") as f:
            whole = reference.decide(pydicom.dcmread(f, stop_before_pixels=True)).reads_whole_object
        counts["whole object" if whole else "one pass"] += 1
    print(f"\n{len(rows)} objects, options {options or 'basic'}: {counts}")
    assert counts["one pass"] > 100 and counts["whole object"] > 0 and counts["refused"] > 0


class _Counting:
    def __init__(self, monkeypatch):
        self.stored, self.streamed = 0, 0
        read, parse = filestore.header_and_offset, deid_stream.read_header

        def header_and_offset(fp):
            self.stored += 1
            return read(fp)

        def read_header(*args, **kwargs):
            self.streamed += 1
            return parse(*args, **kwargs)

        monkeypatch.setattr(filestore, "header_and_offset", header_and_offset)
        monkeypatch.setattr(deid_stream, "read_header", read_header)


def _ct_rows(store: FileStore) -> list:
    """CT objects of the samples in Explicit VR Little Endian: the request asks for that syntax alone,
    so each goes out as stored (no transcoding to another listed syntax)."""
    rows = [r for r in _served(store) if "samples" in r[4].parts and r[3] == "1.2.840.10008.1.2.1"]
    return [r for r in rows if pydicom.dcmread(r[4], stop_before_pixels=True).Modality == "CT"][:6]


def test_each_anonymized_header_is_read_once(wide_store, monkeypatch):
    rows = _ct_rows(wide_store)
    assert len(rows) >= 3
    source = ImagingDocumentSource(wide_store, SourceSettings(frozenset({REPO_ID})), Anonymizers(KEY))
    count = _Counting(monkeypatch)
    result = source.retrieve_imaging_document_set(_request(rows))
    assert not result.errors
    assert (count.stored, count.streamed) == (len(rows), 0)  # before the response: one read each
    for doc in result.documents:
        b"".join(materialize(doc.chunks()))
    assert (count.stored, count.streamed) == (len(rows), 0)  # streaming parsed no header


def test_headers_beyond_the_per_request_cap_are_read_again(wide_store, monkeypatch):
    rows = _ct_rows(wide_store)
    source = ImagingDocumentSource(wide_store, SourceSettings(frozenset({REPO_ID})), Anonymizers(KEY))
    sizes = []
    for row in rows[:2]:
        with open(row[4], "rb") as f:
            sizes.append(filestore.header_and_offset(f)[1])
    monkeypatch.setattr(rad69, "HELD_HEADER_BYTES", sum(sizes))  # room for the first two headers
    count = _Counting(monkeypatch)
    result = source.retrieve_imaging_document_set(_request(rows))
    got = [b"".join(materialize(doc.chunks())) for doc in result.documents]
    assert count.stored == len(rows) and count.streamed == len(rows) - 2
    reference = Deidentifier(KEY)
    assert got == [_reference(reference, r[4]) for r in rows]


def test_a_file_replaced_between_the_passes_sends_none_of_its_bytes(wide_store, tmp_path):
    rows = _ct_rows(wide_store)
    row, other = rows[0], rows[1]
    saved = tmp_path / "saved.dcm"
    shutil.copy2(row[4], saved)
    source = ImagingDocumentSource(wide_store, SourceSettings(frozenset({REPO_ID})), Anonymizers(KEY))
    try:
        result = source.retrieve_imaging_document_set(_request([row]))
        assert not result.errors
        # Another object's pixels under the same name and SOP Instance UID, the same size: only the
        # file's identity (inode, mtime) tells it from the one whose header was rewritten.
        ds = pydicom.dcmread(other[4])
        ds.SOPInstanceUID = row[2]
        ds.file_meta.MediaStorageSOPInstanceUID = row[2]
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        data = buf.getvalue()
        size = row[4].stat().st_size
        data = data[:size] if len(data) >= size else data + b"\0" * (size - len(data))
        replacement = row[4].with_suffix(".new")
        replacement.write_bytes(data)
        os.replace(replacement, row[4])
        (doc,) = result.documents
        chunks = doc.chunks()
        with pytest.raises(InstanceChanged):
            next(iter(chunks))
        # Before any byte (the store re-indexed the file: the padded replacement is no object now, so
        # the next request for it is an error too).
        again = source.retrieve_imaging_document_set(_request([row]))
        assert again.errors and not again.documents
    finally:
        os.replace(saved, row[4])
        wide_store.refresh()


def test_a_held_header_goes_out_only_with_the_file_it_was_read_from(wide_store):
    """The check of its own at stream time, beside the store's check against the index: the header
    rewritten from one file, the file opened being another (here: another object's file identity)."""
    rows = _ct_rows(wide_store)
    source = ImagingDocumentSource(wide_store, SourceSettings(frozenset({REPO_ID})), Anonymizers(KEY))
    resolved = source.resolver.resolve(DocumentRequest(rows[0][0], rows[0][1], REPO_ID, rows[0][2]),
                                       rad69.TRUSTED, anonymize_all="yes")
    rewritten = rad69._rewrite_now(resolved, [rad69.HELD_HEADER_BYTES])
    assert isinstance(rewritten, rad69._Rewritten)
    good = b"".join(materialize(source._stream_anonymized(resolved.instance, rows[0][3], resolved.deidentifier,
                                                          rewritten)))
    assert good == _reference(Deidentifier(KEY), rows[0][4])
    with open(rows[1][4], "rb") as other:
        foreign = dataclasses.replace(rewritten, identity=rad69.file_identity(other.fileno()))
    with pytest.raises(InstanceChanged):
        next(source._stream_anonymized(resolved.instance, rows[0][3], resolved.deidentifier, foreign))
