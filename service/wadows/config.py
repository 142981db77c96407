"""Configuration: one TOML file whose defaults live in default-config.toml (shipped in the package),
so the documented defaults and the effective ones cannot drift apart.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


def derived_max_request_bytes(max_documents: int) -> int:
    """What the largest allowed request needs: a DocumentRequest with 64-character UIDs, its study and
    series, namespace prefixes and a toolkit's indentation stay under 2 KiB; headers under 256 KiB."""
    return (256 << 10) + 2048 * max_documents


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    public_url: str
    threads: int
    max_request_bytes: int
    max_documents: int
    chunk_size: int
    shutdown_grace_seconds: float = 25.0
    trusted_proxy: str = ""
    connection_limit: int = 1000
    backlog: int = 1024
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 60.0
    idle_timeout_seconds: float = 60.0
    send_timeout_seconds: float = 60.0
    workers: int = 0
    switch_interval_ms: float = 1.0
    active_threads: int = 1

    @property
    def effective_workers(self) -> int:
        """0 means one per core this process may run on (a container's cpuset, not the host's count)."""
        if self.workers:
            return self.workers
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):
            return max(1, os.cpu_count() or 1)

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}/wado-ws").rstrip("/")


@dataclass(frozen=True)
class SourceConfig:
    repository_unique_id: str
    also_known_as: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoreConfig:
    path: str
    index: str


@dataclass(frozen=True)
class DicomwebConfig:
    url: str
    username: str
    password: str
    password_file: str
    token: str
    token_file: str
    ca_bundle: str
    verify: bool
    connect_timeout: float
    read_timeout: float
    retries: int
    cache_seconds: float
    cache_size: int


@dataclass(frozen=True)
class DeidConfig:
    enabled: bool
    key_file: str
    options: list[str]
    pixel_rules: str
    verify_pixels: str | bool = "auto"


@dataclass(frozen=True)
class CallerConfig:
    """One [[auth.callers]] entry. ``options`` None: the [deid] options apply."""

    name: str
    password_hash: str
    access: str
    options: tuple[str, ...] | None = None
    digest_secret_file: str = ""


@dataclass(frozen=True)
class AuthConfig:
    anonymous: str
    realm: str
    replay_window_seconds: int
    callers: tuple[CallerConfig, ...] = ()
    failed_logins_before_wait: int = 5
    max_login_wait_seconds: int = 300


@dataclass(frozen=True)
class AuditConfig:
    """[audit]: the IHE ATNA audit trail (audit/)."""

    enabled: bool
    transport: str
    host: str
    port: int
    ca: str
    cert: str
    key: str
    queue_size: int
    app_name: str
    source_id: str
    enterprise_site_id: str
    retry_max_seconds: float


@dataclass(frozen=True)
class LogConfig:
    level: str
    access_log: bool


@dataclass(frozen=True)
class RenderConfig:
    max_dimension: int = 4096
    # An anonymized rendering whose pixels a pixel rule must blank reads the whole object (the rule and
    # OCR see every frame): above this many stored bytes it is refused with 0005 instead.
    max_blanked_object_bytes: int = 256 << 20
    header_cache_mib: int = 64


@dataclass(frozen=True)
class InformationConfig:
    max_expression_length: int = 1024
    max_expressions: int = 32
    max_answer_items: int = 10_000
    max_answer_bytes: int = 1 << 20
    max_response_mib: int = 64
    max_cost: int = 50_000_000
    cache_mib: int = 128


# [information] key: (lowest, highest) accepted.
INFORMATION_RANGES = {
    "max_expression_length": (16, 65536), "max_expressions": (1, 1024), "max_answer_items": (1, 10_000_000),
    "max_answer_bytes": (1024, 1 << 30), "max_response_mib": (1, 4096), "max_cost": (1000, 10**12),
    "cache_mib": (0, 1 << 20),
}


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    source: SourceConfig
    store: StoreConfig
    log: LogConfig
    deid: DeidConfig
    dicomweb: DicomwebConfig
    auth: AuthConfig
    audit: AuditConfig
    render: RenderConfig = field(default_factory=RenderConfig)
    information: InformationConfig = field(default_factory=InformationConfig)


_SECTIONS = {"server": ServerConfig, "source": SourceConfig, "store": StoreConfig, "log": LogConfig,
             "deid": DeidConfig, "dicomweb": DicomwebConfig, "auth": AuthConfig,
             "audit": AuditConfig, "render": RenderConfig,
             "information": InformationConfig}

