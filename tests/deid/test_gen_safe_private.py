"""tools/gen_safe_private.py turns a machine-readable Table E.3.10-1 into the Retain Safe Private list
the engine reads, refuses a source whose rows were altered, and the committed list is its output."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from wadows.deid import private

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "service" / "wadows" / "data" / "deid" / "safe_private.json"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_safe_private", REPO / "tools" / "gen_safe_private.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source(tmp_path: Path, rows: list[dict], *, digest: str | None = None) -> Path:
    gen = _generator()
    doc = {"schema": "pymedphys-deid-table/1", "table": "PS3.15 Table E.3.10-1", "edition": "2099z",
           "acknowledgement": "DICOM PS3.15 2099z, © NEMA", "sources": [{"path": "chtml/x.html", "sha256": "00"}],
           "content_sha256": digest or gen.rows_digest(rows), "rows": rows}
    path = tmp_path / "e3_10_1.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def _row(tag: str, creator: str, vr: str, meaning: str) -> dict:
    return {"tag": tag, "private_creator": creator, "vr": vr, "vm": "1", "meaning": meaning}


ROWS = [_row("(2001,xx0a)", "Philips Imaging DD 001", "IS", "Image Plane Number"),
        _row("(0099,xx02)", "NQHeader", "UI", "Analyzed Series UID"),
        _row("(0099,xx01)", "NQHeader", "UI", "Version"),
        _row("(0119,xx11)", "SIEMENS Ultrasound SC2000", "", "Stage Timer Time"),
        _row("(0019,xx9E)", "GEMS_ACQU_01", "LO", "Internal Pulse Sequence Name")]


def test_generates_sorted_entries_with_actions_and_provenance(tmp_path):
    out = tmp_path / "safe.json"
    assert _generator().main([str(_source(tmp_path, ROWS)), "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    keys = [(a["group"], a["creator"], a["element"]) for a in doc["attributes"]]
    assert keys == [("0019", "GEMS_ACQU_01", "9E"), ("0099", "NQHeader", "01"), ("0099", "NQHeader", "02"),
                    ("0119", "SIEMENS Ultrasound SC2000", "11"), ("2001", "Philips Imaging DD 001", "0A")]
    actions = {(a["creator"], a["element"]): a["action"] for a in doc["attributes"]}
    # an instance UID is remapped like every UID; a format version of VR UI is not an instance
    assert actions[("NQHeader", "02")] == "U" and actions[("NQHeader", "01")] == "K"
    assert doc["source"]["edition"] == "2099z" and doc["source"]["generator"] == "tools/gen_safe_private.py"
    assert doc["source"]["rows_sha256"] == _generator().rows_digest(ROWS)
    again = tmp_path / "again.json"
    _generator().main([str(_source(tmp_path, ROWS)), "-o", str(again)])
    assert again.read_bytes() == out.read_bytes()


def test_an_altered_copy_is_refused(tmp_path, capsys):
    digest = _generator().rows_digest(ROWS)
    cut = _source(tmp_path, ROWS[:-1], digest=digest)
    out = tmp_path / "safe.json"
    assert _generator().main([str(cut), "-o", str(out)]) == 1
    assert not out.exists() and "digest" in capsys.readouterr().err


@pytest.mark.parametrize("row", [_row("(0018,xx01)", "X", "DS", "even group"),
                                 _row("(0019,xx01)", " ", "DS", "no creator"),
                                 _row("(0019,0001)", "X", "DS", "not a block element")])
def test_rows_that_are_not_private_block_elements_are_refused(tmp_path, row):
    assert _generator().main([str(_source(tmp_path, [row])), "-o", str(tmp_path / "o.json")]) == 1


def test_committed_list_is_the_whole_generated_table():
    doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
    source = doc["source"]
    assert source["generator"] == "tools/gen_safe_private.py" and source["edition"] >= "2025b"
    assert source["rows_sha256"] and source["completeness"]
    keys = [(a["group"], a["creator"], a["element"]) for a in doc["attributes"]]
    assert keys == sorted(set(keys))
    assert all(a["action"] == "K" or (a["action"] == "U" and a["vr"] == "UI") for a in doc["attributes"])
    table = private.safe_table()
    assert len(table) == len(keys) >= 479
    assert table[(0x0019, "GEMS_ACQU_01", 0x23)] == "K"          # in the 2020 list already
    assert table[(0x2001, "Philips Imaging DD 001", 0x0A)] == "K"  # added to the table after 2020
    assert table[(0x0129, "SIEMENS Ultrasound SC2000", 0x02)] == "U"
