"""End to end: conversion policies, recognition across two nodes and the credit lifecycle
through the ``credex`` command, run in-process with a pinned clock (issue #4 points 2, 5).

Ningbo issues 天一分 scores; Hangzhou adds a policy, recognises one and a verifier holding
a merged trust file checks the derived bundle (step 8 replays the conversion). A Ningbo
penalty is imported, repaired (too early first), and a bundle carrying the repair is
refused for punitive use at step 7. The node under test runs on SQLite and PostgreSQL
(``store_url``).
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from credex.adapters.sample import penalty_csv, penalty_rows, score_records
from credex.cli import find_cmds, lifecycle_cmds, node_cmds, proof_cmds
from credex.ledger.bundle import Bundle
from credex.ledger.record import Record
from credex.ledger.statement import Statement
from credex.node.home import NodeHome
from credex.node.local import LocalNode

from .clirunner import Cli, init_home, log_size, make_cli, merged_trust

NINGBO, NINGBO_ORIGIN = "cn-zj-ningbo", "credex.ningbo.example/log"
HANGZHOU, HANGZHOU_ORIGIN = "cn-zj-hangzhou", "credex.hangzhou.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # 2026-06-01 08:00 CST
DAY = 86400
CST = timezone(timedelta(hours=8))
SCORE_AS_OF = date(2026, 5, 31)
REFERENCE_DATE = date(2026, 6, 1)
TIANYI_TABLE = {f"placeholder-{i}": f"L{i}" for i in range(1, 6)}


def _policy(**rules: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI_PLACEHOLDER",
        "target_scheme": "HANGZHOU_QIANJIANG",
        "table": dict(TIANYI_TABLE),
    }
    return {"name": "tianyi-to-qianjiang", "version": 1, "rules": {**base, **rules}}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, lifecycle_cmds, find_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    """Run ``credex ARGS...`` in-process; returns the exit code and captured output."""
    return make_cli(capsys, monkeypatch)


_init, _size = init_home, log_size


def _leaf_at(cli: Cli, home: Path, index: int) -> str:
    r = cli("prove", "inclusion", index, "--home", home, "--json")
    assert r.code == 0, r.err
    return str(r.json["leaf_hash"])


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, CST).date().isoformat()


@pytest.fixture
def hangzhou(cli: Cli, tmp_path: Path, store_url: str) -> Path:
    return _init(cli, tmp_path / "hangzhou", HANGZHOU, HANGZHOU_ORIGIN, store_url)


# --- policy add --------------------------------------------------------------------


def _write(tmp_path: Path, name: str, value: Any) -> Path:
    f = tmp_path / name
    f.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return f


def test_policy_add_logs_a_self_contained_policy(cli: Cli, hangzhou: Path, tmp_path: Path) -> None:
    r = cli("policy", "add", _write(tmp_path, "p.json", _policy()), "--home", hangzhou, "--json")
    assert r.code == 0, r.err
    out = r.json
    assert (out["index"], out["kind"], out["new"]) == (0, "policy.conversion", True)
    with LocalNode.open(hangzhou) as node:
        st = Statement.from_bytes(node.log.entry(0).leaf)
    assert st.leaf_hash.hex() == out["leaf_hash"]
    # the registry's scales are embedded: the signed policy replays on its own
    schemes = st.record.body["rules"]["schemes"]
    assert set(schemes) == {"NINGBO_TIANYI_PLACEHOLDER", "HANGZHOU_QIANJIANG"}
    # adding it again logs nothing new; the text form names the leaf
    r = cli("policy", "add", tmp_path / "p.json", "--home", hangzhou)
    assert r.code == 0 and "already logged" in r.out and out["leaf_hash"] in r.out
    assert _size(cli, hangzhou) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            _policy(table={k: v for k, v in TIANYI_TABLE.items() if k != "placeholder-3"}),
            "placeholder-3",
        ),
        (
            _policy(table={**TIANYI_TABLE, "placeholder-3": "L4", "placeholder-4": "L3"}),
            "monoton",
        ),
        (_policy(extra=1), "unknown fields: extra"),
        (_policy(source_scheme="NO_SUCH_SCHEME"), "unknown scheme 'NO_SUCH_SCHEME'"),
        (
            {
                "name": "p",
                "version": 1,
                "rules": {
                    "type": "piecewise_linear",
                    "source_scheme": "NINGBO_TIANYI_PLACEHOLDER",
                    "target_scheme": "HANGZHOU_QIANJIANG",
                    "breakpoints": [[0, 0], [500, 500.5], [1000, 1000]],
                },
            },
            "floats are not allowed",
        ),
        ({**_policy(), "author": "x"}, "file has unknown fields: author"),
        ({**_policy(), "version": "1"}, "version must be an integer"),
    ],
    ids=["not-total", "non-monotonic", "unknown-field", "unknown-scheme", "float", "top", "ver"],
)
def test_policy_add_refuses_a_bad_policy(
    cli: Cli, tmp_path: Path, value: Any, message: str
) -> None:
    home = _init(cli, tmp_path / "hangzhou", HANGZHOU, HANGZHOU_ORIGIN)
    r = cli("policy", "add", _write(tmp_path, "bad.json", value), "--home", home)
    assert r.code == 1
    assert r.err.startswith("credex: error: policy: ") and message in r.err, r.err
    assert _size(cli, home) == 0  # nothing logged


def test_policy_add_not_json(cli: Cli, tmp_path: Path) -> None:
    home = _init(cli, tmp_path / "hangzhou", HANGZHOU, HANGZHOU_ORIGIN)
    r = cli("policy", "add", _write(tmp_path, "bad.json", "{nope"), "--home", home)
    assert r.code == 1 and "policy: file is not valid json" in r.err


# --- recognize across two nodes -----------------------------------------------------


def _merged_trust(cli: Cli, tmp_path: Path, *homes: Path) -> Path:
    return merged_trust(cli, tmp_path / "trust.json", *homes)


@dataclass(frozen=True)
class Recognised:
    ningbo: Path
    hangzhou: Path
    trust: Path
    source: Path
    out: Path
    policy_leaf: str
    score: dict[str, Any]


@pytest.fixture
def recognised(cli: Cli, tmp_path: Path, hangzhou: Path) -> Recognised:
    ningbo = _init(cli, tmp_path / "ningbo", NINGBO, NINGBO_ORIGIN)
    recs = score_records(NINGBO, NodeHome.open(ningbo).subject_key(), 4, as_of=SCORE_AS_OF)
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
        for r in recs
    ]
    r = cli("issue", "--home", ningbo, "--records", _write(tmp_path, "s.jsonl", "\n".join(lines)))
    assert r.code == 0, r.err
    source = tmp_path / "source.credex"
    assert cli("bundle", 1, "-o", source, "--home", ningbo).code == 0
    r = cli("policy", "add", _write(tmp_path, "p.json", _policy()), "--home", hangzhou, "--json")
    assert r.code == 0, r.err
    policy_leaf = r.json["leaf_hash"]
    trust = _merged_trust(cli, tmp_path, ningbo, hangzhou)
    out = tmp_path / "out.credex"
    r = cli(
        "recognize",
        "--bundle",
        source,
        "--policy",
        policy_leaf,
        "-o",
        out,
        "--trust",
        trust,
        "--home",
        hangzhou,
        "--json",
    )
    assert r.code == 0, r.err
    assert (r.json["kind"], r.json["index"], r.json["policy"]) == ("derived.score", 1, policy_leaf)
    return Recognised(ningbo, hangzhou, trust, source, out, policy_leaf, dict(recs[1].body))


def test_recognize_end_to_end_verifies_and_replays(cli: Cli, recognised: Recognised) -> None:
    rg = recognised
    derived_bundle = Bundle.from_bytes(rg.out.read_bytes())
    # person records: hash envelopes, each bundle carrying its body
    derived = Statement.from_bytes(derived_bundle.statement, derived_bundle.preimage)
    source_b = Bundle.from_bytes(rg.source.read_bytes())
    source = Statement.from_bytes(source_b.statement, source_b.preimage)
    assert derived.is_envelope and source.is_envelope
    assert derived.record.refs == (source.leaf_hash, bytes.fromhex(rg.policy_leaf))
    assert derived.record.region == HANGZHOU and derived.claims.iss == f"{HANGZHOU}/platform"
    assert derived.record.subject == source.record.subject
    level = rg.score["level"]
    assert dict(derived.record.body)["level"] == level
    assert dict(derived.record.body)["scheme"] == "HANGZHOU_QIANJIANG"
    assert derived_bundle.sources[0].to_bytes() == rg.source.read_bytes()

    r = cli("verify", rg.out, "--trust", rg.trust, "--json")
    assert r.code == 0, r.out
    steps = {s["step"]: s for s in r.json["steps"]}
    assert steps[8]["ok"] and "conversion replays" in steps[8]["detail"]
    # the verified record, and the source and policy the conversion replayed
    assert r.json["record"]["kind"] == "derived.score"
    assert r.json["record"]["body"]["level"] == level
    assert r.json["record"]["refs"] == [source.leaf_hash.hex(), rg.policy_leaf]
    (src,), policy = r.json["derivation"]["sources"], r.json["derivation"]["policy"]
    assert (src["origin"], src["leaf_index"], src["leaf_hash"]) == (
        NINGBO_ORIGIN,
        1,
        source.leaf_hash.hex(),
    )
    assert src["record"]["body"] == rg.score  # the source bundle carries its body
    assert (policy["origin"], policy["leaf_hash"]) == (HANGZHOU_ORIGIN, rg.policy_leaf)
    assert policy["record"]["body"]["name"] == "tianyi-to-qianjiang"
    r = cli("verify", rg.out, "--trust", rg.trust)
    assert r.code == 0 and "VALID" in r.out
    head = r.out.split("✓ step 1")[0]
    assert head.startswith(f"derived.score of {derived.record.subject.id} ({HANGZHOU})")
    assert f"  level: {level}" in head
    assert f"  from score.city {NINGBO_ORIGIN} #1 {source.leaf_hash.hex()}" in head
    # Hangzhou finds the derived record by its subject, and shows the policy it used
    r = cli("records", "--subject", derived.record.subject.id, "--home", rg.hangzhou, "--json")
    (found,) = r.json["records"]
    assert (found["kind"], found["index"], found["status"]) == ("derived.score", 1, "active")
    r = cli("show", rg.policy_leaf, "--home", rg.hangzhou, "--json")
    assert r.code == 0 and r.json["record"]["body"]["name"] == "tianyi-to-qianjiang"
    # Hangzhou's own trust does not cover Ningbo's log: the nested source fails
    r = cli("verify", rg.out, "--home", rg.hangzhou, "--json")
    assert r.code == 1 and r.json["failed_step"] == 8


def test_recognize_forged_derived_value_fails_step_8(
    cli: Cli, recognised: Recognised, tmp_path: Path
) -> None:
    rg = recognised
    good = Bundle.from_bytes(rg.out.read_bytes())
    rec = Statement.from_bytes(good.statement, good.preimage).record
    forged_level = "L5" if rec.body["level"] != "L5" else "L1"
    forged = Record(
        rec.kind,
        rec.region,
        rec.subject,
        {**rec.body, "level": forged_level},
        rec.valid_from,
        rec.valid_until,
        rec.refs,
    )
    # a node that signs and logs a wrong conversion: steps 1-7 pass, step 8 does not
    with LocalNode.open(rg.hangzhou) as node:
        res = node.issue([forged], iat=T0)[0]
        own = node.bundle(res.index, T0, with_body=True)
    bad = tmp_path / "forged.credex"
    bad.write_bytes(
        Bundle(
            own.statement,
            own.checkpoint,
            sources=good.sources,
            policy=good.policy,
            preimage=own.preimage,
        ).to_bytes()
    )
    r = cli("verify", bad, "--trust", rg.trust, "--json")
    assert r.code == 1
    assert r.json["failed_step"] == 8
    assert r.json["record"] is None and r.json["derivation"] is None  # not verified
    assert r.json["error"]["code"] == "derivation_mismatch"
    assert "field 'level' does not replay" in r.json["error"]["message"]
    r = cli("verify", bad, "--trust", rg.trust)
    assert r.code == 1 and "step 8 failed" in r.out


def test_recognize_refusals_log_nothing(cli: Cli, recognised: Recognised, tmp_path: Path) -> None:
    rg = recognised
    size = _size(cli, rg.hangzhou)
    out = tmp_path / "again.credex"
    base = ["recognize", "--bundle", rg.source, "-o", out, "--home", rg.hangzhou]
    # without --trust: Hangzhou's own trust does not know Ningbo's issuer key
    r = cli(*base, "--policy", rg.policy_leaf)
    assert r.code == 1 and "recognize: source bundle fails step 2" in r.err, r.err
    # a policy leaf not in this log
    r = cli(*base, "--policy", "00" * 32, "--trust", rg.trust)
    assert r.code == 1 and "leaf hash not found" in r.err
    # a leaf that is not a policy (the derived record itself)
    r = cli(*base, "--policy", _leaf_at(cli, rg.hangzhou, 1), "--trust", rg.trust)
    assert r.code == 1 and "expected 'policy.conversion'" in r.err
    # a tampered source bundle
    src = Bundle.from_bytes(rg.source.read_bytes())
    broken = tmp_path / "broken.credex"
    flipped = src.statement[:-1] + bytes([src.statement[-1] ^ 1])  # a signature byte
    broken.write_bytes(Bundle(flipped, src.checkpoint).to_bytes())
    r = cli(*base[:2], broken, *base[3:], "--policy", rg.policy_leaf, "--trust", rg.trust)
    assert r.code == 1 and "recognize: source bundle fails step" in r.err
    assert r.code == 1 and not out.exists()
    assert _size(cli, rg.hangzhou) == size


# --- lifecycle -------------------------------------------------------------------------


@pytest.fixture
def penalties(cli: Cli, tmp_path: Path, store_url: str) -> Path:
    """A Ningbo home (SQLite or PostgreSQL) with the sample penalties imported at T0."""
    home = _init(cli, tmp_path / "ningbo", NINGBO, NINGBO_ORIGIN, store_url)
    f = tmp_path / "penalties.csv"
    f.write_bytes(penalty_csv(NINGBO, rows=10, seed=1, reference_date=REFERENCE_DATE))
    r = cli("import", "--home", home, "--adapter", "penalty-csv", f, "--json")
    assert r.code == 0, r.err
    assert r.json["imported"] == 10
    return home


def _status(cli: Cli, home: Path, leaf: str, *extra: object) -> dict[str, Any]:
    r = cli("status", leaf, "--home", home, "--json", *extra)
    assert r.code == 0, r.err
    return dict(r.json)


def test_repair_too_early_then_after_minimum_and_punitive_refused(
    cli: Cli, penalties: Path, tmp_path: Path, clock: dict[str, int]
) -> None:
    home = penalties
    row = penalty_rows(NINGBO, rows=10, seed=1, reference_date=REFERENCE_DATE)[0]
    assert row["备注"].endswith("case=general:min-1d")  # the boundary row: minimum is tomorrow
    leaf = _leaf_at(cli, home, 0)
    before = _status(cli, home, leaf)
    assert before["kind"] == "penalty.admin" and before["state"] == "active"
    assert before["usable_for"] == {"eligibility": True, "punitive": True}
    min_day = _day(before["window"]["min_until"])
    assert min_day == _day(T0 + DAY)
    size = _size(cli, home)

    # one day before the minimum publication end: refused, nothing logged
    repair_cmd = ["lifecycle", "repair", leaf, "--route", "fine paid", "--home", home]
    r = cli(*repair_cmd, "--decided-on", _day(T0))
    assert r.code == 1 and "repair decided on" in r.err and f"on or after {min_day}" in r.err
    # a date in the future is refused too
    r = cli(*repair_cmd, "--decided-on", min_day)
    assert r.code == 1 and "is in the future" in r.err
    # another issuer may not repair a finding it did not make
    r = cli("issuer", "add", f"{NINGBO}/other", "--kinds", "lifecycle.repair", "--home", home)
    assert r.code == 0, r.err
    clock["now"] = T0 + DAY
    r = cli(*repair_cmd, "--decided-on", min_day, "--issuer", f"{NINGBO}/other")
    assert r.code == 1 and "only the issuer that made the finding" in r.err
    assert _size(cli, home) == size
    # a target not in the log: NotFoundError naming the leaf, nothing logged
    r = cli("lifecycle", "repair", "ab" * 32, "--route", "x", "--home", home)
    assert r.code == 1 and "target leaf hash not found: abababababababab…" in r.err
    r = cli("lifecycle", "outcome", "cd" * 32, "--outcome", "BREACHED", "--home", home)
    assert r.code == 1 and "target leaf hash not found: cdcdcdcdcdcdcdcd…" in r.err
    assert _size(cli, home) == size

    # on the minimum day (the clock moved there): logged
    r = cli(*repair_cmd, "--decided-on", min_day, "--json")
    assert r.code == 0, r.err
    repair = r.json
    assert (repair["kind"], repair["index"], repair["target"]) == ("lifecycle.repair", size, leaf)
    after = _status(cli, home, leaf)
    assert after["state"] == "repaired"
    assert after["usable_for"] == {"eligibility": False, "punitive": False}
    assert after["evidence"] == [repair["leaf_hash"]]
    assert after["reasons"][0].startswith(f"repaired: repaired on {min_day}")
    # as of before the repair was signed, it was active
    assert _status(cli, home, leaf, "--as-of", _day(T0))["state"] == "active"
    r = cli("status", leaf, "--home", home)
    assert r.code == 0 and "repaired" in r.out and repair["leaf_hash"] in r.out

    # a bundle carrying the repair: refused for punitive use at step 7, and without purpose
    f = tmp_path / "repaired.credex"
    r = cli("lifecycle", "bundle", 0, "-o", f, "--home", home, "--json")
    assert r.code == 0 and r.json["status"] == 1, r.err
    r = cli("verify", f, "--home", home, "--purpose", "punitive")
    assert r.code == 1 and "step 7 failed" in r.out
    assert "not usable for punitive" in r.out and "repaired" in r.out
    r = cli("verify", f, "--home", home, "--json")
    assert r.code == 1 and r.json["failed_step"] == 7 and "repaired" in r.json["error"]["message"]
    # a record with no lifecycle statements still verifies through the same path
    plain = tmp_path / "plain.credex"
    assert cli("lifecycle", "bundle", 1, "-o", plain, "--home", home).code == 0
    r = cli("verify", plain, "--home", home, "--purpose", "punitive", "--json")
    assert r.code == 0, r.out
    assert r.json["statement"]["status"] == "active"
    # the boundary row whose maximum publication end is today: expired, refused
    assert cli("lifecycle", "bundle", 2, "-o", plain, "--home", home).code == 0
    r = cli("verify", plain, "--home", home, "--purpose", "punitive")
    assert r.code == 1 and "step 7 failed" in r.out and "expired" in r.out


def test_object_resolve_and_withdraw(
    cli: Cli, penalties: Path, tmp_path: Path, clock: dict[str, int]
) -> None:
    home = penalties
    leaf = _leaf_at(cli, home, 1)
    today = _day(T0)
    # no objection to resolve yet
    r = cli("lifecycle", "resolve", leaf, "--outcome", "REJECTED", "--home", home)
    assert r.code == 1 and "no open objection" in r.err
    r = cli(
        "lifecycle",
        "object",
        leaf,
        "--raised-on",
        today,
        "--grounds",
        "wrong company",
        "--home",
        home,
        "--json",
    )
    assert r.code == 0, r.err
    objection = r.json["leaf_hash"]
    st = _status(cli, home, leaf)
    assert st["state"] == "under-objection" and st["usable_for"]["punitive"] is False
    f = tmp_path / "objected.credex"
    assert cli("lifecycle", "bundle", 1, "-o", f, "--home", home).code == 0
    r = cli("verify", f, "--home", home, "--purpose", "punitive")
    assert r.code == 1 and "under-objection" in r.out
    # a resolution in the same second counts: statements are ordered by (iat, log index)
    r = cli("lifecycle", "resolve", leaf, "--outcome", "REJECTED", "--home", home, "--json")
    assert r.code == 0, r.err
    same_second = r.json["leaf_hash"]
    st = _status(cli, home, leaf)
    assert st["state"] == "active" and st["evidence"] == [objection, same_second]
    assert cli("lifecycle", "bundle", 1, "-o", f, "--home", home).code == 0
    r = cli("verify", f, "--home", home, "--purpose", "punitive", "--json")
    assert r.code == 0 and r.json["statement"]["status"] == "active", r.out
    # times must not go backwards
    clock["now"] -= 60
    r = cli("lifecycle", "object", leaf, "--raised-on", _day(T0 - DAY), "--home", home)
    assert r.code == 1 and "cannot go back in time" in r.err
    clock["now"] += 120
    r = cli("lifecycle", "object", leaf, "--raised-on", today, "--home", home, "--json")
    assert r.code == 0, r.err
    objection = r.json["leaf_hash"]
    # a bad outcome is refused, nothing logged
    size = _size(cli, home)
    r = cli("lifecycle", "resolve", leaf, "--outcome", "MAYBE", "--home", home)
    assert r.code == 1 and "objection outcome: expected one of" in r.err
    assert _size(cli, home) == size
    r = cli(
        "lifecycle",
        "resolve",
        leaf,
        "--outcome",
        "rejected",
        "--closed-on",
        today,
        "--objection",
        objection,
        "--home",
        home,
    )
    assert r.code == 0, r.err
    st = _status(cli, home, leaf)
    assert st["state"] == "active" and len(st["evidence"]) == 4
    clock["now"] += 60
    r = cli(
        "lifecycle",
        "resolve",
        leaf,
        "--outcome",
        "UPHELD",
        "--objection",
        objection,
        "--home",
        home,
    )
    assert r.code == 1 and "already resolved" in r.err

    # withdrawal: only the record's issuer
    leaf2 = _leaf_at(cli, home, 2)
    r = cli("issuer", "add", f"{NINGBO}/other", "--kinds", "lifecycle.withdrawal", "--home", home)
    assert r.code == 0, r.err
    r = cli(
        "lifecycle",
        "withdraw",
        leaf2,
        "--reason",
        "entered twice",
        "--on",
        today,
        "--issuer",
        f"{NINGBO}/other",
        "--home",
        home,
    )
    assert r.code == 1 and "withdrawal by issuer" in r.err
    r = cli(
        "lifecycle", "withdraw", leaf2, "--reason", "entered twice", "--on", today, "--home", home
    )
    assert r.code == 0, r.err
    assert _status(cli, home, leaf2)["state"] == "withdrawn"
    # a lifecycle statement cannot itself be the target of one
    r = cli("lifecycle", "object", objection, "--home", home)
    assert r.code == 1 and "is itself a lifecycle.objection" in r.err
