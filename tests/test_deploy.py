"""The docker-compose deployment: the file is valid and pinned (no container engine runs here), and
the same topology runs natively: Orthanc (its own network namespace) loaded by deploy/load_samples.py,
wadows from deploy/wadows.toml, nginx from deploy/nginx/wadows.conf.template with the certificate
deploy/tls/make-cert.sh makes; a client that verifies that certificate retrieves over https."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
import requests
from lxml import etree

from conftest import REPO, free_port
from support.needs import need_tool
from support.orthanc import require_orthanc, running_orthanc
from support.ports import wait_listening
from support.process import served
from support.rad69 import EXPLICIT_LE, Doc, parse_response, request_xml
from support.tls import self_signed
from wadows.config import load_config
from wadows.samples import generate_samples

COMPOSE = REPO / "docker-compose.yml"
TEMPLATE = REPO / "deploy" / "nginx" / "wadows.conf.template"


def _normalized_config() -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "WADOWS_", "HTTPS_", "TLS_"))}
    out = subprocess.run([need_tool("docker-compose", "docker-compose"), "-f", str(COMPOSE), "config"], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.tools
def test_docker_compose_accepts_the_file():
    out = subprocess.run([need_tool("docker-compose", "docker-compose"), "-f", str(COMPOSE), "config", "-q"], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _services(text: str) -> dict[str, str]:
    """service name -> its block, from `docker-compose config` output (normalized, 2-space indent)."""
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    return dict(re.findall(r"(?m)^  ([\w-]+):\n((?:    .*\n|\n)*)", body + "\n"))


@pytest.mark.tools
def test_every_image_is_pinned_and_every_build_path_exists():
    services = _services(_normalized_config())
    assert {"postgres", "orthanc", "samples-init", "tls-init", "wadows", "nginx"} <= set(services)
    for name, block in services.items():
        image = re.search(r"(?m)^    image: (\S+)$", block)
        assert image, f"{name} has no image"
        repo, _, tag = image.group(1).rpartition(":")
        assert repo and tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image.group(1)} is not pinned"
        context = re.search(r"(?m)^      context: (.+)$", block)
        if context:
            assert (Path(context.group(1)) / "Dockerfile").is_file(), f"{name}: no Dockerfile in the build context"
        for source in re.findall(r"(?m)^      source: (/.+)$", block):  # bind mounts
            assert Path(source).exists(), f"{name} mounts {source}, which does not exist"


def test_dockerfile_is_pinned_non_root_and_health_checked():
    text = (REPO / "Dockerfile").read_text()
    base = re.search(r"(?m)^FROM (\S+)", text).group(1)
    assert re.fullmatch(r"python:3\.1[1-3]\.\d+-slim(-\w+)?", base), base  # pyproject: >=3.11,<3.14
    user = re.findall(r"(?m)^USER (\S+)", text)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"(?m)^HEALTHCHECK .*\n?.*healthz", text)
    for source in re.findall(r"(?m)^COPY (.+) \S+$", text):
        for path in source.split():
            assert (REPO / path).exists(), f"Dockerfile copies {path}, which does not exist"
    ignored = (REPO / ".dockerignore").read_text()
    assert "!service/" in ignored and "!deploy/" in ignored


def test_nginx_template_uses_only_what_compose_sets():
    variables = set(re.findall(r"\$\{(\w+)\}", TEMPLATE.read_text()))
    compose = COMPOSE.read_text()
    nginx = compose.split("\n  nginx:\n", 1)[1]
    assert variables and all(re.search(rf"(?m)^      {v}: ", nginx) for v in variables), variables


# -- the same topology, natively ------------------------------------------------------------------
def _render(template: str, values: dict[str, str]) -> str:
    """What the nginx image's envsubst does with the variables it is given."""
    out = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)
    assert not re.search(r"\$\{\w+\}", out)
    return out


@pytest.mark.tools
def test_the_compose_topology_natively_over_https(tmp_path):
    require_orthanc()
    nginx = need_tool("nginx", "nginx-light")
    need_tool("openssl", "openssl")
    with running_orthanc(tmp_path / "orthanc") as orthanc:
        load = subprocess.run([sys.executable, str(REPO / "deploy" / "load_samples.py"), orthanc.dicomweb, "--wait", "20"],
                              capture_output=True, text=True, timeout=120)
        assert load.returncode == 0, load.stderr
        sample = pydicom.dcmread(generate_samples(tmp_path / "samples")[0], stop_before_pixels=True)

        cert, _ = self_signed(tmp_path / "tls")
        first = cert.read_bytes()
        self_signed(tmp_path / "tls")
        assert cert.read_bytes() == first  # made once, then kept
        tls = cert.parent

        https_port = free_port()
        public = f"https://127.0.0.1:{https_port}/wado-ws"
        config = (REPO / "deploy" / "wadows.toml").read_text().replace("http://orthanc:8042/dicom-web", orthanc.dicomweb)
        assert orthanc.dicomweb in config
        (tmp_path / "empty").mkdir()
        with served(tmp_path / "empty", tmp_path / "wadows", config, extra_args=("--public-url", public)) as wadows:
            conf = tmp_path / "nginx"
            conf.mkdir()
            (conf / "wadows.conf").write_text(_render(TEMPLATE.read_text(), {
                "WADOWS_UPSTREAM": wadows.base.removeprefix("http://"),
                "NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
                "TLS_DIR": str(tls),
            }))
            temp = "".join(f"{kind}_temp_path {conf}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            (conf / "nginx.conf").write_text(
                f"daemon off;\nworker_processes 1;\nuser root;\npid {conf}/nginx.pid;\nerror_log {conf}/error.log;\n"
                f"events {{ worker_connections 64; }}\nhttp {{\naccess_log off;\n{temp}include {conf}/wadows.conf;\n}}\n")
            proc = subprocess.Popen([nginx, "-p", str(conf), "-c", str(conf / "nginx.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_listening(https_port, 20, proc, "nginx", conf / "error.log")
                session = requests.Session()
                session.verify = str(tls / "server.crt")

                wsdl = etree.fromstring(session.get(public + "?wsdl", timeout=30, verify=str(tls / "server.crt")).content)
                addresses = wsdl.xpath("//soap12:address/@location",
                                       namespaces={"soap12": "http://schemas.xmlsoap.org/wsdl/soap12/"})
                assert addresses == [public]

                health = session.get(f"https://127.0.0.1:{https_port}/healthz", timeout=30,
                                     verify=str(tls / "server.crt")).json()
                assert health["status"] == "ok" and health["backend"]["ok"] is True

                doc = Doc(sample.StudyInstanceUID, sample.SeriesInstanceUID, sample.SOPInstanceUID,
                          load_config().source.repository_unique_id)
                r = session.post(public, data=request_xml([doc], (EXPLICIT_LE,)), timeout=60,
                                 headers={"Content-Type": "application/soap+xml"}, verify=str(tls / "server.crt"))
                assert r.status_code == 200
                resp = parse_response(r.headers["Content-Type"], r.content)
                assert resp.status == "Success", resp.errors
                (uid, data), = resp.documents()
                ds = pydicom.dcmread(io.BytesIO(data))
                # The deployment anonymizes unauthenticated callers (deploy/wadows.toml).
                assert ds.PatientIdentityRemoved == "YES" and uid == ds.SOPInstanceUID != sample.SOPInstanceUID
                assert ds.SOPClassUID == sample.SOPClassUID

                with pytest.raises(requests.exceptions.SSLError):
                    requests.get(public + "?wsdl", timeout=10, verify=True)  # not a publicly trusted certificate
            finally:
                proc.terminate()
                proc.wait(10)
