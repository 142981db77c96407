"""Backend failures become the per-document code that says what went wrong, with our own text."""

from __future__ import annotations

import pytest

from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest, RetrieveRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.store.base import StoredInstance
from wadows.store.errors import ArchiveAnswerError, ArchiveDenied, ArchiveTimeout, ArchiveUnavailable, InstanceGone

REPO, STUDY, SERIES, SOP = "1.2.3", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1"
SECRET = "/archive/Doe^Jane/secret-path"


class Failing:
    def __init__(self, exc: OSError, at: str) -> None:
        self.exc, self.at = exc, at

    def lookup(self, uid):
        if self.at == "lookup":
            raise self.exc
        return StoredInstance(STUDY, SERIES, SOP, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1", 10, "x")

    def check(self, instance):
        if self.at == "check":
            raise self.exc


@pytest.mark.parametrize("at", ["lookup", "check"])
@pytest.mark.parametrize(("exc", "code"), [
    (ArchiveUnavailable(SECRET), ErrorCode.NOT_IMMEDIATELY_AVAILABLE),
    (ArchiveTimeout(SECRET), ErrorCode.NOT_IMMEDIATELY_AVAILABLE),
    (ArchiveDenied(SECRET), ErrorCode.XDS_REPOSITORY_ERROR),
    (ArchiveAnswerError(SECRET), ErrorCode.PROCESSING_FAILURE),
    (InstanceGone(SECRET), ErrorCode.NO_LONGER_AVAILABLE),
    (PermissionError(13, SECRET), ErrorCode.NO_LONGER_AVAILABLE),
])
def test_code_by_failure_and_never_the_exception_text(exc, code, at):
    source = ImagingDocumentSource(Failing(exc, at), SourceSettings(frozenset({REPO})))
    result = source.retrieve_imaging_document_set(
        RetrieveRequest((DocumentRequest(STUDY, SERIES, REPO, SOP),), ("1.2.840.10008.1.2.1",)))
    (err,) = result.errors
    assert err.code is code and err.location == SOP
    assert SECRET not in err.context and "Doe" not in err.context
