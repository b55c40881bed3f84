"""A39: a node signs a report whose entry kind is not ASCII (``"penalty.adminé"``). The
index chains a kind as its length in one byte and its ASCII bytes (docs/spec.md §5.1), so
the Python verifier crashed on it (``UnicodeEncodeError``: no named error, and ``credex
verify`` printed a traceback). Both verifiers now refuse it while decoding: a kind is 1 to
255 printable ASCII characters (``FormatError``, step 1 in the browser)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from credex.ledger.errors import FormatError
from credex.ledger.report_verify import verify_report
from credex.ledger.subject_report import ReportEntry, sign_report
from tests.web import jsrunner
from tests.web.reports import honest, make_report_home, report_scene


@pytest.mark.parametrize(
    "kind", ["penalty.adminé", "penalty admin", "p" * 256], ids=["non-ascii", "space", "long"]
)
def test_a_kind_outside_printable_ascii_is_refused_by_name(tmp_path: Path, kind: str) -> None:
    home = report_scene(make_report_home(tmp_path / "ningbo"))
    report = honest(home)
    part = report.parts[0]
    first = part.entries[0]
    entries = (ReportEntry(first.index, first.leaf, kind, first.state), *part.entries[1:])
    data = sign_report(
        home.log_key(), report.subject, report.as_of, [dataclasses.replace(part, entries=entries)]
    ).to_bytes()
    with pytest.raises(FormatError, match=r"kind must be 1\.\.255 printable ascii"):
        verify_report(data, home.trust())
    trust, f = tmp_path / "trust.json", tmp_path / "r.credex-report"
    trust.write_text(home.trust().to_json(), encoding="utf-8")
    f.write_bytes(data)
    [got] = jsrunner.run("report", {"cases": [{"trust": str(trust), "report": str(f)}]})
    assert (got["verdict"], got["failedStep"], got["error"]["type"]) == (
        "invalid",
        1,
        "FormatError",
    )
    assert "printable ascii" in got["error"]["message"]
