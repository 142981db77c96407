"""The HTTP side of talking to an archive: one pooled keep-alive session, timeouts on every call,
bounded retries with backoff for GETs that never reached the archive or met a busy gateway, and a
short cool-down once the archive is found unreachable, so a request for 200 documents fails in
milliseconds instead of timing out 200 times. Exceptions are mapped to :mod:`.errors`; their texts
never include the URL (it carries UIDs) or the archive's words.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from ..gate import outside
from .errors import ArchiveAnswerError, ArchiveDenied, ArchiveTimeout, ArchiveUnavailable

log = logging.getLogger("wadows.archive")

_BUSY = frozenset({502, 503, 504})


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 2
    verify: bool = True
    ca_bundle: str = ""
    username: str = ""
    password: str = ""
    token: str = ""
    pool_size: int = 16
    backoff: float = 0.2
    # After an archive is found unreachable, calls fail at once for this long.
    cool_down: float = 2.0


def secret_from(inline: str, file: str) -> str:
    """A password or token given inline or as the first line of a file (kept out of the config)."""
    if inline and file:
        raise ValueError("give the secret inline or as a file, not both")
    if file:
        return Path(file).read_text(encoding="utf-8").splitlines()[0].strip() if Path(file).stat().st_size else ""
    return inline


def without_credentials(url: str) -> str:
    """``url`` fit for a log line or /healthz: no user:password@, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r


class ArchiveClient:
    def __init__(self, settings: HttpSettings) -> None:
        if settings.token and settings.username:
            raise ValueError("configure a username/password or a token for the archive, not both")
        self.settings = settings
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(1, settings.pool_size), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Passed with every request: a session-level value loses to $REQUESTS_CA_BUNDLE (requests #3829)
        # where the environment is trusted.
        self._verify: bool | str = settings.ca_bundle or settings.verify
        if settings.token:
            self.session.auth = _BearerAuth(settings.token)
        elif settings.username:
            self.session.auth = (settings.username, settings.password)
        self.session.headers["User-Agent"] = "wadows"
        # No proxy, netrc or CA bundle from the environment: the archive is reached as configured,
        # and looking the environment up costs more than a small query on every request.
        self.session.trust_env = False
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def get(self, url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            stream: bool = False, ok: tuple[int, ...] = (200,), timeout: tuple[float, float] | None = None,
            use_cool_down: bool = True) -> requests.Response:
        """GET with retries; returns a response whose status is in ``ok`` (or 404/410, which the
        caller interprets), else raises an :class:`~.errors.ArchiveError`."""
        if use_cool_down and time.monotonic() < self._down_until:
            raise ArchiveUnavailable("the archive was unreachable moments ago")
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                with outside():  # waiting for the origin needs no turn of the worker (gate.py)
                    resp = self.session.get(url, params=params, headers=headers, stream=stream,
                                            timeout=timeout or self.timeout, verify=self._verify)
            except requests.exceptions.ReadTimeout:
                # Not retried: the archive is there but slow, and another wait would double the time
                # the client waits past the configured timeout.
                self._mark_down()
                raise ArchiveTimeout("the archive did not answer in time") from None
            except requests.exceptions.SSLError:
                self._mark_down()
                raise ArchiveUnavailable("TLS with the archive failed (certificate not trusted?)") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                # Includes a pooled keep-alive connection the archive had closed: the request never
                # reached it, so trying again is safe.
                if last:
                    self._mark_down()
                    if isinstance(exc, requests.exceptions.ConnectTimeout):
                        raise ArchiveTimeout("connecting to the archive timed out") from None
                    raise ArchiveUnavailable("the archive could not be reached") from None
                log.debug("archive GET failed (%s), retrying", type(exc).__name__)
                with outside():
                    self._sleep(attempt)
                continue
            except requests.exceptions.RequestException as exc:
                raise ArchiveAnswerError(f"archive request failed ({type(exc).__name__})") from None
            if resp.status_code in _BUSY and not last:
                retry_after = resp.headers.get("Retry-After", "")
                resp.close()
                self._sleep(attempt, float(retry_after) if retry_after.isdigit() else 0.0)
                continue
            self._down_until = 0.0
            if resp.status_code in ok or resp.status_code in (404, 410):
                return resp
            status = resp.status_code
            resp.close()
            if status in (401, 403):
                raise ArchiveDenied(f"the archive refused our credentials (HTTP {status})")
            if status in _BUSY:
                self._mark_down()
                raise ArchiveUnavailable(f"the archive is unavailable (HTTP {status})")
            raise ArchiveAnswerError(f"the archive answered HTTP {status}")
        raise AssertionError("unreachable")

    def _sleep(self, attempt: int, at_least: float = 0.0) -> None:
        time.sleep(min(max(self.settings.backoff * (2 ** attempt), at_least), 5.0))

    def _mark_down(self) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.settings.cool_down

    def close(self) -> None:
        self.session.close()


def json_of(resp: requests.Response) -> object:
    try:
        return resp.json()
    except ValueError:
        raise ArchiveAnswerError("the archive's answer is not valid JSON") from None
    finally:
        resp.close()

