"""The neutral credentials type and the UsernameToken digest, computed straight from the profile."""

from __future__ import annotations

import base64
import hashlib

from wadows.security.credentials import UsernameToken, password_digest


def test_digest_matches_the_profile_formula():
    nonce, created = b"\x01\x02nonce", "2003-07-16T01:24:32Z"
    expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + b"p\xc3\xa4ss").digest()).decode()
    assert password_digest(nonce, created, "päss") == expected


def test_a_token_never_shows_its_secrets_in_a_repr():
    t = UsernameToken("alice", "s3cret", "PasswordText", b"n0nce", None, None)
    assert "alice" not in repr(t) and "s3cret" not in repr(t) and "n0nce" not in repr(t)
