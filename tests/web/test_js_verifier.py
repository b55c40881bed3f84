"""The in-browser verifier (node/web/static/verify, JavaScript written from docs/spec.md)
against the Python one (``credex.ledger.verify``): the golden vectors verify, and every
case of the tamper table fails in both AT THE SAME STEP (and with the same error class).

The JavaScript modules run under node (>= 20, WebCrypto Ed25519) through
tests/web/run_verify.mjs; a missing node fails these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from credex.ledger.trust import TrustStore
from credex.ledger.verify import VerificationReport, run_verification

from . import jsrunner
from .tampering import GOLDEN, NOT_EVALUATED_IN_BROWSER, Case, cases

CASES = cases()
#: error classes the two implementations may name differently for the same failure
_SAME_FAILURE = [
    # Python learns "not deterministic" by re-encoding what cbor2 decoded; a bignum tag or
    # a float is then "unsupported" in one and "not deterministic" in the other
    {"CborError", "NonDeterministicCborError"},
    # a tag credex never uses: the JavaScript decoder refuses it, Python refuses the value
    # it decodes to (not a bstr) one layer up; both at step 1
    {"CborError", "FormatError"},
]


def _python(case: Case) -> VerificationReport:
    return run_verification(case.bundle, TrustStore.from_json(case.trust))


def _javascript(tmp_path: Path, table: list[Case]) -> list[dict[str, Any]]:
    requests = []
    trusts: dict[str, Path] = {}
    for i, case in enumerate(table):
        bundle = tmp_path / f"case-{i}.credex"
        bundle.write_bytes(case.bundle)
        if case.trust not in trusts:
            trusts[case.trust] = tmp_path / f"trust-{len(trusts)}.json"
            trusts[case.trust].write_text(case.trust, encoding="utf-8")
        requests.append({"trust": str(trusts[case.trust]), "bundle": str(bundle)})
    out = jsrunner.run("verify", {"cases": requests})
    assert isinstance(out, list) and len(out) == len(table)
    return out


def _same_class(a: str, b: str) -> bool:
    return a == b or any({a, b} <= group for group in _SAME_FAILURE)


@pytest.fixture(scope="module")
def js_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    results = _javascript(tmp_path_factory.mktemp("js"), CASES)
    return {case.name: r for case, r in zip(CASES, results, strict=True)}


def test_case_names_are_unique() -> None:
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_step_in_both(case: Case, js_results: dict[str, dict[str, Any]]) -> None:
    py = _python(case)
    js = js_results[case.name]
    assert "trust_error" not in js, js
    assert py.failed_step == case.step, (py.failed_step, py.error)
    if case.name in NOT_EVALUATED_IN_BROWSER:
        # the browser runs no lifecycle engine and no replay: it passes and says so
        assert js["verdict"] == "valid" and js["notDone"], js
        assert [s["step"] for s in js["steps"]] == list(range(1, 9))
        return
    assert js["failedStep"] == case.step, js["error"] or js["steps"]
    assert js["verdict"] == ("valid" if case.step is None else "invalid")
    if case.step is None:
        assert py.error is None
        assert [s["step"] for s in js["steps"]] == list(range(1, 9))
        assert all(s["ok"] for s in js["steps"])
        return
    assert py.error is not None
    assert _same_class(js["error"]["type"], type(py.error).__name__), (js["error"], py.error)
    assert js["error"]["step"] == case.step
    assert "\n" not in js["error"]["message"] and js["error"]["message"]
    # the steps before the failing one are narrated as passed, the failing one last
    assert [s["step"] for s in js["steps"]] == list(range(1, case.step + 1))
    assert [s["ok"] for s in js["steps"]] == [True] * (case.step - 1) + [False]


def test_golden_vectors_are_valid(tmp_path: Path) -> None:
    trust = str(GOLDEN / "trust.json")
    out = jsrunner.run(
        "verify",
        {"cases": [{"trust": trust, "bundle": str(GOLDEN / f"bundle-{i}.credex")} for i in (0, 1)]},
    )
    for r in out:
        assert r["verdict"] == "valid" and r["ok"] and r["error"] is None, r
        assert r["notDone"] == [] and r["lifecycle"] == []
    index = __import__("json").loads((GOLDEN / "index.json").read_text(encoding="utf-8"))
    assert [r["record"]["leafHash"] for r in out] == index["leaf_hashes"]
    assert [r["record"]["envelope"] for r in out] == [False, True]
    assert out[1]["record"]["bodyHeld"] is True
    assert out[0]["record"]["treeSize"] == index["tree_size"] == 2


def test_lifecycle_statements_are_reported_not_evaluated(
    js_results: dict[str, dict[str, Any]],
) -> None:
    r = js_results["status-objection"]
    assert r["verdict"] == "valid"
    [found] = r["lifecycle"]
    assert found["kind"] == "lifecycle.objection" and found["leafIndex"] == 2
    assert r["notDone"] == [
        "lifecycle status evaluation (docs/spec.md step 7) is not done in the browser"
    ]
    step7 = r["steps"][6]
    assert step7["step"] == 7 and step7["evaluated"] is False
    assert "not evaluated" in step7["detail"]


def test_envelope_without_body_stops_at_step_7_with_the_body_not_held_message(
    js_results: dict[str, dict[str, Any]],
) -> None:
    r = js_results["envelope-without-body"]
    assert r["error"]["type"] == "BodyNotHeldError"
    assert r["error"]["message"] == (
        "status: the record body is not in this bundle: it is kept off-log by "
        "cn-zj-ningbo/platform; ask the issuing node"
    )
    assert r["record"]["envelope"] is True and r["record"]["bodyHeld"] is False


def test_derivation_reports_that_the_replay_is_not_done(
    js_results: dict[str, dict[str, Any]],
) -> None:
    r = js_results["derived-replay-needed"]
    assert any("replay" in n and "not done in the browser" in n for n in r["notDone"])
    assert "not done in the browser" in r["steps"][7]["detail"]
