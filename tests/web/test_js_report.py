"""The in-browser report verifier (``node/web/static/verify/report.js``, written from
docs/spec.md §5.4) against the Python one (``credex.ledger.report_verify``) on the same
files: an honest report, and every report a withholding node re-signs (``reports.TAMPERS``).
Both must give the same verdict and name the same error; the JavaScript one also names
the step (the spec's numbering) and, for a cut bundle, the missing index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from credex.ledger.errors import CredexError
from credex.ledger.report_verify import verify_report
from credex.node.home import NodeHome

from . import jsrunner
from .reports import COMPANY, OTHER, TAMPERS, honest, make_report_home, report_scene


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> NodeHome:
    return report_scene(make_report_home(tmp_path_factory.mktemp("rep") / "ningbo"))


def _python(data: bytes, home: NodeHome) -> str | None:
    try:
        verify_report(data, home.trust())
    except CredexError as e:
        return type(e).__name__
    return None


def _js(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = jsrunner.run("report", {"cases": cases})
    return out


def test_honest_report_is_valid_in_both(home: NodeHome, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(home.trust().to_json(), encoding="utf-8")
    report = honest(home)
    f = tmp_path / "company.credex-report"
    f.write_bytes(report.to_bytes())
    [got, wrong_subject] = _js(
        [
            {"trust": str(trust), "report": str(f)},
            {"trust": str(trust), "report": str(f), "subject": OTHER.id},
        ]
    )
    assert _python(f.read_bytes(), home) is None
    assert got["ok"] and got["verdict"] == "valid", got["error"]
    assert got["subject"] == COMPANY.id and got["signedBy"] == "credex.ningbo.example/log"
    [part] = got["parts"]
    assert [r["index"] for r in part["records"]] == ["1", "3"]
    assert [(w["index"], w["reason"]) for w in part["withheld"]] == [("0", "repaired")]
    assert part["statements"] == 1 and part["size"] == str(report.parts[0].entries[-1].index + 1)
    assert [s["step"] for s in got["steps"]] == [1, 2, 3, 4, 5, 9]  # 6-9: the reasons
    assert got["version"] == 2 and part["withheld"][0]["proven"] is True
    assert all(r["issuer"] == "cn-zj-ningbo/platform" for r in part["records"])
    assert wrong_subject["verdict"] == "invalid" and wrong_subject["failedStep"] == 1
    assert wrong_subject["error"]["type"] == "ReportSubjectError"


def test_withholding_reports_fail_at_the_same_step_in_both(home: NodeHome, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(home.trust().to_json(), encoding="utf-8")
    report = honest(home)
    cases, python = [], []
    for name, (tamper, _, _, _) in TAMPERS.items():
        f = tmp_path / f"{name}.credex-report"
        f.write_bytes(tamper(home, report))
        cases.append({"trust": str(trust), "report": str(f)})
        python.append(_python(f.read_bytes(), home))
    results = _js(cases)
    for (name, (_, step, error, text)), got, py in zip(
        TAMPERS.items(), results, python, strict=True
    ):
        assert got["verdict"] == "invalid", name
        assert (got["failedStep"], got["error"]["type"]) == (step, error), (name, got["error"])
        assert text in got["error"]["message"], (name, got["error"]["message"])
        assert py == error, (name, py)  # parity: the Python verifier names the same error
        assert got["part"] in (None, "credex.ningbo.example/log"), name
    by_name = dict(zip(TAMPERS, results, strict=True))
    assert by_name["bundle-cut"]["error"]["missingIndex"] == "1"  # named for the page
    assert by_name["bundle-signature"]["error"]["bundleStep"] == 3


def test_malformed_reports_are_refused_by_name(home: NodeHome, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(home.trust().to_json(), encoding="utf-8")
    data = honest(home).to_bytes()
    files = {
        "truncated": data[:-1],
        "trailing": data + b"\x00",
        "not-cbor": b"\xff" * 8,
        "a-bundle": b"\xa1\x61v\x01",
    }
    cases = []
    for name, content in files.items():
        f = tmp_path / f"{name}.bin"
        f.write_bytes(content)
        cases.append({"trust": str(trust), "report": str(f)})
    for name, got in zip(files, _js(cases), strict=True):
        assert (got["verdict"], got["failedStep"]) == ("invalid", 1), name
        assert got["error"]["code"] in ("cbor", "cose", "format"), (name, got["error"])
        assert _python(files[name], home) is not None, name
