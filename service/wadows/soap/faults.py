"""SOAP 1.2 faults, written by us because spyne's SOAP 1.2 fault path crashes into a text 500.

SOAP 1.2 Part 2 §7.5.1.2 maps env:Sender to HTTP 400 and the rest to 500. We keep 500 only for
env:Receiver (our own failure); MustUnderstand and VersionMismatch are the client's doing too, and
integration engineers read a 500 as "the server broke", so they answer 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .ns import SOAP12, WSA, q

SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"

# Values of env:Code/env:Value (SOAP 1.2 Part 1 §5.4.6).
SENDER = "Sender"
RECEIVER = "Receiver"
MUST_UNDERSTAND = "MustUnderstand"
VERSION_MISMATCH = "VersionMismatch"

_HTTP_STATUS = {
    SENDER: "400 Bad Request",
    MUST_UNDERSTAND: "400 Bad Request",
    VERSION_MISMATCH: "400 Bad Request",
    RECEIVER: "500 Internal Server Error",
}

FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"


@dataclass
class SoapFault(Exception):
    """A fault to answer instead of a response; ``reason`` is shown to the client, so no PHI in it."""

    code: str
    reason: str
    subcode: tuple[str, str] | None = None  # (namespace, local name), e.g. WS-Addressing's ActionNotSupported
    http_status: str | None = None  # overrides the mapping above (413 for an oversized request)
    not_understood: list[str] = field(default_factory=list)  # Clark names, for MustUnderstand faults
    # Set when the fault refuses an attack rather than a mistake: the Security Alert kind the edge
    # audits (audit/codes.py ALERTS), never shown to the client.
    alert: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    @property
    def status(self) -> str:
        return self.http_status or _HTTP_STATUS[self.code]


def sender(reason: str, subcode: tuple[str, str] | None = None, *, http_status: str | None = None) -> SoapFault:
    return SoapFault(SENDER, reason, subcode, http_status)


def fault_envelope(fault: SoapFault, *, relates_to: str | None = None, message_id: str | None = None) -> bytes:
    """Serialise a SOAP 1.2 fault envelope, with WS-Addressing headers when the request had a MessageID."""
    nsmap = {"env": SOAP12, "wsa": WSA}
    env = etree.Element(q(SOAP12, "Envelope"), nsmap=nsmap)
    header = etree.SubElement(env, q(SOAP12, "Header"))
    for qname in fault.not_understood:
        ns, _, local = qname[1:].partition("}")
        nu = etree.SubElement(header, q(SOAP12, "NotUnderstood"), nsmap={"h": ns})
        nu.set("qname", f"h:{local}")
    etree.SubElement(header, q(WSA, "Action")).text = FAULT_ACTION
    if message_id:
        etree.SubElement(header, q(WSA, "MessageID")).text = message_id
    if relates_to:
        etree.SubElement(header, q(WSA, "RelatesTo")).text = relates_to
    body = etree.SubElement(env, q(SOAP12, "Body"))
    f = etree.SubElement(body, q(SOAP12, "Fault"))
    code = etree.SubElement(f, q(SOAP12, "Code"))
    etree.SubElement(code, q(SOAP12, "Value")).text = f"env:{fault.code}"
    if fault.subcode:
        ns, local = fault.subcode
        sub = etree.SubElement(code, q(SOAP12, "Subcode"))
        value = etree.SubElement(sub, q(SOAP12, "Value"), nsmap={"sc": ns} if ns != WSA else None)
        value.text = f"{'wsa' if ns == WSA else 'sc'}:{local}"
    reason = etree.SubElement(f, q(SOAP12, "Reason"))
    text = etree.SubElement(reason, q(SOAP12, "Text"))
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = fault.reason
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def soap11_version_mismatch(reason: str) -> bytes:
    """What a SOAP 1.2 node answers a SOAP 1.1 message (SOAP 1.2 Part 1, Appendix A): a SOAP 1.1
    VersionMismatch fault, which a 1.1 toolkit (suds, node-soap by default) can read and show, carrying
    an env:Upgrade header that names the envelope we do support. A SOAP 1.2 fault would reach such a
    client only as "400 Bad Request"."""
    env = etree.Element(q(SOAP11, "Envelope"), nsmap={"env": SOAP11})
    header = etree.SubElement(env, q(SOAP11, "Header"))
    upgrade = etree.SubElement(header, q(SOAP12, "Upgrade"), nsmap={"upg": SOAP12})
    supported = etree.SubElement(upgrade, q(SOAP12, "SupportedEnvelope"), nsmap={"ns1": SOAP12})
    supported.set("qname", "ns1:Envelope")
    fault = etree.SubElement(etree.SubElement(env, q(SOAP11, "Body")), q(SOAP11, "Fault"))
    etree.SubElement(fault, "faultcode").text = "env:VersionMismatch"
    etree.SubElement(fault, "faultstring").text = reason
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
