"""Bundles made by real nodes (the ``credex`` command, in-process, pinned clock, SQLite
homes) verified by both verifiers: a person's score (hash envelope with its body), an
organisation's score, the same with an objection logged against it, a score recognised at
another node (derived: sources and policy), the policy itself; then a few of them changed.
The browser verifier must pass what Python passes, fail where Python fails, and say what it
did not evaluate (lifecycle status, conversion replay)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import cbor2
import pytest
from integration.clirunner import Cli, init_home, make_cli, merged_trust

from credex.adapters.sample import score_records
from credex.cli import lifecycle_cmds, node_cmds, proof_cmds
from credex.ledger import encoding
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification
from credex.node.home import NodeHome

from . import jsrunner

NINGBO, NINGBO_ORIGIN = "cn-zj-ningbo", "credex.ningbo.example/log"
HANGZHOU, HANGZHOU_ORIGIN = "cn-zj-hangzhou", "credex.hangzhou.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))
ORG = "91330200MA0YX00163"
POLICY = {
    "name": "tianyi-to-qianjiang",
    "version": 1,
    "rules": {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI_PLACEHOLDER",
        "target_scheme": "HANGZHOU_QIANJIANG",
        "table": {f"placeholder-{i}": f"L{i}" for i in range(1, 6)},
    },
}


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    for mod in (node_cmds, proof_cmds, lifecycle_cmds):
        monkeypatch.setattr(mod, "now", lambda: T0)
    return make_cli(capsys, monkeypatch)


@dataclass(frozen=True)
class Made:
    trust: Path
    bundles: dict[str, Path]


def _ok(r: Any) -> Any:
    assert r.code == 0, r.err
    return r


@pytest.fixture
def made(cli: Cli, tmp_path: Path) -> Made:
    ningbo = init_home(cli, tmp_path / "ningbo", NINGBO, NINGBO_ORIGIN)
    hangzhou = init_home(cli, tmp_path / "hangzhou", HANGZHOU, HANGZHOU_ORIGIN)
    key = NodeHome.open(ningbo).subject_key()
    people = score_records(NINGBO, key, 2, as_of=date(2026, 5, 31))
    lines = [
        json.dumps(
            {
                "kind": r.kind,
                "subject": {"type": "person", "id": r.subject.id},
                "body": dict(r.body),
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
            },
            ensure_ascii=False,
        )
        for r in people
    ]
    records = tmp_path / "people.jsonl"
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _ok(cli("issue", "--home", ningbo, "--records", records))
    body = {"scheme": "tianyi", "score": 700, "band": "A", "as_of": "2026-05-31"}
    [org] = _ok(
        cli(
            "issue",
            "--home",
            ningbo,
            "--kind",
            "score.city",
            "--subject",
            ORG,
            "--body",
            json.dumps(body),
            "--valid-from",
            "2026-05-31",
            "--json",
        )
    ).json
    assert org["index"] == 2
    leaf = org["leaf_hash"]
    out = {
        name: tmp_path / f"{name}.credex"
        for name in ("person", "org", "objected", "derived", "policy")
    }
    _ok(cli("bundle", 1, "-o", out["person"], "--home", ningbo))
    _ok(cli("bundle", 2, "-o", out["org"], "--home", ningbo))
    _ok(cli("lifecycle", "object", leaf, "--grounds", "wrong company", "--home", ningbo))
    _ok(cli("lifecycle", "bundle", 2, "-o", out["objected"], "--home", ningbo))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY), encoding="utf-8")
    policy_leaf = _ok(cli("policy", "add", policy, "--home", hangzhou, "--json")).json["leaf_hash"]
    trust = merged_trust(cli, tmp_path / "trust.json", ningbo, hangzhou)
    _ok(
        cli(
            "recognize",
            "--bundle",
            out["person"],
            "--policy",
            policy_leaf,
            "-o",
            out["derived"],
            "--trust",
            trust,
            "--home",
            hangzhou,
        )
    )
    _ok(cli("bundle", 0, "-o", out["policy"], "--home", hangzhou))
    return Made(trust, out)


def _both(trust: Path, named: dict[str, bytes], tmp_path: Path) -> dict[str, tuple[Any, Any]]:
    policy = TrustStore.from_json(trust.read_text(encoding="utf-8"))
    files = {}
    for name, data in named.items():
        files[name] = tmp_path / f"check-{name}.credex"
        files[name].write_bytes(data)
    out = jsrunner.run(
        "verify", {"cases": [{"trust": str(trust), "bundle": str(f)} for f in files.values()]}
    )
    return {
        name: (run_verification(data, policy), js)
        for (name, data), js in zip(named.items(), out, strict=True)
    }


def test_node_bundles_verify_in_both(made: Made, tmp_path: Path) -> None:
    named = {name: f.read_bytes() for name, f in made.bundles.items()}
    results = _both(made.trust, named, tmp_path)
    for name, (py, js) in results.items():
        assert py.ok, (name, py.error)
        assert js["verdict"] == "valid" and js["failedStep"] is None, (name, js["error"])
    person = results["person"][1]["record"]
    assert person["envelope"] and person["bodyHeld"] and person["kind"] == "score.city"
    assert results["org"][1]["notDone"] == []
    objected = results["objected"][1]
    assert [s["kind"] for s in objected["lifecycle"]] == ["lifecycle.objection"]
    assert any("status evaluation" in n for n in objected["notDone"])
    derived = results["derived"][1]
    assert derived["record"]["kind"] == "derived.score"
    assert [s["kind"] for s in derived["sources"]] == ["score.city"]
    assert any("replay" in n for n in derived["notDone"])
    assert results["policy"][1]["record"]["kind"] == "policy.conversion"


def _smaller(note: str) -> str:
    """The note with its tree size one less (its signatures no longer verify)."""
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) - 1)
    return "\n".join(lines)


def _edit(data: bytes, fn: Any) -> bytes:
    value = cbor2.loads(data)
    fn(value)
    return encoding.encode(value)


def test_changed_node_bundles_fail_at_the_same_step(made: Made, tmp_path: Path) -> None:
    person = made.bundles["person"].read_bytes()
    derived = made.bundles["derived"].read_bytes()
    objected = made.bundles["objected"].read_bytes()
    org = made.bundles["org"].read_bytes()

    def flip_preimage(b: dict[str, Any]) -> None:
        b["preimage"] = b["preimage"][:-1] + bytes([b["preimage"][-1] ^ 1])

    def flip_attestation(b: dict[str, Any]) -> None:
        b["attestation"] = b["attestation"][:-1] + bytes([b["attestation"][-1] ^ 1])

    def flip_status_proof(b: dict[str, Any]) -> None:
        b["status_proof"] = b["status_proof"][:-1] + bytes([b["status_proof"][-1] ^ 1])

    named = {
        "person-without-body": _edit(person, lambda b: b.pop("preimage")),
        "person-wrong-body": _edit(person, flip_preimage),
        "derived-source-wrong-body": _edit(derived, lambda b: flip_preimage(b["sources"][0])),
        "derived-without-policy": _edit(derived, lambda b: b.pop("policy")),
        "derived-source-without-body": _edit(derived, lambda b: b["sources"][0].pop("preimage")),
        "derived-sources-swapped-for-policy": _edit(
            derived, lambda b: b.update(sources=[b["policy"]])
        ),
        "objected-status-checkpoint-changed": _edit(
            objected,
            lambda b: b["status"][0].update(checkpoint=_smaller(b["status"][0]["checkpoint"])),
        ),
        # the log's attestation lists the objection: the bundle no longer carries it
        "objected-status-moved-to-sources": _edit(
            objected, lambda b: b.update(sources=b.pop("status"))
        ),
        "objected-status-moved-to-sources-unattested": _edit(
            objected,
            lambda b: [
                b.update(sources=b.pop("status")),
                b.pop("attestation"),
                b.pop("status_proof"),
            ],
        ),
        # the index's status proof still lists the objection the bundle no longer carries
        "objected-status-moved-to-sources-proven": _edit(
            objected, lambda b: [b.update(sources=b.pop("status")), b.pop("attestation")]
        ),
        "objected-status-proof-changed": _edit(objected, flip_status_proof),
        # the same record's status proof as of the org bundle's earlier checkpoint (before
        # the objection: an absence proof) under the later checkpoint's index root
        "objected-status-proof-of-an-earlier-checkpoint": _edit(
            objected, lambda b: b.update(status_proof=cbor2.loads(org)["status_proof"])
        ),
        "objected-status-dropped": _edit(objected, lambda b: b.pop("status")),
        "objected-attestation-signature": _edit(objected, flip_attestation),
        # the same entry, attested at the earlier checkpoint of the org bundle
        "objected-attestation-of-another-checkpoint": _edit(
            objected, lambda b: b.update(attestation=cbor2.loads(org)["attestation"])
        ),
    }
    results = _both(made.trust, named, tmp_path)
    expected = {
        "person-without-body": 7,
        "person-wrong-body": 1,
        "derived-source-wrong-body": 8,
        "derived-without-policy": 8,
        "derived-source-without-body": 8,
        "derived-sources-swapped-for-policy": 8,
        "objected-status-checkpoint-changed": 7,
        "objected-status-moved-to-sources": 7,
        "objected-status-moved-to-sources-unattested": 8,
        "objected-status-moved-to-sources-proven": 7,
        "objected-status-proof-changed": 7,
        "objected-status-proof-of-an-earlier-checkpoint": 7,
        "objected-status-dropped": 7,
        "objected-attestation-signature": 2,
        "objected-attestation-of-another-checkpoint": 2,
    }
    for name, (py, js) in results.items():
        assert py.failed_step == expected[name], (name, py.error)
        assert js["failedStep"] == expected[name], (name, js["error"])
        assert js["error"]["type"] == type(py.error).__name__, (name, js["error"], py.error)
