"""The archive client: retries only where safe, never waits past its timeouts, cools down after a
failure, authenticates, verifies TLS, and says nothing about URLs in its errors."""

from __future__ import annotations

import time

import pytest

from support.needs import unavailable

from support.stub_archive import stub_archive
from support.tls import openssl_missing, self_signed
from wadows.store.errors import ArchiveAnswerError, ArchiveDenied, ArchiveTimeout, ArchiveUnavailable
from wadows.store.http import ArchiveClient, HttpSettings, secret_from, without_credentials


@pytest.fixture
def stub():
    with stub_archive([]) as archive:
        yield archive


def _client(**kw) -> ArchiveClient:
    kw.setdefault("backoff", 0.01)
    return ArchiveClient(HttpSettings(**kw))


def test_busy_archive_is_retried_with_backoff_then_answers(stub):
    stub.behaviour.busy = 2
    resp = _client(retries=2).get(stub.url + "/studies")
    assert resp.status_code == 200 and len(stub.behaviour.requests) == 3


def test_busy_beyond_the_retries_is_unavailable_and_cools_down(stub):
    stub.behaviour.busy = 10
    client = _client(retries=1)
    with pytest.raises(ArchiveUnavailable) as info:
        client.get(stub.url + "/studies")
    assert len(stub.behaviour.requests) == 2 and "503" in str(info.value)
    # During the cool-down nothing is sent: a 200-document request fails at once.
    started = time.monotonic()
    for _ in range(200):
        with pytest.raises(ArchiveUnavailable):
            client.get(stub.url + "/studies")
    assert time.monotonic() - started < 1 and len(stub.behaviour.requests) == 2


def test_a_slow_archive_costs_one_timeout_not_one_per_retry(stub):
    stub.behaviour.delay = 2
    started = time.monotonic()
    with pytest.raises(ArchiveTimeout):
        _client(read_timeout=0.3, retries=3).get(stub.url + "/studies")
    assert time.monotonic() - started < 1.5 and len(stub.behaviour.requests) == 1


def test_nothing_listening_is_unavailable_after_quick_retries():
    from conftest import free_port

    started = time.monotonic()
    with pytest.raises(ArchiveUnavailable) as info:
        _client(retries=2).get(f"http://127.0.0.1:{free_port()}/dicom-web/studies?PatientName=Secret")
    assert time.monotonic() - started < 2
    assert "127.0.0.1" not in str(info.value) and "Secret" not in str(info.value)


@pytest.mark.parametrize("status,error", [(401, ArchiveDenied), (403, ArchiveDenied), (400, ArchiveAnswerError),
                                          (500, ArchiveAnswerError)])
def test_error_statuses(stub, status, error):
    stub.behaviour.status = status
    with pytest.raises(error):
        _client(retries=2).get(stub.url + "/studies")
    assert len(stub.behaviour.requests) == 1  # none of these is retried


def test_basic_and_bearer_credentials_are_sent(stub, tmp_path):
    (tmp_path / "pw").write_text("s3cret\nignored\n")
    _client(username="wado", password=secret_from("", str(tmp_path / "pw"))).get(stub.url + "/studies")
    _client(token="tok").get(stub.url + "/studies")
    assert stub.behaviour.auth == ["Basic d2FkbzpzM2NyZXQ=", "Bearer tok"]
    with pytest.raises(ValueError):
        _client(username="a", token="b")
    with pytest.raises(ValueError):
        secret_from("inline", str(tmp_path / "pw"))


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default_and_a_ca_bundle_is_honoured(tmp_path):
    if openssl_missing():
        unavailable(openssl_missing())
    cert, key = self_signed(tmp_path)
    with stub_archive([], tls=(cert, key)) as archive:
        with pytest.raises(ArchiveUnavailable) as info:
            _client(retries=0).get(archive.url + "/studies")
        assert "TLS" in str(info.value)
        assert _client(ca_bundle=str(cert)).get(archive.url + "/studies").status_code == 200
        assert _client(verify=False).get(archive.url + "/studies").status_code == 200


def test_urls_are_shown_without_credentials_or_query():
    assert without_credentials("https://u:p@pacs.example:8443/dicom-web?x=1") == "https://pacs.example:8443/dicom-web"
