"""Real data through a served RAD-69, without Anonymize: every readable Part-10 image object pydicom
ships (its own test files plus the pydicom-data package), asked for in several transfer syntax lists.

Asserts per response: HTTP 200 with every MIME part complete (no response cut short), a RegistryResponse
whose documents plus errors account for every document asked, each document in a listed syntax (the
fallback taken where the first fails), lossless output with the source's decoded pixels, and errors
with a reason in words. ``MODES`` is the one place to add a parameter (Anonymize: one more entry).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
import requests
from pydicom.data import get_testdata_files
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from support.process import served
from support.rad69 import Doc, parse_response, request_xml

REPOSITORY = "2.25.104010150727412930373520467207786914562"  # the default config's
BATCH = 25
STORED = "stored"

# name -> (transfer syntax list, Anonymize value or None)
MODES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "stored": ((STORED,), None),
    "explicit": ((ExplicitVRLittleEndian,), None),
    "rle": ((RLELossless,), None),
    "j2k": ((JPEG2000Lossless,), None),
    "j2k-then-explicit": ((JPEG2000Lossless, ExplicitVRLittleEndian), None),
}


def _readable_images() -> list[tuple[Path, pydicom.Dataset]]:
    seen: set[str] = set()
    out = []
    for name in sorted(get_testdata_files()):
        try:
            ds = pydicom.dcmread(name)
            ds.file_meta.TransferSyntaxUID  # noqa: B018  Part-10 only
            uid, study, series = str(ds.SOPInstanceUID), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)
            if "PixelData" not in ds or uid in seen or not (study and series):
                continue
        except Exception:
            continue
        seen.add(uid)
        out.append((Path(name), ds))
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("realdata-store")
    objects = _readable_images()
    for n, (path, _) in enumerate(objects):
        shutil.copyfile(path, root / f"{n:04d}.dcm")
    return root, objects


@pytest.fixture(scope="module")
def server(corpus, tmp_path_factory):
    config = "[auth]\nanonymous = \"identified\"\n"  # identified data: Anonymize is a MODES entry
    with served(corpus[0], tmp_path_factory.mktemp("realdata-served"), config) as proc:
        yield proc


def _source_pixels(ds: pydicom.Dataset):
    try:
        return ds.pixel_array
    except Exception:
        return None


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_real_data_served_in_each_syntax(corpus, server, mode):
    _, objects = corpus
    syntaxes, anonymize = MODES[mode]
    served_ok = fell_back = errors = compared = 0
    if syntaxes == (STORED,):  # one request per stored syntax, listing only it
        groups: dict[str, list] = {}
        for item in objects:
            groups.setdefault(str(item[1].file_meta.TransferSyntaxUID), []).append(item)
        batches = [g[i:i + BATCH] for g in groups.values() for i in range(0, len(g), BATCH)]
    else:
        batches = [objects[i:i + BATCH] for i in range(0, len(objects), BATCH)]
    for batch in batches:
        docs = [Doc(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), REPOSITORY, anonymize)
                for _, ds in batch]
        asked = [str(ds.file_meta.TransferSyntaxUID) if s == STORED else s for _, ds in batch for s in syntaxes]
        listed = tuple(dict.fromkeys(asked)) if syntaxes == (STORED,) else syntaxes
        r = requests.post(server.url, data=request_xml(docs, listed), headers={"Content-Type": "application/soap+xml"},
                          timeout=300)
        assert r.status_code == 200
        resp = parse_response(r.headers["Content-Type"], r.content)  # a cut body fails here
        returned = dict(resp.documents())
        assert len(returned) + len(resp.errors) == len(batch), resp.errors
        for e in resp.errors:
            assert len(e.get("codeContext", "").split()) >= 4, e
            assert "Error" not in e.get("codeContext", "")  # a reason in words, not an exception class
        errors += len(resp.errors)
        for _, ds in batch:
            data = returned.get(str(ds.SOPInstanceUID))
            if data is None:
                continue
            out = pydicom.dcmread(io.BytesIO(data))
            ts = UID(out.file_meta.TransferSyntaxUID)
            assert ts in listed, ts
            served_ok += 1
            fell_back += ts != listed[0] and syntaxes != (STORED,)
            if syntaxes == (STORED,):
                assert ts == ds.file_meta.TransferSyntaxUID
                continue
            if not ts.is_compressed or ts in (RLELossless, JPEG2000Lossless):
                src = _source_pixels(ds)
                if src is not None and "YBR" not in str(ds.get("PhotometricInterpretation", "")):
                    assert np.array_equal(out.pixel_array, src), (mode, ds.SOPInstanceUID)
                    compared += 1
    print(f"{mode}: {len(objects)} objects, {served_ok} served, {fell_back} by fallback, "
          f"{errors} errors, {compared} compared pixel-for-pixel")
    assert served_ok
    if mode == "j2k-then-explicit":
        assert fell_back  # tiny images and 1-bit objects refuse J2K and go out Explicit VR LE
