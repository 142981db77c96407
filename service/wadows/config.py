"""Configuration: one TOML file whose defaults live in default-config.toml (shipped in the package),
so the documented defaults and the effective ones cannot drift apart.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    public_url: str
    threads: int
    max_request_bytes: int
    max_documents: int
    chunk_size: int

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


@dataclass(frozen=True)
class LogConfig:
    level: str
    access_log: bool


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    source: SourceConfig
    store: StoreConfig
    log: LogConfig
    deid: DeidConfig
    dicomweb: DicomwebConfig


_SECTIONS = {"server": ServerConfig, "source": SourceConfig, "store": StoreConfig, "log": LogConfig,
             "deid": DeidConfig, "dicomweb": DicomwebConfig}


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
            if type(value) is not type(base[key]) and not (isinstance(base[key], (int, float)) and type(value) is int):
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
    cfg = Config(**sections)
    if cfg.server.max_documents < 1 or cfg.server.max_request_bytes < 1024 or cfg.server.chunk_size < 4096:
        raise ConfigError("server limits are too small (max_documents >= 1, max_request_bytes >= 1024, chunk_size >= 4096)")
    return cfg
