"""End to end: ``credex records`` and ``credex show`` over a node's mirrors (issue #14).

Hangzhou follows Ningbo and mirrors its log as ``credex peers sync`` does (same leaves,
same indices, indexed by ``leaf_for``). Hangzhou finds Ningbo's records by subject and
decision number, shows them by leaf hash or by index with ``--origin``, counts Ningbo's
own lifecycle statements once they are mirrored (Hangzhou itself may not object to
Ningbo's finding), and says that a person's body is kept by its issuer. Hangzhou runs on
SQLite and PostgreSQL (``store_url``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
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
from credex.cli import find_cmds, lifecycle_cmds, node_cmds, proof_cmds
from credex.ledger.indexing import leaf_for
from credex.ledger.log import AppendOnlyLog
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.home import NodeHome
from credex.node.local import record_hash

from .clirunner import Cli, init_home, make_cli
from .test_records_cli import Row, rows_of

HZ, NB = "cn-zj-hangzhou", "cn-zj-ningbo"
HZ_ORIGIN, NB_ORIGIN = "credex.hangzhou.example/log", "credex.ningbo.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))
DAY = 86400


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, lifecycle_cmds, find_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _ca_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nb-ca")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _sync(hz: Path, nb: Path) -> None:
    """Append to Hangzhou's mirror what Ningbo logged since (as a verified sync would)."""
    src_store, store = (
        SqlStore(NodeHome.open(nb).db_url),
        SqlStore(mirror_url(NodeHome.open(hz), NB_ORIGIN)),
    )
    try:
        with AppendOnlyLog(src_store) as src, AppendOnlyLog(store) as mirror:
            new = []
            for e in src.entries(mirror.size, src.size):
                st = Statement.from_bytes(e.leaf)
                new.append(leaf_for(st, record_hash(st.claims.iss, st.payload)))
            mirror.append_many(new)
    finally:
        store.close()
        src_store.close()


@dataclass(frozen=True)
class Pair:
    hz: Path
    nb: Path
    rows: list[Row]
    imported: list[dict[str, Any]]

    def result(self, category: str) -> tuple[Row, dict[str, Any]]:
        row = next(r for r in self.rows if r.category == category)
        return row, next(r for r in self.imported if r["line"] == row.line)


@pytest.fixture
def pair(cli: Cli, tmp_path: Path, store_url: str) -> Iterator[Pair]:
    hz = init_home(cli, tmp_path / "hangzhou", HZ, HZ_ORIGIN, store_url)
    nb = init_home(cli, tmp_path / "ningbo", NB, NB_ORIGIN)
    data = penalty_csv(NB, rows=5, seed=3, reference_date=date(2026, 6, 1))
    f = tmp_path / "nb.csv"
    f.write_bytes(data)
    r = cli("import", "--home", nb, "--adapter", "penalty-csv", f, "--json")
    assert r.code == 0, r.err
    home = NodeHome.open(hz)
    PeerRegistry(home).add(NB_ORIGIN, "127.0.0.1:7002", _ca_pem(), T0)
    url = mirror_url(home, NB_ORIGIN)
    _sync(hz, nb)
    try:
        yield Pair(hz, nb, rows_of(data), r.json["records"])
    finally:
        if not url.startswith("sqlite"):
            schema = str(make_url(url).query["options"]).split("search_path=", 1)[1]
            engine = sa.create_engine(home.db_url)
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                engine.dispose()


