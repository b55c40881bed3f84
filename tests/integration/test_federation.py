"""Federation end to end: three real nodes on 127.0.0.1 mirror, witness and verify each other.

Homes A, B, C are created with the Python API; the manifest (all three, quorum 2 of the
others, each member with its mTLS endpoint and TLS chain) is proposed at A and installed at
B and C, which registers every member's node certificate as a ``peer`` client. Servers run
with real TLS and their manifest witness; cosignatures are collected over mTLS; peers sync
over the public port; a bank fetches A's record from B's mirror and verifies it offline
with the manifest. Faults: an equivocating A (a copy of A's keys with other entries), a
forged entry, a rolled-back checkpoint, a peer that is down and comes back. One test runs
node C on PostgreSQL (``store_url``). Ports are picked by binding port 0; no sleeps.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.cli.main import main
from credex.ledger.bundle import Bundle
from credex.ledger.errors import BodyNotHeldError, InconsistentLogError, NotFoundError
from credex.ledger.evidence import verify_evidence
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import Manifest, ManifestBody
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.verify import run_verification, verify_bundle
from credex.node import federation as federate
from credex.node.demo.federation import FederationMember, free_port
from credex.node.federation import manifests as fed
from credex.node.federation.peers import PeerRegistry
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.tls import NodeTls

T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
AS_OF = date(2026, 5, 31)
NODES = (
    ("cn-zj-ningbo", "credex.ningbo.example/log", 1),
    ("cn-zj-hangzhou", "credex.hangzhou.example/log", 2),
    ("cn-fj-xiamen", "credex.xiamen.example/log", 3),
)


def _now() -> int:
    return int(time.time())


_free_port = free_port


class Node(FederationMember):
    """The demo's member class plus a test helper to issue scores at a fixed time."""

    def issue(self, n: int, seed: int) -> None:
        assert self.node is not None
        records = score_records(
            self.home.region, self.home.subject_key(), n, seed=seed, as_of=AS_OF
        )
        self.node.issue(records, iat=T0)

    def collect(self, manifest: Manifest, timeout_s: float = 5) -> dict[str, str]:
        return super().collect(manifest, timeout_s)


def _verify_mirrored(data: bytes, issuer: LocalNode | None, manifest: Manifest) -> None:
    """A mirror holds a person's score as a hash envelope without its body: steps 1-6
    (signature, inclusion, witness quorum) pass and step 7 names the missing body; with
    the body the issuing node hands over, the same bundle verifies."""
    b = Bundle.from_bytes(data)
    if not Statement.from_bytes(b.statement).is_envelope:  # a record that stays on-log
        assert verify_bundle(data, manifest).ok
        return
    report = run_verification(data, manifest)
    assert report.failed_step == 7, report.to_json_value()
    assert isinstance(report.error, BodyNotHeldError)
    assert all(s.ok for s in report.steps[:6])
    assert issuer is not None
    body = issuer.bodies.get(Statement.from_bytes(b.statement).leaf_hash)
    assert body is not None
    assert verify_bundle(Bundle(b.statement, b.checkpoint, preimage=body).to_bytes(), manifest).ok


@dataclass
class Federation:
    manifest: Manifest
    nodes: list[Node]
    twin: Path  # a copy of A's home (same keys, same log so far), not started


