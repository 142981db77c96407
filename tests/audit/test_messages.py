"""audit/messages.py: every builder's output is valid against the shipped DICOM audit schema, and
says what PS3.15 A.5.3 asks of its event."""

from __future__ import annotations

import base64

import pytest

from wadows.audit import messages as m
from wadows.audit.schema import InvalidAuditMessage, validate

SOURCE = m.Source("arr-source", "Radiology", user_id="http://127.0.0.1:8080/wado-ws", process_id="4242",
                  network_access_point="node.example.org")
CT = "1.2.840.10008.5.1.4.1.1.2"
SR = "1.2.840.10008.5.1.4.1.1.88.22"


def _instances(anonymized: bool = False) -> list[m.TransferredInstance]:
    def one(study: str, cls: str, sop: str, n: int) -> m.TransferredInstance:
        if not anonymized:
            return m.TransferredInstance(study, cls, sop, "PID-7", "Doe^Jane")
        return m.TransferredInstance(study, cls, sop, "PID-7", "Doe^Jane", "2.25.9" + study[-1], f"2.25.8{n}")
    return [one("1.2.3.1", CT, "1.2.3.1.1", 1), one("1.2.3.1", CT, "1.2.3.1.2", 2),
            one("1.2.3.1", SR, "1.2.3.1.3", 3), one("1.2.3.2", CT, "1.2.3.2.1", 4)]


def test_transfer_names_source_destination_study_and_patient():
    studies = m.group_by_study(_instances())
    assert [s.uid for s in studies] == ["1.2.3.1", "1.2.3.2"]
    doc = validate(m.instances_transferred(SOURCE, m.Peer("research", "10.1.2.3"), studies[0]))
    ev = doc.find("EventIdentification")
    assert (ev.get("EventActionCode"), ev.get("EventOutcomeIndicator")) == ("R", "0")
    assert ev.find("EventID").get("csd-code") == "110104"
    assert ev.find("EventTypeCode").attrib == {"csd-code": "RAD-69", "codeSystemName": "IHE Transactions",
                                               "originalText": "Retrieve Imaging Document Set"}
    source, dest = doc.findall("ActiveParticipant")
    assert source.get("UserIsRequestor") == "false" and source.find("RoleIDCode").get("csd-code") == "110153"
    assert dest.attrib["UserID"] == "research" and dest.get("NetworkAccessPointID") == "10.1.2.3"
    assert dest.get("NetworkAccessPointTypeCode") == "2" and dest.find("RoleIDCode").get("csd-code") == "110152"
    study, patient = doc.findall("ParticipantObjectIdentification")
    assert (study.get("ParticipantObjectTypeCode"), study.get("ParticipantObjectTypeCodeRole")) == ("2", "3")
    assert study.get("ParticipantObjectID") == "1.2.3.1"
    assert study.find("ParticipantObjectIDTypeCode").get("csd-code") == "110180"
    classes = {c.get("UID"): (c.get("NumberOfInstances"), [i.get("UID") for i in c]) for c in
               study.find("ParticipantObjectDescription").findall("SOPClass")}
    assert classes == {CT: ("2", ["1.2.3.1.1", "1.2.3.1.2"]), SR: ("1", ["1.2.3.1.3"])}
    assert study.findtext("ParticipantObjectDescription/Anonymized") == "false"
    assert (patient.get("ParticipantObjectTypeCode"), patient.get("ParticipantObjectTypeCodeRole")) == ("1", "1")
    assert patient.get("ParticipantObjectID") == "PID-7" and patient.findtext("ParticipantObjectName") == "Doe^Jane"
    assert patient.find("ParticipantObjectIDTypeCode").attrib == {
        "csd-code": "2", "codeSystemName": "RFC-3881", "originalText": "Patient Number"}


def test_anonymized_transfer_names_the_original_and_the_uid_given_out():
    study = m.group_by_study(_instances(anonymized=True))[0]
    doc = validate(m.instances_transferred(SOURCE, m.Peer(None, "10.1.2.3"), study))
    assert doc.find("ActiveParticipant[2]").get("UserID") == "10.1.2.3"  # anonymous: named by its address
    original, given, patient = doc.findall("ParticipantObjectIdentification")
    assert original.get("ParticipantObjectID") == "1.2.3.1"
    detail = original.find("ParticipantObjectDetail")
    assert detail.get("type") == "AnonymizedStudyInstanceUID" and base64.b64decode(detail.get("value")) == b"2.25.91"
    assert original.findtext("ParticipantObjectDescription/Anonymized") == "true"
    assert given.get("ParticipantObjectID") == "2.25.91" and given.get("ParticipantObjectDataLifeCycle") == "7"
    assert [i.get("UID") for i in given.iter("Instance")] == ["2.25.81", "2.25.82", "2.25.83"]
    assert patient.get("ParticipantObjectID") == "PID-7"


