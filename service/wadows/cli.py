"""The `wadows` command: serve, index, samples, anonymize."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError, default_config_text, load_config


def _serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .server import audit_start, audit_stop, configure_logging, make_server, open_store
    from .shutdown import run_until_stopped

    try:
        config = load_config(
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
    app = create_app(config, open_store(config))
    server = make_server(config, app)
    audit_start(app)
    print(f"wadows {__version__}: WADO-WS on http://{config.server.host}:{server.effective_port}/wado-ws "
          f"(WSDL: {config.server.effective_public_url}?wsdl)", file=sys.stderr, flush=True)
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
