"""The package's imports run one way: each module imports only its own package and the layers below.

Read from the source with ast (every import, including those inside functions and under
TYPE_CHECKING), so a lazy import cannot hide an upward dependency or a cycle. The table is the
architecture the README draws; a new top-level module or package must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wadows

ROOT = Path(wadows.__file__).parent

# Lowest first. Packages on one layer stay independent of each other (deid/ knows no security/, render/
# no store/): each imports only downward.
LAYERS: list[set[str]] = [
    {"wadows"},  # the package's face: __version__
    {"implementation", "filespan", "memory", "ttlcache", "codeclock", "gate"},
    {"dicom", "samples"},  # the DICOM ground floor (it names wadows in File Meta: implementation.py)
    {"config"},
    {"security", "deid", "audit"},
    {"store", "render"},  # render/ knows no store/: it is handed data sets
    {"retrieve"},  # retrieve/rendered.py hands render/ the (de-identified) object
    {"soap"},
    {"app", "sendfile"},
    {"connections", "wiring"},
    {"server", "shutdown"},
    {"workers"},  # the parent process: forks and supervises servers
    {"cli"},
    {"__main__"},
]
LAYER = {name: n for n, names in enumerate(LAYERS) for name in names}


def _module(path: Path) -> str:
    parts = ["wadows", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in ROOT.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """The wadows modules ``name`` imports (a name imported from a package counts as its submodule
    when there is one)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "wadows")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "wadows":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return found - {name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "wadows"


def test_every_top_level_module_and_package_has_a_layer():
    assert {_top(m) for m in MODULES} - set(LAYER) == set()


def test_no_module_imports_a_layer_above_or_beside_it():
    wrong = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets
                   if _top(m) != _top(t) and LAYER[_top(t)] >= LAYER[_top(m)])
    assert wrong == []


def test_no_import_cycle():
    """Between any modules, packages' __init__ included (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_walk_sees_imports_inside_functions():
    """The check would pass vacuously if lazy imports were missed: server.make_server imports connections."""
    assert "wadows.connections" in GRAPH["wadows.server"] and "wadows.deid.ocr" in GRAPH["wadows.app"]
