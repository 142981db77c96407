"""docs/conformance.md is what tools/gen_conformance.py makes of its template and the code's tables:
a changed operation row, error code, transfer syntax, option, audit code or default fails here."""

from __future__ import annotations

from pathlib import Path

from support.tools import load_tool

REPO = Path(__file__).resolve().parents[1]


def test_committed_statement_is_what_the_code_generates() -> None:
    gen = load_tool("gen_conformance")
    assert (REPO / "docs" / "conformance.md").read_text(encoding="utf-8") == gen.render(), \
        "docs/conformance.md is out of date: run .venv/bin/python tools/gen_conformance.py"


def test_every_table_names_the_code_it_comes_from() -> None:
    """Not a copy of the file: the rows are the code's, checked against the live tables."""
    from wadows.deid.profile import OPTIONS
    from wadows.dicom.errors import ErrorCode
    from wadows.soap.operations import OPERATIONS
    text = load_tool("gen_conformance").render()
    for code in ErrorCode:
        assert f"| `{code.value}` |" in text
    for op in OPERATIONS.values():
        assert f"#### {op.name}" in text and f"`{op.response_action}`" in text
    for option in OPTIONS:
        assert f"`{option.name}`" in text
    assert "`server.max_documents` | `1000` |" in text
    assert "{{" not in text


def test_a_code_change_shows_in_the_statement(monkeypatch) -> None:
    gen = load_tool("gen_conformance")
    from wadows.retrieve.transfer import support
    row = support.SUPPORTED[0]
    monkeypatch.setattr(support, "SUPPORTED", (row.__class__(row.uid, row.name, True, False, "x"),))
    assert gen.render() != (REPO / "docs" / "conformance.md").read_text(encoding="utf-8")
