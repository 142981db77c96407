"""Wiring: from a configuration to a running application, in one place.

Opening the store, reading the de-identification key, building the retrieval actor and the WSGI
application, and keeping library loggers quiet are start-up decisions, each of which can stop the
server with a one-line message naming the setting (never a traceback). `wadows serve`, the tests
and the benches build the server through here; nothing below it imports this module.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from .app import WadoWsApp
from .config import Config, ConfigError, load_config
from .deid import parse_options
from .retrieve.anonymize import Anonymizers
from .retrieve.rad69 import ImagingDocumentSource, SourceSettings
from .retrieve.xpath import XPathLimits
from .security.passwords import HashFormatError, SecretFileError, parse_hash, read_secret_file
from .store.base import Backend
from .store.filestore import FileStore
from .store.index import log_report


def load_and_check(path: Path | None = None, **overrides: object) -> Config:
    """config.load_config, then the values whose meaning security/ and deid/ own, so a typo in a
    caller's policy stops the server at start with the setting named, not a request later."""
    config = load_config(path, **overrides)
    for i, caller in enumerate(config.auth.callers):
        where = f"auth.callers[{i}]"
        try:
            parse_hash(caller.password_hash)
        except HashFormatError as exc:
            raise ConfigError(f"'{where}.password_hash': {exc}") from None
        if caller.options is not None:
            try:
                parse_options(caller.options)
            except ValueError as exc:
                raise ConfigError(f"'{where}.options': {exc}") from None
        if caller.digest_secret_file:
            try:
                read_secret_file(caller.digest_secret_file, caller.password_hash)
            except SecretFileError as exc:
                raise ConfigError(f"'{where}.digest_secret_file': {exc}") from None
    return config


def create_app(config: Config, backend: Backend) -> WadoWsApp:
    settings = SourceSettings(
        repository_unique_ids=frozenset([config.source.repository_unique_id, *config.source.also_known_as]),
        max_documents=config.server.max_documents,
        chunk_size=config.server.chunk_size,
        read_patient=config.audit.enabled,  # the transfer record names the patient (PS3.15 A.5.3.2)
        max_render_dimension=config.render.max_dimension,
        xpath_limits=xpath_limits(config),
        max_information_bytes=config.information.max_response_mib << 20,
        native_model_cache_bytes=config.information.cache_mib << 20,
        max_blanked_render_bytes=config.render.max_blanked_object_bytes,
        render_header_cache_bytes=config.render.header_cache_mib << 20,
    )
    logging.getLogger("spyne").setLevel(logging.CRITICAL)  # spyne logs request documents on errors
    # pydicom's warnings quote the values they complain about (names, UIDs): never in our logs.
    logging.getLogger("pydicom").setLevel(logging.ERROR)
    from .audit import from_config

    audit = from_config(config.audit, config.server.effective_public_url)
    return WadoWsApp(config, backend, ImagingDocumentSource(backend, settings, anonymizers_from(config)), audit)


def xpath_limits(config: Config) -> XPathLimits:
    """[information]'s bounds as RetrieveImagingDocumentSetInformation applies them (retrieve/xpath.py)."""
    i = config.information
    return XPathLimits(max_length=i.max_expression_length, max_expressions=i.max_expressions,
                       max_items=i.max_answer_items, max_bytes=i.max_answer_bytes, max_cost=i.max_cost)


def anonymizers_from(config: Config) -> Anonymizers | None:
    """The configured de-identifiers, or None when anonymization is switched off. The key is read
    once here, so a missing or malformed key stops the server at start, not a request later."""
    if not config.deid.enabled:
        return None
    from .deid import load_key, load_rules
    from .deid.keys import default_key_file

    key_path = Path(config.deid.key_file) if config.deid.key_file else None
    try:
        key = load_key(key_path)
    except (OSError, ValueError) as exc:
        where = f"[deid] key_file {key_path}" if key_path is not None else \
            f"the de-identification key ($WADOWS_DEID_KEY, or {default_key_file()})"
        raise SystemExit(f"wadows: {where}: {_reason(exc)}") from None
    rules = load_rules(config.deid.pixel_rules or None)
    verify = None if config.deid.verify_pixels == "auto" else bool(config.deid.verify_pixels)
    return Anonymizers(key, config.deid.options, pixel_rules=rules, verify_pixels=verify)


