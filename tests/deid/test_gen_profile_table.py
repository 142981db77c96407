"""tools/gen_profile_table.py reproduces the committed table byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pydicom

from support.needs import unavailable

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "service" / "wadows" / "data" / "deid" / "profile_2025b.json"
SOURCE = REPO.parent / "shared" / "reference" / "ps3.15" / "table_E1-1_2025b.json"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_profile_table", REPO / "tools" / "gen_profile_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _without_pydicom(table: dict) -> dict:
    """The table minus what comes from pydicom's data dictionary (untabled attributes, row VRs), which
    a different pydicom 3.x may legitimately change; the rest is the standard's table and our rules."""
    out = {k: v for k, v in table.items() if k != "untabled"}
    out["rows"] = {key: {f: v for f, v in row.items() if f != "vr"} for key, row in table["rows"].items()}
    return out


def test_regenerating_gives_the_committed_file(tmp_path):
    """Byte for byte under the recorded pydicom; under any other, everything not taken from its
    dictionary must still match, so the check always runs (issue 17 item 9)."""
    if not SOURCE.exists():
        unavailable(f"the reference copy of Table E.1-1 is absent ({SOURCE})")
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    out = tmp_path / "profile.json"
    assert _generator().main([str(SOURCE), "-o", str(out)]) == 0
    again = tmp_path / "again.json"
    _generator().main([str(SOURCE), "-o", str(again)])
    assert again.read_bytes() == out.read_bytes()
    if committed["untabled"]["pydicom"] == pydicom.__version__:
        assert out.read_bytes() == COMMITTED.read_bytes()
    else:
        assert _without_pydicom(json.loads(out.read_text(encoding="utf-8"))) == _without_pydicom(committed)


def test_comparison_without_pydicom_still_sees_a_changed_row():
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    changed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    key = next(iter(changed["rows"]))
    changed["rows"][key]["basic"] = "K" if changed["rows"][key]["basic"] != "K" else "X"
    changed["untabled"]["pydicom"] = "0.0"
    assert _without_pydicom(changed) != _without_pydicom(committed)


def test_committed_table_names_edition_and_generator():
    table = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert table["edition"] == "2025b" and table["generator"] == "tools/gen_profile_table.py"
    assert len(table["rows"]) == 646 and table["private"]["basic"] == "X"
    assert list(table["rows"]) == sorted(table["rows"])


def test_safe_private_list_names_its_source():
    doc = json.loads((COMMITTED.parent / "safe_private.json").read_text(encoding="utf-8"))
    assert "E.3.10-1" in doc["source"]["standard"] and doc["source"]["completeness"]
    assert len(doc["attributes"]) >= 100
