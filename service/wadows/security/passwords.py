"""Password hashes for the [auth] callers: stdlib scrypt (default) or PBKDF2-HMAC-SHA256, each hash a
self-describing string carrying its parameters and salt, so the cost can be raised later without
invalidating the hashes already configured.

    scrypt$n=16384,r=8,p=1$<salt, base64>$<key, base64>
    pbkdf2-sha256$i=600000$<salt, base64>$<key, base64>

No third-party dependency: hashlib ships both (scrypt since Python 3.6 with OpenSSL 1.1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path

SCRYPT = "scrypt"
PBKDF2 = "pbkdf2-sha256"

# Floors below which a configured hash is refused as too cheap to slow down an offline guess.
# scrypt n=2**14, r=8 is the interactive-login cost of the scrypt paper (16 MiB, ~50 ms);
# 100 000 PBKDF2-SHA256 rounds is well under today's advice (600 000) but still refuses the toy values.
MIN_SCRYPT_N = 1 << 14
MIN_SCRYPT_R = 8
MIN_PBKDF2_ITERATIONS = 100_000
DEFAULT_PBKDF2_ITERATIONS = 600_000
_SALT_BYTES = 16
_KEY_BYTES = 32
# hashlib's scrypt refuses to use more than its maxmem (32 MiB by default); 128*n*r is what it needs.
_SCRYPT_MAXMEM = 1 << 30


class HashFormatError(ValueError):
    """A password_hash string that is not one this module writes; never quotes the string."""


@dataclass(frozen=True)
class PasswordHash:
    scheme: str
    params: dict[str, int]
    salt: bytes
    key: bytes

    def __str__(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.scheme}${params}${_b64(self.salt)}${_b64(self.key)}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(scheme: str, params: dict[str, int], password: str, salt: bytes, length: int) -> bytes:
    secret = password.encode("utf-8")
    if scheme == SCRYPT:
        return hashlib.scrypt(secret, salt=salt, n=params["n"], r=params["r"], p=params["p"],
                              maxmem=_SCRYPT_MAXMEM, dklen=length)
    return hashlib.pbkdf2_hmac("sha256", secret, salt, params["i"], dklen=length)


def hash_password(password: str, scheme: str = SCRYPT, *, n: int = MIN_SCRYPT_N, r: int = MIN_SCRYPT_R, p: int = 1,
                  iterations: int = DEFAULT_PBKDF2_ITERATIONS) -> str:
    """A new hash string for ``password`` with a fresh random salt."""
    if scheme == SCRYPT:
        params = {"n": n, "r": r, "p": p}
    elif scheme == PBKDF2:
        params = {"i": iterations}
    else:
        raise ValueError(f"unknown password hash scheme {scheme!r} (use {SCRYPT} or {PBKDF2})")
    _check_params(scheme, params)
    salt = os.urandom(_SALT_BYTES)
    return str(PasswordHash(scheme, params, salt, _derive(scheme, params, password, salt, _KEY_BYTES)))


def parse_hash(text: str) -> PasswordHash:
    parts = text.split("$")
    if len(parts) != 4:
        raise HashFormatError(f"not a password hash: expected '{SCRYPT}$n=..,r=..,p=..$salt$key' or "
                              f"'{PBKDF2}$i=..$salt$key' (make one with `wadows hash-password`)")
    scheme, raw_params, salt, key = parts
    if scheme not in (SCRYPT, PBKDF2):
        raise HashFormatError(f"unknown password hash scheme (use {SCRYPT} or {PBKDF2})")
    try:
        params = {k: int(v) for k, v in (item.split("=", 1) for item in raw_params.split(","))}
        salt_bytes = base64.b64decode(salt, validate=True)
        key_bytes = base64.b64decode(key, validate=True)
    except (ValueError, binascii.Error):
        raise HashFormatError("malformed password hash parameters, salt or key") from None
    expected = {"n", "r", "p"} if scheme == SCRYPT else {"i"}
    if set(params) != expected:
        raise HashFormatError(f"a {scheme} hash takes the parameters {', '.join(sorted(expected))}")
    if len(salt_bytes) < 8 or len(key_bytes) < 16:
        raise HashFormatError("password hash salt or key too short (at least 8 and 16 bytes)")
    _check_params(scheme, params)
    return PasswordHash(scheme, params, salt_bytes, key_bytes)


def _check_params(scheme: str, params: dict[str, int]) -> None:
    if scheme == SCRYPT:
        n, r, p = params["n"], params["r"], params["p"]
        if n < MIN_SCRYPT_N or n & (n - 1) or r < MIN_SCRYPT_R or not 1 <= p <= 16:
            raise HashFormatError(f"scrypt parameters too weak or invalid (n a power of two >= {MIN_SCRYPT_N}, "
                                  f"r >= {MIN_SCRYPT_R}, 1 <= p <= 16)")
        if 128 * n * r * p > _SCRYPT_MAXMEM:
            raise HashFormatError("scrypt parameters need more than 1 GiB of memory per verification")
    elif params["i"] < MIN_PBKDF2_ITERATIONS:
        raise HashFormatError(f"PBKDF2 iterations too few (at least {MIN_PBKDF2_ITERATIONS})")


def verify_password(password: str, hashed: str | PasswordHash) -> bool:
    """Whether ``password`` matches; the comparison takes the same time wherever the keys differ."""
    h = parse_hash(hashed) if isinstance(hashed, str) else hashed
    return hmac.compare_digest(_derive(h.scheme, h.params, password, h.salt, len(h.key)), h.key)


class SecretFileError(ValueError):
    """A digest secret file that cannot be used; the message never quotes its content."""


def read_secret_file(path: str | Path, hashed: str | PasswordHash) -> str:
    """The cleartext password in ``path`` (first line), for the one scheme that needs it on the server
    (PasswordDigest). The file must be private to its owner and agree with ``hashed``: two places for
    one password drift apart, and that is better found at start than as refused logins later."""
    path = Path(path)
    try:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretFileError(f"{path} must not be accessible to group or others (chmod 600)")
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SecretFileError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretFileError(f"{path} is not UTF-8 text") from None
    secret = lines[0] if lines else ""
    if not secret or not verify_password(secret, hashed):
        raise SecretFileError(f"{path} does not hold the password of its password_hash")
    return secret
