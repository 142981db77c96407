"""Building and running the HTTP server (waitress), shared by `wadows serve`, tests and benches."""

from __future__ import annotations

import socket

from waitress.server import BaseWSGIServer, MultiSocketServer

from .app import WadoWsApp
from .config import Config
from .wiring import create_app, open_store


def make_server(config: Config, app: WadoWsApp | None = None,
                sockets: list[socket.socket] | None = None) -> BaseWSGIServer | MultiSocketServer:
    """The server on [server] host and port, or on ``sockets`` a parent process bound (workers.py)."""
    from .connections import Deadlines, channel_timeout, create_server

    app = app or create_app(config, open_store(config))
    listen = {"sockets": sockets} if sockets else {"host": config.server.host, "port": config.server.port}
    limit = config.server.max_request_bytes
    s = config.server
    # Channels with deadlines and sendfile, health checks on their own thread (connections.py).
    server = create_server(
        app,
        deadlines=Deadlines(s.header_timeout_seconds, s.body_timeout_seconds, s.send_timeout_seconds),
        connection_limit=s.connection_limit,
        backlog=s.backlog,
        active_threads=s.active_threads,
        **listen,
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
