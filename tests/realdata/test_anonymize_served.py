"""RAD-69 with Anonymize over every public sample the store holds, in a few batched requests: the whole
HTTP response carries no original Study/Series/SOP UID, the server's stderr nothing from the objects,
and every per-document error says why in words."""

from __future__ import annotations

import re
import shutil
from collections import Counter

import pydicom
import pytest
import requests
from pydicom.uid import ExplicitVRLittleEndian

from support.process import served
from support.rad69 import Doc, parse_response, request_xml

from .corpus import samples

REPOSITORY = "2.25.104010150727412930373520467207786914562"  # the default config's
_BATCH = 60


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store of the samples that name a study, series and instance, one file per SOP Instance UID
    (pydicom ships a few copies of the same instance)."""
    root = tmp_path_factory.mktemp("realdata-store")
    docs, syntaxes, seen = [], Counter(), set()
    for n, sample in enumerate(samples()):
        if len(sample.uids) < 3:
            continue
        try:
            ds = pydicom.dcmread(sample.path, stop_before_pixels=True)
            study, series, sop = (str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))
            syntax = str(ds.file_meta.TransferSyntaxUID)
        except Exception:  # noqa: BLE001 - the CLI suite covers unreadable files
            continue
        if sop in seen:
            continue
        seen.add(sop)
        shutil.copyfile(sample.path, root / f"{n:03d}.dcm")
        docs.append((Doc(study, series, sop, REPOSITORY, "yes"), sample))
        syntaxes[syntax] += 1
    return root, docs, syntaxes


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    key = tmp_path_factory.mktemp("key") / "deid.key"
    key.write_text("cd" * 32 + "\n")
    key.chmod(0o600)
    with served(store[0], tmp_path_factory.mktemp("realdata-serve"), f'[deid]\nkey_file = "{key}"\n') as proc:
        yield proc


def _read(r: requests.Response) -> tuple[bytes, bool]:
    chunks = []
    try:
        for chunk in r.iter_content(1 << 16):
            chunks.append(chunk)
    except requests.exceptions.ChunkedEncodingError:
        return b"".join(chunks), False
    return b"".join(chunks), True


@pytest.mark.parametrize("mode", ["stored", "explicit"])
def test_no_original_uid_in_any_response_byte_and_reasons_in_words(store, server, mode):
    _root, docs, syntaxes = store
    # "stored": every syntax the store holds, so each object may go out as it is; then Explicit VR LE
    wanted = [*syntaxes, ExplicitVRLittleEndian] if mode == "stored" else [ExplicitVRLittleEndian]
    wanted = list(dict.fromkeys(wanted))
    returned, cut, errors = 0, 0, Counter()
    for start in range(0, len(docs), _BATCH):
        batch = docs[start:start + _BATCH]
        r = requests.post(server.url, data=request_xml([d for d, _ in batch], wanted),
                          headers={"Content-Type": "application/soap+xml"}, timeout=300, stream=True)
        assert r.status_code == 200
        body, complete = _read(r)
        wire = "".join(f"{k}: {v}\r\n" for k, v in r.headers.items()).encode() + b"\r\n" + body
        # what arrived, cut or not, carries no original UID
        # (a RegistryError's location is what the client sent, README: not the object's)
        scanned = re.sub(rb'location="[^"]*"', b"", wire)
        leaks = [(s.path.name, uid) for _, s in batch for uid in s.uids if uid.encode() in scanned]
        assert not leaks, sorted(set(leaks))
        if not complete:
            # A conversion failing mid-stream cuts the response (issue 12 item 3, the transcoding
            # spool's work): counted here, not this suite's assertion.
            cut += 1
            continue
        resp = parse_response(r.headers["Content-Type"], body)
        returned += len(resp.documents())
        for e in resp.errors:
            context = e.get("codeContext", "")
            assert context and "Error" not in context and "Exception" not in context, e
            errors[f'{e.get("errorCode", "")}: {context}'] += 1
    print(f"\nrealdata served ({mode}): {len(docs)} asked in {-(-len(docs) // _BATCH)} requests, {returned} returned, "
          f"{sum(errors.values())} errors, {cut} responses cut")
    for reason, n in errors.most_common():
        print(f"  {n:4d}  {reason}")
    log = server.log_bytes()
    found = [(s.path.name, v) for _, s in docs for v in s.uids + s.names if v.encode() in log]
    assert not found, found
