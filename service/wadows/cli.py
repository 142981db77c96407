"""The `wadows` command: serve, index, samples, anonymize."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError, default_config_text


def _serve(args: argparse.Namespace) -> int:
    from .server import audit_start, audit_stop, make_server
    from .shutdown import run_until_stopped
    from .wiring import configure_logging, load_and_check

    try:
        config = load_and_check(
            args.config,
            server__host=args.host, server__port=args.port, server__public_url=args.public_url,
            store__path=str(args.store) if args.store else None,
            store__index=str(args.index) if args.index else None,
            dicomweb__url=args.dicomweb,
        )
    except ConfigError as exc:
        print(f"wadows: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config)
    # Before any thread starts; worker processes inherit it across fork (see [server] switch_interval_ms).
    sys.setswitchinterval(config.server.switch_interval_ms / 1000)

    def announce(port: int, workers: int = 1) -> None:
        processes = f", {workers} worker processes" if workers > 1 else ""
        print(f"wadows {__version__}: WADO-WS on http://{config.server.host}:{port}/wado-ws "
              f"(WSDL: {config.server.effective_public_url}?wsdl{processes})", file=sys.stderr, flush=True)

    from .wiring import create_app, open_store

    app = create_app(config, open_store(config))
    if config.server.effective_workers > 1:
        from .workers import serve_forked

        def started(port: int) -> None:
            announce(port, config.server.effective_workers)
            audit_start(app)

        try:
            return serve_forked(config, app, started)
        finally:
            audit_stop(app)
    server = make_server(config, app)
    audit_start(app)
    announce(server.effective_port)
    run_until_stopped(server, config.server.shutdown_grace_seconds)
    audit_stop(app)
    return 0


def _print_config(args: argparse.Namespace) -> int:
    sys.stdout.write(default_config_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wadows",
        description="DICOM WADO-WS (IHE RAD-69) SOAP service with PS3.15 de-identification.",
        epilog="Configuration: `wadows config` prints every option with its default.",
    )
    parser.add_argument("--version", action="version", version=f"wadows {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve WADO-WS over HTTP")
    serve.add_argument("--store", type=Path, help="folder of DICOM files (default: the bundled samples)")
    serve.add_argument("--index", type=Path, help="SQLite index file (default: in the cache directory)")
    serve.add_argument("--dicomweb", metavar="URL",
                       help="serve from this DICOMweb archive (e.g. http://orthanc:8042/dicom-web) instead of a "
                            "folder; credentials, TLS and timeouts in the [dicomweb] section of the config file")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--public-url", help="URL clients use, written into the WSDL")
    serve.add_argument("--config", type=Path, help="TOML configuration file")
    serve.set_defaults(func=_serve)

    cfg = sub.add_parser("config", help="print the default configuration file, every option documented")
    cfg.set_defaults(func=_print_config)

    from .deid import cli as deid_cli
    from .samples import register as register_samples
    from .security import cli as security_cli
    from .store import cli as store_cli

    store_cli.register(sub)
    register_samples(sub)
    deid_cli.register(sub)
    security_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
