"""Every module of the installed ``credex`` package, found from the repository folders
that ``pyproject.toml`` maps into it (``pkgutil`` cannot see through an editable
install's mapping)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: folder -> package, as pyproject.toml maps them
FOLDERS = {
    "pkg": "credex",
    "ledger": "credex.ledger",
    "adapters": "credex.adapters",
    "node": "credex.node",
    "cli": "credex.cli",
}


def package_modules() -> dict[str, Path]:
    """Module name -> file, for every module of the package (not the generated stubs)."""
    out: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def packages() -> list[str]:
    """The packages among ``package_modules`` (folders with an ``__init__.py``)."""
    return sorted(m for m, p in package_modules().items() if p.name == "__init__.py")
