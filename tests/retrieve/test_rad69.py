"""RAD-69 retrieval semantics over HTTP: per-document errors, statuses, order, transfer syntax."""

from __future__ import annotations

import pytest

from support.rad69 import EXPLICIT_LE, IMPLICIT_LE, Doc, parse_response, request_xml
from wadows.retrieve.errors import ErrorCode

UNKNOWN_SOP = "1.2.3.4.5.6.7.8.9.999999"


def retrieve(server, docs, syntaxes=(EXPLICIT_LE,), **kw):
    r = server.post(request_xml(docs, syntaxes, **kw))
    assert r.status_code == 200, r.text[:500]
    return parse_response(r.headers["Content-Type"], r.content)


def doc(server, inst, **kw) -> Doc:
    return Doc(inst.study, inst.series, inst.sop, server.repository, **kw)


def test_several_series_in_request_order_byte_identical(server, sample_instances):
    chosen = sample_instances[:]
    syntaxes = sorted({i.transfer_syntax for i in chosen})
    r = retrieve(server, [doc(server, i) for i in chosen], syntaxes)
    assert r.status == "Success"
    got = dict(r.documents())
    # Each document comes back in the first listed syntax the server can produce; when that is the
    # stored one the bytes are untouched.
    for inst in chosen:
        if inst.transfer_syntax == syntaxes[0]:
            assert got[inst.sop] == inst.path.read_bytes()
    # request order is kept (documented for clients that match by position)
    studies_order = []
    for i in chosen:
        if (i.study, i.series) not in studies_order:
            studies_order.append((i.study, i.series))
    expected = [i.sop for key in studies_order for i in chosen if (i.study, i.series) == key]
    assert [d for d, _ in r.documents()] == expected


def test_unknown_document_gives_partial_success_with_location(server, sample_instances):
    inst = sample_instances[0]
    r = retrieve(server, [doc(server, inst), Doc(inst.study, inst.series, UNKNOWN_SOP, server.repository)],
                 [inst.transfer_syntax])
    assert r.status == "PartialSuccess"
    assert [d for d, _ in r.documents()] == [inst.sop]
    (err,) = r.errors
    assert err["errorCode"] == ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR.value
    assert err["location"] == UNKNOWN_SOP
    assert err["severity"].endswith(":Error")


def test_all_failing_is_failure_with_no_documents(server, sample_instances):
    inst = sample_instances[0]
    r = retrieve(server, [Doc(inst.study, inst.series, UNKNOWN_SOP, server.repository),
                          Doc(inst.study, inst.series, inst.sop, "1.2.3.999")])
    assert r.status == "Failure" and r.documents() == []
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR.value,
                                                  ErrorCode.XDS_UNKNOWN_REPOSITORY_ID.value]


def test_series_not_in_study_is_0010(server, sample_instances):
    a = sample_instances[0]
    other = next(i for i in sample_instances if i.series != a.series)
    r = retrieve(server, [Doc(a.study, other.series, a.sop, server.repository)])
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.INCONSISTENT_IDENTIFIERS.value]


def test_invalid_uid_never_reaches_the_store(server, sample_instances):
    a = sample_instances[0]
    r = retrieve(server, [Doc(a.study, a.series, "../../etc/passwd", server.repository),
                          Doc(a.study, a.series, "1.2.3' OR '1'='1", server.repository)])
    assert r.status == "Failure"
    assert {e["errorCode"] for e in r.errors} == {ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR.value}


def test_unproducible_transfer_syntax_is_0007(server, sample_instances):
    a = sample_instances[0]
    r = retrieve(server, [doc(server, a)], ["1.2.3.4.5.not.a.syntax"])
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.CANNOT_PROVIDE_IN_FORMAT.value]


def test_implicit_requested_from_explicit_store_is_transcoded(server, sample_instances):
    import io

    import pydicom

    a = next(i for i in sample_instances if i.transfer_syntax == EXPLICIT_LE)
    r = retrieve(server, [doc(server, a)], [IMPLICIT_LE])
    ((sop, data),) = r.documents()
    ds = pydicom.dcmread(io.BytesIO(data))
    assert ds.file_meta.TransferSyntaxUID == IMPLICIT_LE and ds.SOPInstanceUID == a.sop
    assert ds.PixelData == pydicom.dcmread(a.path).PixelData


def test_too_many_documents_is_0005(server, sample_instances):
    a = sample_instances[0]
    n = server.config.server.max_documents + 1
    r = retrieve(server, [doc(server, a)] * n)
    assert r.status == "Failure" and [e["errorCode"] for e in r.errors] == [ErrorCode.SIZE_EXCEEDS_LIMITS.value]


def test_bad_anonymize_value_is_0012(server, sample_instances):
    a = sample_instances[0]
    r = retrieve(server, [doc(server, a, anonymize="no")])
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.INVALID_PARAMETER_VALUE.value]


def test_indexed_but_unreadable_document_is_0004_and_others_still_returned(sample_store, tmp_path):
    import shutil

    from conftest import instances_in, run_server

    root = tmp_path / "store"
    shutil.copytree(sample_store, root)
    gone, kept = instances_in(root)[:2]
    running, srv = run_server(root, tmp_path)
    try:
        gone.path.unlink()  # after indexing: the index still lists it
        r = retrieve(running, [doc(running, gone), doc(running, kept)], [gone.transfer_syntax, kept.transfer_syntax])
    finally:
        srv.close()
    assert r.status == "PartialSuccess"
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.NO_LONGER_AVAILABLE.value]
    assert r.errors[0]["location"] == gone.sop
    assert [d for d, _ in r.documents()] == [kept.sop]


@pytest.mark.parametrize("n, too_many", [(3, False), (4, True)])
def test_max_documents_is_the_most_allowed_not_one_less_or_more(n, too_many):
    """Exactly max_documents is served; one more is 0005 and nothing else (issue 17 item 9: `>` vs `>=`).
    A foreign RepositoryUniqueId answers each served document without touching the backend."""
    from wadows.retrieve.model import DocumentRequest, RetrieveRequest
    from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings

    source = ImagingDocumentSource(None, SourceSettings(frozenset({"1.2.3.9"}), max_documents=3))
    docs = tuple(DocumentRequest(study_uid="1.2", series_uid="1.2.3", repository_unique_id="1.2.3.8",
                                 document_unique_id=f"1.2.3.4.{i}", home_community_id=None, anonymize=None)
                 for i in range(n))
    result = source.retrieve_imaging_document_set(RetrieveRequest(documents=docs, transfer_syntaxes=(), anonymize=None))
    codes = [e.code for e in result.errors]
    if too_many:
        assert codes == [ErrorCode.SIZE_EXCEEDS_LIMITS]
    else:
        assert len(codes) == 3 and ErrorCode.SIZE_EXCEEDS_LIMITS not in codes
