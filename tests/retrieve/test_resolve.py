"""The per-document resolution every operation shares, on its own (no transfer syntax, no stream)."""

from __future__ import annotations

import pytest

from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.resolve import DocumentResolver, ResolvedDocument, Unresolved
from wadows.security.policy import TRUSTED, Access, Caller
from wadows.store.filestore import FileStore

REPO_ID = "1.2.3.4.5"
KEY = b"k" * 32
PARTNER = Caller("partner", Access.ANONYMIZED)


class Counting:
    """A backend that counts reads, to show what resolution reads and when."""

    def __init__(self, store: FileStore) -> None:
        self.store, self.headers, self.checks = store, 0, 0

    def lookup(self, uid):
        return self.store.lookup(uid)

    def header(self, instance):
        self.headers += 1
        return self.store.header(instance)

    def check(self, instance):
        self.checks += 1
        return self.store.check(instance)


@pytest.fixture(scope="module")
def store(sample_store, tmp_path_factory):
    s = FileStore(sample_store, tmp_path_factory.mktemp("resolve") / "index.sqlite")
    s.refresh()
    return s


def _doc(inst, **kw) -> DocumentRequest:
    fields = dict(study_uid=inst.study, series_uid=inst.series, repository_unique_id=REPO_ID,
                  document_unique_id=inst.sop)
    fields.update(kw)
    return DocumentRequest(**fields)


def test_plain_document_is_checked_not_read(store, sample_instances):
    backend = Counting(store)
    inst = sample_instances[0]
    got = DocumentResolver(backend, frozenset({REPO_ID})).resolve(_doc(inst), TRUSTED)
    assert isinstance(got, ResolvedDocument) and not got.anonymized and got.header is None
    assert got.document_unique_id == inst.sop and (backend.checks, backend.headers) == (1, 0)
    wanted = DocumentResolver(backend, frozenset({REPO_ID})).resolve(_doc(inst), TRUSTED, header_wanted=lambda i: True)
    assert wanted.header is not None and (backend.checks, backend.headers) == (1, 1)


def test_forced_anonymize_decides_the_new_uids(store, sample_instances):
    inst = sample_instances[0]
    got = DocumentResolver(store, frozenset({REPO_ID}), Anonymizers(KEY)).resolve(_doc(inst), PARTNER)
    assert isinstance(got, ResolvedDocument) and got.anonymized and got.header is not None
    assert got.document_unique_id == got.new_uids.sop_instance_uid != inst.sop


@pytest.mark.parametrize("change, caller, code, anonymized", [
    ({"repository_unique_id": "9.9"}, TRUSTED, ErrorCode.XDS_UNKNOWN_REPOSITORY_ID, False),
    ({"anonymize": "no"}, PARTNER, ErrorCode.INVALID_PARAMETER_VALUE, False),
    ({"document_unique_id": "1.02.3"}, PARTNER, ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, True),
    ({"series_uid": "x"}, TRUSTED, ErrorCode.INVALID_PARAMETER_VALUE, False),
    ({"document_unique_id": "1.2.3.999"}, TRUSTED, ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, False),
    ({"study_uid": "1.2.3.998"}, PARTNER, ErrorCode.INCONSISTENT_IDENTIFIERS, True),
])
def test_refusals_name_only_what_was_sent(store, sample_instances, change, caller, code, anonymized):
    inst = sample_instances[0]
    doc = _doc(inst, **change)
    got = DocumentResolver(store, frozenset({REPO_ID}), Anonymizers(KEY)).resolve(doc, caller)
    assert isinstance(got, Unresolved) and got.error.code is code and got.anonymized is anonymized
    assert got.error.location == doc.document_unique_id


def test_anonymize_switched_off_is_0002_before_any_lookup(sample_instances):
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"resolution touched the store ({name})")

    got = DocumentResolver(Untouchable(), frozenset({REPO_ID})).resolve(_doc(sample_instances[0]), PARTNER)
    assert isinstance(got, Unresolved) and got.error.code is ErrorCode.ANONYMIZE_NOT_SUPPORTED and got.anonymized


def test_the_request_level_anonymize_applies_unless_the_document_says(store, sample_instances):
    resolver = DocumentResolver(store, frozenset({REPO_ID}), Anonymizers(KEY))
    assert resolver.resolve(_doc(sample_instances[0]), TRUSTED, anonymize_all="yes").anonymized
    own = resolver.resolve(_doc(sample_instances[0], anonymize="maybe"), TRUSTED, anonymize_all="yes")
    assert isinstance(own, Unresolved) and own.error.code is ErrorCode.INVALID_PARAMETER_VALUE
