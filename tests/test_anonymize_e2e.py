"""Anonymize end to end over HTTP, against the planted-PHI corpus: the whole response (HTTP headers,
envelope, every MIME part) and the server's own log carry none of the planted values and none of the
original UIDs; the metadata names the new UIDs; replicas sharing the key agree.

The server runs as a real process (`wadows serve`) so its stderr is what is scanned, as an operator
would collect it."""

from __future__ import annotations

import io

import pydicom
import pytest
import requests
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from phi.corpus import corpus_for_tests, resolve
from phi.scanner import allowed_for, scan_bytes, scan_log, summarize
from support.process import served
from support.rad69 import Doc, as_mtom, parse_response, request_xml

REPOSITORY = "2.25.104010150727412930373520467207786914562"  # the default config's
ATTRIBUTE = {"sop": "SOPInstanceUID", "series": "SeriesInstanceUID", "study": "StudyInstanceUID"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return corpus_for_tests(tmp_path_factory.mktemp("phi-store"), seed=0)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "deid.key"
    path.write_text("ab" * 32 + "\n")
    path.chmod(0o600)
    return path


def _config(key_file, extra: str = "") -> str:
    return f'[deid]\nkey_file = "{key_file}"\n{extra}'


@pytest.fixture(scope="module")
def replica(corpus, key_file, tmp_path_factory):
    with served(corpus.root, tmp_path_factory.mktemp("replica-a"), _config(key_file), name="a") as proc:
        yield proc


def _docs(corpus, anonymize="yes"):
    return [Doc(o.study_instance_uid, o.series_instance_uid, o.sop_instance_uid, REPOSITORY, anonymize)
            for o in corpus.objects.values()]


def _wire(r: requests.Response) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in r.headers.items()).encode()
    return head + b"\r\n" + r.content


def _originals(corpus) -> set[bytes]:
    return {getattr(o, f"{a}_instance_uid").encode() for o in corpus.objects.values() for a in ("sop", "series", "study")}


@pytest.mark.parametrize("syntaxes", [
    (ExplicitVRLittleEndian, ImplicitVRLittleEndian),
    (RLELossless, DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRLittleEndian),
], ids=["explicit", "rle-first"])
def test_nothing_planted_survives_in_the_full_response_or_the_log(corpus, replica, syntaxes):
    r = requests.post(replica.url, data=request_xml(_docs(corpus), syntaxes),
                      headers={"Content-Type": "application/soap+xml"}, timeout=120)
    assert r.status_code == 200
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Success", resp.errors
    wire = _wire(r)
    findings = scan_bytes(wire, corpus, allowed=allowed_for(()), source="HTTP response")
    assert not findings, summarize(findings)
    assert not [u for u in _originals(corpus) if u in wire]
    log = replica.log_bytes()
    assert b'"documents_returned": 6' in log or b'"documents_returned":6' in log  # the access log is there
    # The corpus makes pydicom complain (it quotes values when it does): none of that reaches the log.
    assert b"Warning" not in log and b"WARNING" not in log
    findings = scan_log(log, corpus, allowed=allowed_for(()))
    assert not findings, summarize(findings)
    assert not [u for u in _originals(corpus) if u in log]


def test_even_a_debug_log_keeps_no_identifier(corpus, key_file, tmp_path):
    """An operator chasing a problem sets [log] level = "DEBUG": the libraries that would then log whole
    requests (spyne) or quote values (pydicom) stay quiet, so the log still holds no original UID and
    nothing planted, also when a request fails."""
    with served(corpus.root, tmp_path, _config(key_file, '[log]\nlevel = "DEBUG"\n'), name="debug") as proc:
        ok = requests.post(proc.url, data=request_xml(_docs(corpus), (ExplicitVRLittleEndian,)),
                           headers={"Content-Type": "application/soap+xml"}, timeout=120)
        assert parse_response(ok.headers["Content-Type"], ok.content).status == "Success"
        broken = request_xml(_docs(corpus)).replace(b"</wado:Anonymize>", b"</wado:Anonymize><Unexpected/>", 1)
        assert requests.post(proc.url, data=broken, headers={"Content-Type": "application/soap+xml"},
                             timeout=60).status_code == 400
        log = proc.log_bytes()
    assert b"DEBUG" in log or b'"documents_returned": 6' in log
    findings = scan_log(log, corpus, allowed=allowed_for(()))
    assert not findings, summarize(findings)
    assert not [u for u in _originals(corpus) if u in log]


def test_metadata_names_the_new_uids_and_references_follow(corpus, replica):
    r = requests.post(replica.url, data=request_xml(_docs(corpus), (ExplicitVRLittleEndian,)),
                      headers={"Content-Type": "application/soap+xml"}, timeout=120)
    resp = parse_response(r.headers["Content-Type"], r.content)
    names = list(corpus.objects)
    got = {name: (uid, pydicom.dcmread(io.BytesIO(data))) for name, (uid, data) in zip(names, resp.documents())}
    for name, (uid, ds) in got.items():
        assert uid == ds.SOPInstanceUID != corpus.objects[name].sop_instance_uid, name
        assert ds.PatientIdentityRemoved == "YES"
    wrong = []
    for ref in corpus.references:
        element = resolve(got[ref.file][1], ref.path)
        if element is None:
            if ref.always_kept:
                wrong.append(f"{ref.file}:{ref.path} removed")
            continue
        if element.value != got[ref.target][1][ATTRIBUTE[ref.attribute]].value:
            wrong.append(f"{ref.file}:{ref.path} does not point at {ref.target}'s new {ref.attribute}")
    assert not wrong