def test_records_and_show_find_mirrored_records(cli: Cli, pair: Pair) -> None:
    org, want = pair.result("法人及非法人组织")
    r = cli("records", "--home", pair.hz, "--subject", org.code, "--json")
    assert r.code == 0, r.err
    (got,) = r.json["records"]
    assert (got["origin"], got["index"], got["leaf_hash"]) == (
        NB_ORIGIN,
        want["index"],
        want["leaf_hash"],
    )
    assert r.json["searched"] == [
        {"origin": HZ_ORIGIN, "size": 0},
        {"origin": NB_ORIGIN, "size": len(pair.rows)},
    ]
    # the mirror indexes decision numbers as the issuer does
    r = cli("records", "--home", pair.hz, "--decision-no", org.decision_no, "--json")
    assert [f["leaf_hash"] for f in r.json["records"]] == [want["leaf_hash"]]

    by_leaf = cli("show", want["leaf_hash"], "--home", pair.hz, "--json").json
    by_index = cli("show", want["index"], "--origin", NB_ORIGIN, "--home", pair.hz, "--json")
    assert by_index.code == 0 and by_index.json == by_leaf
    assert by_leaf["origin"] == NB_ORIGIN and by_leaf["record"]["region"] == NB
    # an index without --origin is this node's own log, which is empty
    r = cli("show", want["index"], "--home", pair.hz)
    assert r.code == 1 and "expected 0 <= index < 0" in r.err
    r = cli("show", "cd" * 32, "--home", pair.hz)
    assert r.code == 1 and "not in this node's log; its 1 mirrors" in r.err


def test_status_counts_lifecycle_statements_from_every_log_held(
    cli: Cli, pair: Pair, clock: dict[str, int]
) -> None:
    org, want = pair.result("法人及非法人组织")
    leaf = want["leaf_hash"]

    def state() -> str:
        r = cli(
            "records", "--home", pair.hz, "--subject", org.code, "--kind", "penalty.admin", "--json"
        )
        (found,) = r.json["records"]
        return str(found["status"])

    before = state()
    # Hangzhou may not object to Ningbo's finding (no delegation): refused, nothing logged
    clock["now"] = T0 + DAY
    r = cli("lifecycle", "object", leaf, "--home", pair.hz, "--target-origin", NB_ORIGIN)
    assert r.code == 1 and "only the issuer that made the finding" in r.err
    assert len(r.err.strip().splitlines()) == 1
    # Ningbo objects: logged at Ningbo, counted at Hangzhou once mirrored
    r = cli("lifecycle", "object", leaf, "--home", pair.nb)
    assert r.code == 0, r.err
    assert state() == before
    _sync(pair.hz, pair.nb)
    assert state() == "under-objection"
    doc = cli("show", leaf, "--home", pair.hz, "--json").json
    assert [(h["origin"], h["kind"]) for h in doc["history"]] == [
        (NB_ORIGIN, "lifecycle.objection")
    ]
    # Ningbo rejects the objection; once mirrored, Hangzhou counts the resolution too
    clock["now"] = T0 + 2 * DAY
    r = cli("lifecycle", "resolve", leaf, "--outcome", "REJECTED", "--home", pair.nb)
    assert r.code == 0, r.err
    _sync(pair.hz, pair.nb)
    doc = cli("show", leaf, "--home", pair.hz, "--json").json
    assert [h["kind"] for h in doc["history"]] == [
        "lifecycle.objection",
        "lifecycle.objection-resolved",
    ]
    assert doc["status"]["state"] == before == state()
    assert not any(h["origin"] == HZ_ORIGIN for h in doc["history"])


def test_a_mirrored_persons_record_is_found_without_its_body(
    cli: Cli, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, want = pair.result("自然人")
    # the same pseudonym at Hangzhou only with the federation's subject key: search by it
    at_nb = cli("show", want["leaf_hash"], "--home", pair.nb, "--json").json
    r = cli("records", "--home", pair.hz, "--subject", at_nb["subject"], "--json")
    (found,) = r.json["records"]
    assert found["origin"] == NB_ORIGIN and not found["body_held"]
    assert found["decision_no"] is None
    doc = cli("show", want["leaf_hash"], "--home", pair.hz, "--json").json
    assert doc["body_state"] == "not-held" and doc["record"] is None
    assert "kept off-log by cn-zj-ningbo/platform; ask the issuing node" in doc["body_note"]
    # Hangzhou's own pseudonym of the ID number differs (its own subject key): no match
    monkeypatch.setattr("sys.stdin", io.StringIO(person.id_no + "\n"))
    r = cli("records", "--home", pair.hz, "--person-id", "-", "--json")
    assert r.code == 0 and r.json["records"] == [] and person.id_no not in r.text
