"""The README's "Try it with curl" block, run as written (only the port changed) against `wadows serve`
on the bundled samples, as `make run` serves them: every command succeeds and the DICOM parts of both
responses (plain SOAP 1.2 and MTOM request) are read by pydicom."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from support.needs import need_tool
from support.process import served
from wadows.samples import bundled_samples_dir

REPO = Path(__file__).resolve().parents[1]


def _curl_block() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_curl_example_returns_dicom_that_pydicom_reads(tmp_path):
    need_tool("curl", "curl")
    block = _curl_block()
    assert "127.0.0.1:8080" in block and "read_response.py" in block
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "samples").symlink_to(REPO / "samples")
    with served(bundled_samples_dir(), tmp_path / "server") as proc:
        base = proc.url.rsplit("/wado-ws", 1)[0]
        script = "set -euo pipefail\n" + block.replace("http://127.0.0.1:8080", base)
        # `python` in the README is the project's (make run's venv): put this interpreter first.
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "definitions" in out  # the WSDL's first lines
    assert '"status": "ok"' in out.replace("'", '"')
    # read_response.py on each response (plain SOAP 1.2 request, then MTOM): a Success, objects pydicom read.
    assert out.count("status: Success") == 2, out[-2000:]
    objects = [line for line in out.splitlines() if "bytes, " in line and "transfer syntax" in line]
    assert len(objects) >= 2, out[-2000:]
