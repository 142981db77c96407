"""A real Audit Record Repository for tests: Debian's rsyslogd on 127.0.0.1 with its own config,
receiving syslog over TLS (imtcp with the gtls driver, client certificates required) and UDP
(imudp), writing each message received as one line of a file. Certificates are made with openssl."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import needs
from .ports import free_port, wait_listening

FIELDS = ("app_name", "msgid", "pri", "hostname", "procid", "msg")


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # a client certificate from a CA the repository does not trust
    rogue_key: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    # Extensions spelled out rather than taken from the local openssl.cnf: Python 3.13's default
    # context verifies with X509_V_FLAG_X509_STRICT (RFC 5280 profile: a CA marks basicConstraints
    # critical and carries keyCertSign and a subject key identifier), as a hospital PKI's CA does.
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash",
             "-keyout", key, "-out", cert)
    return cert, key


def _issue(folder: Path, name: str, ca: tuple[Path, Path], san: str | None) -> tuple[Path, Path]:
    cert, key, csr, ext = (folder / f"{name}.crt", folder / f"{name}.key", folder / f"{name}.csr",
                           folder / f"{name}.ext")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", key, "-out", csr)
    # RFC 5280 4.2.1.1: an end-entity certificate names its issuer's key (strict verification).
    lines = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
             "extendedKeyUsage=serverAuth,clientAuth", "subjectKeyIdentifier=hash",
             "authorityKeyIdentifier=keyid,issuer"]
    if san:
        lines.append(f"subjectAltName={san}")
    ext.write_text("\n".join(lines) + "\n")
    _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-days", "2",
             "-extfile", ext, "-out", cert)
    return cert, key


def make_pki(folder: Path) -> Pki:
    needs.need_tool("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ca = _ca(folder, "audit-ca")
    rogue_ca = _ca(folder, "rogue-ca")
    server = _issue(folder, "arr", ca, "IP:127.0.0.1,DNS:localhost")
    client = _issue(folder, "wadows-node", ca, "DNS:localhost")
    rogue = _issue(folder, "rogue-node", rogue_ca, "DNS:localhost")
    return Pki(ca[0], *server, *client, *rogue)


@dataclass
class Repository:
    tcp_port: int
    udp_port: int
    out: Path
    proc: subprocess.Popen | None = None

    def lines(self) -> list[dict[str, str]]:
        if not self.out.exists():
            return []
        rows = []
        for line in self.out.read_text(encoding="utf-8", errors="replace").splitlines():
            values = line.split("\t", len(FIELDS) - 1)
            if len(values) == len(FIELDS):
                row = dict(zip(FIELDS, values))
                row["msg"] = row["msg"].lstrip("\ufeff")  # RFC 5424 §6.4 BOM before UTF-8 MSG content
                rows.append(row)
        return rows

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.lines()
            if len(rows) >= count:
                return rows
            time.sleep(0.05)
        raise AssertionError(f"the repository received {len(self.lines())} messages, expected {count}")


_CONFIG = """\
global(workDirectory="{work}" maxMessageSize="256k"
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="{ca}"
       defaultNetstreamDriverCertFile="{cert}"
       defaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/certvalid")
input(type="imtcp" port="{tcp}" address="127.0.0.1")
module(load="imudp")
input(type="imudp" port="{udp}" address="127.0.0.1")
template(name="fields" type="list") {{
  property(name="app-name") constant(value="\\t") property(name="msgid") constant(value="\\t")
  property(name="pri") constant(value="\\t") property(name="hostname") constant(value="\\t")
  property(name="procid") constant(value="\\t") property(name="msg") constant(value="\\n")
}}
action(type="omfile" file="{out}" template="fields" flushOnTXEnd="on" asyncWriting="off")
"""


def _rsyslogd() -> str:
    for candidate in ("/usr/sbin/rsyslogd", "/sbin/rsyslogd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return needs.need_tool("rsyslogd", "rsyslog")


def _gtls_installed() -> bool:
    return any(Path(p).exists() for p in ("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so",
                                          "/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so",
                                          "/usr/lib/rsyslog/lmnsd_gtls.so"))


@contextlib.contextmanager
def repository(folder: Path, pki: Pki, *, tcp_port: int | None = None, udp_port: int | None = None
               ) -> Iterator[Repository]:
    """rsyslogd running with its own config in ``folder``; stopped (by its own pid) on exit."""
    binary = _rsyslogd()
    if not _gtls_installed():
        needs.unavailable("rsyslog's gtls driver is not installed (Debian package rsyslog-gnutls)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "work").mkdir(exist_ok=True)
    repo = Repository(tcp_port or free_port(), udp_port or free_port(), folder / "received.log")
    conf = folder / "rsyslog.conf"
    conf.write_text(_CONFIG.format(work=folder / "work", ca=pki.ca, cert=pki.server_cert, key=pki.server_key,
                                   tcp=repo.tcp_port, udp=repo.udp_port, out=repo.out))
    log = folder / "rsyslogd.stderr"
    with open(log, "wb") as err:
        repo.proc = subprocess.Popen([binary, "-n", "-f", str(conf), "-i", str(folder / "rsyslogd.pid")],
                                     stdout=err, stderr=subprocess.STDOUT)
    try:
        wait_listening(repo.tcp_port, 20, repo.proc, "rsyslogd", log)
        yield repo
    finally:
        if repo.proc.poll() is None:
            repo.proc.send_signal(signal.SIGTERM)
            try:
                repo.proc.wait(10)
            except subprocess.TimeoutExpired:
                repo.proc.kill()
                repo.proc.wait()
