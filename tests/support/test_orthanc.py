"""The test Orthanc launcher: isolated (nothing listens outside its namespace), reachable, restartable."""

from __future__ import annotations

import socket
import subprocess

import pydicom
import pytest
import requests

from support.orthanc import require_orthanc, running_orthanc
from wadows.samples import generate_samples

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    require_orthanc()
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as o:
        yield o


def test_only_loopback_in_the_namespace(orthanc):
    links = orthanc.ns.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
    # Orthanc's port exists inside the namespace only.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", 8042)) != 0 or _port_is_someone_else(8042)


def _port_is_someone_else(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/system", timeout=1).json().get("Name") != "wadows-test"
    except (requests.RequestException, ValueError):
        return True


def test_upload_and_read_back_by_dicomweb(orthanc, tmp_path):
    files = generate_samples(tmp_path)[:2]
    ids = orthanc.upload(files)
    assert len(ids) == 2
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    found = requests.get(f"{orthanc.dicomweb}/instances", params={"SOPInstanceUID": ds.SOPInstanceUID}, timeout=10)
    assert found.json()[0]["0020000D"]["Value"] == [ds.StudyInstanceUID]
    assert orthanc.instance_id(ds.SOPInstanceUID) == ids[0]
    inside = orthanc.ns.run(["python3", "-c", "import urllib.request;print(urllib.request.urlopen("
                             "'http://127.0.0.1:8042/system').status)"], capture_output=True, text=True)
    assert inside.stdout.strip() == "200"


def test_stop_refuses_and_start_keeps_the_data(orthanc, tmp_path):
    before = orthanc.request("GET", "/instances").json()
    orthanc.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(orthanc.base + "/system", timeout=5)
    orthanc.start()
    assert orthanc.request("GET", "/instances").json() == before


def test_runs_commands_inside(orthanc):
    out = subprocess.run(orthanc.ns.command(["cat", "/proc/self/net/dev"]), capture_output=True, text=True, check=True)
    assert "lo:" in out.stdout and "eth" not in out.stdout