def test_interrupted_transfer_is_a_minor_failure_with_a_reason():
    study = m.group_by_study(_instances())[1]
    doc = validate(m.instances_transferred(SOURCE, m.Peer("u", "::1"), study, outcome=m.OUTCOME_MINOR_FAILURE,
                                           description="cut short"))
    assert doc.find("EventIdentification").get("EventOutcomeIndicator") == "4"
    assert doc.findtext("EventIdentification/EventOutcomeDescription") == "cut short"


@pytest.mark.parametrize("success, outcome", [(True, "0"), (False, "4")])
def test_user_authentication(success, outcome):
    doc = validate(m.user_authentication(SOURCE, "alice", "192.0.2.1", success=success))
    ev = doc.find("EventIdentification")
    assert ev.get("EventOutcomeIndicator") == outcome
    assert ev.find("EventID").get("csd-code") == "110114" and ev.find("EventTypeCode").get("csd-code") == "110122"
    person = doc.find("ActiveParticipant")
    assert person.get("UserID") == "alice" and person.get("UserIsRequestor") == "true"


@pytest.mark.parametrize("kind", ["doctype-refused", "nonce-replayed", "login-throttled"])
def test_security_alert(kind):
    doc = validate(m.security_alert(SOURCE, kind, m.Peer(None, "192.0.2.9"), SOURCE.user_id))
    ev = doc.find("EventIdentification")
    assert ev.find("EventID").get("csd-code") == "110113" and ev.get("EventOutcomeIndicator") == "4"
    assert [t.get("csd-code") for t in ev.findall("EventTypeCode")] == ["110132", kind]
    subject = doc.find("ParticipantObjectIdentification")
    assert subject.get("ParticipantObjectID") == SOURCE.user_id and subject.get("ParticipantObjectTypeCodeRole") == "13"


@pytest.mark.parametrize("started, code", [(True, "110120"), (False, "110121")])
def test_application_activity(started, code):
    doc = validate(m.application_activity(SOURCE, started, "root"))
    assert doc.find("EventIdentification/EventTypeCode").get("csd-code") == code
    app, launcher = doc.findall("ActiveParticipant")
    assert app.find("RoleIDCode").get("csd-code") == "110150" and app.get("AlternativeUserID") == "4242"
    assert launcher.find("RoleIDCode").get("csd-code") == "110151"


def test_text_that_xml_cannot_carry_is_replaced_not_fatal():
    study = m.group_by_study([m.TransferredInstance("1.2.3", CT, "1.2.3.4", "P\x00ID", "Doe\x1b^Jo")])[0]
    doc = validate(m.instances_transferred(SOURCE, m.Peer("u", None), study))
    assert doc.find("ParticipantObjectIdentification[2]").findtext("ParticipantObjectName") == "Doe\ufffd^Jo"


def test_the_validator_rejects_what_the_schema_does_not_allow():
    xml = m.application_activity(SOURCE, True)
    with pytest.raises(InvalidAuditMessage):
        validate(xml.replace(b'EventOutcomeIndicator="0"', b'EventOutcomeIndicator="3"'))
    with pytest.raises(InvalidAuditMessage):
        validate(xml.replace(b"AuditSourceIdentification", b"AuditSource"))


def test_a_message_is_one_line():
    study = m.group_by_study([m.TransferredInstance("1.2.3", CT, "1.2.3.4", "PID", "Doe^Jo\r\nX")])[0]
    xml = m.instances_transferred(SOURCE, m.Peer("u", None), study, description="two\nlines")
    assert b"\n" not in xml and b"\r" not in xml
    assert validate(xml).findtext("EventIdentification/EventOutcomeDescription") == "two lines"


def test_the_readme_example_is_a_valid_record():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Audit trail (IHE ATNA)", 1)[1]
    example = re.search(r"```xml\n(.*?)```", section, re.S).group(1)
    doc = validate(example.encode())
    assert doc.find("EventIdentification/EventID").get("csd-code") == "110104"
