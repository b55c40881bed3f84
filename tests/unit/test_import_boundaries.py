"""Guard test (tessera ``TestForbiddenFunction``): the import boundaries of STYLE.md §2.1/§2.6.

- The pure ``ledger`` modules (everything but ``log.py`` and ``storage/``) do no I/O and
  read no clock: no grpc, sqlmodel, sqlalchemy, psycopg, os, pathlib, time, socket or
  subprocess imports, no ``open(...)`` and no ``datetime.now()`` / ``date.today()``.
- No ``ledger`` module imports ``credex.node``, ``credex.cli`` or ``credex.adapters``.
- ``adapters`` never imports grpc, sqlalchemy/sqlmodel, ``credex.node`` or ``credex.cli``.

The modules are parsed with ``ast``, never imported, so a violation cannot hide behind
an import-time side effect, and imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "ledger"
ADAPTERS = ROOT / "adapters"

PURE_FORBIDDEN_MODULES = (
    "grpc",
    "sqlmodel",
    "sqlalchemy",
    "psycopg",
    "psycopg2",
    "os",
    "pathlib",
    "time",
    "socket",
    "subprocess",
    "shutil",
    "tempfile",
    "io.open",
)
LEDGER_FORBIDDEN_MODULES = ("credex.node", "credex.cli", "credex.adapters")
ADAPTERS_FORBIDDEN_MODULES = (
    "grpc",
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "credex.node",
    "credex.cli",
)
#: (object name, attribute) calls that read the clock.
CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
}
#: builtins that do file I/O
IO_BUILTINS = {"open", "input", "print"}


def _is_pure(path: Path) -> bool:
    rel = path.relative_to(LEDGER)
    return rel.parts[0] != "storage" and rel != Path("log.py")


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


@dataclass(frozen=True)
class Found:
    line: int
    what: str


def _imports(tree: ast.AST) -> Iterator[Found]:
    """Every module name imported, with ``from x import y`` also as ``x.y``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Found(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside a package: resolve against credex.*
                yield Found(node.lineno, "." * node.level + (node.module or ""))
                continue
            base = node.module or ""
            yield Found(node.lineno, base)
            for alias in node.names:
                yield Found(node.lineno, f"{base}.{alias.name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield Found(node.lineno, str(node.args[0].value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
        ):
            yield Found(node.lineno, "importlib.import_module(...)")


def _matches(name: str, forbidden: tuple[str, ...]) -> str | None:
    for f in forbidden:
        if name == f or name.startswith(f + "."):
            return f
    return None


def _forbidden_imports(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for f in _imports(tree):
        if f.what.startswith(".") or f.what == "importlib.import_module(...)":
            out.append(f"{path.name}:{f.line}: dynamic or relative import {f.what!r}")
        elif (hit := _matches(f.what, forbidden)) is not None:
            out.append(f"{path.name}:{f.line}: imports {hit} ({f.what})")
    return sorted(set(out))


def _forbidden_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id in IO_BUILTINS:
            out.append(f"{path.name}:{node.lineno}: calls {fn.id}(...)")
        elif isinstance(fn, ast.Attribute):
            owner = fn.value
            name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else None
            )
            if (name, fn.attr) in CLOCK_CALLS:
                out.append(f"{path.name}:{node.lineno}: reads the clock: {name}.{fn.attr}()")
            elif fn.attr in {
                "open",
                "read_text",
                "read_bytes",
                "write_text",
                "write_bytes",
            } and name in {"os", "io", "Path", "pathlib", "codecs"}:
                out.append(f"{path.name}:{node.lineno}: file i/o: {name}.{fn.attr}()")
    return out


PURE_LEDGER = [p for p in _modules(LEDGER) if _is_pure(p)]
ALL_LEDGER = _modules(LEDGER)
ALL_ADAPTERS = _modules(ADAPTERS)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_the_tree_is_where_expected() -> None:
    names = {p.name for p in PURE_LEDGER}
    assert {"merkle.py", "verify.py", "statement.py", "checkpoint.py"} <= names
    assert "log.py" not in names
    assert not any(p.parent.name == "storage" for p in PURE_LEDGER)
    assert any(p.parent.name == "storage" for p in ALL_LEDGER)
    assert (ADAPTERS / "public_credit.py") in ALL_ADAPTERS


@pytest.mark.parametrize("path", PURE_LEDGER, ids=_ids(PURE_LEDGER))
def test_pure_ledger_does_no_io(path: Path) -> None:
    found = _forbidden_imports(path, PURE_FORBIDDEN_MODULES + LEDGER_FORBIDDEN_MODULES)
    found += _forbidden_calls(path)
    assert not found, "pure ledger module breaks the boundary:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_LEDGER, ids=_ids(ALL_LEDGER))
def test_ledger_never_imports_outer_packages(path: Path) -> None:
    found = _forbidden_imports(path, LEDGER_FORBIDDEN_MODULES)
    assert not found, "ledger imports an outer package:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_ADAPTERS, ids=_ids(ALL_ADAPTERS))
def test_adapters_stay_at_the_edge(path: Path) -> None:
    found = _forbidden_imports(path, ADAPTERS_FORBIDDEN_MODULES)
    assert not found, "adapter breaks the boundary:\n" + "\n".join(found)


# --- the guard itself catches what it should -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expect"),
    [
        ("import grpc\n", "imports grpc"),
        ("import os.path\n", "imports os"),
        ("from pathlib import Path\n", "imports pathlib"),
        ("from sqlalchemy.orm import Session\n", "imports sqlalchemy"),
        ("import psycopg\n", "imports psycopg"),
        ("def f():\n    import time\n", "imports time"),
        ("import socket, subprocess\n", "imports socket"),
        ("from credex.node.home import NodeHome\n", "imports credex.node"),
        ("from credex import cli\n", "imports credex.cli"),
        ("from . import merkle\n", "relative import"),
        ("x = __import__('sqlmodel')\n", "imports sqlmodel"),
        ("from datetime import datetime\nt = datetime.now()\n", "reads the clock"),
        ("import datetime\nt = datetime.datetime.now()\n", "reads the clock"),
        ("from datetime import date\nt = date.today()\n", "reads the clock"),
        ("data = open('x').read()\n", "calls open"),
        ("print('x')\n", "calls print"),
    ],
    ids=lambda v: v.splitlines()[-1][:40] if "\n" in v else v,
)
def test_guard_detects(tmp_path: Path, source: str, expect: str) -> None:
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = _forbidden_imports(path, PURE_FORBIDDEN_MODULES + LEDGER_FORBIDDEN_MODULES)
    found += _forbidden_calls(path)
    assert any(expect in f for f in found), found


def test_guard_allows_pure_code(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(
        "from __future__ import annotations\nimport hashlib\nfrom datetime import date\n"
        "from credex.ledger.errors import FormatError\n"
        "def f(d: date) -> str:\n    return d.isoformat()\n"
    )
    assert _forbidden_imports(path, PURE_FORBIDDEN_MODULES + LEDGER_FORBIDDEN_MODULES) == []
    assert _forbidden_calls(path) == []