ANONYMOUS_POLICIES = ("identified", "anonymized", "deny")
CALLER_ACCESS = ("identified", "anonymized")
_CALLER_KEYS = {"name": str, "password_hash": str, "access": str, "options": list, "digest_secret_file": str}
# Keys someone might reach for to put a password in clear; named in the error so the fix is obvious.
_CLEARTEXT_KEYS = {"password", "passwd", "secret", "pass", "plaintext_password"}


def default_config_text() -> str:
    return resources.files("wadows").joinpath("default-config.toml").read_text(encoding="utf-8")


def _merge(base: dict[str, Any], override: dict[str, Any], where: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if key not in base:
            raise ConfigError(f"unknown configuration key '{where}{key}'")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"'{where}{key}' must be a table")
            out[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            # An integer where a float is documented (read_timeout = 10) means the same thing.
            bool_or_auto = f"{where}{key}" == "deid.verify_pixels" and isinstance(value, bool)
            if type(value) is not type(base[key]) and not bool_or_auto and \
                    not (isinstance(base[key], (int, float)) and type(value) is int):
                raise ConfigError(f"'{where}{key}' must be of type {type(base[key]).__name__}")
            out[key] = value
    return out


def load_config(path: Path | None = None, **overrides: Any) -> Config:
    """Defaults, then the file, then ``overrides`` given as ``section__key=value`` (from the CLI)."""
    data = tomllib.loads(default_config_text())
    if path is not None:
        try:
            data = _merge(data, tomllib.loads(Path(path).read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, key = dotted.split("__", 1)
        data = _merge(data, {section: {key: value}})
    sections = {}
    for name, cls in _SECTIONS.items():
        names = {f.name for f in fields(cls)}
        sections[name] = cls(**{k: v for k, v in data[name].items() if k in names})
    sections["auth"] = _auth(data["auth"])
    cfg = Config(**sections)
    if cfg.server.max_request_bytes == 0 and cfg.server.max_documents >= 1:
        cfg = replace(cfg, server=replace(cfg.server, max_request_bytes=derived_max_request_bytes(cfg.server.max_documents)))
    if not 1 <= cfg.render.max_dimension <= 65535:
        raise ConfigError("render.max_dimension must be 1-65535")
    for key, (low, high) in INFORMATION_RANGES.items():
        if not low <= getattr(cfg.information, key) <= high:
            raise ConfigError(f"'information.{key}' must be between {low} and {high}")
    if cfg.render.max_blanked_object_bytes < 1:
        raise ConfigError("render.max_blanked_object_bytes must be positive")
    if not 0 <= cfg.render.header_cache_mib <= 1 << 20:
        raise ConfigError(f"'render.header_cache_mib' must be between 0 and {1 << 20}")
    if cfg.server.max_documents < 1 or cfg.server.max_request_bytes < 1024 or cfg.server.chunk_size < 4096:
        raise ConfigError("server limits are too small (max_documents >= 1, max_request_bytes >= 1024, chunk_size >= 4096)")
    if cfg.deid.verify_pixels not in ("auto", True, False):
        raise ConfigError("'deid.verify_pixels' must be \"auto\", true or false")
    if cfg.deid.verify_pixels is True and shutil.which("tesseract") is None:
        raise ConfigError("'deid.verify_pixels' is true but tesseract is not installed (Debian package tesseract-ocr)")
    if not 0 <= cfg.server.shutdown_grace_seconds <= 3600:
        raise ConfigError("'server.shutdown_grace_seconds' must be between 0 and 3600")
    for key, low, high in (("connection_limit", 1, 1_000_000), ("backlog", 1, 65535), ("workers", 0, 256),
                           ("active_threads", 0, 1024)):
        if not low <= getattr(cfg.server, key) <= high:
            raise ConfigError(f"'server.{key}' must be between {low} and {high}")
    if not 0.1 <= cfg.server.switch_interval_ms <= 100:
        raise ConfigError("'server.switch_interval_ms' must be between 0.1 and 100")
    for key in ("header_timeout_seconds", "body_timeout_seconds", "idle_timeout_seconds", "send_timeout_seconds"):
        if not 1 <= getattr(cfg.server, key) <= 86400:
            raise ConfigError(f"'server.{key}' must be between 1 and 86400")
    _check_audit(cfg.audit)
    return cfg


AUDIT_TRANSPORTS = ("tls", "udp")


def _check_audit(a: AuditConfig) -> None:
    if a.transport not in AUDIT_TRANSPORTS:
        raise ConfigError(f"'audit.transport' must be one of {', '.join(AUDIT_TRANSPORTS)}")
    if not 1 <= a.port <= 65535:
        raise ConfigError("'audit.port' must be between 1 and 65535")
    if not 1 <= a.queue_size <= 1_000_000:
        raise ConfigError("'audit.queue_size' must be between 1 and 1000000")
    if not 0.1 <= a.retry_max_seconds <= 3600:
        raise ConfigError("'audit.retry_max_seconds' must be between 0.1 and 3600")
    if bool(a.cert) != bool(a.key):
        raise ConfigError("'audit.cert' and 'audit.key' go together (the client certificate for mutual TLS)")
    if a.enabled and not a.host:
        raise ConfigError("'audit.enabled' is true but 'audit.host' (the Audit Record Repository) is empty")
    # RFC 5424 §6.2.5: APP-NAME is 1-48 printable US-ASCII characters.
    if not (1 <= len(a.app_name) <= 48 and all("!" <= c <= "~" for c in a.app_name)):
        raise ConfigError("'audit.app_name' must be 1-48 printable ASCII characters without spaces")


def _auth(raw: dict[str, Any]) -> AuthConfig:
    if raw["anonymous"] not in ANONYMOUS_POLICIES:
        raise ConfigError(f"'auth.anonymous' must be one of {', '.join(ANONYMOUS_POLICIES)}")
    if not 1 <= raw["replay_window_seconds"] <= 86400:
        raise ConfigError("'auth.replay_window_seconds' must be between 1 and 86400")
    if '"' in raw["realm"] or "\\" in raw["realm"] or not raw["realm"].isprintable():
        raise ConfigError("'auth.realm' must be printable text without quotes or backslashes")
    callers = tuple(_caller(entry, f"auth.callers[{i}]") for i, entry in enumerate(raw["callers"]))
    names = [c.name for c in callers]
    if len(set(names)) != len(names):
        raise ConfigError("'auth.callers': two callers have the same name")
    if not 1 <= raw["failed_logins_before_wait"] <= 1000:
        raise ConfigError("'auth.failed_logins_before_wait' must be between 1 and 1000")
    if not 1 <= raw["max_login_wait_seconds"] <= 86400:
        raise ConfigError("'auth.max_login_wait_seconds' must be between 1 and 86400")
    return AuthConfig(raw["anonymous"], raw["realm"], int(raw["replay_window_seconds"]), callers,
                      int(raw["failed_logins_before_wait"]), int(raw["max_login_wait_seconds"]))


def _caller(entry: Any, where: str) -> CallerConfig:
    """Strict: a typo in a policy must stop the server, not quietly widen what a caller receives. The
    values whose meaning security/ and deid/ own (the hash, the options, the secret file) are checked
    by wiring.load_and_check, so this module stays below both."""
    if not isinstance(entry, dict):
        raise ConfigError(f"'{where}' must be a table")
    for key, value in entry.items():
        if key in _CLEARTEXT_KEYS:
            raise ConfigError(f"'{where}.{key}': passwords are never stored in clear; put the output of "
                              f"`wadows hash-password` in password_hash")
        if key not in _CALLER_KEYS:
            raise ConfigError(f"unknown configuration key '{where}.{key}'")
        if not isinstance(value, _CALLER_KEYS[key]):
            raise ConfigError(f"'{where}.{key}' must be of type {_CALLER_KEYS[key].__name__}")
    for key in ("name", "password_hash", "access"):
        if key not in entry:
            raise ConfigError(f"'{where}' needs '{key}'")
    name = entry["name"]
    # RFC 7617: a Basic user-id cannot contain a colon; control characters would end up in logs.
    if not name or ":" in name or not name.isprintable() or len(name) > 256:
        raise ConfigError(f"'{where}.name' must be 1-256 printable characters without ':'")
    if entry["access"] not in CALLER_ACCESS:
        raise ConfigError(f"'{where}.access' must be one of {', '.join(CALLER_ACCESS)}")
    options = tuple(entry["options"]) if "options" in entry else None
    secret_file = entry.get("digest_secret_file", "")
    return CallerConfig(name, entry["password_hash"], entry["access"], options, secret_file)
