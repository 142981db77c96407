"""The README's layer table is the one tests/test_layers.py holds the imports to (tools/gen_layers.py)."""

from __future__ import annotations

from pathlib import Path

from support.tools import load_tool

REPO = Path(__file__).resolve().parents[1]


def test_readme_shows_the_layers_the_import_check_enforces() -> None:
    gen = load_tool("gen_layers")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert gen.render(readme) == readme, "README's layers are out of date: run .venv/bin/python tools/gen_layers.py"


def test_every_layer_of_the_check_is_in_the_readme() -> None:
    gen = load_tool("gen_layers")
    shown = gen.block()
    for names in gen.layers():
        for name in names:
            assert (f"{name}/" in shown) or (f"{name}.py" in shown) or name == "wadows"
    assert len(gen.layers()) > 10  # read from the test, not an empty table
