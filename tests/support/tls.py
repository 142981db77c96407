"""A self-signed certificate for 127.0.0.1/localhost, made by the deployment's own script."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

MAKE_CERT = Path(__file__).resolve().parents[2] / "deploy" / "tls" / "make-cert.sh"


def openssl_missing() -> str | None:
    return None if shutil.which("openssl") else "openssl is not installed"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files in ``folder``; the certificate is its own CA."""
    subprocess.run(["sh", str(MAKE_CERT), str(folder)], check=True, capture_output=True)
    return folder / "server.crt", folder / "server.key"
