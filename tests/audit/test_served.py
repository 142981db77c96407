"""A served `wadows serve` with [audit] enabled, against rsyslogd over mutual TLS: a real RAD-69
retrieval, with and without Anonymize, leaves its DICOM Instances Transferred record (start and
login too), and nothing of the record's patient or study reaches the application log."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pydicom
import pytest
import requests

from support.process import served
from support.rad69 import EXPLICIT_LE, Doc, parse_response, request_xml
from support.rsyslog import make_pki, repository
from wadows.audit.schema import validate
from wadows.config import load_config
from wadows.samples import bundled_samples_dir

pytestmark = [pytest.mark.tools, pytest.mark.slow]

REPOSITORY = load_config().source.repository_unique_id


def _config(pki, port: int, workers: int = 1) -> str:
    # Anonymous callers get identified data here, so a request without Anonymize is not anonymized.
    return (f'[server]\nworkers = {workers}\n[auth]\nanonymous = "identified"\n[audit]\nenabled = true\ntransport = "tls"\nhost = "127.0.0.1"\nport = {port}\n'
            f'ca = "{pki.ca}"\ncert = "{pki.client_cert}"\nkey = "{pki.client_key}"\nretry_max_seconds = 1.0\n'
            'source_id = "wadows-under-test"\nenterprise_site_id = "Radiology"\n')


def _sample() -> tuple[Path, pydicom.Dataset]:
    path = sorted(Path(bundled_samples_dir()).rglob("*.dcm"))[0]
    return path, pydicom.dcmread(path, stop_before_pixels=True)


def _events(rows):
    return [(validate(r["msg"].encode()), r) for r in rows]


@pytest.mark.parametrize("anonymize", [None, "yes"])
def test_rad69_leaves_its_transfer_record(tmp_path, anonymize):
    pki = make_pki(tmp_path / "pki")
    _, ds = _sample()
    doc = Doc(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, REPOSITORY, anonymize)
    with repository(tmp_path / "arr", pki) as arr:
        # Anonymized with two pre-forked workers: each worker sends its own records (audit/sender.py).
        workers = 1 if anonymize is None else 2
        with served(bundled_samples_dir(), tmp_path / "wadows", _config(pki, arr.tcp_port, workers)) as proc:
            r = requests.post(proc.url, data=request_xml([doc], (EXPLICIT_LE,)),
                              headers={"Content-Type": "application/soap+xml"}, timeout=60)
            assert r.status_code == 200
            resp = parse_response(r.headers["Content-Type"], r.content)
            assert resp.status == "Success" and len(resp.documents()) == 1
            returned = pydicom.dcmread(io.BytesIO(resp.documents()[0][1]), stop_before_pixels=True)
            rows = arr.wait_for(2)
            health = requests.get(proc.base + "/healthz", timeout=10).json()
            assert health["audit"]["enabled"] is True and health["process"]["workers"] == workers
        log = proc.log_bytes()
        rows = arr.wait_for(3)  # Application Stop once the process ended
    events = _events(rows)
    codes = [d.find("EventIdentification/EventID").get("csd-code") for d, _ in events]
    assert codes == ["110100", "110104", "110100"]
    transfer = events[1][0]
    source, dest = transfer.findall("ActiveParticipant")
    assert source.get("UserID").endswith("/wado-ws") and source.get("UserIsRequestor") == "false"
    assert dest.get("UserID") == "127.0.0.1" and dest.get("NetworkAccessPointID") == "127.0.0.1"
    assert transfer.find("AuditSourceIdentification").get("AuditSourceID") == "wadows-under-test"
    objects = transfer.findall("ParticipantObjectIdentification")
    study, patient = objects[0], objects[-1]
    assert study.get("ParticipantObjectID") == ds.StudyInstanceUID
    assert [i.get("UID") for i in study.iter("Instance")] == [ds.SOPInstanceUID]
    assert study.find("ParticipantObjectDescription/SOPClass").get("UID") == ds.SOPClassUID
    assert patient.get("ParticipantObjectID") == ds.PatientID
    assert patient.findtext("ParticipantObjectName") == str(ds.PatientName)
    if anonymize is None:
        assert len(objects) == 2 and study.findtext("ParticipantObjectDescription/Anonymized") == "false"
    else:
        assert returned.StudyInstanceUID != ds.StudyInstanceUID
        given = objects[1]
        assert given.get("ParticipantObjectID") == returned.StudyInstanceUID
        assert [i.get("UID") for i in given.iter("Instance")] == [returned.SOPInstanceUID]
        detail = study.find("ParticipantObjectDetail")
        assert base64.b64decode(detail.get("value")).decode() == returned.StudyInstanceUID
        # The application log keeps its no-PHI rule: the record's identifiers are not in it.
        for secret in (ds.PatientID, str(ds.PatientName), ds.StudyInstanceUID, ds.SOPInstanceUID,
                       returned.StudyInstanceUID):
            assert secret.encode() not in log, secret
        assert b"AuditMessage" not in log


def test_failed_login_and_doctype_are_audited(tmp_path):
    pki = make_pki(tmp_path / "pki")
    with repository(tmp_path / "arr", pki) as arr:
        with served(bundled_samples_dir(), tmp_path / "wadows", _config(pki, arr.tcp_port)) as proc:
            _, ds = _sample()
            body = request_xml([Doc(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, REPOSITORY)])
            bad = requests.post(proc.url, data=body, auth=("nobody", "wrong"),
                                headers={"Content-Type": "application/soap+xml"}, timeout=30)
            assert bad.status_code == 401
            evil = requests.post(proc.url, data=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
                                 headers={"Content-Type": "application/soap+xml"}, timeout=30)
            assert evil.status_code == 400
            rows = arr.wait_for(3)
    events = _events(rows)
    failed = next(d for d, _ in events if d.find("EventIdentification/EventID").get("csd-code") == "110114")
    assert failed.find("EventIdentification").get("EventOutcomeIndicator") == "4"
    assert failed.find("ActiveParticipant").get("UserID") == "nobody"
    alert = next(d for d, _ in events if d.find("EventIdentification/EventID").get("csd-code") == "110113")
    assert alert.find("EventIdentification/EventTypeCode[2]").get("csd-code") == "doctype-refused"


def test_document_information_leaves_a_transfer_record_too(tmp_path):
    """RetrieveImagingDocumentSetInformation discloses the object's content: audited as RAD-69's
    transfer is (PS3.15 A.5.3.7), naming the stored patient and, with Anonymize, the study given out."""
    from support import docinfo

    pki = make_pki(tmp_path / "pki")
    _, ds = _sample()
    doc = docinfo.Doc(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, REPOSITORY, "yes")
    with repository(tmp_path / "arr", pki) as arr:
        with served(bundled_samples_dir(), tmp_path / "wadows", _config(pki, arr.tcp_port)) as proc:
            r = requests.post(proc.url, data=docinfo.request_xml(
                [doc], ["string(//DicomAttribute[@keyword='StudyInstanceUID']/Value)"]),
                headers={"Content-Type": "application/soap+xml"}, timeout=60)
            (answer,) = docinfo.parse_response(r.headers["Content-Type"], r.content).answers()
            rows = arr.wait_for(2)
        log = proc.log_bytes()
    transfer = _events(rows)[1][0]
    assert transfer.find("EventIdentification/EventID").get("csd-code") == "110104"
    objects = transfer.findall("ParticipantObjectIdentification")
    study, given, patient = objects[0], objects[1], objects[-1]
    assert study.get("ParticipantObjectID") == ds.StudyInstanceUID and patient.get("ParticipantObjectID") == ds.PatientID
    assert given.get("ParticipantObjectID") == answer.texts(1)[0] != ds.StudyInstanceUID
    assert [i.get("UID") for i in given.iter("Instance")] == [answer.document_unique_id]
    for secret in (ds.PatientID, ds.StudyInstanceUID, ds.SOPInstanceUID):
        assert secret.encode() not in log, secret
