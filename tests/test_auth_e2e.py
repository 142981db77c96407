"""Authentication over HTTP through waitress: requests' HTTPBasicAuth, zeep's UsernameToken (text and
digest), hand-written tokens for the replayed and stale cases, the anonymous policies, and what the
access log says (the caller's configured name; never a password, never a failed attempt's user name)."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest
import requests
import zeep
from lxml import etree
from requests.auth import HTTPBasicAuth
from zeep.wsse.username import UsernameToken

from conftest import run_server
from support.process import served
from support.rad69 import NS, Doc, parse_response, request_xml
from support.wsse import security_xml, utc
from wadows.security.passwords import hash_password

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORDS = {"radiology": "Rad-pass-1", "research": "Research-pass-2", "digester": "Digest-pass-3"}
WRONG = "Wrong-pass-9"
STRANGER = "mallory-the-stranger"
SECRETS = (*PASSWORDS.values(), WRONG, STRANGER)
CLIENT_LOGGERS = ("zeep", "urllib3", "requests")


@pytest.fixture(scope="module")
def callers(tmp_path_factory) -> list[dict]:
    secret = tmp_path_factory.mktemp("secrets") / "digester.secret"
    secret.write_text(PASSWORDS["digester"] + "\n")
    secret.chmod(0o600)
    return [
        {"name": "radiology", "password_hash": hash_password(PASSWORDS["radiology"]), "access": "identified"},
        {"name": "research", "password_hash": hash_password(PASSWORDS["research"]), "access": "anonymized",
         "options": ["RetainLongitudinalTemporalInformationModifiedDatesOption"]},
        {"name": "digester", "password_hash": hash_password(PASSWORDS["digester"]), "access": "identified",
         "digest_secret_file": str(secret)},
    ]


class Captured(logging.Handler):
    """Every record any logger emits while the tests run, formatted, from every server thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The clients run in this process too; what zeep logs about its own requests is not the server's.
        if not record.name.startswith(CLIENT_LOGGERS):
            self.lines.append(self.format(record))

    def access(self, count: int, timeout: float = 5) -> list[dict]:
        """The access log lines so far, once there are at least ``count`` (the line is written after
        the last byte is handed to waitress, so it can trail the client's read by a moment)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [json.loads(line.partition("wadows.access ")[2]) for line in self.lines if "wadows.access " in line]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.01)

    def awaited(self, after: int, http: str, timeout: float = 5) -> dict:
        """The first access line past ``after`` with this HTTP status: a line of the request before
        may still land after ``after`` was counted, so the newest line is not always the one asked for."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.access(0)[after:] if line["http"] == http]
            if found or time.monotonic() > deadline:
                assert found, f"no access line with HTTP {http}"
                return found[0]
            time.sleep(0.01)


@pytest.fixture(scope="module")
def logs():
    handler = Captured()
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)
    assert any(line.startswith("wadows.access ") for line in handler.lines)
    # Nothing of any attempt, good or bad, reached any server log line of the module.
    assert not [line.partition(" ")[0] for line in handler.lines if any(secret in line for secret in SECRETS)]


@pytest.fixture(scope="module")
def deny(sample_store, tmp_path_factory, callers, logs):
    running, srv = run_server(sample_store, tmp_path_factory.mktemp("deny"), auth__anonymous="deny",
                              auth__callers=callers, auth__realm="wadows-e2e")
    yield running
    srv.close()


@pytest.fixture(scope="module")
def anonymizing(sample_store, tmp_path_factory, callers, logs):
    running, srv = run_server(sample_store, tmp_path_factory.mktemp("anon"), auth__anonymous="anonymized",
                              auth__callers=callers)
    yield running
    srv.close()


def docs(server, sample_instances, n=2) -> list[Doc]:
    return [Doc(i.study, i.series, i.sop, server.repository) for i in sample_instances[:n]]


def post(server, xml: bytes, **kw) -> requests.Response:
    return requests.post(server.url, data=xml, headers={"Content-Type": "application/soap+xml"}, timeout=60, **kw)


