"""wsse:Security headers written by hand, for tests that need one a client library would not send
(stale, replayed, malformed) as well as the ordinary ones."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


def utc(offset_seconds: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(nonce: bytes, created: str, password: str) -> str:
    """Computed here independently of wadows.soap.wsse, straight from UsernameToken Profile 1.1 §3.1."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_xml(username: str, password: str | None = None, *, use_digest: bool = False, nonce: bytes | None = None,
                 created: str | None = None, timestamp: tuple[str | None, str | None] | None = None,
                 must_understand: bool = True, password_type: str | None = None, extra: str = "") -> str:
    parts = [f"<wsse:Username>{username}</wsse:Username>"]
    if use_digest:
        nonce = nonce if nonce is not None else os.urandom(16)
        created = created if created is not None else utc()
        parts.append(f'<wsse:Password Type="{PROFILE}#PasswordDigest">{digest(nonce, created, password or "")}'
                     f"</wsse:Password>")
    elif password is not None:
        type_attr = f' Type="{password_type or PROFILE + "#PasswordText"}"'
        parts.append(f"<wsse:Password{type_attr}>{password}</wsse:Password>")
    if nonce is not None:
        parts.append(f'<wsse:Nonce EncodingType="{BASE64}">{base64.b64encode(nonce).decode()}</wsse:Nonce>')
    if created is not None:
        parts.append(f"<wsu:Created>{created}</wsu:Created>")
    ts = ""
    if timestamp is not None:
        c, e = timestamp
        ts = ("<wsu:Timestamp>" + (f"<wsu:Created>{c}</wsu:Created>" if c else "")
              + (f"<wsu:Expires>{e}</wsu:Expires>" if e else "") + "</wsu:Timestamp>")
    mu = ' env:mustUnderstand="true"' if must_understand else ""
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"{mu}>{ts}'
            f"<wsse:UsernameToken>{''.join(parts)}</wsse:UsernameToken>{extra}</wsse:Security>")
