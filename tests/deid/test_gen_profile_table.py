"""tools/gen_profile_table.py reproduces the committed table byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pydicom
import pytest

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "service" / "wadows" / "data" / "deid" / "profile_2025b.json"
SOURCE = REPO.parent / "shared" / "reference" / "ps3.15" / "table_E1-1_2025b.json"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_profile_table", REPO / "tools" / "gen_profile_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SOURCE.exists(), reason="the reference copy of Table E.1-1 (shared/reference) is absent")
def test_regenerating_gives_the_committed_file(tmp_path):
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    if committed["untabled"]["pydicom"] != pydicom.__version__:
        pytest.skip(f"table generated with pydicom {committed['untabled']['pydicom']}, running {pydicom.__version__}")
    out = tmp_path / "profile.json"
    assert _generator().main([str(SOURCE), "-o", str(out)]) == 0
    assert out.read_bytes() == COMMITTED.read_bytes()
    again = tmp_path / "again.json"
    _generator().main([str(SOURCE), "-o", str(again)])
    assert again.read_bytes() == out.read_bytes()


def test_committed_table_names_edition_and_generator():
    table = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert table["edition"] == "2025b" and table["generator"] == "tools/gen_profile_table.py"
    assert len(table["rows"]) == 646 and table["private"]["basic"] == "X"
    assert list(table["rows"]) == sorted(table["rows"])


def test_safe_private_list_names_its_source():
    doc = json.loads((COMMITTED.parent / "safe_private.json").read_text(encoding="utf-8"))
    assert "E.3.10-1" in doc["source"]["standard"] and doc["source"]["completeness"]
    assert len(doc["attributes"]) >= 100
