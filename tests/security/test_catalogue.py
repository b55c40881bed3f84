"""docs/security.md's attack catalogue names tests that exist: every path and test name
in its table is checked here (an entry still written as a pattern, ``test_finding1_*``,
is checked once it names its file)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"


def _references() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    catalogue = text.split("## 4. Attack catalogue", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`(tests/[^`]+)`", catalogue)


def test_the_catalogue_names_its_tests() -> None:
    refs = _references()
    assert len(refs) >= 20
    missing = []
    for ref in refs:
        path, _, name = ref.partition("::")
        if "*" in path:
            continue
        file = ROOT / path
        if not file.exists() or (name and f"def {name}(" not in file.read_text(encoding="utf-8")):
            missing.append(ref)
    assert missing == []


def test_every_security_test_module_is_in_the_catalogue() -> None:
    listed = {Path(r.partition("::")[0]).name for r in _references()}
    here = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    assert here - listed - {"test_catalogue.py"} == set()
