"""Building and running the HTTP server (waitress), shared by `wadows serve`, tests and benches."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from waitress.server import BaseWSGIServer, MultiSocketServer

from .app import WadoWsApp, create_app
from .config import Config
from .store.base import Backend
from .store.filestore import FileStore


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
    logging.getLogger("wadows").info("store index: %d instances, %d files skipped", report.instances, len(report.errors))
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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


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


def make_server(config: Config, app: WadoWsApp | None = None) -> BaseWSGIServer | MultiSocketServer:
    from .connections import Deadlines, channel_timeout, create_server

    app = app or create_app(config, open_store(config))
    limit = config.server.max_request_bytes
    s = config.server
    # Channels with deadlines and sendfile, health checks on their own thread (connections.py).
    server = create_server(
        app,
        deadlines=Deadlines(s.header_timeout_seconds, s.body_timeout_seconds, s.send_timeout_seconds),
        connection_limit=s.connection_limit,
        backlog=s.backlog,
        host=config.server.host,
        port=config.server.port,
        threads=config.server.threads,
        ident="wadows",
        # Our app answers oversized requests with a SOAP fault; waitress's own cap is only a backstop.
        max_request_body_size=limit * 2 + (1 << 20),
        clear_untrusted_proxy_headers=True,
        **_proxy_settings(config),
        channel_timeout=channel_timeout(s.idle_timeout_seconds),
        # Output buffering per connection: up to 2 MB in memory, then a temporary file, and the app thread
        # waits once 8 MB are queued. Measured on the 500 MB object after a W1 run (2 cores, single runs,
        # noisy): 8 MB / 32 MB gave 1,466 MB/s at 240 MB peak RSS, 2 MB / 8 MB 1,887 MB/s at 151 MB,
        # 1 MB / 8 MB about 1,170 MB/s at 127 MB.
        outbuf_overflow=2 << 20,
        outbuf_high_watermark=8 << 20,
    )
    return server


def audit_start(app: WadoWsApp) -> None:
    """Application Start (PS3.15 A.5.3.1); called once the server listens (a failed bind is no start)."""
    app.audit.application_start()


def audit_stop(app: WadoWsApp, timeout: float = 5.0) -> None:
    """Application Stop (PS3.15 A.5.3.1), then what is queued is sent for at most ``timeout`` s."""
    app.audit.application_stop()
    app.audit.close(timeout)


def _proxy_settings(config: Config) -> dict:
    if not config.server.trusted_proxy:
        return {}
    return {"trusted_proxy": config.server.trusted_proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}


def configure_logging(config: Config) -> None:
    """Process-wide, for `wadows serve`: nothing a library says about an object or a request reaches
    stderr. pydicom's warnings and validation messages quote the values they object to (a name too
    long for its VR, a malformed UID); spyne logs whole request documents at DEBUG; urllib3 logs every
    archive URL at DEBUG and some at WARNING, and DICOMweb URLs name study, series and instance UIDs.
    In an anonymized request all of that is PHI. So those three stay silent, and [log] level = "DEBUG"
    means wadows's own debug lines, not every library's: below WARNING only "wadows" loggers pass."""
    logging.basicConfig(level=config.log.level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_own_below_warning)
    import warnings

    from pydicom import config as pydicom_config

    pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
    warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
    for name in ("pydicom", "spyne", "urllib3"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _own_below_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name == "wadows" or record.name.startswith("wadows.")
