"""Authentication: from an HTTP Authorization header and/or a WS-Security UsernameToken to a ``Caller``.

Issue 4 item 6: a server does not hand identified data to an unknown user, and wrong credentials get a
fault, never data (not even anonymized data). What an unauthenticated request gets is the operator's
choice ([auth] anonymous).

PasswordDigest (UsernameToken Profile 1.1 §3.1) makes the server recompute SHA-1(nonce + created +
password), so it needs the password itself, which a one-way hash cannot give. Callers who must use it
get a ``digest_secret_file`` (mode 0600, checked at start against the caller's password_hash); every
other caller's password exists on the server only as a hash, and they use Basic or PasswordText.

Replay protection (WSS 1.1 §10, UsernameToken Profile §4): a token's Created must be inside the window
and each Nonce is accepted once within it. Nonces are remembered in this process only; replicas behind
a load balancer do not share them, so a token could be replayed once per replica within the window.

Password guessing: after [auth] failed_logins_before_wait failures in a row for one name, its next
attempts are refused unchecked for a doubling wait (throttle.py), answered HTTP 429 with Retry-After.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from ..config import AuthConfig, CallerConfig, ConfigError
from ..ttlcache import TTLCache
from .credentials import Credentials, UsernameToken, password_digest
from .passwords import PasswordHash, SecretFileError, hash_password, parse_hash, read_secret_file, verify_password
from .policy import TRUSTED, Access, Caller
from .throttle import LoginThrottle

FAILED_AUTHENTICATION = "FailedAuthentication"
MESSAGE_EXPIRED = "MessageExpired"

# How far a client's clock may run ahead of ours before its Created counts as "in the future".
CLOCK_SKEW = timedelta(seconds=60)
NONCE_CACHE_SIZE = 100_000
# A password checked against its scrypt hash is remembered (as a keyed hash) this long, so a client
# sending Basic on every request pays the deliberate ~50 ms cost once, not per request.
VERIFIED_TTL_SECONDS = 300.0
VERIFIED_CACHE_SIZE = 1024

# Deliberately vague (WSS 1.1 §12 suggests as much): which of name or password was wrong is not said.
_BAD_CREDENTIALS = "The security token could not be authenticated or authorized"
_TOO_MANY_FAILURES = "Too many failed logins for this user name; retry after the time in Retry-After"


class AuthenticationFailed(Exception):
    """``reason`` goes to the client: never a user name or password in it. ``challenge``: answer
    HTTP 401 with WWW-Authenticate (the client used Basic, or sent nothing where that is refused).
    ``user`` (the name the attempt gave) and ``alert`` (a Security Alert kind, audit/codes.py) are for
    the audit trail only, never for the client."""

    def __init__(self, reason: str = _BAD_CREDENTIALS, subcode: str = FAILED_AUTHENTICATION, *,
                 challenge: bool = False, retry_after: int | None = None, alert: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subcode = subcode
        self.challenge = challenge
        self.retry_after = retry_after  # set when refused for too many failures: HTTP 429 + Retry-After
        self.alert = alert
        self.user: str | None = None


@dataclass(frozen=True)
class _Account:
    caller: Caller
    password_hash: PasswordHash
    digest_secret: str | None  # cleartext, only for PasswordDigest callers


class NonceCache:
    """Nonces accepted within the replay window; bounded, thread-safe. When full, the oldest entry
    goes first, which only matters to an attacker who can already authenticate at that rate."""

    def __init__(self, ttl_seconds: float, max_entries: int = NONCE_CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: bytes) -> bool:
        """Remember ``key``; False when it was already seen within the window (a replay)."""
        now = self._clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) <= now:
                self._seen.popitem(last=False)
            expires = self._seen.get(key)
            if expires is not None and expires > now:
                return False
            self._seen[key] = now + self._ttl
            self._seen.move_to_end(key)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True

    def __len__(self) -> int:
        return len(self._seen)


class _VerifiedCache:
    """Keyed hashes of (name, password) pairs that verified recently; the key lives only in memory,
    so the cache reveals nothing a memory dump of the process would not already."""

    def __init__(self, ttl: float = VERIFIED_TTL_SECONDS, size: int = VERIFIED_CACHE_SIZE) -> None:
        self._key = os.urandom(32)
        self._entries: TTLCache[bytes, bool] = TTLCache(size, ttl)

    def _digest(self, name: str, password: str) -> bytes:
        return hmac.new(self._key, name.encode() + b"\0" + password.encode(), hashlib.sha256).digest()

    def hit(self, name: str, password: str) -> bool:
        return self._entries.get(self._digest(name, password)) is not None

    def remember(self, name: str, password: str) -> None:
        self._entries.put(self._digest(name, password), True)


class Authenticator:
    """One per server process: holds the accounts, the nonce memory and the verified-password cache."""

    def __init__(self, config: AuthConfig, *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.realm = config.realm
        self._now = clock or (lambda: datetime.now(timezone.utc))
        self._window = timedelta(seconds=config.replay_window_seconds)
        self._accounts = {c.name: _account(c) for c in config.callers}
        self._nonces = NonceCache(config.replay_window_seconds + CLOCK_SKEW.total_seconds())
        self._verified = _VerifiedCache()
        self._throttle = LoginThrottle(config.failed_logins_before_wait, float(config.max_login_wait_seconds))
        # Checked instead of a real hash when the user is unknown, so the answer takes as long.
        self._decoy = parse_hash(hash_password(base64.b64encode(os.urandom(12)).decode()))
        self._anonymous = {"identified": TRUSTED, "anonymized": Caller(None, Access.ANONYMIZED)}.get(config.anonymous)

    def authenticate(self, authorization: str | None, security: Credentials | None) -> Caller:
        token = security.token if security is not None else None
        try:
            return self._authenticate(authorization, security, token)
        except AuthenticationFailed as exc:
            if exc.user is None:
                exc.user = token.username if token is not None else _basic_name(authorization)
            raise

    def _authenticate(self, authorization: str | None, security: Credentials | None,
                      token: UsernameToken | None) -> Caller:
        basic = _basic(authorization) if authorization else None
        if security is not None and security.timestamp is not None:
            self._check_timestamp(security.timestamp.created, security.timestamp.expires, challenge=basic is not None)
        if basic is None and token is None:
            if self._anonymous is None:
                raise AuthenticationFailed("This service requires authentication", challenge=True)
            return self._anonymous
        if basic is not None and token is not None and basic[0] != token.username:
            # Two identities in one request: neither is believed.
            raise AuthenticationFailed("The HTTP Authorization and the UsernameToken name different users",
                                       challenge=True)
        caller = None
        if basic is not None:
            caller = self._check_password(*basic, challenge=True)
        if token is not None:
            caller = self._check_token(token, challenge=basic is not None)
        assert caller is not None
        return caller

    # -- checks ---------------------------------------------------------------------------------
    def _throttled(self, name: str, check: Callable[[], Caller], *, challenge: bool) -> Caller:
        """Run one password check for ``name`` unless it failed too often lately (security/throttle.py)."""
        wait = self._throttle.wait(name)
        if wait:
            raise AuthenticationFailed(_TOO_MANY_FAILURES, challenge=challenge, retry_after=wait,
                                       alert="login-throttled")
        try:
            caller = check()
        except AuthenticationFailed:
            self._throttle.failed(name)
            raise
        self._throttle.succeeded(name)
        return caller

    def _check_password(self, name: str, password: str, *, challenge: bool) -> Caller:
        return self._throttled(name, lambda: self._verify_password(name, password, challenge=challenge),
                               challenge=challenge)

    def _verify_password(self, name: str, password: str, *, challenge: bool) -> Caller:
        account = self._accounts.get(name)
        if account is None:
            verify_password(password, self._decoy)
            raise AuthenticationFailed(challenge=challenge)
        if not self._verified.hit(name, password):
            if not verify_password(password, account.password_hash):
                raise AuthenticationFailed(challenge=challenge)
            self._verified.remember(name, password)
        return account.caller

    def _check_token(self, token: UsernameToken, *, challenge: bool) -> Caller:
        if token.password is None:
            raise AuthenticationFailed("The UsernameToken carries no Password", challenge=challenge)
        if token.created is not None:
            self._check_fresh(token.created, "The UsernameToken", challenge=challenge)
        if token.password_type == "PasswordDigest":
            caller = self._throttled(token.username, lambda: self._check_digest(token, challenge=challenge),
                                     challenge=challenge)
        else:
            caller = self._check_password(token.username, token.password, challenge=challenge)
        # Recorded only once the token proved genuine: strangers cannot fill the memory.
        if token.nonce is not None and not self._nonces.add(_nonce_key(token.username, token.nonce)):
            raise AuthenticationFailed("The Nonce was already used (replayed message)", challenge=challenge,
                                       alert="nonce-replayed")
        return caller

    def _check_digest(self, token: UsernameToken, *, challenge: bool) -> Caller:
        if token.nonce is None or token.created_text is None:
            # Without both, the digest is a fixed function of the password: a replayable password.
            raise AuthenticationFailed("A PasswordDigest needs a Nonce and a Created", challenge=challenge)
        account = self._accounts.get(token.username)
        secret = account.digest_secret if account is not None else None
        expected = password_digest(token.nonce, token.created_text, secret or "")
        try:
            given = base64.b64decode(token.password or "", validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(base64.b64decode(expected), given) or secret is None:
            raise AuthenticationFailed(challenge=challenge)
        return account.caller

    def _check_fresh(self, created: datetime, what: str, *, challenge: bool) -> None:
        now = self._now()
        if created > now + CLOCK_SKEW:
            raise AuthenticationFailed(f"{what}'s Created time is in the future", MESSAGE_EXPIRED, challenge=challenge)
        if created < now - self._window:
            raise AuthenticationFailed(f"{what}'s Created time is older than {self.config.replay_window_seconds} s",
                                       MESSAGE_EXPIRED, challenge=challenge)

    def _check_timestamp(self, created: datetime | None, expires: datetime | None, *, challenge: bool) -> None:
        if created is not None:
            self._check_fresh(created, "The Timestamp", challenge=challenge)
        if expires is not None and expires < self._now() - CLOCK_SKEW:
            raise AuthenticationFailed("The message has expired", MESSAGE_EXPIRED, challenge=challenge)
        if created is not None and expires is not None and expires < created:
            raise AuthenticationFailed("The Timestamp expires before it was created", MESSAGE_EXPIRED,
                                       challenge=challenge)


def _nonce_key(name: str, nonce: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\0" + nonce).digest()


def _basic(authorization: str) -> tuple[str, str]:
    """(user-id, password) from ``Basic <base64>`` (RFC 7617); anything else is a failed login."""
    scheme, _, param = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise AuthenticationFailed("Only the HTTP Basic authentication scheme is supported", challenge=True)
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("Malformed HTTP Basic credentials", challenge=True) from None
    name, colon, password = decoded.partition(":")
    if not colon or not name:
        raise AuthenticationFailed("Malformed HTTP Basic credentials", challenge=True)
    return name, password


def _basic_name(authorization: str | None) -> str | None:
    """The user-id a Basic header gave, for the audit of a failed login; None when unreadable."""
    try:
        return _basic(authorization)[0] if authorization else None
    except AuthenticationFailed:
        return None


def _account(c: CallerConfig) -> _Account:
    caller = Caller(c.name, Access(c.access), c.options)
    secret = None
    if c.digest_secret_file:
        try:
            secret = read_secret_file(c.digest_secret_file, c.password_hash)
        except SecretFileError as exc:
            raise ConfigError(f"digest_secret_file of caller '{c.name}': {exc}") from None
    return _Account(caller, parse_hash(c.password_hash), secret)
