"""Writes docs/conformance.md from docs/conformance.md.in and the code's own tables.

The prose of the conformance statement (PS3.2 Annex A layout) is hand-written in the template; every
table in it is filled in here from what the service itself reads: the operation rows (soap/operations.py)
and their request models, the RegistryError codes (dicom/errors.py) with the modules that give each,
the transfer-syntax support table (retrieve/transfer/support.py), the CID 7050 options (deid/profile.py),
the audit event codes (audit/codes.py) and the shipped defaults (default-config.toml). So the document
cannot claim what the code does not do. ``--check`` exits 1 when the committed document differs.

    .venv/bin/python tools/gen_conformance.py [--check]
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "service" / "wadows"
TEMPLATE = REPO / "docs" / "conformance.md.in"
OUTPUT = REPO / "docs" / "conformance.md"
sys.path.insert(0, str(REPO / "service"))


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    def cell(v: str) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _fields(model: type, depth: int = 0) -> list[tuple[str, str]]:
    """The request model's elements and attributes, nested, as (path, repeats); which are required is
    the XSD's to say (the envelope is validated against it before the model is read)."""
    out = []
    for name, typ in model._type_info.items():
        attr = getattr(typ, "Attributes", None)
        many = getattr(attr, "max_occurs", 1)
        occurs = "repeatable" if many not in (1, None) else "once"
        kind = "attribute" if "XmlAttribute" in type(typ).__name__ or "XmlAttribute" in str(typ) else "element"
        out.append(("&nbsp;" * 4 * depth + name + (" (attribute)" if kind == "attribute" else ""), occurs))
        if hasattr(typ, "_type_info") and typ._type_info:
            out += _fields(typ, depth + 1)
    return out


def operations() -> str:
    from wadows.soap.operations import OPERATIONS
    rows = [(op.name, f"`{op.request}`", "<br>".join(f"`{a}`" for a in sorted(op.actions)), f"`{op.response_action}`")
            for op in OPERATIONS.values()]
    return _table(("Operation", "Request element", "wsa:Action accepted", "Response wsa:Action"), rows)


def parameters() -> str:
    from wadows.soap.operations import OPERATIONS
    parts = []
    for op in OPERATIONS.values():
        parts.append(f"#### {op.name}\n\n" + _table(("Parameter", "Repeats"), _fields(op.model)))
    return "\n\n".join(parts)


def error_codes() -> str:
    """Each code with the contexts the code gives it (the text a client reads in its RegistryError),
    found beside each use of the code, and the modules that give it."""
    from wadows.dicom.errors import ErrorCode
    sources: dict[str, set[str]] = {c.name: set() for c in ErrorCode}
    contexts: dict[str, list[str]] = {c.name: [] for c in ErrorCode}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        module = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        for m in re.finditer(r'ErrorCode\.([A-Z_0-9]+)(?:\s*,\s*((?:f?"[^"\n]*"\s*)+))?', text):
            if m.group(1) in sources:
                sources[m.group(1)].add(module)
                said = "".join(re.findall(r'"([^"\n]*)"', m.group(2) or ""))
                said = re.sub(r"\{[^}]*\}", "…", said).strip()
                if said and said not in contexts[m.group(1)]:
                    contexts[m.group(1)].append(said)
    rows = [(f"`{c.value}`", c.name.replace("_", " ").capitalize(),
             "; ".join(contexts[c.name]) or ("" if sources[c.name] else "never given by this implementation"),
             ", ".join(sorted(sources[c.name]))) for c in ErrorCode]
    return _table(("Code", "Meaning", "When (the context the response carries)", "Given by (module)"), rows)


def transfer_syntaxes() -> str:
    from wadows.retrieve.transfer.support import SUPPORTED
    yes = {True: "yes", False: "no"}
    rows = [(s.name, f"`{s.uid}`", yes[s.can_read], yes[s.can_write], "lossy" if s.lossy_when_written else "",
             s.via) for s in SUPPORTED]
    return _table(("Transfer Syntax", "UID", "Read (stored)", "Written (sent)", "When written", "Codec"), rows)


def deid_options() -> str:
    from wadows.deid.profile import OPTIONS
    rows = [(f"(`{o.code}`, DCM, \"{o.meaning}\")", f"`{o.name}`", f"`{o.kebab}`",
             f"Table E.1-1 column `{o.column}`" if o.column else "pixel data (PS3.15 E.3.1/E.3.2)") for o in OPTIONS]
    return _table(("CID 7050 code", "Option name (config)", "CLI spelling", "What it selects"), rows)


def audit_events() -> str:
    from wadows.audit import codes
    rows = [(f"`{v.code}`", v.scheme, v.meaning, k) for k, v in vars(codes).items()
            if isinstance(v, codes.Code) and not k.startswith("_")]
    rows += [(f"`{v.code}`", v.scheme, v.meaning, "Security Alert type") for v in codes.ALERTS.values()]
    return _table(("Code", "Scheme", "Meaning", "Used as"), rows)


def config_defaults() -> str:
    text = (PACKAGE / "default-config.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    rows = []

    def walk(prefix: str, table: dict) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                shown = tomllib_dump(value)
                rows.append((f"`{prefix}{key}`", f"`{shown}`" if shown else "(empty)"))
    walk("", data)
    return _table(("Setting", "Default"), rows)


def tomllib_dump(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if value else ""
    if isinstance(value, list):
        return "[" + ", ".join(tomllib_dump(v) or '""' for v in value) + "]"
    return str(value)


TABLES = {
    "operations": operations, "parameters": parameters, "error_codes": error_codes,
    "transfer_syntaxes": transfer_syntaxes, "deid_options": deid_options, "audit_events": audit_events,
    "config_defaults": config_defaults,
}


def render() -> str:
    template = TEMPLATE.read_text(encoding="utf-8")
    used = set(re.findall(r"\{\{(\w+)\}\}", template))
    assert used == set(TABLES), f"template markers {sorted(used)} differ from the tables {sorted(TABLES)}"
    note = ("<!-- Generated by tools/gen_conformance.py from docs/conformance.md.in and the code's tables; "
            "edit the template, then run the script. -->\n")
    return note + re.sub(r"\{\{(\w+)\}\}", lambda m: TABLES[m.group(1)](), template)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run tools/gen_conformance.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
