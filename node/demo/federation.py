"""The federation story (``credex demo``, part 2): five real nodes on 127.0.0.1.

Ningbo, Hangzhou, Xiamen, Qianhai and Hong Kong each get a home, a TLS server (public port
for the Log service, mTLS port for Submit and Witness) and sample data. One signed
manifest (quorum: 3 cosignatures from the other 4 members) is proposed at Ningbo and
installed everywhere. Every node collects cosignatures for its checkpoint, then every node
mirrors every other (each entry verified). A "bank" fetches a Ningbo score from the
**Hangzhou** server and verifies it offline against the manifest, quorum included. Then a
twin of Ningbo (the same keys, other entries) asks the witnesses to cosign a second history:
they refuse, and the evidence they keep verifies on its own.

Everything runs in ``base``; servers are stopped before returning.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from credex.adapters.registry import ADAPTERS
from credex.adapters.sample import score_records
from credex.adapters.sample_hk import hk_report_records
from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_date
from credex.ledger.evidence import verify_evidence
from credex.ledger.manifest import Manifest, ManifestBody
from credex.ledger.statement import Statement
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.verify import run_verification
from credex.node.demo.recognition import repairable_sample, run_recognition_demo
from credex.node.federation import manifests as fed
from credex.node.federation.follow import add_peers_from_manifest, sync_peer
from credex.node.federation.members import PeerForwarder, peer_clients
from credex.node.federation.mirrors import MirrorBundles
from credex.node.federation.witnessing import ManifestWitness, collect_cosignatures, witness_backend
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import PeerClient
from credex.node.rpc.server import NodeServer, create_server
from credex.node.rpc.tls import NodeTls
from credex.node.services.importer import import_bytes

__all__ = ["MEMBERS", "FederationMember", "free_port", "run_federation_demo"]

MEMBERS: Final = (
    ("cn-zj-ningbo", "credex.ningbo.example/log"),
    ("cn-zj-hangzhou", "credex.hangzhou.example/log"),
    ("cn-fj-xiamen", "credex.xiamen.example/log"),
    ("cn-gd-qianhai", "credex.qianhai.example/log"),
    ("hk", "credex.hk.example/log"),
)
QUORUM: Final = 3


def _now() -> int:
    return int(time.time())


#: where ``free_port`` picks from: below the kernel's ephemeral range, so that no outgoing
#: connection of any process takes the port between the pick and the server's bind
_PORTS: Final = (10_000, 32_768)


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return _PORTS[1]


_given: set[int] = set()
_given_lock = threading.Lock()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and that this process has not handed
    out before. Endpoints go into the signed manifest before the servers start, so the
    port is picked, released and bound again later: it is drawn from below the ephemeral
    range (a port from ``bind(0)`` is in that range, and an outgoing connection once took
    one in between: the server then failed to listen), checked by binding it, and
    remembered (two draws of one federation once returned the same port: the second
    server could not listen)."""
    low, high = _PORTS[0], min(_PORTS[1], _ephemeral_low())
    rng = random.SystemRandom()
    with _given_lock:
        for _ in range(256):
            port = rng.randrange(low, high)
            if port in _given:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _given.add(port)
            return port
        while True:  # a crowded range: the kernel's choice, still never twice
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in _given:
                _given.add(port)
                return port


@dataclass
class FederationMember:
    """One member node in-process: its LocalNode, TLS server and manifest witness."""

    home: NodeHome
    public: str
    mtls: str
    node: LocalNode | None = None
    server: NodeServer | None = None
    witness: ManifestWitness | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def start(self, manifest: Manifest) -> None:
        self.node = self.node or LocalNode(self.home)
        self.witness = self.witness or witness_backend(self.home, manifest, clock=_now)
        self.server, _ = create_server(
            self.node,
            home=self.home,
            listen=self.public,
            mtls_listen=self.mtls,
            witness=self.witness,
            mirrors=MirrorBundles(self.home),
            forward=PeerForwarder(self.home),
        )

    @property
    def origin(self) -> str:
        return self.home.origin

    def collect(self, manifest: Manifest, timeout_s: float = 10) -> dict[str, str]:
        """Publish a checkpoint and collect the other members' cosignatures; returns
        the witnesses that refused, with why."""
        assert self.node is not None
        errors: dict[str, str] = {}
        clients = peer_clients(self.home, manifest, timeout_s=timeout_s)
        try:
            collect_cosignatures(self.node, self.home, manifest, clients, _now(), errors=errors)
        finally:
            for c in clients.values():
                c.close()
        return errors

    def client(self, timeout_s: float = 10) -> PeerClient:
        """A Log client (a bank, an auditor) of this member's public port."""
        ca = NodeTls(self.home.path, name=self.home.region).ca_pem()
        return PeerClient(self.public, ca_pem=ca, timeout_s=timeout_s)

    def bank(self, name: str = "demo-bank", timeout_s: float = 10) -> PeerClient:
        """A bank registered at this member (``credex client add NAME --role bank``),
        calling over mTLS: the one way a person's record body leaves a node (Lookup)."""
        tls = NodeTls(self.home.path, name=self.home.region)
        key, cert, _ = tls.issue_client(name, "bank", now=_now())
        return PeerClient(
            self.public,
            ca_pem=tls.ca_pem(),
            client_cert=cert,
            client_key=key,
            mtls_endpoint=self.mtls,
            timeout_s=timeout_s,
        )

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop(None).wait()
            self.server = None

    def close(self) -> None:
        self.stop_server()
        if self.witness is not None:
            self.witness.close()
            self.witness = None
        if self.node is not None:
            self.node.close()
            self.node = None