def fault_subcode(r: requests.Response) -> str:
    env = etree.fromstring(r.content)
    value = env.find(".//env:Fault/env:Code/env:Subcode/env:Value", NS)
    prefix, _, local = value.text.partition(":")
    assert value.nsmap[prefix] == WSSE
    return local


def assert_no_secrets(r: requests.Response) -> None:
    wire = "".join(f"{k}: {v}\n" for k, v in r.headers.items()).encode() + r.content
    for secret in SECRETS:
        assert secret.encode() not in wire


# -- HTTP Basic --------------------------------------------------------------------------------------
def test_basic_good_gets_identified_objects(deny, sample_instances, logs):
    d = docs(deny, sample_instances)
    before = len(logs.access(0))
    r = post(deny, request_xml(d, (sample_instances[0].transfer_syntax,)),
             auth=HTTPBasicAuth("radiology", PASSWORDS["radiology"]))
    assert r.status_code == 200
    got = parse_response(r.headers["Content-Type"], r.content).documents()
    assert [uid for uid, _ in got] == [x.sop for x in d]
    assert got[0][1] == sample_instances[0].path.read_bytes()
    line = logs.access(before + 1)[-1]
    assert line["caller"] == "radiology" and line["anonymized"] is False and line["http"] == "200"


@pytest.mark.parametrize("auth", [HTTPBasicAuth("radiology", WRONG), HTTPBasicAuth(STRANGER, WRONG), None])
def test_basic_bad_or_missing_is_401_with_a_fault(deny, sample_instances, logs, auth):
    before = len(logs.access(0))
    r = post(deny, request_xml(docs(deny, sample_instances)), auth=auth)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="wadows-e2e", charset="UTF-8"'
    assert r.headers["Content-Type"].startswith("application/soap+xml")
    assert fault_subcode(r) == "FailedAuthentication"
    assert b"DocumentResponse" not in r.content
    assert_no_secrets(r)
    line = logs.access(before + 1)[-1]
    assert line["caller"] is None and line["http"] == "401" and line["fault"] == "Sender"


def test_malformed_basic_is_401(deny, sample_instances):
    r = requests.post(deny.url, data=request_xml(docs(deny, sample_instances)),
                      headers={"Content-Type": "application/soap+xml", "Authorization": "Basic ###"}, timeout=60)
    assert r.status_code == 401 and fault_subcode(r) == "FailedAuthentication"


def test_basic_and_token_for_different_users_is_a_fault(deny, sample_instances):
    xml = request_xml(docs(deny, sample_instances), extra_header=security_xml("research", PASSWORDS["research"]))
    r = post(deny, xml, auth=HTTPBasicAuth("radiology", PASSWORDS["radiology"]))
    assert r.status_code == 401 and fault_subcode(r) == "FailedAuthentication"


# -- UsernameToken ------------------------------------------------------------------------------------
def test_zeep_password_digest(deny, sample_instances, logs):
    client = zeep.Client(deny.url + "?wsdl", wsse=UsernameToken("digester", PASSWORDS["digester"], use_digest=True))
    inst = sample_instances[0]
    before = len(logs.access(0))
    for _ in range(2):  # a fresh nonce each call: the second is no replay
        result = client.service.RetrieveImagingDocumentSet(
            StudyRequest=[{"studyInstanceUID": inst.study, "SeriesRequest": [{
                "seriesInstanceUID": inst.series,
                "DocumentRequest": [{"RepositoryUniqueId": deny.repository, "DocumentUniqueId": inst.sop}]}]}],
            TransferSyntaxUIDList={"TransferSyntaxUID": [inst.transfer_syntax]})
        assert result.RegistryResponse.status.endswith("Success")
        assert result.DocumentResponse[0].Document == inst.path.read_bytes()
    assert [line["caller"] for line in logs.access(before + 2)[-2:]] == ["digester", "digester"]


def test_zeep_password_digest_wrong_password_is_a_fault(deny, sample_instances):
    client = zeep.Client(deny.url + "?wsdl", wsse=UsernameToken("digester", WRONG, use_digest=True))
    inst = sample_instances[0]
    with pytest.raises(zeep.exceptions.Fault) as err:
        client.service.RetrieveImagingDocumentSet(
            StudyRequest=[{"studyInstanceUID": inst.study, "SeriesRequest": [{
                "seriesInstanceUID": inst.series,
                "DocumentRequest": [{"RepositoryUniqueId": deny.repository, "DocumentUniqueId": inst.sop}]}]}],
            TransferSyntaxUIDList={"TransferSyntaxUID": [inst.transfer_syntax]})
    assert "could not be authenticated" in err.value.message


