"""Audit messages in the DICOM Audit Message Schema (PS3.15 A.5.1), one builder per event (A.5.3).

Element order follows the schema, whose groups are ordered: EventIdentification, ActiveParticipant+,
AuditSourceIdentification, ParticipantObjectIdentification*; inside a participant object the ID type
code, then its name, then details, then descriptions. Coded values carry csd-code, codeSystemName
and originalText, which the schema's CodedValueType makes mandatory.

The schema (the edition shipped in data/audit/, see SOURCE.md there) makes a ParticipantObjectName
or ParticipantObjectQuery mandatory for every participant object; a study has no name of its own,
so it is named by its Study Instance UID.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from lxml import etree

from . import codes
from .codes import Code

# XML 1.0 §2.2: characters a document may not contain at all (a name read from an object may).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A message is one line: receivers escape line breaks (rsyslog writes "#012"), and a line per record
# is what a repository's files and tools expect.
_LINE_BREAKS = re.compile("[\t\n\r]")
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'


OUTCOME_SUCCESS = "0"  # PS3.15 A.5.1: Nominal Success
OUTCOME_MINOR_FAILURE = "4"
OUTCOME_SERIOUS_FAILURE = "8"


@dataclass(frozen=True)
class Source:
    """This service, as its messages name it: AuditSourceIdentification and the Source participant."""

    audit_source_id: str
    enterprise_site_id: str = ""
    user_id: str = "wadows"  # the endpoint URI for transfers (ITI TF-2 3.20.4.1.1.1: the process's identity)
    process_id: str = ""  # AlternativeUserID (PS3.15 A.5.2.1: the process ID for a process)
    network_access_point: str = ""


@dataclass(frozen=True)
class Peer:
    """The other side of an exchange: ``user`` is the authenticated name or None, ``address`` the client's."""

    user: str | None
    address: str | None


@dataclass(frozen=True)
class TransferredInstance:
    """One object that went out. ``anonymized_*`` are set when it went out de-identified: the
    ``sop_instance_uid`` and ``study_uid`` are then those of the stored original."""

    study_uid: str
    sop_class_uid: str
    sop_instance_uid: str
    patient_id: str = ""
    patient_name: str = ""
    anonymized_study_uid: str = ""
    anonymized_sop_instance_uid: str = ""


@dataclass
class _Study:
    uid: str
    patient_id: str = ""
    patient_name: str = ""
    anonymized_uid: str = ""
    by_class: dict[str, list[str]] = field(default_factory=dict)
    anonymized_by_class: dict[str, list[str]] = field(default_factory=dict)


def _clean(value: str) -> str:
    return _LINE_BREAKS.sub(" ", _NOT_XML.sub("\ufffd", value))