def _reason(error: str) -> str:
    """The witness's own words, without transport prefix and root hashes."""
    text = error.split("AddCheckpoint: ", 1)[-1]
    return re.sub(r": [0-9a-f]{64} != [0-9a-f]{64}\Z", "", text)


def _init(base: Path, now: int) -> list[FederationMember]:
    out = []
    for region, origin in MEMBERS:
        home = NodeHome.init(
            base / region,
            region=region,
            origin=origin,
            db=None,
            now=now,
            log_seed=os.urandom(32),
            subject_secret=os.urandom(32),
            platform_seed=os.urandom(32),
        )
        out.append(FederationMember(home, f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"))
    return out


def _manifest(members: list[FederationMember], now: int) -> Manifest:
    entries = []
    for m in members:
        sha, chain = fed.node_tls_chain(m.home, now)
        entries.append(
            fed.local_member(
                m.home, endpoint=m.public, tls_sha256=sha, mtls_endpoint=m.mtls, tls_chain_pem=chain
            )
        )
    first = members[0].home
    admin = fed.admin_key(first, create=True)
    body = ManifestBody("credex-demo", 1, None, now, tuple(entries), QUORUM, (admin.public_key,), 1)
    proposal = fed.propose(first, body, now)
    for m in members[1:]:
        fed.install(m.home, proposal.signed, now)
    manifest = fed.load_manifest(first)
    for m in members:
        add_peers_from_manifest(m.home, manifest, now)
    return manifest


def _load_data(m: FederationMember, today: date, now: int) -> None:
    assert m.node is not None
    region = m.home.region
    if region != "hk":
        csv = repairable_sample(region, today, now)
        summary = import_bytes(m.node, ADAPTERS["penalty-csv"], csv, iat=now)
        m.stats["penalties"] = summary.imported
    if region in ("cn-zj-ningbo", "cn-zj-hangzhou", "cn-fj-xiamen"):
        scores = score_records(region, m.home.subject_key(), 8, seed=4, as_of=today)
        results = m.node.issue(scores, iat=now)
        m.stats["scores"] = len(results)
        m.stats["first_score_index"] = results[0].index
    if region == "hk":
        m.stats["hk_reports"] = len(
            m.node.issue(hk_report_records(6, seed=5, as_of=today), iat=now)
        )


def _round(members: list[FederationMember], manifest: Manifest) -> dict[str, Any]:
    witness_errors = {}
    for m in members:
        errs = m.collect(manifest)
        if errs:
            witness_errors[m.home.region] = errs
    mirrored = 0
    sync_errors = {}
    for m in members:
        for peer in members:
            if peer is m:
                continue
            r = sync_peer(m.home, peer.home.origin, _now(), manifest=manifest)
            mirrored += r.new_entries
            if r.error:
                sync_errors[f"{m.home.region}<-{peer.home.region}"] = r.error
    return {
        "mirrored_entries": mirrored,
        "witness_errors": witness_errors,
        "sync_errors": sync_errors,
    }


def run_federation_demo(
    base: Path, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Run the five-node story in ``base``; returns a summary (``ok`` says it all held)."""
    t0 = time.perf_counter()
    now = _now()
    today = cst_date(now)  # the day in China, as every record and message dates it
    out: dict[str, Any] = {"members": [r for r, _ in MEMBERS], "quorum": QUORUM}
    progress("federation: five homes and one signed manifest")
    members = _init(base, now)
    manifest = _manifest(members, now)
    twin_path = base / "ningbo-twin"
    shutil.copytree(members[0].home.path, twin_path)  # same keys, same (empty) log
    twin: FederationMember | None = None
    try:
        progress("federation: start five TLS servers, load sample data")
        for m in members:
            m.start(manifest)
            _load_data(m, today, now)
        progress("federation: witness each other, then mirror each other")
        out["round"] = _round(members, manifest)
        ningbo, hangzhou = members[0], members[1]
        assert ningbo.node is not None
        note = ningbo.node.latest_checkpoint()
        out["ningbo_checkpoint"] = {
            "size": None if note is None else note.checkpoint.size,
            "signatures": None if note is None else len(note.signatures),
        }
        progress("federation: a bank fetches a Ningbo score from the Hangzhou server")
        index = ningbo.stats["first_score_index"]
        with hangzhou.client() as anyone:
            mirrored = anyone.get_bundle(index, origin=ningbo.home.origin)
        # a person's score is a hash envelope: the public port (here Hangzhou's mirror)
        # proves it (steps 1-6) but never serves a body; a bank registered at Hangzhou
        # looks the subject up (audited), and Hangzhou forwards to Ningbo, which holds it
        bare = run_verification(mirrored, manifest)
        subject = Statement.from_bytes(Bundle.from_bytes(mirrored).statement).claims.sub
        with hangzhou.bank() as bank:
            answer = bank.lookup(
                subject=subject, purpose="eligibility", authorisation="demo:loan-2026-0042"
            )
        data = next(
            r.bundle
            for r in answer.records
            if r.origin == ningbo.home.origin and r.leaf_index == index and r.bundle
        )
        report = run_verification(data, manifest, purpose="eligibility")
        ningbo.collect(manifest)  # Ningbo logged its own audit.lookup: witnesses cosign it
        out["bank"] = {
            "fetched_from": hangzhou.home.origin,
            "record_of": ningbo.home.origin,
            "body_from": ningbo.home.origin,
            "without_body_failed_step": bare.failed_step,
            "lookup_logged_at": answer.audit_index,
            "leaf_index": index,
            "bytes": len(data),
            "verify": report.to_json_value(),
        }
        progress("federation: a twin of Ningbo shows a second history")
        twin = FederationMember(
            NodeHome.open(twin_path), f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        )
        twin.node = LocalNode(twin.home)
        size = ningbo.node.log.size  # the twin grows to the same size with other entries
        fake = score_records(
            "cn-zj-ningbo", twin.home.subject_key(), size - twin.node.log.size, seed=99, as_of=today
        )
        twin.node.issue(fake, iat=now)
        refused = twin.collect(manifest)
        with WitnessStore(hangzhou.home.db_url) as store:
            infos = store.list_evidence()
            evidence = store.get_evidence(infos[-1].id).evidence if infos else None
        conclusive = False
        if evidence is not None:
            verify_evidence(evidence, trusted_log=manifest.log_for_origin(ningbo.home.origin))
            conclusive = evidence.conclusive
        twin_bundle = run_verification(twin.node.bundle(0, _now()).to_bytes(), manifest)
        out["equivocation"] = {
            "twin_size": twin.node.log.size,
            "real_size": size,
            "witnesses_refusing": sorted(refused),
            "reasons": sorted({_reason(r) for r in refused.values()}),
            "evidence_at_hangzhou": None if evidence is None else evidence.kind,
            "evidence_conclusive": conclusive,
            "twin_bundle_verdict": "valid" if twin_bundle.ok else "invalid",
            "twin_bundle_failed_step": twin_bundle.failed_step,
            "twin_bundle_error": None if twin_bundle.error is None else str(twin_bundle.error),
        }
        # part 3 runs on the same five servers before they stop
        out["recognition"] = run_recognition_demo(members, manifest, progress, clock=_now)
    finally:
        if twin is not None:
            twin.close()
        for m in members:
            m.close()
    out["nodes"] = {m.home.region: m.stats for m in members}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    eq = out["equivocation"]
    out["ok"] = (
        not out["round"]["witness_errors"]
        and not out["round"]["sync_errors"]
        and out["bank"]["verify"]["verdict"] == "valid"
        and len(eq["witnesses_refusing"]) == len(MEMBERS) - 1
        and eq["evidence_conclusive"]
        and eq["twin_bundle_verdict"] == "invalid"
        and out["recognition"]["ok"]
    )
    return out
