"""OCR verification on a served RAD-69: a Tesseract that fails after the document was accepted
makes that document's RegistryError urn:dicom:wado:0001, never a response cut short, and nothing it
prints reaches the server's stderr (issue 12, "verify the blanking").

The OCR step runs while the object is produced, after the response's documents were decided, so the
object is produced into a spool before the response starts. A fake ``tesseract`` first on PATH
stands in for every way the real one can fail (exit status, a message on stderr, no output).
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pydicom
import pytest
import requests
from pydicom.uid import ExplicitVRLittleEndian

from conftest import instances_in
from deid.burned import make_burned
from deid.objects import make_ct, write
from support.process import served
from support.rad69 import Doc, parse_response, request_xml

REPOSITORY = "2.25.104010150727412930373520467207786914562"  # the default config's
CONFIG = '[auth]\nanonymous = "identified"\n[deid]\nverify_pixels = true\n'
SECRET_NOISE = "TESSERACT-SAYS-HOLLOWAY"

FAKES = {
    "fails": f"#!/bin/sh\ncat >/dev/null\necho '{SECRET_NOISE} Error in pixReadMem' >&2\nexit 1\n",
    "killed": "#!/bin/sh\ncat >/dev/null\nkill -9 $$\n",
    "reads-nothing": "#!/bin/sh\ncat >/dev/null\nexit 0\n",  # a working OCR that finds no text
}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ocr-store")
    blanked = make_burned(real_rule=True)  # a pixel rule matches it: blanked, then OCR-verified
    blanked.SOPInstanceUID = blanked.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.77102"
    write(blanked, root / "burned.dcm")
    write(make_ct(sop="1.2.826.0.1.3680043.8.498.77103"), root / "ct.dcm")
    return root


def _fake_tesseract(folder: Path, script: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "tesseract"
    exe.write_text(script)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def _ask(url: str, root: Path, syntaxes: tuple[str, ...]):
    docs = [Doc(i.study, i.series, i.sop, REPOSITORY, anonymize="yes") for i in instances_in(root)]
    r = requests.post(url, data=request_xml(docs, syntaxes), headers={"Content-Type": "application/soap+xml"},
                      timeout=120, stream=True)
    assert r.status_code == 200
    body = r.raw.read()  # raises (IncompleteRead / ProtocolError) when the response is cut short
    return parse_response(r.headers["Content-Type"], body)


SYNTAXES = {"stored syntax": (ExplicitVRLittleEndian,),
            "transcoded": ("1.2.840.10008.1.2.5", ExplicitVRLittleEndian)}


@pytest.mark.parametrize("fake", FAKES)
def test_failing_ocr_is_that_documents_0001(store, tmp_path, fake):
    assert all(i.transfer_syntax == ExplicitVRLittleEndian for i in instances_in(store))
    env = _fake_tesseract(tmp_path / "bin", FAKES[fake])
    with served(store, tmp_path / "served", CONFIG, env=env) as proc:
        answers = {name: _ask(proc.url, store, syntaxes) for name, syntaxes in SYNTAXES.items()}
        log = proc.log.read_text(errors="replace")
    for name, resp in answers.items():
        docs = resp.documents()
        if fake == "reads-nothing":
            assert (resp.status, len(docs), resp.errors) == ("Success", 2, []), name
            for _, data in docs:
                assert pydicom.dcmread(io.BytesIO(data)).PatientIdentityRemoved == "YES"
        else:
            assert resp.status == "PartialSuccess", name
            (err,) = resp.errors
            assert err["errorCode"] == "urn:dicom:wado:0001", name
            assert err["location"] == "1.2.826.0.1.3680043.8.498.77102"
            assert len(docs) == 1
    assert SECRET_NOISE not in log and "HOLLOWAY" not in log and "Traceback" not in log
