"""IHE ATNA audit trail (ITI TF-1 9, ITI TF-2 3.20): DICOM PS3.15 A.5 audit messages sent over
syslog (RFC 5424) by TLS (RFC 5425) or UDP (RFC 5426) to an Audit Record Repository.

No SOAP, retrieval or store imports: callers hand plain data to the hooks of ``AuditTrail``.
"""

from .messages import TransferredInstance
from .trail import DISABLED, AuditTrail, from_config

__all__ = ["AuditTrail", "DISABLED", "TransferredInstance", "from_config"]
