"""What a request says about who sent it, as authentication reads it, whatever carried it.

The SOAP edge reads these from wsse:Security (soap/wsse.py: OASIS WS-Security 1.1, UsernameToken
Profile 1.1, wsu:Timestamp); auth.py judges them. Keeping the type here lets security/ stand below
the SOAP edge, which imports it downward.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class UsernameToken:
    username: str
    password: str | None
    password_type: str  # "PasswordText" or "PasswordDigest"
    nonce: bytes | None
    created: datetime | None
    # The digest is computed over Created exactly as the client wrote it, not over our reading of it.
    created_text: str | None

    def __repr__(self) -> str:  # a token must never reach a log through a stray repr
        return f"UsernameToken(password_type={self.password_type!r})"


@dataclass(frozen=True)
class Timestamp:
    created: datetime | None
    expires: datetime | None


@dataclass(frozen=True)
class Credentials:
    """The message-level credentials addressed to this service (one wsse:Security, WSS 1.1 §5)."""

    token: UsernameToken | None
    timestamp: Timestamp | None


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Password_Digest = Base64 ( SHA-1 ( nonce + created + password ) ) (UsernameToken Profile 1.1 §3.1)."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode("utf-8") + password.encode("utf-8")).digest()).decode()
