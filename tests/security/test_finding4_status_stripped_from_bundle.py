"""Finding 4: status stripped from a bundle.

A repaired penalty's bundle with its ``status`` list removed verified for ``--purpose
punitive`` as "active", although the checkpoint's tree holds the repair: a bundle that
carries no lifecycle statements cannot show that none exist. Now a bundle verified for a
purpose must prove its status: it carries the verifiable index's lookup proof of the
record's status key (bundle key ``status_proof``, against the index root its checkpoint
commits to; the log's signed ``attestation`` is checked too when carried), and exactly
the lifecycle statements it lists as of its checkpoint; otherwise step 7 fails with
``StatusNotProvenError`` in one line saying why. Without a purpose, ``credex verify``
still reports the status from the statements present. Every path that makes bundles for
a purpose (``credex bundle``, ``credex lifecycle bundle``, GetBundle, lookups, mirrors,
the demo) attaches the attestation, so the normal path verifies.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from integration.clirunner import make_cli

from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_day
from credex.ledger.errors import PolicyError
from credex.ledger.record import Record, Subject
from credex.ledger.verify import run_verification
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle

from .support import T0, db_of, make_home, serve

DAY = 86_400
COMPANY = Subject("org", "91330100MA0YX0016X")
REPAIRED_AT = T0 + 400 * DAY  # past the minimum publication window


def _penalty(region: str, number: int = 7) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": "2026-05-10",
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", region, COMPANY, body, T0 - 20 * DAY)


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return make_home(tmp_path / "ningbo", db=db_of(store_url))


def _repaired(node: LocalNode) -> tuple[int, Bundle]:
    [r] = node.issue([_penalty(node.home.region)], iat=T0 - 20 * DAY)
    body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
    add_lifecycle(node, r.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
    return r.index, node.bundle_with_status(r.index, REPAIRED_AT + 1)


def _is_not_proven(report) -> None:  # type: ignore[no-untyped-def]
    assert report.failed_step == 7, report.to_json_value()
    assert isinstance(report.error, PolicyError)
    assert report.error.code == "status_not_proven", report.error
    assert "not proven" in str(report.error) and "\n" not in str(report.error)


def test_a_stripped_status_is_not_proven(home: NodeHome) -> None:
    with LocalNode(home) as node:
        _, full = _repaired(node)
    trust = home.trust()
    honest = run_verification(full.to_bytes(), trust, purpose="punitive")
    assert honest.failed_step == 7 and "repaired" in str(honest.error)
    # the attack: drop the repair from the bundle
    stripped = dataclasses.replace(full, status=())
    for purpose in ("punitive", "eligibility"):
        _is_not_proven(run_verification(stripped.to_bytes(), trust, purpose=purpose))
    # the index's status proof still lists it: tampering, with or without a purpose
    unattested = dataclasses.replace(stripped, attestation=None)
    _is_not_proven(run_verification(unattested.to_bytes(), trust))
    # and, to be thorough, the attestation and the status proof that list it too
    bare = dataclasses.replace(stripped, attestation=None, status_proof=None)
    for purpose in ("punitive", "eligibility"):
        _is_not_proven(run_verification(bare.to_bytes(), trust, purpose=purpose))
    # without a purpose, verify reports what the bundle carries, as before
    plain = run_verification(bare.to_bytes(), trust)
    assert plain.ok and plain.status == "active"
    # but an attestation that contradicts the statements carried is tampering, always
    _is_not_proven(run_verification(stripped.to_bytes(), trust))


def test_another_records_attestation_does_not_prove_this_one(home: NodeHome) -> None:
    with LocalNode(home) as node:
        index, _ = _repaired(node)
        [other] = node.issue([_penalty(home.region, 8)], iat=T0 - 10 * DAY)
        clean = node.bundle_with_status(other.index, REPAIRED_AT + 2)  # nothing to attest
        repaired = node.bundle_with_status(index, REPAIRED_AT + 2)
    swapped = dataclasses.replace(repaired, status=(), attestation=clean.attestation)
    report = run_verification(swapped.to_bytes(), home.trust(), purpose="punitive")
    assert report.failed_step == 2 and "attestation: about" in str(report.error)


def test_the_normal_paths_verify_for_a_purpose(
    home: NodeHome, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    with serve(home) as s:
        [r] = s.node.issue([_penalty(home.region)], iat=T0 - 20 * DAY)
        trust = home.trust()
        with s.anonymous() as anyone:  # GetBundle
            report = run_verification(anyone.get_bundle(r.index), trust, purpose="punitive")
            assert report.ok, report.to_json_value()
            assert "status proven as of checkpoint" in report.steps[6].detail
        with s.registered("bank-1", "bank") as bank:  # a lookup
            answer = bank.lookup(subject=COMPANY.id, purpose="eligibility", authorisation="l:1")
        (found,) = answer.records
        assert run_verification(found.bundle or b"", trust, purpose="eligibility").ok
    # the operator's CLI: credex bundle, credex lifecycle bundle, then credex verify
    cli = make_cli(capsys, monkeypatch)
    (tmp_path / "trust.json").write_text(trust.to_json(), encoding="utf-8")
    for command in (("bundle",), ("lifecycle", "bundle")):
        out = tmp_path / f"{'-'.join(command)}.credex"
        got = cli(*command, r.index, "-o", out, "--home", home.path)
        assert got.code == 0, got.err
        v = cli(
            "verify", out, "--trust", tmp_path / "trust.json", "--purpose", "punitive", "--json"
        )
        assert v.code == 0, v.out
        assert json.loads(v.out)["verdict"] == "valid"


def test_bad_input_one_named_error_and_nothing_stored(home: NodeHome) -> None:
    with LocalNode(home) as node:
        _, full = _repaired(node)
        size = node.log.size
    report = run_verification(
        dataclasses.replace(full, status=(), attestation=None, status_proof=None).to_bytes(),
        home.trust(),
        purpose="punitive",
    )
    _is_not_proven(report)
    assert str(report.error).startswith("status: not proven for punitive: the bundle carries no")
    with LocalNode(home) as node:
        assert node.log.size == size