def _timestamp(when: datetime | None) -> str:
    """xsd:dateTime in UTC (PS3.15 A.5.2.5: UTC, or local time with its offset)."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _coded(parent: etree._Element, tag: str, code: Code) -> etree._Element:
    return etree.SubElement(parent, tag, {"csd-code": code.code, "codeSystemName": code.scheme,
                                          "originalText": code.meaning})


def _address_type(address: str) -> str:
    """NetworkAccessPointTypeCode: 2 for an IP address, 1 for a machine name (PS3.15 A.5.1)."""
    try:
        ipaddress.ip_address(address)
        return "2"
    except ValueError:
        return "1"


class _Message:
    def __init__(self, event: Code, outcome: str, *, action: str | None = None,
                 types: Iterable[Code] = (), description: str | None = None,
                 when: datetime | None = None) -> None:
        self.root = etree.Element("AuditMessage")
        attrs = {"EventDateTime": _timestamp(when), "EventOutcomeIndicator": outcome}
        if action:
            attrs["EventActionCode"] = action
        ev = etree.SubElement(self.root, "EventIdentification", attrs)
        _coded(ev, "EventID", event)
        for t in types:
            _coded(ev, "EventTypeCode", t)
        if description:
            etree.SubElement(ev, "EventOutcomeDescription").text = _clean(description)
        self._participants_end = ev

    def participant(self, user_id: str, requestor: bool, *, role: Code | None = None, alternative: str = "",
                    user_name: str = "", access_point: str | None = None) -> None:
        attrs = {"UserID": _clean(user_id), "UserIsRequestor": "true" if requestor else "false"}
        if alternative:
            attrs["AlternativeUserID"] = _clean(alternative)
        if user_name:
            attrs["UserName"] = _clean(user_name)
        if access_point:
            attrs["NetworkAccessPointID"] = _clean(access_point)
            attrs["NetworkAccessPointTypeCode"] = _address_type(access_point)
        ap = etree.SubElement(self.root, "ActiveParticipant", attrs)
        if role is not None:
            _coded(ap, "RoleIDCode", role)

    def source(self, source: Source) -> None:
        attrs = {"AuditSourceID": _clean(source.audit_source_id)}
        if source.enterprise_site_id:
            attrs["AuditEnterpriseSiteID"] = _clean(source.enterprise_site_id)
        src = etree.SubElement(self.root, "AuditSourceIdentification", attrs)
        # A.5.1.2.1: 4 = application server process tier.
        etree.SubElement(src, "AuditSourceTypeCode", {"csd-code": "4"})

    def participant_object(self, object_id: str, id_type: Code, name: str, *, type_code: str,
                           role: str, life_cycle: str | None = None,
                           details: Iterable[tuple[str, str]] = ()) -> etree._Element:
        attrs = {"ParticipantObjectID": _clean(object_id), "ParticipantObjectTypeCode": type_code,
                 "ParticipantObjectTypeCodeRole": role}
        if life_cycle:
            attrs["ParticipantObjectDataLifeCycle"] = life_cycle
        po = etree.SubElement(self.root, "ParticipantObjectIdentification", attrs)
        _coded(po, "ParticipantObjectIDTypeCode", id_type)
        etree.SubElement(po, "ParticipantObjectName").text = _clean(name)
        for kind, value in details:
            # ValuePair values are base64 (A.5.1: so that no text can break the message's XML).
            etree.SubElement(po, "ParticipantObjectDetail",
                             {"type": kind, "value": base64.b64encode(value.encode("utf-8")).decode("ascii")})
        return po

    def bytes(self) -> bytes:
        return _DECLARATION + etree.tostring(self.root, encoding="unicode").encode("utf-8")


def _study_description(po: etree._Element, by_class: dict[str, list[str]], anonymized: bool) -> None:
    desc = etree.SubElement(po, "ParticipantObjectDescription")
    for sop_class, instances in by_class.items():
        sc = etree.SubElement(desc, "SOPClass", {"UID": sop_class, "NumberOfInstances": str(len(instances))})
        for uid in instances:
            etree.SubElement(sc, "Instance", {"UID": uid})
    etree.SubElement(desc, "Anonymized").text = "true" if anonymized else "false"


def group_by_study(instances: Iterable[TransferredInstance]) -> list[_Study]:
    """One entry per stored study, in the order first seen; a study belongs to one patient."""
    studies: dict[str, _Study] = {}
    for i in instances:
        s = studies.get(i.study_uid)
        if s is None:
            s = studies[i.study_uid] = _Study(i.study_uid, i.patient_id, i.patient_name, i.anonymized_study_uid)
        s.by_class.setdefault(i.sop_class_uid, []).append(i.sop_instance_uid)
        if i.anonymized_study_uid:
            s.anonymized_by_class.setdefault(i.sop_class_uid, []).append(i.anonymized_sop_instance_uid)
    return list(studies.values())


def instances_transferred(source: Source, destination: Peer, study: _Study, *, outcome: str = OUTCOME_SUCCESS,
                          description: str | None = None, when: datetime | None = None) -> bytes:
    """PS3.15 A.5.3.7 DICOM Instances Transferred, as the Imaging Document Source of a RAD-69
    retrieval sends it: action R (the source read the objects it sent), one study per message.

    Anonymized: the stored study and its patient are named as always (the record goes to the Audit
    Record Repository, a protected store, and is what lets a security officer trace an anonymized
    copy back), each flagged Anonymized, with a ParticipantObjectDetail "AnonymizedStudyInstanceUID"
    naming the study UID the caller was given; that study follows as a second Study participant
    object with life cycle 7 (De-identification) and the instance UIDs the caller received."""
    anonymized = bool(study.anonymized_uid)
    msg = _Message(codes.INSTANCES_TRANSFERRED, outcome, action="R", types=[codes.RAD_69],
                   description=description, when=when)
    msg.participant(source.user_id, False, role=codes.ROLE_SOURCE, alternative=source.process_id,
                    access_point=source.network_access_point or None)
    msg.participant(destination.user or destination.address or "anonymous", True, role=codes.ROLE_DESTINATION,
                    access_point=destination.address)
    msg.source(source)
    details = [("AnonymizedStudyInstanceUID", study.anonymized_uid)] if anonymized else []
    po = msg.participant_object(study.uid, codes.STUDY_INSTANCE_UID, study.uid, type_code="2", role="3",
                                details=details)
    _study_description(po, study.by_class, anonymized)
    if anonymized:
        po = msg.participant_object(study.anonymized_uid, codes.STUDY_INSTANCE_UID, study.anonymized_uid,
                                    type_code="2", role="3", life_cycle="7",
                                    details=[("OriginalStudyInstanceUID", study.uid)])
        _study_description(po, study.anonymized_by_class, True)
    msg.participant_object(study.patient_id, codes.PATIENT_NUMBER, study.patient_name or study.patient_id,
                           type_code="1", role="1")
    return msg.bytes()


def user_authentication(source: Source, user: str, address: str | None, *, success: bool,
                        description: str | None = None, when: datetime | None = None) -> bytes:
    """PS3.15 A.5.3.12 User Authentication (Login): the person authenticated is the requestor;
    this service is the node that performed the authentication."""
    msg = _Message(codes.USER_AUTHENTICATION, OUTCOME_SUCCESS if success else OUTCOME_MINOR_FAILURE,
                   action="E", types=[codes.LOGIN], description=description, when=when)
    msg.participant(user, True, access_point=address)
    msg.participant(source.user_id, False, alternative=source.process_id,
                    access_point=source.network_access_point or None)
    msg.source(source)
    return msg.bytes()


def security_alert(source: Source, kind: str, peer: Peer, endpoint: str, *, description: str | None = None,
                   when: datetime | None = None) -> bytes:
    """PS3.15 A.5.3.11 Security Alert. The attempt was refused, so the outcome is 4 (minor failure)
    rather than 0, which A.5.3.11 reserves for an informative alert. The reporting process is this
    service; the performing participant is the caller (its name if it gave a known one, else its
    address); the alert subject is the endpoint (type 2 System Object, role 13 Security Resource)."""
    msg = _Message(codes.SECURITY_ALERT, OUTCOME_MINOR_FAILURE, action="E",
                   types=[codes.USE_OF_RESTRICTED_FUNCTION, codes.ALERTS[kind]], description=description, when=when)
    msg.participant(source.user_id, False, alternative=source.process_id,
                    access_point=source.network_access_point or None)
    msg.participant(peer.user or peer.address or "unknown", True, access_point=peer.address)
    msg.source(source)
    msg.participant_object(endpoint, codes.URI, endpoint, type_code="2", role="13",
                           details=[("Alert Description", codes.ALERTS[kind].meaning)])
    return msg.bytes()


def application_activity(source: Source, started: bool, launcher: str = "", *,
                         when: datetime | None = None) -> bytes:
    """PS3.15 A.5.3.1 Application Activity: Application Start or Stop; the application is this
    service (role 110150), the launcher the operating-system user that ran it (role 110151)."""
    msg = _Message(codes.APPLICATION_ACTIVITY, OUTCOME_SUCCESS, action="E",
                   types=[codes.APPLICATION_START if started else codes.APPLICATION_STOP], when=when)
    msg.participant(source.user_id, False, role=codes.ROLE_APPLICATION, alternative=source.process_id,
                    access_point=source.network_access_point or None)
    if launcher:
        msg.participant(launcher, True, role=codes.ROLE_APPLICATION_LAUNCHER)
    msg.source(source)
    return msg.bytes()
