"""The coded values audit messages carry, as (code, coding scheme, meaning) triples.

DICOM codes come from PS3.16 (CID 400 Audit Event ID, CID 401 Audit Event Type Code, CID 402 Audit
Active Participant Role ID Code, CID 403 Security Alert Type Code, CID 404 Audit Participant Object
ID Type Code); "RFC-3881" codes are the ParticipantObjectIDTypeCode values RFC 3881 §5.5.4 defines
and PS3.15 A.5.2 keeps; "IHE Transactions" is the scheme ITI TF-2 3.20 uses to name a transaction in
EventTypeCode. "99WADOWS" is a private coding scheme (PS3.16 §8.2: designators beginning "99") for
what the standard's codes do not tell apart.
"""

from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    code: str
    scheme: str
    meaning: str


# CID 400
APPLICATION_ACTIVITY = Code("110100", "DCM", "Application Activity")
INSTANCES_TRANSFERRED = Code("110104", "DCM", "DICOM Instances Transferred")
SECURITY_ALERT = Code("110113", "DCM", "Security Alert")
USER_AUTHENTICATION = Code("110114", "DCM", "User Authentication")

# CID 401
APPLICATION_START = Code("110120", "DCM", "Application Start")
APPLICATION_STOP = Code("110121", "DCM", "Application Stop")
LOGIN = Code("110122", "DCM", "Login")

# CID 402
ROLE_APPLICATION = Code("110150", "DCM", "Application")
ROLE_APPLICATION_LAUNCHER = Code("110151", "DCM", "Application Launcher")
ROLE_DESTINATION = Code("110152", "DCM", "Destination Role ID")
ROLE_SOURCE = Code("110153", "DCM", "Source Role ID")

# CID 403. A refused DOCTYPE, a spent nonce and a locked-out user name are each an attempt to use
# what this service restricts; the private code below says which.
USE_OF_RESTRICTED_FUNCTION = Code("110132", "DCM", "Use of Restricted Function")

# CID 404 and RFC 3881
STUDY_INSTANCE_UID = Code("110180", "DCM", "Study Instance UID")
PATIENT_NUMBER = Code("2", "RFC-3881", "Patient Number")
URI = Code("12", "RFC-3881", "URI")

# The transaction this service answers (IHE RAD TF-2 4.69, Retrieve Imaging Document Set).
RAD_69 = Code("RAD-69", "IHE Transactions", "Retrieve Imaging Document Set")

# What exactly a Security Alert is about (private scheme; the keys are the hooks' ``kind``).
ALERTS = {
    "doctype-refused": Code("doctype-refused", "99WADOWS", "DOCTYPE or ENTITY declaration refused"),
    "nonce-replayed": Code("nonce-replayed", "99WADOWS", "WS-Security Nonce replayed"),
    "login-throttled": Code("login-throttled", "99WADOWS", "Login refused: too many failures for the user name"),
}
