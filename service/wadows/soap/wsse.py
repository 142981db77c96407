"""Reading the wsse:Security header: OASIS WS-Security 1.0/1.1 (SOAP Message Security), UsernameToken
Profile 1.1 and wsu:Timestamp. Only reading: what it holds goes to security/ as its neutral Credentials, and whether the token is any
good is security/auth.py's call.

WSS 1.1 kept the 1.0 namespaces for Security, UsernameToken and Timestamp (it only added the wsse11
namespace for new elements such as Salt and Iteration), so the one namespace pair in ns.py covers both.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone

from lxml import etree

from ..security.credentials import Credentials, Timestamp, UsernameToken
from . import faults
from .ns import SOAP12, WSSE, WSU, q
from .wsa import OUR_ROLES, is_true

SECURITY_HEADERS = frozenset({q(WSSE, "Security")})

_TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TEXT = _TOKEN_PROFILE + "#PasswordText"
PASSWORD_DIGEST = _TOKEN_PROFILE + "#PasswordDigest"
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

# Older clients (and zeep's own docstring) write the Type as a QName, "wsse:PasswordText".
_TYPES = {PASSWORD_TEXT: "PasswordText", PASSWORD_DIGEST: "PasswordDigest",
          "PasswordText": "PasswordText", "PasswordDigest": "PasswordDigest",
          "wsse:PasswordText": "PasswordText", "wsse:PasswordDigest": "PasswordDigest"}

# xsd:dateTime as WSS writes it: seconds may carry any number of decimals; the zone is Z or an offset
# (WSS 1.1 §10 asks for UTC, so a value without a zone is read as UTC).
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?")

_MAX_TEXT = 1024  # no legitimate user name, password, digest or nonce comes near this


def _invalid(reason: str) -> faults.SoapFault:
    return faults.sender(reason, (WSSE, "InvalidSecurity"))


def parse_datetime(text: str) -> datetime:
    m = _DATETIME.fullmatch(text.strip())
    if m is None:
        raise ValueError("not an xsd:dateTime")
    base, fraction, zone = m.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    value = datetime.fromisoformat(f"{base}.{micro}{'+00:00' if zone in (None, 'Z') else zone}")
    return value.astimezone(timezone.utc)


def read(headers: list[etree._Element]) -> Credentials | None:
    """The Security header addressed to us, or None. Security headers for other roles belong to other
    nodes (WSS 1.1 §5: at most one per role), so only one may be ours."""
    ours = [h for h in headers if h.tag in SECURITY_HEADERS and h.get(q(SOAP12, "role")) in OUR_ROLES]
    if not ours:
        return None
    if len(ours) > 1:
        raise _invalid("More than one wsse:Security header is addressed to this service")
    header = ours[0]
    must_understand = is_true(header.get(q(SOAP12, "mustUnderstand")))
    token = timestamp = None
    if (header.text or "").strip() or any((c.tail or "").strip() for c in header):
        # Character content is no part of wsse:Security (WSS 1.1 §5): a broken header, not an absent one.
        raise _invalid("The wsse:Security header holds text outside its elements")
    for child in header:
        if not isinstance(child.tag, str):
            continue
        if child.tag == q(WSSE, "UsernameToken"):
            if token is not None:
                raise _invalid("More than one UsernameToken in the Security header")
            token = _username_token(child)
        elif child.tag == q(WSU, "Timestamp"):
            if timestamp is not None:
                raise _invalid("More than one wsu:Timestamp in the Security header")
            timestamp = _timestamp(child)
        elif must_understand:
            # Claiming to understand a header whose signature or encryption we would skip would be a lie
            # the client relies on (SOAP 1.2 Part 1 §5.2.3).
            raise faults.sender(f"This service understands only UsernameToken and Timestamp in wsse:Security, "
                                f"not {etree.QName(child).localname[:64]}", (WSSE, "UnsupportedSecurityToken"))
    if must_understand and token is None and timestamp is None:
        # Treating it as "no credentials" would process a header we claim to understand without reading it.
        raise _invalid("The wsse:Security header marked mustUnderstand holds neither a UsernameToken nor a Timestamp")
    return Credentials(token, timestamp)


def _text(el: etree._Element | None, what: str) -> str | None:
    if el is None:
        return None
    text = (el.text or "").strip()
    if len(text) > _MAX_TEXT:
        raise _invalid(f"{what} is too long")
    return text


def _one(parent: etree._Element, tag: str) -> etree._Element | None:
    found = parent.findall(tag)
    if len(found) > 1:
        raise _invalid(f"More than one {etree.QName(tag).localname} in {etree.QName(parent).localname}")
    return found[0] if found else None


def _username_token(el: etree._Element) -> UsernameToken:
    username = _text(_one(el, q(WSSE, "Username")), "Username")
    if not username:
        raise _invalid("The UsernameToken has no Username")
    password_el = _one(el, q(WSSE, "Password"))
    password = _text(password_el, "Password")
    password_type = "PasswordText"
    if password_el is not None:
        given = (password_el.get("Type") or PASSWORD_TEXT).strip()
        if given not in _TYPES:
            raise faults.sender("The Password Type is neither PasswordText nor PasswordDigest",
                                (WSSE, "UnsupportedSecurityToken"))
        password_type = _TYPES[given]
    nonce = None
    nonce_el = _one(el, q(WSSE, "Nonce"))
    if nonce_el is not None:
        if (nonce_el.get("EncodingType") or BASE64_BINARY).strip() != BASE64_BINARY:
            raise faults.sender("Only Base64Binary nonces are supported", (WSSE, "UnsupportedSecurityToken"))
        try:
            nonce = base64.b64decode(_text(nonce_el, "Nonce") or "", validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("The Nonce is not valid base64") from None
        if not nonce:
            raise _invalid("The Nonce is empty")
    created_text = _text(_one(el, q(WSU, "Created")), "Created")
    # UsernameToken Profile 1.0 (2004) put Created in the wsse namespace; a few clients still do.
    if created_text is None:
        created_text = _text(_one(el, q(WSSE, "Created")), "Created")
    created = _datetime(created_text, "Created")
    return UsernameToken(username, password, password_type, nonce, created, created_text)


def _timestamp(el: etree._Element) -> Timestamp:
    return Timestamp(_datetime(_text(_one(el, q(WSU, "Created")), "Created"), "Timestamp Created"),
                     _datetime(_text(_one(el, q(WSU, "Expires")), "Expires"), "Timestamp Expires"))


def _datetime(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        raise _invalid(f"{what} is not an xsd:dateTime") from None
