"""Burned-in text end to end: fixtures with a name, an ID and a date drawn into the pixels (burned.py)
are blanked by a real rule of deid's recipe or refused, under every option set, and Tesseract reads
none of the drawn words in any output."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest

from wadows.deid import DeidentificationRefused, Deidentifier, cli, ocr

from support.needs import need_tool
from .burned import WORDS, make_burned
from .objects import KEY, make_ct, to_bytes, write

pytestmark = pytest.mark.tools

CASES = {
    "us-mono-noflag": dict(),
    "us-rgb-yes": dict(rgb=True, flag="YES"),
    "us-cine-rgb": dict(rgb=True, frames=3),
    "sc-mono-noflag": dict(modality="SC"),
    "sc-rgb-yes": dict(modality="SC", rgb=True, flag="YES"),
    "us-iu22-rule": dict(real_rule=True),
    "us-iu22-rule-cine-rgb": dict(real_rule=True, rgb=True, frames=3, flag="YES"),
}


@pytest.fixture(autouse=True)
def _tesseract():
    need_tool("tesseract", "tesseract-ocr")


def _frames(ds) -> list[np.ndarray]:
    arr = ds.pixel_array
    return list(arr) if int(ds.get("NumberOfFrames", 1) or 1) > 1 else [arr]


def _reads_drawn(ds) -> bool:
    words = {ocr._norm(w) for w in WORDS} | {"HOLLOWAY", "MRN4815162", "20190314"}
    return any(ocr.found(ocr.read_text(f), words) for f in _frames(ds))


def test_fixtures_show_the_words_before():
    assert _reads_drawn(make_burned(rgb=True)) and _reads_drawn(make_burned(real_rule=True))


@pytest.mark.parametrize("options", [(), ("CleanPixelDataOption",), ("RetainDeviceIdentityOption",)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_fixture_is_blanked_or_refused(case, options):
    ds = make_burned(**CASES[case])
    deid = Deidentifier(KEY, options)
    if CASES[case].get("real_rule"):
        out = pydicom.dcmread(io.BytesIO(b"".join(deid.stream(io.BytesIO(to_bytes(ds))))))
        assert out.PatientIdentityRemoved == "YES" and out.BurnedInAnnotation == "NO"
        for frame in _frames(out):
            assert not frame[:47].any()  # ctpcoordinates 0,0,640,47 of LABEL Philips IU22
            assert frame[200:, 200:].any()  # the rest is kept
        assert not _reads_drawn(out)
    else:
        with pytest.raises(DeidentificationRefused, match="no blanking rule"):
            b"".join(deid.stream(io.BytesIO(to_bytes(ds))))


def test_ocr_refuses_when_the_rule_misses_the_text():
    """Text moved below the rule's band: the rule matches, blanks the wrong place, OCR catches it."""
    ds = make_burned(real_rule=True)
    arr = ds.pixel_array.copy()
    arr[100:140] = arr[10:50]
    arr[:50] = 20
    ds.PixelData = arr.tobytes()
    with pytest.raises(DeidentificationRefused, match="text recognition"):
        Deidentifier(KEY).deidentify(ds)
    # verify_pixels false: the same object goes out (the operator chose to trust the rule)
    out = Deidentifier(KEY, verify_pixels=False).deidentify(make_burned(real_rule=True))
    assert out.PatientIdentityRemoved == "YES"


def test_identifying_words_and_matching():
    words = ocr.identifying_words(make_burned())
    assert {"HOLLOWAY", "JANE", "MRN4815162", "20190314", "14032019"} <= words
    assert ocr.found("name HOLLOWAY*JANE", words) and ocr.found("14.03.2019", words)
    assert not ocr.found("LOGIQ 7 cm 12 Hz", words)


def test_overlays_are_removed_not_burned_in():
    ds = make_ct(rows=32, cols=48)
    ds[0x60000010] = pydicom.DataElement(0x60000010, "US", 32)
    ds[0x60000011] = pydicom.DataElement(0x60000011, "US", 48)
    ds[0x60000100] = pydicom.DataElement(0x60000100, "US", 1)
    ds[0x60003000] = pydicom.DataElement(0x60003000, "OW", b"\xff" * (32 * 48 // 8))
    before = ds.pixel_array.copy()
    out = Deidentifier(KEY).deidentify(ds)
    assert not any(tag.group & 0xFF00 == 0x6000 for tag in out.keys())
    assert np.array_equal(out.pixel_array, before)


def test_cli_refuses_per_file_and_counts(tmp_path, capsys):
    src = tmp_path / "in"
    for name, case in CASES.items():
        write(make_burned(**case), src / f"{name}.dcm")
    key = tmp_path / "k"
    key.write_text(KEY.hex())
    parser = argparse.ArgumentParser(prog="wadows")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["anonymize", str(src), "-o", str(tmp_path / "out"), "--key-file", str(key)])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "5 failed" in err and err.count(": refused: ") == 5 and "HOLLOWAY" not in err
    written = sorted(p.name for p in Path(tmp_path / "out").rglob("*.dcm"))
    assert written == ["us-iu22-rule-cine-rgb.dcm", "us-iu22-rule.dcm"]
    for p in Path(tmp_path / "out").rglob("*.dcm"):
        assert not _reads_drawn(pydicom.dcmread(p))


def test_served_rad69_refused_is_0001_and_blanked_is_returned(tmp_path):
    from pydicom.uid import ExplicitVRLittleEndian

    from conftest import instances_in
    from wadows.filespan import materialize
    from wadows.retrieve.anonymize import Anonymizers
    from wadows.retrieve.errors import ErrorCode
    from wadows.retrieve.model import DocumentRequest, RetrieveRequest
    from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
    from wadows.store.filestore import FileStore

    root = tmp_path / "store"
    refused = make_burned(rgb=True)
    refused.SOPInstanceUID = refused.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.77001"
    blanked = make_burned(real_rule=True)
    blanked.SOPInstanceUID = blanked.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.77002"
    write(refused, root / "a.dcm")
    write(blanked, root / "b.dcm")
    store = FileStore(root, tmp_path / "index.sqlite")
    store.refresh()
    src = ImagingDocumentSource(store, SourceSettings(frozenset({"1.2.3.4.5"})), Anonymizers(KEY))
    insts = {i.sop: i for i in instances_in(root)}
    docs = tuple(DocumentRequest(i.study, i.series, "1.2.3.4.5", i.sop, anonymize="yes") for i in insts.values())
    result = src.retrieve_imaging_document_set(RetrieveRequest(docs, (ExplicitVRLittleEndian,)))
    assert result.status.endswith("PartialSuccess")
    (err,) = result.errors
    assert err.code is ErrorCode.UNABLE_TO_ANONYMIZE and err.location == refused.SOPInstanceUID
    assert "HOLLOWAY" not in err.context
    (doc,) = result.documents
    out = pydicom.dcmread(io.BytesIO(b"".join(materialize(doc.chunks()))))
    assert out.PatientIdentityRemoved == "YES" and not _reads_drawn(out)