def open_store(config: Config) -> Backend:
    """The DICOMweb archive when one is configured, else the configured folder, else the bundled samples."""
    if config.dicomweb.url:
        return _open_dicomweb(config)
    if config.store.path:
        root = Path(config.store.path)
    else:
        from .samples import bundled_samples_dir

        root = bundled_samples_dir()
    if not root.is_dir():
        raise SystemExit(f"wadows: [store] path {root}: " + ("not a folder" if root.exists() else "does not exist"))
    index, setting = _index_location(config, root)
    try:
        store = FileStore(root, index)
        # Pick up files added or changed since the index was built (0.1 s for 10 000 unchanged files).
        report = store.refresh()
    except (OSError, sqlite3.Error) as exc:
        # A start-up error names the setting and the path, never a traceback (a read-only or missing
        # cache directory, a cache path that is a file, an index file that is not an index).
        raise SystemExit(f"wadows: {setting} {index}: {_reason(exc)}") from None
    log_report(report, names=not config.deid.enabled)
    return store


def _index_location(config: Config, root: Path) -> tuple[Path, str]:
    """Where the index goes and which setting chose it; checked before anything is built, so the
    error says what to change."""
    from .store.index import cache_dir, default_index_path

    if config.store.index:
        index, setting = Path(config.store.index), "[store] index (--index)"
    else:
        index = default_index_path(root)
        setting = "cache directory ($WADOWS_CACHE_DIR, $XDG_CACHE_HOME/wadows or ~/.cache/wadows), index"
        folder = cache_dir()
        if folder.exists() and not folder.is_dir():
            raise SystemExit(f"wadows: cache directory {folder}: not a folder (set $WADOWS_CACHE_DIR or [store] index)")
    folder = index.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"wadows: {setting} {index}: cannot create its folder {folder}: {_reason(exc)}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SystemExit(f"wadows: {setting} {index}: its folder {folder} is not writable")
    if index.exists():
        if not index.is_file():
            raise SystemExit(f"wadows: {setting} {index}: not a file")
        try:
            with open(index, "rb") as f:
                magic = f.read(16)
        except OSError as exc:
            raise SystemExit(f"wadows: {setting} {index}: {_reason(exc)}") from None
        if magic and magic != b"SQLite format 3\x00":
            raise SystemExit(f"wadows: {setting} {index}: not a SQLite index file (remove it, or name another)")
    return index, setting


def _open_dicomweb(config: Config) -> Backend:
    from .store.dicomweb import DicomwebStore
    from .store.http import without_credentials

    try:
        # Every server thread may hold a fetch for the next document while streaming another.
        store = DicomwebStore.from_config(config.dicomweb, pool_size=2 * config.server.threads + 4,
                                          chunk_size=config.server.chunk_size)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"wadows: [dicomweb] configuration: {exc}") from None
    health = store.health()
    # Starting while the archive is down is allowed (it may come up later); /healthz tells.
    logging.getLogger("wadows").log(logging.INFO if health["ok"] else logging.WARNING,
                                    "DICOMweb archive %s: %s", without_credentials(store.url),
                                    "reachable" if health["ok"] else f"not reachable ({health.get('error')})")
    return store


def _reason(exc: BaseException) -> str:
    """An OSError's strerror (never the path it carries twice), else the exception's own text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def configure_logging(config: Config) -> None:
    """Process-wide, for `wadows serve`: nothing a library says about an object or a request reaches
    stderr. pydicom's warnings and validation messages quote the values they object to (a name too
    long for its VR, a malformed UID); spyne logs whole request documents at DEBUG; urllib3 logs every
    archive URL at DEBUG and some at WARNING, and DICOMweb URLs name study, series and instance UIDs.
    In an anonymized request all of that is PHI. So those three stay silent, and [log] level = "DEBUG"
    means wadows's own debug lines, not every library's. Codecs log too: pydicom's pixel decoders log
    each failing plugin at ERROR with a traceback, openjpeg logs its messages ("Number of resolutions
    is too high ...") at ERROR; wadows logs the failure itself by kind. So the handler passes only
    wadows's records and waitress's warnings, whatever level a library's logger is set to."""
    logging.basicConfig(level=config.log.level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_own_or_server_warning)
    import warnings

    from pydicom import config as pydicom_config

    pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
    warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
    for name in ("pydicom", "spyne", "urllib3"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _own_or_server_warning(record: logging.LogRecord) -> bool:
    if record.name == "wadows" or record.name.startswith("wadows."):
        return True
    return record.levelno >= logging.WARNING and (record.name == "waitress" or record.name.startswith("waitress."))