def test_mtom_request_and_request_level_anonymize(corpus, replica):
    ctype, body = as_mtom(request_xml(_docs(corpus, anonymize=None), (ExplicitVRLittleEndian,), anonymize="yes"))
    r = requests.post(replica.url, data=body, headers={"Content-Type": ctype}, timeout=120)
    assert r.status_code == 200
    findings = scan_bytes(_wire(r), corpus, allowed=allowed_for(()), source="HTTP response")
    assert not findings, summarize(findings)
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Success" and len(resp.documents()) == len(corpus.objects)


def test_two_processes_sharing_the_key_give_the_same_uids(corpus, replica, key_file, tmp_path):
    body = request_xml(_docs(corpus), (ExplicitVRLittleEndian,))
    with served(corpus.root, tmp_path, _config(key_file), name="b") as other:
        answers = []
        for proc in (replica, other):
            r = requests.post(proc.url, data=body, headers={"Content-Type": "application/soap+xml"}, timeout=120)
            resp = parse_response(r.headers["Content-Type"], r.content)
            answers.append([(uid, pydicom.dcmread(io.BytesIO(d)).StudyInstanceUID) for uid, d in resp.documents()])
    assert answers[0] == answers[1] and len(answers[0]) == len(corpus.objects)


def test_errors_in_an_anonymized_request_leak_nothing(corpus, replica):
    ct = corpus.objects["ct_explicit"]
    docs = [Doc(ct.study_instance_uid, "1.2.3.4.999", ct.sop_instance_uid, REPOSITORY, "yes"),  # 0010
            Doc(ct.study_instance_uid, ct.series_instance_uid, "1.2.3.4.998", REPOSITORY, "yes")]  # unknown
    r = requests.post(replica.url, data=request_xml(docs), headers={"Content-Type": "application/soap+xml"}, timeout=60)
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Failure" and [e["location"] for e in resp.errors] == [ct.sop_instance_uid, "1.2.3.4.998"]
    # What the client sent comes back as @location; nothing else of the object does.
    wire = _wire(r).replace(ct.sop_instance_uid.encode(), b"").replace(ct.study_instance_uid.encode(), b"")
    assert not [u for u in _originals(corpus) if u in wire]
    assert not scan_bytes(wire, corpus, allowed=allowed_for(()))


def test_switched_off_answers_0002(corpus, key_file, tmp_path):
    docs = _docs(corpus)[:2]
    with served(corpus.root, tmp_path, _config(key_file, "enabled = false\n"), name="off") as proc:
        r = requests.post(proc.url, data=request_xml(docs), headers={"Content-Type": "application/soap+xml"}, timeout=60)
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Failure" and {e["errorCode"] for e in resp.errors} == {"urn:dicom:wado:0002"}
    wire = _wire(r)
    for d in docs:  # @location: what the client sent, and only that
        wire = wire.replace(d.sop.encode(), b"")
    assert not scan_bytes(wire, corpus, allowed=allowed_for(()))


def _caller_config(key_file, tmp_path) -> str:
    from wadows.security.passwords import hash_password

    hashed = hash_password("partner-password", "pbkdf2-sha256", iterations=100_000)
    return _config(key_file) + (
        '[auth]\nanonymous = "deny"\n[[auth.callers]]\nname = "partner"\n'
        f'password_hash = "{hashed}"\naccess = "anonymized"\n')


def test_an_anonymized_only_caller_gets_nothing_planted_without_asking(corpus, key_file, tmp_path):
    """The policy, not the request, decides: no Anonymize element anywhere, every syntax on offer."""
    docs = _docs(corpus, anonymize=None)
    body = request_xml(docs, (ExplicitVRLittleEndian, RLELossless, ImplicitVRLittleEndian))
    with served(corpus.root, tmp_path, _caller_config(key_file, tmp_path), name="policy") as proc:
        r = requests.post(proc.url, data=body, headers={"Content-Type": "application/soap+xml"},
                          auth=("partner", "partner-password"), timeout=120)
        denied = requests.post(proc.url, data=body, headers={"Content-Type": "application/soap+xml"}, timeout=60)
        log = proc.log_bytes()
    resp = parse_response(r.headers["Content-Type"], r.content)
    assert resp.status == "Success" and len(resp.documents()) == len(corpus.objects)
    assert all(pydicom.dcmread(io.BytesIO(d)).PatientIdentityRemoved == "YES" for _, d in resp.documents())
    wire = _wire(r)
    assert not scan_bytes(wire, corpus, allowed=allowed_for(())), "planted value in a forced-anonymized response"
    assert not [u for u in _originals(corpus) if u in wire]
    assert denied.status_code == 401 and b"DICM" not in denied.content
    assert b'"caller": "partner"' in log and b'"anonymized": true' in log
    assert not scan_log(log, corpus, allowed=allowed_for(())) and b"partner-password" not in log
