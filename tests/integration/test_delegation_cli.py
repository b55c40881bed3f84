"""End to end: repair delegations and commitment outcomes (issue #4 point 5).

Hangzhou runs a federation with Ningbo as a member and mirrors Ningbo's log. A Ningbo
penalty is repaired *at Hangzhou*: refused (unauthorised issuer, nothing logged) until
the manifest carries a delegation ``cn-zj-ningbo -> cn-zj-hangzhou/platform`` for
penalties (``credex federation delegate-add``); then logged, counted by ``credex status``
and by ``credex verify`` with the manifest, and ignored by a verifier holding the manifest
from before the delegation. ``credex lifecycle outcome`` logs a commitment's outcome. The
node under test (Hangzhou) runs on SQLite and PostgreSQL (``store_url``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import make_url

from credex.adapters.sample import penalty_csv
from credex.cli import federation_cmds, lifecycle_cmds, node_cmds, proof_cmds
from credex.ledger.bundle import Bundle
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.home import NodeHome
from credex.node.local import record_hash

from .clirunner import Cli, init_home, log_size, make_cli

HZ, NB = "cn-zj-hangzhou", "cn-zj-ningbo"
HZ_ORIGIN, NB_ORIGIN = f"credex.{HZ}.example/log", f"credex.{NB}.example/log"
HZ_ISSUER = f"{HZ}/platform"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # 2026-06-01 08:00 CST
DAY = 86400
CST = timezone(timedelta(hours=8))
USCC = "91330200MA0YX20892"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, lifecycle_cmds, federation_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, CST).date().isoformat()


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


def _write(tmp_path: Path, name: str, value: Any) -> Path:
    f = tmp_path / name
    f.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return f


def _leaf_at(cli: Cli, home: Path, index: int) -> str:
    r = cli("prove", "inclusion", index, "--home", home, "--json")
    assert r.code == 0, r.err
    return str(r.json["leaf_hash"])


@contextmanager
def _mirror(hz: Path, nb: Path) -> Iterator[None]:
    """Hangzhou follows Ningbo and mirrors its log, as ``credex peers sync`` would (same
    leaves, same indices); the PostgreSQL mirror schema is dropped afterwards."""
    home = NodeHome.open(hz)
    PeerRegistry(home).add(NB_ORIGIN, "127.0.0.1:7002", _cert_pem("nb-ca"), T0)
    url = mirror_url(home, NB_ORIGIN)
    src_store = SqlStore(NodeHome.open(nb).db_url)
    store = SqlStore(url)
    try:
        with AppendOnlyLog(src_store) as src, AppendOnlyLog(store) as mirror:
            leaves = []
            for e in src.entries(0, src.size):
                st = Statement.from_bytes(e.leaf)
                h = record_hash(st.claims.iss, st.payload)
                leaves.append(NewLeaf(e.leaf, st.record.kind, st.claims.iss, st.claims.iat, h))
            mirror.append_many(leaves)
    finally:
        store.close()
        src_store.close()
    try:
        yield
    finally:
        if not url.startswith("sqlite"):
            options = str(make_url(url).query.get("options") or "")
            schema = options.split("search_path=", 1)[1]
            engine = sa.create_engine(home.db_url)
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                engine.dispose()


@dataclass(frozen=True)
class Fed:
    hz: Path
    nb: Path
    tmp: Path

    def export(self, cli: Cli, name: str) -> Path:
        out = self.tmp / name
        r = cli("federation", "export", "--home", self.hz, "-o", out, "--json")
        assert r.code == 0, r.err
        return out


@pytest.fixture
def fed(cli: Cli, tmp_path: Path, store_url: str) -> Iterator[Fed]:
    hz = init_home(cli, tmp_path / "hangzhou", HZ, HZ_ORIGIN, store_url)
    nb = tmp_path / "ningbo"
    r = cli("init", nb, "--region", NB, "--origin", NB_ORIGIN, "--json")
    assert r.code == 0, r.err
    init_nb = r.json
    cert = _write(tmp_path, "hz.pem", _cert_pem("hz"))
    r = cli(
        "federation", "init", "yangtze", "--home", hz, "--endpoint", "127.0.0.1:7001",
        "--tls-cert", cert, "--json",
    )  # fmt: skip
    assert r.code == 0 and r.json["installed"], r.err
    info = {
        "origin": NB_ORIGIN,
        "region": NB,
        "log_public_key": init_nb["log_public_key"],
        "witness_public_key": "07" * 32,
        "tls_cert_pem": _cert_pem("nb"),
        "endpoint": "127.0.0.1:7002",
        "issuers": cli("issuer", "list", "--home", nb, "--json").json,
    }
    r = cli("federation", "add-member", "--home", hz, "--from-info", _write(tmp_path, "nb", info))
    assert r.code == 0, r.err
    f = tmp_path / "penalties.csv"
    f.write_bytes(penalty_csv(NB, rows=3, seed=1, reference_date=date(2026, 6, 1)))
    r = cli("import", "--home", nb, "--adapter", "penalty-csv", f, "--json")
    assert r.code == 0 and r.json["imported"] == 3, r.err
    with _mirror(hz, nb):
        yield Fed(hz, nb, tmp_path)


def _delegate(cli: Cli, f: Fed, *extra: object) -> Any:
    return cli("federation", "delegate-add", "--home", f.hz, "--region", NB, *extra, "--json")


def test_a_repair_at_another_region_needs_a_delegation(
    cli: Cli, fed: Fed, clock: dict[str, int]
) -> None:
    leaf = _leaf_at(cli, fed.nb, 0)  # the boundary row: its minimum is tomorrow
    min_day = _day(T0 + DAY)
    clock["now"] = T0 + DAY
    repair = [
        "lifecycle", "repair", leaf, "--route", "fine paid", "--decided-on", min_day,
        "--home", fed.hz,
    ]  # fmt: skip
    before = fed.export(cli, "before.manifest")

    # no delegation: the existing unauthorised-issuer error, nothing logged
    size = log_size(cli, fed.hz)
    r = cli(*repair, "--target-origin", NB_ORIGIN)
    assert r.code == 1 and "only the issuer that made the finding" in r.err, r.err
    r = cli(*repair)  # found by searching the mirrors: the same refusal
    assert r.code == 1 and "only the issuer that made the finding" in r.err, r.err
    r = cli(*repair, "--target-origin", "credex.elsewhere.example/log")
    assert r.code == 1 and "nor a peer it follows" in r.err
    assert log_size(cli, fed.hz) == size

    # bad delegations change nothing
    r = _delegate(cli, fed, "--issuer", "nobody/x", "--kinds", "penalty.admin", "--from", "0")
    assert r.code == 2 and "no member lists issuer nobody/x" in r.err
    r = cli(
        "federation", "delegate-add", "--home", fed.hz, "--region", "cn-xx", "--issuer",
        HZ_ISSUER, "--kinds", "penalty.admin", "--from", "0",
    )  # fmt: skip
    assert r.code == 2 and "cn-xx is not a member" in r.err
    # a delegation for another kind does not cover penalties
    r = _delegate(cli, fed, "--issuer", HZ_ISSUER, "--kinds", "score.city", "--from", "2026-01-01")
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 3, r.err
    r = cli(*repair, "--target-origin", NB_ORIGIN)
    assert r.code == 1 and "only the issuer that made the finding" in r.err

    r = _delegate(
        cli, fed, "--issuer", HZ_ISSUER, "--kinds", "penalty.admin", "--from", "2026-01-01"
    )
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 4, r.err
    doc = cli("federation", "show", "--home", fed.hz, "--json").json
    assert doc["delegations"] == [
        {
            "region": NB,
            "issuer": HZ_ISSUER,
            "kinds": ["penalty.admin"],
            "valid_from": calendar.timegm((2025, 12, 31, 16, 0, 0)),
            "valid_until": None,
        },
        {
            "region": NB,
            "issuer": HZ_ISSUER,
            "kinds": ["score.city"],
            "valid_from": calendar.timegm((2025, 12, 31, 16, 0, 0)),
            "valid_until": None,
        },
    ]
    assert (
        f"delegation  {NB} -> {HZ_ISSUER}  penalty.admin"
        in cli("federation", "show", "--home", fed.hz).out
    )

    # delegated: logged at Hangzhou about Ningbo's record, counted in status
    size = log_size(cli, fed.hz)
    r = cli(*repair, "--target-origin", NB_ORIGIN, "--json")
    assert r.code == 0, r.err
    assert (r.json["kind"], r.json["index"], r.json["target"]) == ("lifecycle.repair", size, leaf)
    rep_index, rep_leaf = r.json["index"], r.json["leaf_hash"]
    assert log_size(cli, fed.hz) == size + 1
    st = cli("status", leaf, "--home", fed.hz, "--json").json
    assert st["state"] == "repaired" and st["evidence"] == [rep_leaf]
    assert st["reasons"][0].startswith(f"repaired: repaired on {min_day} by {HZ_ISSUER}")

    # a verifier with the manifest counts it; one with the manifest from before ignores it
    after = fed.export(cli, "after.manifest")
    nb0, rep = fed.tmp / "nb0.credex", fed.tmp / "rep.credex"
    assert cli("bundle", 0, "-o", nb0, "--home", fed.nb).code == 0
    assert cli("bundle", rep_index, "-o", rep, "--home", fed.hz).code == 0
    own = Bundle.from_bytes(nb0.read_bytes())
    # Ningbo's bundle, with its log's attestation and status proof (no lifecycle statement
    # in Ningbo's log),
    # carrying Hangzhou's delegated repair (another log: counted when carried)
    carried = Bundle(
        own.statement,
        own.checkpoint,
        status=(Bundle.from_bytes(rep.read_bytes()),),
        attestation=own.attestation,
        status_proof=own.status_proof,
    )
    f = fed.tmp / "carried.credex"
    f.write_bytes(carried.to_bytes())
    r = cli("verify", f, "--trust", after, "--purpose", "punitive", "--json")
    assert r.code == 1 and r.json["failed_step"] == 7, r.out
    assert "repaired" in r.json["error"]["message"]
    r = cli("verify", f, "--trust", before, "--purpose", "punitive", "--json")
    assert r.code == 0 and r.json["statement"]["status"] == "active", r.out

    # removing the delegation: the repair made under it still counts, a new one is refused
    clock["now"] += 60
    r = cli(
        "federation", "delegate-remove", "--home", fed.hz, "--region", NB, "--issuer",
        HZ_ISSUER, "--kinds", "penalty.admin", "--json",
    )  # fmt: skip
    assert r.code == 0 and r.json["version"] == 5, r.err
    kinds = [
        d["kinds"]
        for d in cli("federation", "show", "--home", fed.hz, "--json").json["delegations"]
    ]
    assert kinds == [["score.city"]]
    r = cli("federation", "delegate-remove", "--home", fed.hz, "--region", NB, "--issuer", "x/y")
    assert r.code == 2 and "no matching delegation" in r.err
    assert cli("status", leaf, "--home", fed.hz, "--json").json["state"] == "repaired"
    size = log_size(cli, fed.hz)
    other = _leaf_at(cli, fed.nb, 1)
    r = cli(
        "lifecycle", "repair", other, "--route", "fine paid", "--home", fed.hz,
        "--target-origin", NB_ORIGIN,
    )  # fmt: skip
    assert r.code == 1 and "only the issuer that made the finding" in r.err
    assert log_size(cli, fed.hz) == size
    r = cli("verify", f, "--trust", fed.export(cli, "removed.manifest"), "--purpose", "punitive")
    assert r.code == 1 and "step 7 failed" in r.out


def test_commitment_outcome(cli: Cli, tmp_path: Path, store_url: str, clock) -> None:
    home = init_home(cli, tmp_path / "ningbo", NB, NB_ORIGIN, store_url)
    body = {"commitment_type": "信用修复型", "matter": "按期缴纳罚款", "made_on": "2026-05-20"}
    r = cli(
        "issue", "--home", home, "--kind", "commitment", "--subject", USCC,
        "--body", json.dumps(body, ensure_ascii=False), "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    leaf = r.json[0]["leaf_hash"]
    st = cli("status", leaf, "--home", home, "--json").json
    assert st["state"] == "active" and st["outcome"] is None
    size = log_size(cli, home)
    outcome = ["lifecycle", "outcome", leaf, "--home", home]
    r = cli(*outcome, "--outcome", "MAYBE")
    assert r.code == 1 and "expected FULFILLED or BREACHED" in r.err
    assert log_size(cli, home) == size

    clock["now"] += 60
    r = cli(*outcome, "--outcome", "fulfilled", "--verified-on", _day(T0), "--json")
    assert r.code == 0 and r.json["kind"] == "commitment.outcome", r.err
    st = cli("status", leaf, "--home", home, "--json").json
    assert st["outcome"] == "KEPT" and st["evidence"] == [r.json["leaf_hash"]]
    text = cli("status", leaf, "--home", home).out
    assert "outcome   FULFILLED (KEPT)" in text
    # the first outcome counts: a second is refused, nothing logged
    size = log_size(cli, home)
    r = cli(*outcome, "--outcome", "BREACHED")
    assert r.code == 1 and "already has an outcome" in r.err
    assert log_size(cli, home) == size