def test_zeep_password_text(deny, sample_instances):
    client = zeep.Client(deny.url + "?wsdl", wsse=UsernameToken("radiology", PASSWORDS["radiology"]))
    inst = sample_instances[0]
    result = client.service.RetrieveImagingDocumentSet(
        StudyRequest=[{"studyInstanceUID": inst.study, "SeriesRequest": [{
            "seriesInstanceUID": inst.series,
            "DocumentRequest": [{"RepositoryUniqueId": deny.repository, "DocumentUniqueId": inst.sop}]}]}],
        TransferSyntaxUIDList={"TransferSyntaxUID": [inst.transfer_syntax]})
    assert result.DocumentResponse[0].DocumentUniqueId == inst.sop


def test_bad_token_is_a_400_sender_fault_without_challenge(deny, sample_instances):
    r = post(deny, request_xml(docs(deny, sample_instances), extra_header=security_xml("radiology", WRONG)))
    assert r.status_code == 400 and "WWW-Authenticate" not in r.headers
    assert fault_subcode(r) == "FailedAuthentication"
    assert_no_secrets(r)


def test_replayed_token_refused(deny, sample_instances):
    header = security_xml("digester", PASSWORDS["digester"], use_digest=True)
    xml = request_xml(docs(deny, sample_instances), extra_header=header)
    assert post(deny, xml).status_code == 200
    again = post(deny, xml)
    assert again.status_code == 400 and fault_subcode(again) == "FailedAuthentication"


@pytest.mark.parametrize("offset", [-600, 600])
def test_stale_or_future_token_is_message_expired(deny, sample_instances, offset):
    header = security_xml("digester", PASSWORDS["digester"], use_digest=True, nonce=os.urandom(16), created=utc(offset))
    r = post(deny, request_xml(docs(deny, sample_instances), extra_header=header))
    assert r.status_code == 400 and fault_subcode(r) == "MessageExpired"


def test_security_header_with_must_understand_is_understood(anonymizing, sample_instances):
    header = security_xml("radiology", PASSWORDS["radiology"], must_understand=True)
    assert 'mustUnderstand="true"' in header
    assert post(anonymizing, request_xml(docs(anonymizing, sample_instances), extra_header=header)).status_code == 200


# -- per-caller policy and the anonymous caller -------------------------------------------------------
def test_anonymized_caller_gets_anonymized_objects_whatever_it_asks(anonymizing, sample_instances, logs):
    d = docs(anonymizing, sample_instances)
    before = len(logs.access(0))
    r = post(anonymizing, request_xml(d), auth=HTTPBasicAuth("research", PASSWORDS["research"]))
    assert r.status_code == 200
    got = parse_response(r.headers["Content-Type"], r.content).documents()
    assert got and not {uid for uid, _ in got} & {x.sop for x in d}
    line = logs.access(before + 1)[-1]
    assert line["caller"] == "research" and line["anonymized"] is True


def test_anonymous_gets_anonymized_data(anonymizing, sample_instances, logs):
    d = docs(anonymizing, sample_instances)
    before = len(logs.access(0))
    r = post(anonymizing, request_xml(d))
    assert r.status_code == 200
    got = parse_response(r.headers["Content-Type"], r.content).documents()
    assert got and not {uid for uid, _ in got} & {x.sop for x in d}
    line = logs.access(before + 1)[-1]
    assert line["caller"] is None and line["anonymized"] is True


def test_identified_caller_on_the_anonymizing_server_gets_originals(anonymizing, sample_instances):
    d = docs(anonymizing, sample_instances)
    r = post(anonymizing, request_xml(d), auth=HTTPBasicAuth("radiology", PASSWORDS["radiology"]))
    assert [uid for uid, _ in parse_response(r.headers["Content-Type"], r.content).documents()] == [x.sop for x in d]


