"""A self-signed certificate for 127.0.0.1/localhost (openssl CLI), as deploy/ makes at first start."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def openssl_missing() -> str | None:
    return None if shutil.which("openssl") else "openssl is not installed"


def self_signed(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """(certificate, key) PEM files valid for localhost and 127.0.0.1; the certificate is its own CA."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key
