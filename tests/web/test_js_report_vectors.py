"""The in-browser report verifier against the shared report vectors
(``tests/vectors/report``: a valid version-2 report, the same as version 1, and tampered
variants, each with the error the spec's verifier must name): every file gets the
expected verdict and error class, the valid ones list the same records in force, the same
withheld entries and the same proven reasons as the manifest says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import jsrunner

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "report"


def test_every_report_vector_in_the_browser_verifier() -> None:
    manifest: dict[str, Any] = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
    trust = str(VECTORS / manifest["trust"])
    vectors = manifest["vectors"]
    cases = [{"trust": trust, "report": str(VECTORS / v["file"])} for v in vectors]
    results = jsrunner.run("report", {"cases": cases})
    assert len(vectors) >= 12
    for v, got in zip(vectors, results, strict=True):
        name = v["file"]
        if v["valid"]:
            assert got["verdict"] == "valid", (name, got["error"])
            assert got["subject"] == manifest["subject"] and got["asOf"] == str(manifest["as_of"])
            records = [int(r["index"]) for p in got["parts"] for r in p["records"]]
            withheld = [[int(w["index"]), w["reason"]] for p in got["parts"] for w in p["withheld"]]
            proven = [int(w["index"]) for p in got["parts"] for w in p["withheld"] if w["proven"]]
            assert records == v["in_force"], name
            assert withheld == v["withheld"], name
            assert proven == v.get("proven", []), name
        else:
            assert got["verdict"] == "invalid", name
            assert got["error"]["type"] == v["error"], (name, got["error"])
            assert v["message_contains"] in got["error"]["message"], (name, got["error"])