def test_wrong_credentials_get_no_data_even_where_strangers_get_anonymized_data(anonymizing, sample_instances):
    r = post(anonymizing, request_xml(docs(anonymizing, sample_instances)), auth=HTTPBasicAuth("research", WRONG))
    assert r.status_code == 401 and b"DocumentResponse" not in r.content


def test_guessing_a_password_makes_the_name_wait_with_429(sample_store, sample_instances, callers, logs, tmp_path):
    running, srv = run_server(sample_store, tmp_path, auth__anonymous="deny", auth__callers=callers,
                              auth__failed_logins_before_wait=2)
    try:
        body = request_xml(docs(running, sample_instances))
        for _ in range(2):
            assert post(running, body, auth=HTTPBasicAuth("radiology", WRONG)).status_code == 401
        before = len(logs.access(0))
        r = post(running, body, auth=HTTPBasicAuth("radiology", PASSWORDS["radiology"]))  # right, but too late
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "WWW-Authenticate" not in r.headers
        assert r.headers["Content-Type"].startswith("application/soap+xml")
        assert fault_subcode(r) == "FailedAuthentication"
        assert b"DocumentResponse" not in r.content
        assert_no_secrets(r)
        line = logs.awaited(before, "429")
        assert line["caller"] is None
        # Another caller is not held up, and the wait runs out.
        assert post(running, body, auth=HTTPBasicAuth("digester", PASSWORDS["digester"])).status_code == 200
        time.sleep(int(r.headers["Retry-After"]) + 0.1)
        assert post(running, body, auth=HTTPBasicAuth("radiology", PASSWORDS["radiology"])).status_code == 200
    finally:
        srv.close()


def test_access_log_names_the_client_address_and_trusts_forwarding_only_from_the_proxy(
        sample_store, sample_instances, callers, logs, deny, tmp_path):
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    body = request_xml(docs(deny, sample_instances))
    auth = HTTPBasicAuth("radiology", PASSWORDS["radiology"])
    before = len(logs.access(0))
    assert requests.post(deny.url, data=body, auth=auth, timeout=60,
                         headers={"Content-Type": "application/soap+xml", **spoofed}).status_code == 200
    assert logs.access(before + 1)[-1]["remote"] == "127.0.0.1"  # no trusted proxy: the header is ignored
    running, srv = run_server(sample_store, tmp_path, auth__anonymous="deny", auth__callers=callers,
                              server__trusted_proxy="127.0.0.1")
    try:
        before = len(logs.access(0))
        r = requests.post(running.url, data=body, auth=auth, timeout=60,
                          headers={"Content-Type": "application/soap+xml", **spoofed})
        assert r.status_code == 200
        assert logs.access(before + 1)[-1]["remote"] == "203.0.113.7"
    finally:
        srv.close()


# -- a real process and its stderr ---------------------------------------------------------------------
def test_served_process_logs_the_caller_and_no_credentials(sample_store, sample_instances, callers, tmp_path):
    c = callers[0]
    config = (f'[auth]\nanonymous = "deny"\n[[auth.callers]]\nname = "{c["name"]}"\n'
              f'password_hash = "{c["password_hash"]}"\naccess = "identified"\n')
    with served(sample_store, tmp_path, config) as proc:
        d = [Doc(i.study, i.series, i.sop, "2.25.104010150727412930373520467207786914562") for i in sample_instances[:1]]
        ok = requests.post(proc.url, data=request_xml(d), headers={"Content-Type": "application/soap+xml"},
                           auth=HTTPBasicAuth("radiology", PASSWORDS["radiology"]), timeout=60)
        bad = requests.post(proc.url, data=request_xml(d), headers={"Content-Type": "application/soap+xml"},
                            auth=HTTPBasicAuth(STRANGER, WRONG), timeout=60)
        assert (ok.status_code, bad.status_code) == (200, 401)
        deadline = time.monotonic() + 5
        while proc.log_bytes().count(b'"caller"') < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    log = proc.log_bytes()
    assert b'"caller": "radiology"' in log and b'"caller": null' in log
    for secret in SECRETS:
        assert secret.encode() not in log
