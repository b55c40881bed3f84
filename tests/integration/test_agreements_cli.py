"""End to end: recognition agreements in the federation manifest (issue #4 point 4).

Hangzhou starts a federation, adds Ningbo, and records an agreement to recognise
Ningbo's city scores (``credex federation recognize-add``). A recognition inside it is
logged and verifies with the exported manifest; one outside it (another kind, an expired
window, another policy, or after ``recognize-remove``) is refused with the gap named and
nothing logged, and a derived bundle checked against a manifest without the agreement
fails at step 8. Commands run in-process on SQLite homes with the CLI clock pinned.
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from credex.adapters.sample import score_records
from credex.cli import federation_cmds, lifecycle_cmds, node_cmds, proof_cmds
from credex.ledger.dates import cst_time
from credex.node.home import NodeHome

from .clirunner import Cli, Result, log_size, make_cli

HZ, NB = "cn-zj-hangzhou", "cn-zj-ningbo"
NB_ISSUER = f"{NB}/platform"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))
SCORE_AS_OF = date(2026, 5, 31)
TABLE = {f"placeholder-{i}": f"L{i}" for i in range(1, 6)}


def _policy(version: int = 1) -> dict[str, Any]:
    rules = {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI_PLACEHOLDER",
        "target_scheme": "HANGZHOU_QIANJIANG",
        "table": dict(TABLE),
    }
    return {"name": "tianyi-to-qianjiang", "version": version, "rules": rules}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, lifecycle_cmds, federation_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    """Run ``credex ARGS...`` in-process; returns the exit code and captured output."""
    return make_cli(capsys, monkeypatch)


def _cert_pem(name: str) -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .add_extension(  # a member's certificate names the host it is reached at
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _node(cli: Cli, tmp_path: Path, region: str) -> tuple[Path, dict[str, Any]]:
    home = tmp_path / region
    r = cli("init", home, "--region", region, "--origin", f"credex.{region}.example/log", "--json")
    assert r.code == 0, r.err
    return home, r.json


def _write(tmp_path: Path, name: str, value: Any) -> Path:
    f = tmp_path / name
    f.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return f


_size = log_size


@dataclass(frozen=True)
class Fed:
    hz: Path
    nb: Path
    source: Path
    policy: str
    other_policy: str
    tmp: Path

    def export(self, cli: Cli, name: str) -> Path:
        out = self.tmp / name
        r = cli("federation", "export", "--home", self.hz, "-o", out, "--json")
        assert r.code == 0, r.err
        return out


@pytest.fixture
def fed(cli: Cli, tmp_path: Path) -> Fed:
    hz, _ = _node(cli, tmp_path, HZ)
    nb, init_nb = _node(cli, tmp_path, NB)
    cert = _write(tmp_path, "hz.pem", _cert_pem("hz"))
    r = cli(
        "federation", "init", "yangtze", "--home", hz, "--endpoint", "127.0.0.1:7001",
        "--tls-cert", cert, "--json",
    )  # fmt: skip
    assert r.code == 0 and r.json["installed"], r.err
    issuers = cli("issuer", "list", "--home", nb, "--json").json
    info = {
        "origin": init_nb["origin"],
        "region": NB,
        "log_public_key": init_nb["log_public_key"],
        "witness_public_key": "07" * 32,
        "tls_cert_pem": _cert_pem("nb"),
        "endpoint": "127.0.0.1:7002",
        "issuers": issuers,
    }
    r = cli(
        "federation", "add-member", "--home", hz, "--from-info", _write(tmp_path, "nb.json", info)
    )
    assert r.code == 0, r.err
    # Ningbo issues 天一分 scores; its second record is the source bundle
    recs = score_records(NB, NodeHome.open(nb).subject_key(), 2, as_of=SCORE_AS_OF)
    lines = [
        json.dumps(
            {
                "kind": rec.kind,
                "subject": {"type": "person", "id": rec.subject.id},
                "body": dict(rec.body),
                "valid_from": rec.valid_from,
                "valid_until": rec.valid_until,
            },
            ensure_ascii=False,
        )
        for rec in recs
    ]
    r = cli("issue", "--home", nb, "--records", _write(tmp_path, "s.jsonl", "\n".join(lines)))
    assert r.code == 0, r.err
    source = tmp_path / "source.credex"
    assert cli("bundle", 1, "-o", source, "--home", nb).code == 0
    leaves = []
    for v in (1, 2):
        p = _write(tmp_path, f"p{v}.json", _policy(v))
        r = cli("policy", "add", p, "--home", hz, "--json")
        assert r.code == 0, r.err
        leaves.append(r.json["leaf_hash"])
    return Fed(hz, nb, source, leaves[0], leaves[1], tmp_path)


def _agree(cli: Cli, f: Fed, *extra: object) -> Result:
    return cli(
        "federation", "recognize-add", "--home", f.hz, "--region", HZ, "--recognises", NB,
        *extra, "--json",
    )  # fmt: skip


def _recognize(cli: Cli, f: Fed, trust: Path, policy: str, out: str = "out.credex") -> Result:
    return cli(
        "recognize", "--bundle", f.source, "--policy", policy, "-o", f.tmp / out,
        "--trust", trust, "--home", f.hz, "--json",
    )  # fmt: skip


def _gap(policy: str, at: int = T0) -> str:
    return (
        f"recognition: {HZ} has no agreement to recognise score.city from {NB} "
        f"under policy {policy[:16]}… at {cst_time(at)}"
    )


def test_recognize_inside_an_agreement_verifies_with_the_manifest(
    cli: Cli, fed: Fed, clock: dict[str, int]
) -> None:
    before = fed.export(cli, "before.manifest")  # versions 1-2: no agreement yet
    r = _agree(
        cli, fed, "--kinds", "score.city,rating.enterprise", "--issuers", NB_ISSUER,
        "--policy", fed.policy, "--from", "2026-05-01", "--until", "2027-01-01",
    )  # fmt: skip
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 3, r.err
    doc = cli("federation", "show", "--home", fed.hz, "--json").json
    assert doc["recognitions"] == [
        {
            "region": HZ,
            "recognises": NB,
            "kinds": ["rating.enterprise", "score.city"],
            "issuers": [NB_ISSUER],
            "policies": [fed.policy],
            "valid_from": calendar.timegm((2026, 4, 30, 16, 0, 0)),  # CST midnight
            "valid_until": calendar.timegm((2026, 12, 31, 16, 0, 0)),
        }
    ]
    text = cli("federation", "show", "--home", fed.hz).out
    assert f"recognition {HZ} <- {NB}  rating.enterprise, score.city" in text

    chain = fed.export(cli, "yangtze.manifest")
    r = _recognize(cli, fed, chain, fed.policy)
    assert r.code == 0, r.err
    assert r.json["kind"] == "derived.score"
    r = cli("verify", fed.tmp / "out.credex", "--trust", chain, "--json")
    assert r.code == 0, r.out
    assert {s["step"]: s["ok"] for s in r.json["steps"]}[8]
    # a verifier holding the manifest from before the agreement refuses it at step 8
    r = cli("verify", fed.tmp / "out.credex", "--trust", before, "--json")
    assert r.code == 1 and r.json["failed_step"] == 8
    assert r.json["error"]["code"] == "recognition_refused"
    assert r.json["error"]["message"].startswith(_gap(fed.policy))

    # removing the agreement stops new recognitions; the one made under it still verifies
    clock["now"] = T0 + 60
    r = cli(
        "federation", "recognize-remove", "--home", fed.hz, "--region", HZ, "--recognises", NB,
        "--json",
    )  # fmt: skip
    assert r.code == 0 and r.json["version"] == 4, r.err
    assert cli("federation", "show", "--home", fed.hz, "--json").json["recognitions"] == []
    after = fed.export(cli, "after.manifest")
    assert cli("verify", fed.tmp / "out.credex", "--trust", after).code == 0
    size = _size(cli, fed.hz)
    r = _recognize(cli, fed, after, fed.policy, "again.credex")
    assert r.code == 1 and _gap(fed.policy, T0 + 60) in r.err
    assert _size(cli, fed.hz) == size and not (fed.tmp / "again.credex").exists()


@pytest.mark.parametrize(
    ("agreement", "which"),
    [
        (("--kinds", "rating.enterprise", "--from", "2026-05-01"), "policy"),
        (("--kinds", "score.city", "--from", "2026-01-01", "--until", "2026-05-01"), "policy"),
        (("--kinds", "score.city", "--from", "2026-05-01", "--policy", "OTHER"), "policy"),
        (("--kinds", "score.city", "--from", "2026-06-02"), "policy"),
    ],
    ids=["other-kind", "expired", "other-policy", "not-yet"],
)
def test_recognize_outside_every_agreement_is_refused(
    cli: Cli, fed: Fed, agreement: tuple[str, ...], which: str
) -> None:
    args = [fed.other_policy if a == "OTHER" else a for a in agreement]
    r = _agree(cli, fed, *args)
    assert r.code == 0, r.err
    chain = fed.export(cli, "chain.manifest")
    size = _size(cli, fed.hz)
    r = _recognize(cli, fed, chain, getattr(fed, which))
    assert r.code == 1
    assert r.err.startswith(f"credex: error: {_gap(fed.policy)}"), r.err
    assert f"(source issuer {NB_ISSUER})" in r.err
    assert _size(cli, fed.hz) == size and not (fed.tmp / "out.credex").exists()


def test_a_node_without_agreements_refuses_every_recognition(cli: Cli, fed: Fed) -> None:
    chain = fed.export(cli, "chain.manifest")
    size = _size(cli, fed.hz)
    r = _recognize(cli, fed, chain, fed.policy)
    assert r.code == 1 and _gap(fed.policy) in r.err
    assert _size(cli, fed.hz) == size


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kinds", "score.city", "--from", "2026-05-01", "--issuers", "x/y"), "lists no issuer"),
        (("--kinds", "no.such", "--from", "2026-05-01"), "unknown or no kinds: no.such"),
        (("--kinds", "score.city", "--from", "soon"), "--from is not a date"),
        (
            ("--kinds", "score.city", "--from", "2026-05-01", "--until", "2026-04-01"),
            "valid_until must be after valid_from",
        ),
        (("--kinds", "score.city", "--from", "2026-05-01", "--policy", "ab"), "--policy must be"),
    ],
    ids=["issuer", "kind", "date", "window", "policy"],
)
def test_bad_agreements_change_nothing(
    cli: Cli, fed: Fed, args: tuple[str, ...], message: str
) -> None:
    version = cli("federation", "show", "--home", fed.hz, "--json").json["version"]
    r = _agree(cli, fed, *args)
    assert r.code != 0 and message in r.err, r.err
    assert cli("federation", "show", "--home", fed.hz, "--json").json["version"] == version
    r = cli(
        "federation", "recognize-remove", "--home", fed.hz, "--region", HZ, "--recognises", NB,
    )  # fmt: skip
    assert r.code != 0 and "no matching agreement" in r.err
