"""WS-Addressing 1.0 (SOAP binding) as IHE ITI TF-2 Appendix V asks: Action with mustUnderstand,
MessageID, and RelatesTo in the response; and SOAP 1.2's mustUnderstand rule for every header.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from . import faults
from .ns import SOAP12, WSA, q

ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
NONE_ADDRESS = "http://www.w3.org/2005/08/addressing/none"

# Roles this node plays (SOAP 1.2 Part 1 §2.2); headers for any other role are not ours to check.
OUR_ROLES = {None, "", "http://www.w3.org/2003/05/soap-envelope/role/next",
              "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"}

WSA_HEADERS = frozenset(q(WSA, n) for n in ("Action", "MessageID", "To", "ReplyTo", "From", "FaultTo", "RelatesTo"))


@dataclass
class Addressing:
    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    reply_to: str | None = None


def is_true(value: str | None) -> bool:
    """An env:mustUnderstand value: xs:boolean, whose only lexical forms are true/1/false/0 after
    whitespace collapse (SOAP 1.2 Part 1 §5.2.3); "TRUE" or "yes" is a malformed message, not false."""
    if value is None:
        return False
    given = value.strip(" \t\r\n")
    if given in ("1", "true"):
        return True
    if given in ("0", "false"):
        return False
    raise faults.sender("A mustUnderstand attribute is not an xs:boolean (true, 1, false or 0)")


def check_must_understand(headers: list[etree._Element], understood: frozenset[str]) -> None:
    # Every value is checked, whatever the role: a malformed attribute makes the message malformed.
    marked = [h for h in headers if is_true(h.get(q(SOAP12, "mustUnderstand")))]
    not_understood = [
        h.tag for h in marked
        if h.get(q(SOAP12, "role")) in OUR_ROLES
        and h.tag not in understood
    ]
    if not_understood:
        raise faults.SoapFault(
            faults.MUST_UNDERSTAND,
            "Header block(s) marked mustUnderstand are not understood: " + ", ".join(not_understood),
            not_understood=not_understood,
        )


def read(headers: list[etree._Element]) -> Addressing:
    addr = Addressing()
    for h in headers:
        if h.tag == q(WSA, "Action"):
            addr.action = (h.text or "").strip()
        elif h.tag == q(WSA, "MessageID"):
            addr.message_id = (h.text or "").strip()[:256]
        elif h.tag == q(WSA, "To"):
            addr.to = (h.text or "").strip()
        elif h.tag == q(WSA, "ReplyTo"):
            address = h.find(q(WSA, "Address"))
            addr.reply_to = (address.text or "").strip() if address is not None else None
    if addr.reply_to not in (None, ANONYMOUS):
        # We answer on the same HTTP connection only (IHE synchronous exchange).
        raise faults.sender(
            "Only the anonymous ReplyTo address is supported (synchronous exchange)",
            (WSA, "OnlyAnonymousAddressSupported"),
        )
    return addr


def check_action(addr: Addressing, expected: set[str], http_action: str | None) -> None:
    """The Action must name the operation the body asks for (WS-Addressing SOAP binding §6.4.1).

    A request without wsa:Action is still served, dispatched on its body, because node-soap and suds
    send none by default; when an action is given anywhere, it must agree with the body.
    """
    for given in (addr.action, http_action):
        if given and given not in expected:
            raise faults.sender(
                f"The action '{given[:200]}' does not match the request element in the Body",
                (WSA, "ActionNotSupported"),
            )


def response_headers(action: str, relates_to: str | None) -> list[etree._Element]:
    out = []
    a = etree.Element(q(WSA, "Action"), nsmap={"wsa": WSA})
    a.text = action
    out.append(a)
    m = etree.Element(q(WSA, "MessageID"), nsmap={"wsa": WSA})
    m.text = f"urn:uuid:{uuid.uuid4()}"
    out.append(m)
    if relates_to:
        r = etree.Element(q(WSA, "RelatesTo"), nsmap={"wsa": WSA})
        r.text = relates_to
        out.append(r)
    t = etree.Element(q(WSA, "To"), nsmap={"wsa": WSA})
    t.text = ANONYMOUS
    out.append(t)
    return out
