"""wadows in front of a real Orthanc (DICOMweb plugin): RAD-69 over HTTP returns what was uploaded,
byte for byte; unknown and misplaced documents, and an archive that goes away, give per-document
errors, never a hang; replicas agree on anonymized UIDs; a large object passes with bounded memory.
Orthanc runs in its own network namespace (support/orthanc.py)."""

from __future__ import annotations

import io
import os
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
import pydicom
import pytest
import requests

from conftest import RunningServer, ServerThread, free_port, instances_in
from support.orthanc import require_orthanc, running_orthanc
from support.process import served
from support.rad69 import EXPLICIT_LE, Doc, parse_response, request_xml
from wadows.config import load_config
from wadows.samples import generate_large_multiframe, generate_samples
from wadows.server import make_server
from wadows.store.perthread import IN_TOUCH_SECONDS

pytestmark = pytest.mark.tools
SOAP = {"Content-Type": "application/soap+xml"}


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    require_orthanc()
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as o:
        yield o


@pytest.fixture(scope="module")
def uploaded(orthanc, tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    generate_samples(root)
    instances = instances_in(root)
    orthanc.upload(i.path for i in instances)
    return instances


def _serve(orthanc_url: str, **overrides) -> tuple[RunningServer, object]:
    overrides.setdefault("auth__anonymous", "identified")  # byte-for-byte comparisons
    config = load_config(None, server__port=free_port(), dicomweb__url=orthanc_url, **overrides)
    server = ServerThread(make_server(config))
    return RunningServer(f"http://127.0.0.1:{config.server.port}", config, Path(".")), server


@pytest.fixture(scope="module")
def wadows(orthanc, uploaded):
    running, server = _serve(orthanc.dicomweb, dicomweb__read_timeout=10.0)
    yield running
    server.close()


def _retrieve(server, docs, syntaxes=(EXPLICIT_LE,), timeout=60):
    r = requests.post(server.url, data=request_xml(docs, syntaxes), headers=SOAP, timeout=timeout)
    assert r.status_code == 200
    return parse_response(r.headers["Content-Type"], r.content)


def _doc(server, inst, **kw) -> Doc:
    return Doc(inst.study, inst.series, inst.sop, server.repository, **kw)


def test_every_uploaded_object_comes_back_byte_identical(wadows, uploaded):
    by_syntax = defaultdict(list)
    for inst in uploaded:
        by_syntax[inst.transfer_syntax].append(inst)
    for syntax, group in by_syntax.items():
        resp = _retrieve(wadows, [_doc(wadows, i) for i in group], (syntax,))
        assert resp.status == "Success", resp.errors
        got = dict(resp.documents())
        for inst in group:
            assert got[inst.sop] == inst.path.read_bytes(), inst.path.name


def test_transcoded_on_the_way_when_asked(wadows, uploaded):
    inst = next(i for i in uploaded if i.transfer_syntax != EXPLICIT_LE)
    resp = _retrieve(wadows, [_doc(wadows, inst)], (EXPLICIT_LE,))
    assert resp.status == "Success", resp.errors
    ds = pydicom.dcmread(io.BytesIO(resp.documents()[0][1]))
    assert ds.file_meta.TransferSyntaxUID == EXPLICIT_LE and ds.SOPInstanceUID == inst.sop


def test_unknown_and_misplaced_documents_are_per_document_errors(wadows, uploaded):
    good, other = uploaded[0], uploaded[1]
    docs = [_doc(wadows, good),
            Doc(good.study, good.series, "1.2.3.4.5.6.7", wadows.repository),
            Doc(good.study, "1.2.3.4.999", other.sop, wadows.repository)]
    resp = _retrieve(wadows, docs, (good.transfer_syntax,))
    assert resp.status == "PartialSuccess"
    assert [(e["errorCode"], e["location"]) for e in resp.errors] == [
        ("XDSDocumentUniqueIdError", "1.2.3.4.5.6.7"), ("urn:dicom:wado:0010", other.sop)]
    assert resp.documents()[0] == (good.sop, good.path.read_bytes())


def test_healthz_reports_the_archive_separately(wadows, orthanc):
    health = requests.get(wadows.base + "/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["backend"]["ok"] is True
    assert health["backend"]["kind"] == "dicomweb"


def test_archive_stopped_mid_test_gives_per_document_errors_without_hanging(orthanc, uploaded):
    # A server of its own: the lookup cache of the shared one would answer from memory.
    running, server = _serve(orthanc.dicomweb, dicomweb__read_timeout=5.0, dicomweb__connect_timeout=2.0)
    try:
        docs = [_doc(running, i) for i in uploaded[:4]]
        syntaxes = tuple(sorted({i.transfer_syntax for i in uploaded}))
        assert _retrieve(running, docs[:1], syntaxes).status == "Success"
        orthanc.stop(kill=True)
        # An archive that answered a thread within IN_TOUCH_SECONDS is taken to be up; past that,
        # its death is found out per document.
        time.sleep(IN_TOUCH_SECONDS + 0.05)
        try:
            started = time.monotonic()
            resp = _retrieve(running, docs, syntaxes, timeout=30)
            elapsed = time.monotonic() - started
            health = requests.get(running.base + "/healthz", timeout=10).json()
        finally:
            orthanc.start()
        assert resp.status == "Failure" and not resp.documents()
        codes = {e["errorCode"] for e in resp.errors}
        assert codes <= {"urn:dicom:wado:0003", "urn:dicom:wado:0004"} and len(resp.errors) == 4
        assert elapsed < 10, f"{elapsed:.1f} s with the archive down"
        assert health["status"] == "ok" and health["backend"]["ok"] is False
        time.sleep(2.1)  # the client's cool-down after a failure
        assert _retrieve(running, docs, syntaxes).status == "Success"
    finally:
        server.close()


def test_two_processes_on_one_archive_give_the_same_anonymized_uids(orthanc, uploaded, tmp_path):
    key = tmp_path / "deid.key"
    key.write_text("cd" * 32 + "\n")
    key.chmod(0o600)
    config = f'[dicomweb]\nurl = "{orthanc.dicomweb}"\n[deid]\nkey_file = "{key}"\n'
    empty = tmp_path / "empty"
    empty.mkdir()
    docs = [Doc(i.study, i.series, i.sop, load_config().source.repository_unique_id, "yes") for i in uploaded]
    answers = []
    with served(empty, tmp_path / "a", config, name="a") as a, served(empty, tmp_path / "b", config, name="b") as b:
        for proc in (a, b):
            r = requests.post(proc.url, data=request_xml(docs), headers=SOAP, timeout=120)
            resp = parse_response(r.headers["Content-Type"], r.content)
            assert resp.status == "Success", resp.errors
            answers.append([(uid, pydicom.dcmread(io.BytesIO(d)).StudyInstanceUID) for uid, d in resp.documents()])
    originals = {i.sop for i in uploaded} | {i.study for i in uploaded}
    assert answers[0] == answers[1] and len(answers[0]) == len(uploaded)
    assert not originals & {u for pair in answers[0] for u in pair}


@pytest.mark.slow
def test_a_large_object_passes_with_bounded_memory(orthanc, tmp_path):
    size = int(os.environ.get("WADOWS_BIG_MB", "200")) * 2**20
    big = generate_large_multiframe(tmp_path / "big.dcm", size)
    orthanc.upload([big])
    m = pydicom.dcmread(big, stop_before_pixels=True)
    # One process ([server] workers = 1): the RSS sampled is the serving process's.
    config = f'[dicomweb]\nurl = "{orthanc.dicomweb}"\n[auth]\nanonymous = "identified"\n[server]\nworkers = 1\n'
    (tmp_path / "empty").mkdir()
    with served(tmp_path / "empty", tmp_path / "w", config) as proc:
        peak, stop = 0, threading.Event()

        def sample() -> None:
            nonlocal peak
            p = psutil.Process(proc.proc.pid)
            while not stop.is_set():
                peak = max(peak, p.memory_info().rss)
                time.sleep(0.01)

        idle = psutil.Process(proc.proc.pid).memory_info().rss
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        doc = Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, load_config().source.repository_unique_id)
        started = time.monotonic()
        received = 0
        with requests.post(proc.url, data=request_xml([doc], [m.file_meta.TransferSyntaxUID]), headers=SOAP,
                           stream=True, timeout=300) as r:
            assert r.status_code == 200
            for chunk in r.iter_content(1 << 20):
                received += len(chunk)
        elapsed = time.monotonic() - started
        stop.set()
        sampler.join()
    print(f"\n{size >> 20} MB instance through Orthanc: {elapsed:.1f} s, {size / 2**20 / elapsed:.0f} MB/s, "
          f"wadows peak RSS {peak / 2**20:.0f} MB (idle {idle / 2**20:.0f} MB)")
    assert received > size
    assert peak < 150 * 2**20, f"peak RSS {peak / 2**20:.0f} MB"


def test_anonymized_through_the_archive_nothing_planted_survives(orthanc, tmp_path_factory):
    from phi.corpus import corpus_for_tests
    from phi.scanner import allowed_for, scan_bytes, summarize

    corpus = corpus_for_tests(tmp_path_factory.mktemp("phi"), seed=0)
    orthanc.upload(sorted(p for p in corpus.root.rglob("*") if p.is_file()))
    tmp = tmp_path_factory.mktemp("phi-wadows")
    key = tmp / "deid.key"
    key.write_text("ef" * 32 + "\n")
    key.chmod(0o600)
    config = f'[dicomweb]\nurl = "{orthanc.dicomweb}"\n[deid]\nkey_file = "{key}"\n'
    (tmp / "empty").mkdir()
    repository = load_config().source.repository_unique_id
    docs = [Doc(o.study_instance_uid, o.series_instance_uid, o.sop_instance_uid, repository, "yes")
            for o in corpus.objects.values()]
    originals = {getattr(o, f"{a}_instance_uid").encode() for o in corpus.objects.values()
                 for a in ("sop", "series", "study")}
    # Also at DEBUG, where the HTTP client library would log every archive URL (they name the UIDs).
    for level in ("INFO", "DEBUG"):
        with served(tmp / "empty", tmp / f"w-{level}", config + f'[log]\nlevel = "{level}"\n') as proc:
            r = requests.post(proc.url, data=request_xml(docs), headers=SOAP, timeout=120)
            log = proc.log_bytes()
        resp = parse_response(r.headers["Content-Type"], r.content)
        assert resp.status == "Success", resp.errors
        assert len(resp.documents()) == len(docs)
        wire = "".join(f"{k}: {v}\r\n" for k, v in r.headers.items()).encode() + b"\r\n" + r.content
        for layer, data in (("HTTP response", wire), (f"server log at {level}", log)):
            findings = scan_bytes(data, corpus, allowed=allowed_for(()), source=layer)
            assert not findings, summarize(findings)
            assert not [u for u in originals if u in data], layer