def _federation(root: Path, c_db: str | None) -> Federation:
    homes: list[NodeHome] = []
    for i, (region, origin, seed) in enumerate(NODES):
        db = c_db if i == 2 else None
        h = NodeHome.init(
            root / region,
            region=region,
            origin=origin,
            db=db,
            now=T0,
            log_seed=bytes([seed]) * 32,
            subject_secret=b"\x02" * 32,
            platform_seed=bytes([seed + 16]) * 32,
        )
        homes.append(h)
    nodes = [Node(h, f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}") for h in homes]
    members = []
    for n in nodes:
        sha, chain = fed.node_tls_chain(n.home, _now())
        members.append(
            fed.local_member(
                n.home,
                endpoint=n.public,
                tls_sha256=sha,
                mtls_endpoint=n.mtls,
                tls_chain_pem=chain,
            )
        )
    admin = fed.admin_key(homes[0], create=True)
    body = ManifestBody("yangtze", 1, None, T0, tuple(members), 2, (admin.public_key,), 1)
    proposal = fed.propose(homes[0], body, _now())
    assert proposal.installed
    for h in homes[1:]:
        fed.install(h, proposal.signed, _now())
    twin = root / "twin-a"
    shutil.copytree(homes[0].path, twin)
    manifest = fed.load_manifest(homes[1])
    for n in nodes:
        assert fed.load_manifest(n.home).hash == manifest.hash
        federate.add_peers_from_manifest(n.home, manifest, _now())
        n.start(manifest)
    return Federation(manifest, nodes, twin)


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    f = _federation(tmp_path, None)
    try:
        yield f
    finally:
        for n in f.nodes:
            n.close()


def _round(f: Federation) -> None:
    """Everyone collects cosignatures, then everyone syncs everyone."""
    for n in f.nodes:
        assert n.collect(f.manifest) == {}
    for n in f.nodes:
        for peer in f.nodes:
            if peer is not n:
                r = federate.sync_peer(n.home, peer.origin, _now(), manifest=f.manifest)
                assert r.error is None, r.error


# --- tests -------------------------------------------------------------------------------------


def test_mirror_bundle_verifies_with_quorum(tmp_path: Path, store_url: str) -> None:
    f = _federation(tmp_path, None if store_url.startswith("sqlite") else store_url)
    try:
        a, b, c = f.nodes
        for i, n in enumerate(f.nodes):
            n.issue(3, seed=i)
        _round(f)
        # every peer is registered as an mtls client at every other node
        names = {cl.name for cl in NodeTls(b.home.path, name=b.home.region).clients()}
        assert names == {"peer-cn-zj-ningbo", "peer-cn-fj-xiamen"}
        assert a.node is not None and c.node is not None
        note = a.node.latest_checkpoint()
        assert note is not None and len(note.signatures) == 3  # log + B + C
        status = PeerRegistry(b.home).get(a.origin).status
        assert status["mirrored_size"] == status["checkpoint_size"] == a.node.log.size == 4
        # a bank fetches A's record from B's mirror and verifies it offline (quorum 2)
        with b.client() as bank:
            data = bank.get_bundle(2, origin=a.origin)
            own = bank.get_bundle(1)
        _verify_mirrored(data, a.node, f.manifest)
        _verify_mirrored(own, b.node, f.manifest)  # the public port never serves a body
        # and C's (PostgreSQL in one run) record from A's mirror
        with a.client() as bank:
            _verify_mirrored(bank.get_bundle(0, origin=c.origin), c.node, f.manifest)
    finally:
        for n in f.nodes:
            n.close()
        if not store_url.startswith("sqlite"):
            _drop_mirror_schemas(store_url)


def _drop_mirror_schemas(url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    base = str(make_url(url).query["options"]).split("search_path=", 1)[1]
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": f"{base[:40]}_mirror_%"},
            )
            for (name,) in list(rows):
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        engine.dispose()


def test_equivocation_caught_by_witness_and_rollback_by_sync(federation: Federation) -> None:
    f = federation
    a, b, _ = f.nodes
    a.issue(3, seed=0)
    _round(f)
    twin = Node(NodeHome.open(f.twin), f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}")
    try:
        twin.node = LocalNode(twin.home)
        twin.issue(3, seed=99)  # same origin and keys, other entries: same size, other root
        assert twin.node.log.size == a.node.log.size  # type: ignore[union-attr]
        errors = twin.collect(f.manifest)
        assert set(errors) == {b.origin, f.nodes[2].origin}
        assert "split view" in errors[b.origin]
        with WitnessStore(b.home.db_url) as store:
            infos = store.list_evidence()
            assert infos
            ev = store.get_evidence(infos[0].id).evidence
        verify_evidence(ev, trusted_log=f.manifest.log_for_origin(a.origin))
        # B follows the twin instead: its checkpoint is smaller than what B verified
        a.issue(2, seed=1)
        _round(f)
        twin.start(f.manifest)
        reg = PeerRegistry(b.home)
        entry = reg.get(a.origin)
        reg.add(a.origin, twin.public, entry.ca_pem, _now())
        with pytest.raises(InconsistentLogError, match="rolled back"):
            federate.sync_peer(b.home, a.origin, _now(), manifest=f.manifest)
        assert "rolled back" in reg.get(a.origin).status["error"]
        with WitnessStore(b.home.db_url) as store:
            assert len(store.list_evidence()) == 2
            ev = store.get_evidence(store.list_evidence()[-1].id).evidence
        # a rollback alone is not conclusive (the older note may be genuine): kept, flagged
        assert ev.kind == "rollback" and not ev.conclusive
    finally:
        twin.close()


def test_forged_entry_not_mirrored(
    federation: Federation, capsys: pytest.CaptureFixture[str]
) -> None:
    f = federation
    a, b, _ = f.nodes
    a.issue(2, seed=0)
    assert a.node is not None
    records = score_records(a.home.region, a.home.subject_key(), 1, seed=7, as_of=AS_OF)
    rogue = sign_statement(records[0], a.home.platform_issuer, SigningKey(b"\x66" * 32), T0)
    a.node.append([rogue])  # the log accepts it; no verifier will
    a.issue(1, seed=8)
    a.collect(f.manifest)
    r = federate.sync_peer(b.home, a.origin, _now(), manifest=f.manifest)
    assert r.error is not None and r.error.startswith("entry 3:")
    assert r.mirrored_size == 3 and r.checkpoint_size == a.node.log.size
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["peers", "status", "--home", str(b.home.path), "--json"])
    assert e.value.code in (0, None)
    rows = {r["origin"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[a.origin]["mirrored_size"] == 3
    assert rows[a.origin]["error"].startswith("entry 3:")
    # the mirror serves no bundle beyond what it holds a signed root for
    with b.client() as bank, pytest.raises(NotFoundError):
        bank.get_bundle(0, origin=a.origin)


def test_peer_down_then_resumes(federation: Federation) -> None:
    f = federation
    a, b, _ = f.nodes
    a.issue(3, seed=0)
    _round(f)
    a.issue(4, seed=5)
    a.collect(f.manifest)
    a.stop_server()
    r = federate.sync_peer(b.home, a.origin, _now(), manifest=f.manifest, timeout_s=2)
    assert r.error is not None and r.mirrored_size == 4
    assert PeerRegistry(b.home).get(a.origin).status["error"]
    a.start(f.manifest)
    deadline = time.monotonic() + 20
    while True:
        r = federate.sync_peer(b.home, a.origin, _now(), manifest=f.manifest, timeout_s=2)
        if r.error is None or time.monotonic() > deadline:
            break
    assert r.error is None and r.mirrored_size == 8 and r.new_entries == 4
    assert PeerRegistry(b.home).get(a.origin).status["error"] is None
    with b.client() as bank:
        _verify_mirrored(bank.get_bundle(7, origin=a.origin), a.node, f.manifest)


def test_serve_follow_loop_syncs_and_collects(federation: Federation) -> None:
    """The loop ``credex serve --follow`` runs: sync every peer, then collect cosignatures."""
    import threading

    from credex.node.federation.follow import follow_until
    from credex.node.federation.watch import ManifestWatch

    f = federation
    a, b, c = f.nodes
    for i, n in enumerate(f.nodes):
        n.issue(2, seed=10 + i)
    for n in (a, c):
        assert n.collect(f.manifest) == {}
    assert b.node is not None
    stop = threading.Event()
    loop = threading.Thread(
        target=follow_until,
        args=(b.home, b.node, ManifestWatch(b.home).current, 0.05, stop, _now),
    )
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            reg = PeerRegistry(b.home)
            done = all(
                reg.get(p.origin).status.get("mirrored_size") == p.node.log.size  # type: ignore[union-attr]
                for p in (a, c)
            )
            note = b.node.latest_checkpoint()
            if done and note is not None and len(note.signatures) == 3:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert done, PeerRegistry(b.home).get(a.origin).status
    note = b.node.latest_checkpoint()
    assert note is not None and len(note.signatures) == 3  # B's log + A and C as witnesses
    with b.client() as bank:  # B's mirror of A, filled by the loop, serves A's records
        _verify_mirrored(bank.get_bundle(1, origin=a.origin), a.node, f.manifest)
