"""Five separate node processes, driven only by the ``credex`` command line, do what
``credex demo`` does in one process.

Ningbo, Hangzhou, Xiamen, Qianhai and Hong Kong each run ``credex serve --follow 2`` (a
real process); everything else is a ``credex`` command (run in-process through the same
entry point as the console script). One federation (quorum 3 of the other 4) is made at
Ningbo and joined by the others with the published pin; no one runs ``peers add``: each
server follows the members of the manifest in force. Then, as the demo: a Ningbo score
verified by a bank with the manifest (three cosignatures), recognised at Hangzhou under
an agreement that reached Hangzhou through the federation, refused at Xiamen (no
agreement), an HK report converted at Qianhai, a bank's lookup at Hangzhou, a Ningbo
penalty repaired by Hangzhou as a delegate and refused for punitive use by a bank and at
every member, and a twin of Ningbo that shows a second history: the witnesses refuse and
the evidence verifies on its own.

The propagation times with ``--follow 2`` (a manifest version, a mirrored record, a
repair) are measured from in-process reads of each home and printed (``-s``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from credex.adapters.sample import band_for, penalty_csv, synthetic_resident_ids
from credex.ledger.dates import cst_date
from credex.node.federation.manifests import load_chain
from credex.node.federation.mirrors import root_path
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import status_of

from .clirunner import Cli, make_cli
from .serve_process import ServeProcess, wait_until
from .test_hk_conversion import REPORTS

NODES = (
    ("ningbo", "cn-zj-ningbo"),
    ("hangzhou", "cn-zj-hangzhou"),
    ("xiamen", "cn-fj-xiamen"),
    ("qianhai", "cn-gd-qianhai"),
    ("hk", "hk"),
)
ORG = "91330200MA0YX00163"
OTHERS = ("xiamen", "qianhai", "hk")
PENALTY = {
    "decision_no": "甬市监罚〔2026〕15号",
    "decision_date": "2026-01-15",
    "penalty_types": ["罚款"],
    "fine_wan": "2",
    "content": "未按规定公示年度报告",
    "authority": "宁波市市场监督管理局",
    "authority_uscc": "11330200MB0000000X",
}


def origin(name: str) -> str:
    return f"credex.{name}.example/log"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _ok(cli: Cli, *args: object) -> Any:
    r = cli(*args, "--json")
    assert r.code == 0, f"{args}: {r.out}{r.err}"
    return r.json


def _timed(what: str, done: Callable[[], bool], times: dict[str, float]) -> None:
    start = time.monotonic()
    wait_until(done, what, deadline_s=120)
    times[what] = time.monotonic() - start


def _version(home: Path) -> int:
    return len(load_chain(NodeHome.open(home)))


def _mirrored(home: Path, of: str, index: int) -> bool:
    try:
        held = json.loads(root_path(NodeHome.open(home), origin(of)).read_text())
    except (FileNotFoundError, ValueError):
        return False
    return int(held["tree_size"]) > index


def _state(home: Path, leaf: bytes, target_origin: str | None) -> str:
    with LocalNode(NodeHome.open(home)) as node:
        return status_of(node, leaf, int(time.time()), target_origin=target_origin)[1].state


def test_five_processes_do_what_the_demo_does(cli: Cli, tmp_path: Path) -> None:
    homes = {name: tmp_path / name for name, _ in NODES}
    key = homes["ningbo"] / "keys" / "subject.key"
    for name, region in NODES:
        args = ["init", homes[name], "--region", region, "--origin", origin(name)]
        _ok(cli, *(args if name == "ningbo" else [*args, "--subject-key", key]))
    # a twin of Ningbo: the same keys and TLS identity, to show a second history later
    _ok(cli, "node", "info", "--home", homes["ningbo"])
    shutil.copytree(homes["ningbo"], tmp_path / "ningbo-twin")
    servers = {name: ServeProcess(homes[name], "--follow", "2") for name, _ in NODES}
    times: dict[str, float] = {}
    try:
        for s in servers.values():
            s.started()
        _federate(cli, tmp_path, homes, servers)
        _story(cli, tmp_path, homes, times)
    except AssertionError as e:
        for s in servers.values():
            s.stop()
        logs = "\n".join(f"--- {name}\n{s.log()}" for name, s in servers.items())
        raise AssertionError(f"{e}\n{logs}") from e
    finally:
        codes = {name: s.stop() for name, s in servers.items()}
    for name, s in servers.items():
        assert codes[name] == 0, s.log()
        assert "Traceback" not in s.log() and "log shrank" not in s.log(), s.log()
    print("\npropagation with --follow 2 (five nodes):")
    for what, seconds in times.items():
        print(f"  {what}: {seconds:.1f} s")


def _federate(
    cli: Cli, tmp: Path, homes: dict[str, Path], servers: dict[str, ServeProcess]
) -> None:
    nb = homes["ningbo"]
    ns = servers["ningbo"]
    _ok(cli, "federation", "init", "yangtze", "--endpoint", ns.public, "--mtls-endpoint",
        ns.mtls, "--home", nb)  # fmt: skip
    for name, _ in NODES[1:]:
        info = tmp / f"{name}.json"
        info.write_text(json.dumps(_ok(cli, "node", "info", "--home", homes[name])))
        s = servers[name]
        _ok(cli, "federation", "add-member", "--from-info", info, "--endpoint", s.public,
            "--mtls-endpoint", s.mtls, "--home", nb)  # fmt: skip
    r = cli("federation", "set-quorum", "5", "--home", nb)  # more than the others can give
    assert r.code == 2 and "cannot be met" in r.err
    _ok(cli, "federation", "set-quorum", "3", "--home", nb)
    chain = tmp / "yangtze.manifest"
    _ok(cli, "federation", "export", "-o", chain, "--home", nb)
    pin = load_chain(NodeHome.open(nb))[0].hash.hex()
    assert _ok(cli, "federation", "verify", chain, "--pin", pin)["versions"] == 6
    for name, _ in NODES[1:]:
        _ok(cli, "federation", "import", chain, "--pin", pin, "--home", homes[name])


def _story(cli: Cli, tmp: Path, homes: dict[str, Path], times: dict[str, float]) -> None:
    nb, hz, xm, qh, hk = (homes[n] for n, _ in NODES)
    chain = tmp / "yangtze.manifest"
    twin = tmp / "ningbo-twin"
    # data, as the demo loads it
    csv = tmp / "penalties.csv"
    csv.write_bytes(
        penalty_csv("cn-zj-ningbo", rows=6, seed=3, reference_date=cst_date(int(time.time())))
    )
    _ok(cli, "import", "--adapter", "penalty-csv", csv, "--home", nb)
    (penalty,) = _ok(cli, "issue", "--kind", "penalty.admin", "--subject", ORG, "--body",
                     json.dumps(PENALTY), "--home", nb)  # fmt: skip
    pid = synthetic_resident_ids("cn-zj-ningbo", 1, 5)[0]
    body = {"scheme": "NINGBO_TIANYI_PLACEHOLDER", "score": 700,
            "band": band_for("NINGBO_TIANYI_PLACEHOLDER", 700), "as_of": "2026-11-01"}  # fmt: skip
    scores = tmp / "scores.jsonl"
    scores.write_text(json.dumps({"kind": "score.city", "person_id": pid, "body": body}) + "\n")
    (score,) = _ok(cli, "issue", "--records", scores, "--home", nb)["records"]
    report = {**REPORTS[0], "report_date": "2026-11-30"}
    reports = tmp / "reports.json"
    reports.write_text(json.dumps([report], ensure_ascii=False), encoding="utf-8")
    _ok(cli, "import", "--adapter", "hk-report-json", reports, "--home", hk)
    # a mirrored record: Ningbo's score in every other member's signed mirror
    _timed(
        "mirrored record (issued at Ningbo -> in 4 signed mirrors)",
        lambda: all(_mirrored(homes[n], "ningbo", score["index"]) for n, _ in NODES[1:]),
        times,
    )
    # a bank verifies a Ningbo score with the manifest: three witnesses cosigned it
    src = tmp / "score.credex"
    out = _ok(cli, "bundle", score["index"], "-o", src, "--wait", "60", "--home", nb)
    assert out["quorum"]["k"] == 3 and out["quorum"]["cosigners"] >= 3 and out["quorum"]["met"]
    assert _ok(cli, "verify", src, "--trust", chain)["verdict"] == "valid"
    # agreements, in new manifest versions that travel
    hz_policy = _ok(cli, "policy", "add", "--builtin", "tianyi_to_qianjiang", "--home", hz)
    qh_policy = _ok(cli, "policy", "add", "--builtin", "hk_to_mainland", "--home", qh)
    _ok(cli, "federation", "recognize-add", "--region", "cn-zj-hangzhou", "--recognises",
        "cn-zj-ningbo", "--kinds", "score.city", "--policy", hz_policy["leaf_hash"],
        "--from", "2026-01-01", "--home", nb)  # fmt: skip
    v = _version(nb)
    _timed(
        "manifest version (installed at Ningbo -> in force at all 4)",
        lambda: all(_version(homes[n]) >= v for n, _ in NODES[1:]),
        times,
    )
    _ok(cli, "federation", "recognize-add", "--region", "cn-gd-qianhai", "--recognises", "hk",
        "--kinds", "report.hk", "--policy", qh_policy["leaf_hash"], "--from", "2026-01-01",
        "--home", nb)  # fmt: skip
    _ok(cli, "federation", "export", "-o", chain, "--home", nb)
    wait_until(lambda: all(_version(homes[n]) >= v + 1 for n, _ in NODES[1:]), "version 8")
    derived = tmp / "derived.credex"
    rec = _ok(cli, "recognize", "--bundle", src, "--policy", hz_policy["leaf_hash"], "-o",
              derived, "--wait", "60", "--home", hz)  # fmt: skip
    assert rec["quorum"]["met"]
    times["derived record cosigned (recognize --wait at Hangzhou)"] = rec["quorum"]["waited_s"]
    assert _ok(cli, "verify", derived, "--trust", chain)["verdict"] == "valid"
    xm_policy = _ok(cli, "policy", "add", "--builtin", "tianyi_to_qianjiang", "--home", xm)
    xm_size = _ok(cli, "info", "--home", xm)["tree_size"]
    r = cli("recognize", "--bundle", src, "--policy", xm_policy["leaf_hash"], "-o",
            tmp / "no.credex", "--home", xm)  # fmt: skip
    assert r.code == 1 and "cn-fj-xiamen has no agreement to recognise score.city" in r.err
    assert _ok(cli, "info", "--home", xm)["tree_size"] == xm_size  # nothing logged
    hk_src, hk_derived = tmp / "hk.credex", tmp / "hk-derived.credex"
    _ok(cli, "bundle", _index_of(hk, "report.hk"), "-o", hk_src, "--wait", "60", "--home", hk)
    _ok(cli, "recognize", "--bundle", hk_src, "--policy", qh_policy["leaf_hash"], "-o",
        hk_derived, "--wait", "60", "--home", qh)  # fmt: skip
    assert _ok(cli, "verify", hk_derived, "--trust", chain)["verdict"] == "valid"
    # a bank's lookup at Hangzhou: the Ningbo score (body asked of Ningbo) and the derived one
    _ok(cli, "client", "add", "bank", "--role", "bank", "-o", tmp / "bank", "--home", hz)
    hz_mtls = json.loads((hz / "node.json").read_text())["mtls_listen"]
    wait_until(lambda: _mirrored(hz, "ningbo", score["index"]), "hangzhou mirrors the score")
    bank = ["--endpoint", hz_mtls, "--ca", tmp / "bank" / "ca.pem", "--cert",
            tmp / "bank" / "bank.pem", "--key", tmp / "bank" / "bank.key"]  # fmt: skip
    found = _ok(cli, "lookup", *bank, "--subject", f"hmac:{_key_id(nb)}:{_pseudonym(nb, pid)}",
                "--authorisation", "consent:1", "--trust", chain)  # fmt: skip
    verdicts = {(r["kind"], r["verdict"]) for r in found["records"]}
    assert verdicts == {("score.city", "valid"), ("derived.score", "valid")}, found
    # Hangzhou repairs a Ningbo penalty as a delegate; every member stops using it
    _ok(cli, "federation", "delegate-add", "--region", "cn-zj-ningbo", "--issuer",
        "cn-zj-hangzhou/platform", "--kinds", "penalty.admin", "--from", "2026-01-01",
        "--home", nb)  # fmt: skip
    _ok(cli, "federation", "export", "-o", chain, "--home", nb)
    v = _version(nb)
    wait_until(lambda: _version(hz) >= v and _mirrored(hz, "ningbo", penalty["index"]), "hz")
    leaf = bytes.fromhex(penalty["leaf_hash"])
    _ok(cli, "lifecycle", "repair", penalty["leaf_hash"], "--route", "fine paid",
        "--target-origin", origin("ningbo"), "--home", hz)  # fmt: skip
    _timed(
        "repair (logged at Hangzhou -> repaired at Ningbo, Xiamen, Qianhai, HK)",
        lambda: (
            _state(nb, leaf, None) == "repaired"
            and all(
                _state(homes[n], leaf, origin("ningbo")) == "repaired"
                for n in ("xiamen", "qianhai", "hk")
            )
        ),
        times,
    )
    withheld = _ok(cli, "lookup", *bank, "--subject", ORG, "--authorisation", "loan:1")
    (row,) = [r for r in withheld["records"] if r["leaf_index"] == penalty["index"]]
    assert row["withheld"] and "repaired" in row["withheld"]
    pen = tmp / "penalty.credex"
    # --wait covers this log's checkpoint and the repair from Ningbo's mirror of Hangzhou,
    # on the newest mirrored checkpoint meeting the quorum: refused at the first try
    out = _ok(cli, "lifecycle", "bundle", penalty["index"], "-o", pen, "--wait", "60",
              "--home", nb)  # fmt: skip
    assert out["quorum"]["met"], out
    r = cli("verify", pen, "--trust", chain, "--purpose", "punitive", "--json")
    assert r.code == 1 and r.json["failed_step"] == 7 and "repaired" in r.out, r.out
    # the twin of Ningbo shows another history of the same size: the witnesses refuse
    pin = load_chain(NodeHome.open(nb))[0].hash.hex()
    _ok(cli, "federation", "import", chain, "--pin", pin, "--home", twin)
    size = _ok(cli, "info", "--home", nb)["tree_size"]
    fake = tmp / "fake.jsonl"
    lines = [json.dumps({"kind": "score.city", "subject": {"type": "org", "id": ORG},
                         "body": {**body, "score": 300 + i}}) for i in range(size)]  # fmt: skip
    fake.write_text("\n".join(lines[: size - _ok(cli, "info", "--home", twin)["tree_size"]]) + "\n")
    _ok(cli, "issue", "--records", fake, "--home", twin)
    r = cli("peers", "witness", "--home", twin, "--json")
    assert r.code == 1 and r.json["cosignatures"] == 0 and len(r.json["errors"]) == 4, r.out
    evidence = _ok(cli, "evidence", "list", "--home", hz)
    assert evidence, "hangzhou keeps the evidence"
    kept = tmp / "split.evidence"
    _ok(cli, "evidence", "export", str(evidence[-1]["id"]), "-o", kept, "--home", hz)
    assert cli("evidence", "verify", kept).code == 0


def _index_of(home: Path, kind: str) -> int:
    with LocalNode(NodeHome.open(home)) as node:
        return next(e.index for e in node.log.entries(0, node.log.size) if e.kind == kind)


def _key_id(home: Path) -> str:
    return NodeHome.open(home).subject_key().key_id


def _pseudonym(home: Path, pid: str) -> str:
    from credex.ledger.subject import person_subject_id

    return person_subject_id(NodeHome.open(home).subject_key(), pid).rsplit(":", 1)[1]
