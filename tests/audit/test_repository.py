"""The audit trail against a real Audit Record Repository (rsyslogd from Debian): TLS with client
certificates and UDP; every message received is valid against the DICOM audit schema and says what
its event was; a repository that is down gets the messages once it is up; a client certificate it
does not trust is refused by it and counted by wadows."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from support.ports import free_port
from support.rsyslog import make_pki, repository
from wadows.audit import TransferredInstance
from wadows.audit.messages import Source
from wadows.audit.schema import validate
from wadows.audit.sender import Sender
from wadows.audit.syslog import TlsTransport, UdpTransport, tls_context
from wadows.audit.trail import AuditTrail

pytestmark = pytest.mark.tools

CT = "1.2.840.10008.5.1.4.1.1.2"
ENDPOINT = "http://127.0.0.1:9/wado-ws"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _trail(transport, **sender_args) -> AuditTrail:
    source = Source("test-node", "Radiology", user_id=ENDPOINT, process_id="99", network_access_point="127.0.0.1")
    return AuditTrail(Sender(transport, 100, **sender_args), source, app_name="wadows-test", hostname="test-node",
                      endpoint=ENDPOINT)


def _tls(pki, port, cert=None, key=None):
    return TlsTransport("127.0.0.1", port, tls_context(str(pki.ca), str(cert or pki.client_cert),
                                                       str(key or pki.client_key)))


def _emit_every_event(trail: AuditTrail) -> None:
    trail.application_start()
    trail.authenticated("research", "192.0.2.7")
    trail.authentication_failed("mallory", "192.0.2.8", "bad password")
    for kind in ("doctype-refused", "nonce-replayed", "login-throttled"):
        trail.security_alert(kind, user=None, address="192.0.2.9")
    trail.transferred([TransferredInstance("1.2.3.1", CT, "1.2.3.1.1", "PID-1", "Doe^Jane"),
                       TransferredInstance("1.2.3.2", CT, "1.2.3.2.1", "PID-1", "Doe^Jane")],
                      user="research", address="192.0.2.7")
    trail.application_stop()


def _check_every_event(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 9
    events = []
    for row in rows:
        assert (row["app_name"], row["msgid"], row["pri"], row["hostname"]) == \
            ("wadows-test", "IHE+RFC-3881", "85", "test-node")
        doc = validate(row["msg"].encode("utf-8"))
        ev = doc.find("EventIdentification")
        events.append((ev.find("EventID").get("csd-code"), ev.find("EventTypeCode").get("csd-code"),
                       ev.get("EventOutcomeIndicator")))
        assert doc.find("AuditSourceIdentification").attrib == {"AuditSourceID": "test-node",
                                                                "AuditEnterpriseSiteID": "Radiology"}
    assert events == [("110100", "110120", "0"), ("110114", "110122", "0"), ("110114", "110122", "4"),
                      ("110113", "110132", "4"), ("110113", "110132", "4"), ("110113", "110132", "4"),
                      ("110104", "RAD-69", "0"), ("110104", "RAD-69", "0"), ("110100", "110121", "0")]
    failed = etree.fromstring(rows[2]["msg"].encode())
    assert failed.find("ActiveParticipant").get("UserID") == "mallory"
    assert failed.findtext("EventIdentification/EventOutcomeDescription") == "bad password"
    alerts = [etree.fromstring(r["msg"].encode()).find("EventIdentification/EventTypeCode[2]").get("csd-code")
              for r in rows[3:6]]
    assert alerts == ["doctype-refused", "nonce-replayed", "login-throttled"]
    studies = [etree.fromstring(r["msg"].encode()).find("ParticipantObjectIdentification").get("ParticipantObjectID")
               for r in rows[6:8]]
    assert studies == ["1.2.3.1", "1.2.3.2"]
    patient = etree.fromstring(rows[6]["msg"].encode()).find("ParticipantObjectIdentification[2]")
    assert patient.get("ParticipantObjectID") == "PID-1"


def test_every_event_over_mutual_tls(pki, tmp_path):
    with repository(tmp_path, pki) as arr:
        trail = _trail(_tls(pki, arr.tcp_port))
        _emit_every_event(trail)
        rows = arr.wait_for(9)
        trail.close()
    _check_every_event(rows)
    assert trail.health()["sent"] == 9 and trail.health()["send_failures"] == 0


def test_every_event_over_udp(pki, tmp_path):
    with repository(tmp_path, pki) as arr:
        trail = _trail(UdpTransport("127.0.0.1", arr.udp_port))
        _emit_every_event(trail)
        rows = arr.wait_for(9)
        trail.close()
    _check_every_event(rows)


def test_repository_down_then_up(pki, tmp_path):
    port = free_port()
    trail = _trail(_tls(pki, port), min_backoff=0.1, max_backoff=0.4)
    trail.application_start()
    trail.authenticated("research", "192.0.2.7")
    deadline = time.monotonic() + 10
    while trail.health()["send_failures"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert trail.health()["repository_reachable"] is False and trail.health()["queued"] == 2
    with repository(tmp_path, pki, tcp_port=port) as arr:
        rows = arr.wait_for(2)
        health = trail.health()
        trail.close()
    assert [validate(r["msg"].encode()).find("EventIdentification/EventID").get("csd-code") for r in rows] == \
        ["110100", "110114"]
    assert health["sent"] == 2 and health["retries"] >= 2 and health["repository_reachable"] is True


def test_untrusted_client_certificate_is_refused_and_counted(pki, tmp_path):
    with repository(tmp_path, pki) as arr:
        trail = _trail(_tls(pki, arr.tcp_port, pki.rogue_cert, pki.rogue_key), min_backoff=0.1, max_backoff=0.2)
        trail.application_start()
        deadline = time.monotonic() + 10
        while trail.health()["tls_refused"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        health = trail.health()
        trail.close(timeout=0.1)
        time.sleep(0.3)
        assert arr.lines() == []
        log = (tmp_path / "rsyslogd.stderr").read_text()
    assert health["sent"] == 0 and health["last_error"] == "Refused" and health["queued"] == 1
    assert "signer not found" in log  # the receiver's own reason: not our CA
