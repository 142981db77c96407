"""The bundled burned-in text rules are deid's recipe as converted by tools/gen_pixel_rules.py."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from support import needs

from wadows.config import ConfigError, load_config


def _bundled() -> dict:
    return json.loads(resources.files("wadows").joinpath("data", "deid", "pixel_rules.json").read_text("utf-8"))


def test_bundled_file_records_its_source():
    data = _bundled()
    assert data["deid_version"] and len(data["sha256"]) == 64 and len(data["rules"]) == 118
    iu22 = [r for r in data["rules"] if r["name"] == "Philips IU22" and r["coordinates"] == [[0, "0,0,640,47"]]]
    assert iu22  # ctpcoordinates 0,0,640,47 (x, y, width, height) is the box 0,0,640,47


def test_generator_reproduces_the_bundled_file():
    """In a subprocess: inside pytest the name ``deid`` is this test package."""
    import subprocess
    import sys
    from pathlib import Path

    tools = Path(__file__).resolve().parents[2] / "tools"
    code = ("import importlib.util, json, sys\n"
            "if importlib.util.find_spec('deid') is None: sys.exit(3)\n"
            "import gen_pixel_rules; print(json.dumps(gen_pixel_rules.build()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tools, capture_output=True, timeout=120)
    if done.returncode == 3:
        needs.unavailable("deid 0.4.13 (test extra) is not installed: cannot regenerate the rules")
    built = json.loads(done.stdout)
    if built["deid_version"] != _bundled()["deid_version"]:
        needs.unavailable(f"deid {built['deid_version']} is installed, the rules came from another version")
    assert built == _bundled()


def test_verify_pixels_setting(tmp_path):
    assert load_config().deid.verify_pixels == "auto"
    for value in ("false", "true"):
        path = tmp_path / "c.toml"
        path.write_text(f"[deid]\nverify_pixels = {value}\n")
        try:
            assert load_config(path).deid.verify_pixels is (value == "true")
        except ConfigError as exc:
            assert value == "true" and "tesseract" in str(exc)
    path.write_text('[deid]\nverify_pixels = "sometimes"\n')
    with pytest.raises(ConfigError, match="verify_pixels"):
        load_config(path)
