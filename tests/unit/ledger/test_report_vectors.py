"""The subject report vectors (``tests/vectors/report/``, docs/spec.md §5.4): every file
verifies, or fails with the error its manifest names; the generator reproduces them
byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from credex.ledger import errors
from credex.ledger.report_verify import verify_report
from credex.ledger.trust_material import load_trust

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
HERE = VECTORS / "report"
_spec = importlib.util.spec_from_file_location("report_generate", VECTORS / "generate_report.py")
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
MANIFEST: dict[str, Any] = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
ROWS = MANIFEST["vectors"]


def test_the_generator_reproduces_every_file() -> None:
    built = gen.build()
    held = {p.name: p.read_bytes() for p in HERE.iterdir() if p.is_file()}
    assert sorted(built) == sorted(held)
    for name, data in built.items():
        assert data == held[name], name


def test_the_manifest_lists_every_report_file_once() -> None:
    listed = [r["file"] for r in ROWS]
    files = sorted(p.name for p in HERE.glob("*.credex-report"))
    assert sorted(listed) == files and len(set(listed)) == len(listed)
    assert sum(1 for r in ROWS if r["valid"]) == 2


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_each_vector_verifies_or_names_its_error(row: dict[str, Any]) -> None:
    trust = load_trust((HERE / MANIFEST["trust"]).read_bytes())
    data = (HERE / row["file"]).read_bytes()
    if row["valid"]:
        checked = verify_report(data, trust)
        assert checked.subject == MANIFEST["subject"] and checked.as_of == MANIFEST["as_of"]
        [part] = checked.parts
        assert [r.index for r in part.records] == row["in_force"]
        assert [[w.index, w.state] for w in part.withheld] == row["withheld"]
        assert sorted(part.proven) == row["proven"]
        return
    error = getattr(errors, row["error"])
    assert isinstance(error, type) and issubclass(error, errors.CredexError)
    with pytest.raises(errors.CredexError) as e:
        verify_report(data, trust)
    assert type(e.value) is error, f"{row['file']}: {type(e.value).__name__}: {e.value}"
    assert row["message_contains"] in str(e.value)
