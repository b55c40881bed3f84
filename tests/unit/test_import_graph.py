"""Guard test: the module graph of ``credex`` has no cycle and no back arrow.

Every ``import`` and ``from ... import`` counts, at module level or inside a function
(a lazy import is still an edge at run time); only imports under ``if TYPE_CHECKING:``
are left out, since they never run. Importing ``credex.a.b.c`` also runs the packages
``credex.a`` and ``credex.a.b``, so those are edges too.

Rules (README, Development):

- no cycle, of any length;
- packages point one way: ``cli -> node -> ledger <- adapters`` (``node`` may use
  ``adapters``; ``ledger`` uses only itself; the generated ``credex.v1`` stubs, outside
  this graph, are imported by ``node.rpc`` only: ``test_protos.py``);
- production code never imports ``credex.node.demo`` or ``credex.node.bench``: only the
  ``credex demo`` / ``credex bench`` commands and those packages themselves do.

The modules are parsed with ``ast``, never imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from package_modules import package_modules

#: package -> the packages it may import (besides itself and the root ``credex``)
ALLOWED = {
    "credex.ledger": set(),
    "credex.adapters": {"credex.ledger"},
    "credex.node": {"credex.ledger", "credex.adapters"},
    "credex.cli": {"credex.node", "credex.ledger", "credex.adapters"},
    "credex": set(),
    "credex.__main__": {"credex.cli"},  # ``python -m credex`` is the command line
}
DEMO_BENCH = ("credex.node.demo", "credex.node.bench")
#: the only modules outside demo / bench that may import them
DEMO_BENCH_USERS = {"credex.cli.demo_cmd", "credex.cli.bench_cmd"}


MODULES = package_modules()


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for sub in node.body:
                    for inner in ast.walk(sub):
                        skip.add(id(inner))
    return skip


def _resolve(target: str) -> str | None:
    """The credex module a dotted import names (a name inside a module: the module)."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def _targets(module: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if not name.startswith("credex"):
                continue
            found = _resolve(name)
            if found is None:
                continue
            yield found
            parts = found.split(".")
            for i in range(1, len(parts)):  # importing a.b.c runs a and a.b
                parent = ".".join(parts[:i])
                if parent in MODULES:
                    yield parent


GRAPH: dict[str, set[str]] = {m: {t for t in _targets(m, p) if t != m} for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package(module: str) -> str:
    for package in sorted(ALLOWED, key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    return module


def test_the_graph_covers_every_package() -> None:
    assert {"credex.ledger.verify", "credex.node.local", "credex.cli.main"} <= set(GRAPH)
    assert "credex.ledger.verify_steps" in GRAPH["credex.ledger.verify"]
    assert "credex.ledger.statement" in GRAPH["credex.ledger.verify_steps"]


def test_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_a_cycle_is_found() -> None:
    """The detector itself: a three-module loop and a lazy-import loop are reported."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_back_arrow(module: str) -> None:
    own = _package(module)
    allowed = ALLOWED.get(own, set()) | {own, "credex"}
    bad = sorted(t for t in GRAPH[module] if _package(t) not in allowed)
    assert bad == [], f"{module} imports {bad}: packages point cli -> node -> ledger <- adapters"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_production_never_imports_demo_or_bench(module: str) -> None:
    if module.startswith(DEMO_BENCH) or module in DEMO_BENCH_USERS:
        return
    bad = sorted(t for t in GRAPH[module] if t.startswith(DEMO_BENCH))
    assert bad == [], f"{module} imports demo / bench code: {bad}"
