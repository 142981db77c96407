"""What codec libraries say about broken objects never reaches the server's stderr (issue 12 item 6).

openjpeg (pylibjpeg-openjpeg), libjpeg (pylibjpeg-libjpeg) and the RLE codec are C and Rust code
inside the server process. Measured here: on a broken codestream or an image too small for the
encoder they do not write to file descriptor 2 themselves; openjpeg routes its messages through
Python logging ("openjpeg.encode" / "openjpeg.decode" at ERROR, e.g. "Number of resolutions is too
high in comparison to the size of tiles"), which a WARNING-level root handler would print. The served
process, run on structurally complete objects whose compressed pixel data is broken, with Anonymize
and transcoding: every line of its stderr is one of wadows's own log records, none names an object.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
import requests
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000, JPEG2000Lossless, RLELossless, generate_uid

from support.process import served
from support.rad69 import Doc, parse_response, request_xml

REPOSITORY = "2.25.104010150727412930373520467207786914562"  # the default config's
NAME = "STDERRLEAK^PATIENT"
CONFIG = '[auth]\nanonymous = "identified"\n[log]\nlevel = "DEBUG"\n'
_BANNER = re.compile(r"^wadows \S+: WADO-WS on http://127\.0\.0\.1:\d+/wado-ws \(WSDL: [^()]+\)$")
_OWN_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) wadows(\.\S+)?( \[worker \d+ pid \d+\])?: ")


def _broken(name: str, how: str) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(get_testdata_file(name))
    n = int(ds.get("NumberOfFrames", 1) or 1)
    frames = [b"".join(f) for f in generate_fragmented_frames(ds.PixelData, number_of_frames=n)]
    if how == "half":  # a codestream cut short inside a complete, terminated encapsulation
        frames = [f[: len(f) // 2] for f in frames]
    else:  # the markers kept, the entropy-coded data zeroed
        frames = [f[:40] + bytes(len(f) - 40) for f in frames]
    ds.PixelData = encapsulate(frames)
    return ds


def _tiny() -> pydicom.Dataset:
    """A 3x3 native image: too small for openjpeg's default of 6 resolutions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.Rows = ds.Columns = 3
    ds.PixelData = np.arange(9, dtype=np.int16).reshape(3, 3).tobytes()
    return ds


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("codec-stderr")
    objects = {
        "j2k-half": _broken("MR_small_jp2klossless.dcm", "half"),
        "j2k-zeroed": _broken("MR_small_jp2klossless.dcm", "zeroed"),
        "jpeg-half": _broken("JPEG-lossy.dcm", "half"),
        "jpeg-zeroed": _broken("SC_rgb_jpeg_gdcm.dcm", "zeroed"),
        "jpegls-half": _broken("MR_small_jpeg_ls_lossless.dcm", "half"),
        "rle-zeroed": _broken("MR_small_RLE.dcm", "zeroed"),
        "tiny": _tiny(),
    }
    docs, secrets = [], [NAME]
    for name, ds in objects.items():
        study, series, sop = generate_uid(), generate_uid(), generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.PatientName, ds.PatientID = NAME, f"ID-{name}"
        ds.save_as(root / f"{name}.dcm", enforce_file_format=True)
        docs.append(Doc(study, series, sop, REPOSITORY, anonymize="yes"))
        secrets += [study, series, sop, f"ID-{name}"]
    return root, docs, secrets


def test_codec_messages_never_reach_stderr(store, tmp_path):
    root, docs, secrets = store
    with served(root, tmp_path / "served", CONFIG) as proc:
        for syntaxes in [(ExplicitVRLittleEndian,), (JPEG2000Lossless, ExplicitVRLittleEndian), (JPEG2000,),
                         (RLELossless,)]:
            for anonymize in ("yes", None):
                asked = [Doc(d.study, d.series, d.sop, d.repository, anonymize) for d in docs]
                r = requests.post(proc.url, data=request_xml(asked, syntaxes),
                                  headers={"Content-Type": "application/soap+xml"}, timeout=120)
                assert r.status_code == 200
                resp = parse_response(r.headers["Content-Type"], r.content)
                assert len(resp.documents()) + len(resp.errors) == len(docs)
        stderr = proc.log.read_text(errors="replace")
    foreign = [line for line in stderr.splitlines() if not _OWN_LINE.match(line) and not _BANNER.match(line)]
    assert foreign == []
    assert [s for s in secrets if s in stderr] == []
    assert "openjpeg" not in stderr and "libjpeg" not in stderr
