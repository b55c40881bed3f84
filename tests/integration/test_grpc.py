"""The node's gRPC server end to end: real servers on 127.0.0.1 port 0, real TLS and mTLS.

Every Log RPC's bytes are checked with the ledger's own verifiers; Submit acknowledges only
durable entries (checked by reopening the store); authentication and the status-code table
of docs/grpc.md are exercised; ``credex serve`` runs as a real subprocess (SIGTERM, and
kill -9 during a streamed submit followed by a restart). Storage-dependent tests run on
SQLite and PostgreSQL (``store_url``). No fixed ports; no sleeps except bounded polling.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from credex.adapters.sample import score_records
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import (
    SignedNote,
    cosign_checkpoint,
    verify_note_signature,
)
from credex.ledger.errors import (
    CborError,
    ConsistencyProofError,
    FormatError,
    NotFoundError,
    OutOfRangeError,
    PeerUnavailableError,
    PolicyError,
    PreimageMismatchError,
    SignatureError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement
from credex.ledger.verify import run_verification, verify_bundle
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import PeerClient
from credex.node.rpc.convert import MAX_PROOFS_BATCH
from credex.node.rpc.errors import witness_size_of
from credex.node.rpc.server import NodeServer, ServerPorts, create_server
from credex.node.rpc.tls import NodeTls
from credex.v1 import log_pb2, submit_pb2, submit_pb2_grpc

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
AS_OF = date(2026, 5, 31)
DEADLINE_S = 30.0


def _init_home(path: Path, db: str | None, region: str = REGION, origin: str = ORIGIN) -> NodeHome:
    return NodeHome.init(
        path,
        region=region,
        origin=origin,
        db=db,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )


def _db(store_url: str) -> str | None:
    return None if store_url.startswith("sqlite") else store_url


def _statements(node: LocalNode, n: int, seed: int = 0, iat: int = T0) -> list[bytes]:
    """``n`` signed statements dated ``iat``: a node logs them only within its clock's
    skew (``credex.ledger.logtime``), so a real ``credex serve`` needs the real time."""
    records = score_records(REGION, node.home.subject_key(), n, seed=seed, as_of=AS_OF)
    return [s.to_bytes() for s in node.sign(records, None, iat)]


# --- a fake witness backend (tests only) ------------------------------------------------------


class FakeWitness:
    """C2SP tlog-witness over one known log, state in memory."""

    def __init__(self, origin: str, log_public_key: bytes, key: SigningKey) -> None:
        self.origin, self.log_key, self.key = origin, log_public_key, key
        self.size, self.root = 0, b""

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str:
        note = SignedNote.from_text(note_text)
        cp = note.checkpoint
        if cp.origin != self.origin:
            raise NotFoundError("witness: unknown log origin")
        verify_note_signature(note, self.origin, self.log_key)
        if old_size != self.size:
            err = OutOfRangeError(f"witness: old size is not the latest: got {old_size}")
            err.witness_size = self.size  # type: ignore[attr-defined]
            raise err
        if old_size > 0:
            verify_consistency(old_size, cp.size, self.root, cp.root, proof)
        self.size, self.root = cp.size, cp.root
        return cosign_checkpoint(note, "witness.test", self.key, T0).to_line()


# --- fixtures --------------------------------------------------------------------------------


@dataclass
class Served:
    home: NodeHome
    node: LocalNode
    server: NodeServer
    ports: ServerPorts
    tls: NodeTls
    witness: FakeWitness

    @property
    def public(self) -> str:
        return f"127.0.0.1:{self.ports}"

    @property
    def mtls(self) -> str:
        return f"127.0.0.1:{self.ports.mtls}"

    def client(self, name: str | None = None, role: str = "issuer", **kw) -> PeerClient:
        cert = key = None
        if name is not None:
            key, cert, _ = self.tls.issue_client(name, role, now=int(time.time()))
        return self.connect(cert, key, **kw)

    def connect(self, cert: bytes | None, key: bytes | None, **kw) -> PeerClient:
        return PeerClient(
            self.public,
            ca_pem=self.tls.ca_pem(),
            client_cert=cert,
            client_key=key,
            mtls_endpoint=self.mtls,
            **kw,
        )


def _serve(home: NodeHome, **kw) -> Served:
    node = LocalNode(home)
    witness = FakeWitness(ORIGIN, home.log_key().public_key, SigningKey(b"\x09" * 32))
    server, ports = create_server(node, home=home, witness=witness, clock=lambda: T0, **kw)
    return Served(home, node, server, ports, NodeTls(home.path, name=home.region), witness)


@pytest.fixture
def served(tmp_path: Path, store_url: str) -> Iterator[Served]:
    s = _serve(_init_home(tmp_path / "home", _db(store_url)))
    try:
        yield s
    finally:
        s.server.stop(None).wait()
        s.node.close()


@pytest.fixture
def served_sqlite(tmp_path: Path) -> Iterator[Served]:
    s = _serve(_init_home(tmp_path / "home", None), max_message_bytes=1 << 20)
    try:
        yield s
    finally:
        s.server.stop(None).wait()
        s.node.close()


def _rpc_code(fn: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as e:
        fn()
    return e.value.code(), e.value.details() or ""


def _raw_channel(s: Served, *, cert: bytes | None = None, key: bytes | None = None, mtls=False):
    creds = grpc.ssl_channel_credentials(s.tls.ca_pem(), key, cert)
    return grpc.secure_channel(s.mtls if mtls else s.public, creds)


# --- Log -------------------------------------------------------------------------------------


def test_log_rpcs_return_bytes_that_verify(served: Served) -> None:
    records = score_records(REGION, served.home.subject_key(), 11, as_of=AS_OF)
    served.node.issue(records, iat=T0)
    log_pub = served.home.log_key().public_key
    with served.client() as c:
        note = SignedNote.from_text(c.get_checkpoint())
        verify_note_signature(note, ORIGIN, log_pub)
        cp = note.checkpoint
        assert cp.size == 11 and cp.root == served.node.log.root(11)
        assert SignedNote.from_text(c.get_checkpoint(11)).checkpoint == cp

        batches = list(c.get_entries(0, 11, max_batch=4))
        assert [len(b) for b in batches] == [4, 4, 3]
        leaves = [leaf for b in batches for leaf in b]
        assert leaves == [e.leaf for e in served.node.log.entries(0, 11)]
        assert list(c.get_entries(5, 5)) == []

        for index in (0, 6, 10):
            h = leaf_hash(leaves[index])
            got_index, size, got_hash, proof = c.get_inclusion_proof(index, 11)
            assert (got_index, size, got_hash) == (index, 11, h)
            verify_inclusion(h, index, 11, proof, cp.root)
            by_hash = c.get_inclusion_proof(h, 11)
            assert by_hash == (index, 11, h, proof)

        served.node.issue(
            score_records(REGION, served.home.subject_key(), 5, seed=9, as_of=AS_OF), iat=T0
        )
        new = SignedNote.from_text(c.get_checkpoint()).checkpoint
        assert new.size == 16
        verify_consistency(11, 16, cp.root, new.root, c.get_consistency_proof(11, 16))

        bundle = c.get_bundle(3)
        # a person's score: the public port serves the envelope (steps 1-6), never the
        # body (finding 1, tests/security); the body comes only with an audited Lookup
        assert Bundle.from_bytes(bundle).preimage is None
        report = run_verification(bundle, served.home.trust())
        assert report.failed_step == 7 and all(s.ok for s in report.steps[:6])
        assert c.get_bundle(leaf_hash(leaves[3])) == bundle


def test_inclusion_proofs_in_one_call_verify(served: Served) -> None:
    """GetInclusionProofs: indices and hashes mixed, in the caller's order, every proof
    equal to GetInclusionProof's and verifying against the checkpoint; size 0 is now."""
    served.node.issue(score_records(REGION, served.home.subject_key(), 70, as_of=AS_OF), iat=T0)
    cp = served.node.publish_checkpoint(T0).checkpoint
    leaves = [e.leaf for e in served.node.log.entries(0, 70)]
    with served.client() as c:
        refs: list[int | bytes] = [69, leaf_hash(leaves[5]), 0, 33, leaf_hash(leaves[64]), 33]
        size, got = c.get_inclusion_proofs(refs, 70)
        assert size == 70 and len(got) == len(refs)
        for ref, (index, h, proof) in zip(refs, got, strict=True):
            assert ref == (index if isinstance(ref, int) else h)
            assert h == leaf_hash(leaves[index])
            verify_inclusion(h, index, 70, proof, cp.root)
            assert c.get_inclusion_proof(index, 70) == (index, 70, h, proof)
        assert c.get_inclusion_proofs([3, 3], 40)[1][0][2] == served.node.log.inclusion_proof(3, 40)
        assert c.get_inclusion_proofs([7])[0] == 70
        refs = list(range(MAX_PROOFS_BATCH))
        big = c.get_inclusion_proofs([i % 70 for i in refs], 70)[1]
        assert [index for index, _, _ in big] == [i % 70 for i in refs]


def test_log_errors_map_to_status_codes(served: Served) -> None:
    served.node.issue(score_records(REGION, served.home.subject_key(), 3, as_of=AS_OF), iat=T0)
    with served.client() as c:
        with pytest.raises(OutOfRangeError, match="out of range"):
            c.get_inclusion_proof(3, 3)
        with pytest.raises(OutOfRangeError):
            c.get_inclusion_proof(0, 4)
        with pytest.raises(OutOfRangeError):
            list(c.get_entries(0, 4))
        with pytest.raises(OutOfRangeError):
            c.get_consistency_proof(3, 2)
        with pytest.raises(NotFoundError, match="leaf hash not found"):
            c.get_inclusion_proof(b"\x00" * 32)
        with pytest.raises(NotFoundError):
            c.get_checkpoint(2)
        with pytest.raises(FormatError, match="wrong length"):
            c.get_bundle(b"\x00" * 31)
    with _raw_channel(served) as ch:
        stub = ch.unary_unary("/credex.v1.Log/GetInclusionProof")  # identity serialisers
        code, _ = _rpc_code(
            lambda: stub(log_pb2.GetInclusionProofRequest(leaf_index=3).SerializeToString())
        )
        assert code is grpc.StatusCode.OUT_OF_RANGE
        code, _ = _rpc_code(lambda: stub(b"\xff\xff\xff"))  # not a protobuf message
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        code, _ = _rpc_code(lambda: stub(b""))  # no oneof set
        assert code is grpc.StatusCode.INVALID_ARGUMENT


def test_health_and_reflection(served_sqlite: Served) -> None:
    with _raw_channel(served_sqlite) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for service in ("", "credex.v1.Log", "credex.v1.Submit", "credex.v1.Witness"):
            resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(ch)
        responses = refl.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"credex.v1.Log", "credex.v1.Submit", "credex.v1.Witness"} <= names
    assert "grpc.health.v1.Health" in names


# --- Submit ----------------------------------------------------------------------------------


def test_submit_with_bodies_keeps_them_off_the_log(served: Served) -> None:
    """A person's record is a hash envelope: its body travels beside it (``preimages``),
    is checked against the envelope, and is kept off the log, durable before the ack."""
    records = score_records(REGION, served.home.subject_key(), 3, seed=4, as_of=AS_OF)
    signed = served.node.sign(records, None, T0)
    assert all(s.is_envelope for s in signed)
    data = [s.to_bytes() for s in signed]
    bodies = [s.preimage for s in signed]
    with served.client("tool") as c:
        with pytest.raises(PreimageMismatchError):
            c.submit(data[:2], preimages=[bodies[1], bodies[0]])
        assert served.node.log.size == 0  # nothing logged, nothing held
        assert served.node.bodies.counts().held == 0
        acks = c.submit(data[:2], preimages=bodies[:2])
        (bare,) = c.submit(data[2:])  # no body: logged, but nothing to serve
    for a, body in zip(acks, bodies[:2], strict=True):
        assert served.node.bodies.get(a.leaf_hash) == body
        bundle = served.node.bundle(a.leaf_index, T0, with_body=True)
        assert bundle.preimage == body
        assert verify_bundle(bundle.to_bytes(), served.home.trust()).ok
    assert served.node.bodies.get(bare.leaf_hash) is None


def test_submit_acknowledges_only_durable_entries(served: Served, tmp_path: Path) -> None:
    data = _statements(served.node, 40)
    log_pub = served.home.log_key().public_key
    with served.client("tool") as c:
        acks = c.submit(data, batch=16)
        again = c.submit(data[:5] + data[:1])
    assert [a.leaf_index for a in acks] == list(range(40))
    assert all(a.is_new for a in acks)
    assert [(a.leaf_index, a.is_new) for a in again] == [(i, False) for i in (0, 1, 2, 3, 4, 0)]
    for a, d in zip(acks, data, strict=True):
        assert a.leaf_hash == Statement.from_bytes(d).leaf_hash
        receipt = Receipt.from_bytes(a.receipt)
        assert receipt.leaf_index == a.leaf_index and receipt.tree_size > a.leaf_index
        receipt.verify_signature(log_pub, receipt.root_for(a.leaf_hash))
    # stop and reopen: every acknowledged entry is in the store
    served.server.stop(None).wait()
    served.node.close()
    with LocalNode(served.home) as reopened:
        assert reopened.log.size == 40
        for a in acks:
            assert reopened.log.entry(a.leaf_index).leaf_hash == a.leaf_hash
    served.node = LocalNode(served.home)  # for the fixture's close


def test_submit_rejects_bad_statements_without_echoing_them(served_sqlite: Served) -> None:
    s = served_sqlite
    secret = b"\xa1\x63SECRET-BODY-BYTES"
    with s.client("tool") as c:
        with pytest.raises(CborError) as e:
            c.submit([secret])
        assert "SECRET" not in str(e.value) and secret.hex() not in str(e.value)
        good = _statements(s.node, 1)[0]
        forged = good[:-1] + bytes([good[-1] ^ 1])  # last signature byte
        with pytest.raises(SignatureError):
            c.submit([forged])
        assert s.node.log.size == 0
    with _raw_channel(s, cert=None) as ch:
        stub = submit_pb2_grpc.SubmitStub(ch)
        code, details = _rpc_code(
            lambda: list(
                stub.SubmitStatements(
                    iter([submit_pb2.SubmitStatementsRequest(statements=[secret])]), timeout=5
                )
            )
        )
        assert code is grpc.StatusCode.UNAUTHENTICATED
        assert "SECRET" not in details


def test_oversize_message_is_resource_exhausted(served_sqlite: Served) -> None:
    with served_sqlite.client("tool") as c, pytest.raises(Exception) as e:
        c.submit([b"\x00" * (2 << 20)])
    assert isinstance(e.value.__cause__, grpc.RpcError)
    assert e.value.__cause__.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    key, cert, _ = served_sqlite.tls.issue_client("raw", "issuer", now=int(time.time()))
    with _raw_channel(served_sqlite, cert=cert, key=key, mtls=True) as ch:
        stub = submit_pb2_grpc.SubmitStub(ch)
        big = submit_pb2.SubmitStatementsRequest(statements=[b"x"] * 1025)
        code, details = _rpc_code(lambda: list(stub.SubmitStatements(iter([big]), timeout=5)))
        assert code is grpc.StatusCode.INVALID_ARGUMENT and "too many statements" in details


def test_concurrent_clients_get_distinct_indices(served: Served) -> None:
    threads, per_thread = 16, 50
    data = _statements(served.node, threads * per_thread)
    key, cert, _ = served.tls.issue_client("tool", "issuer", now=int(time.time()))
    results: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            with served.connect(cert, key, timeout_s=DEADLINE_S) as c:
                for i in range(per_thread):
                    (ack,) = c.submit([data[t * per_thread + i]])
                    results[t].append(ack.leaf_index)
        except BaseException as e:  # reported below
            errors.append(e)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(DEADLINE_S * 2)
    assert not errors, errors[:3]
    indices = [i for r in results for i in r]
    assert sorted(indices) == list(range(threads * per_thread))
    assert served.node.log.size == threads * per_thread


# --- authentication --------------------------------------------------------------------------


def test_submit_needs_a_registered_client_certificate(
    served_sqlite: Served, tmp_path: Path
) -> None:
    s = served_sqlite
    data = _statements(s.node, 3)
    # no certificate, on the public port
    with (
        PeerClient(s.public, ca_pem=s.tls.ca_pem()) as c,
        pytest.raises(PolicyError, match="unauthenticated"),
    ):
        c.submit(data[:1])
    # a certificate from a CA this node does not trust: the mTLS handshake fails
    other = NodeTls(tmp_path / "other", name="other")
    okey, ocert, _ = other.issue_client("stranger", "issuer", now=int(time.time()))
    with s.connect(ocert, okey, timeout_s=5) as c, pytest.raises(PeerUnavailableError):
        c.submit(data[:1])
    # the other node's own certificate, registered here by PEM + its CA: now that CA is
    # trusted, so the stranger's certificate passes TLS but is not registered
    s.tls.register_external(
        "other-node",
        "peer",
        other.server_cert_pem(),
        now=int(time.time()),
        roots_pem=other.ca_pem(),
    )
    with (
        s.connect(ocert, okey) as c,
        pytest.raises(
            PolicyError, match="permission_denied: rpc: client certificate not registered"
        ),
    ):
        c.submit(data[:1])
    # a registered bank may not submit
    with (
        s.client("bank-1", role="bank") as c,
        pytest.raises(PolicyError, match="role bank may not"),
    ):
        c.submit(data[:1])
    # the registered peer (another node's certificate) and a registered issuer may
    other_key = other.server_key_pem()
    with s.connect(other.server_cert_pem(), other_key) as c:
        assert [a.leaf_index for a in c.submit(data[:2])] == [0, 1]
    with s.client("tool") as c:
        assert [a.leaf_index for a in c.submit(data)] == [0, 1, 2]


def test_log_is_open_without_a_client_certificate(served_sqlite: Served) -> None:
    with served_sqlite.connect(None, None) as c:
        assert SignedNote.from_text(c.get_checkpoint()).checkpoint.size == 0


# --- Witness ---------------------------------------------------------------------------------


def test_witness_status_codes(served_sqlite: Served) -> None:
    s = served_sqlite
    s.node.issue(score_records(REGION, s.home.subject_key(), 4, as_of=AS_OF), iat=T0)
    with s.client("peer-1", role="peer") as c:
        first = c.get_checkpoint()
        line = c.add_checkpoint(0, [], first)
        assert line.startswith("\u2014 witness.test ")
        s.node.issue(score_records(REGION, s.home.subject_key(), 3, seed=4, as_of=AS_OF), iat=T0)
        second = c.get_checkpoint()
        with pytest.raises(OutOfRangeError, match="failed_precondition") as e:
            c.add_checkpoint(0, [], second)
        assert witness_size_of(e.value) == 4
        with pytest.raises(ConsistencyProofError):
            c.add_checkpoint(4, [b"\x00" * 32] * 3, second)
        proof = c.get_consistency_proof(4, 7)
        assert c.add_checkpoint(4, proof, second).startswith("\u2014 witness.test ")
        forged = SignedNote.from_text(second)
        forged = SignedNote(
            forged.body,
            (type(forged.signatures[0])(ORIGIN, forged.signatures[0].key_id, b"\x00" * 64),),
        )
        with pytest.raises(SignatureError):
            c.add_checkpoint(7, [], forged.to_text())
        unknown = SigningKey(b"\x05" * 32)
        from credex.ledger.checkpoint import Checkpoint, sign_checkpoint

        foreign = sign_checkpoint(
            Checkpoint("elsewhere/log", 1, b"\x00" * 32), "elsewhere/log", unknown
        )
        with pytest.raises(NotFoundError):
            c.add_checkpoint(0, [], foreign.to_text())
        with pytest.raises(FormatError):
            c.add_checkpoint(0, [], "not a note")
    with (
        s.client("issuer-1", role="issuer") as c,
        pytest.raises(PolicyError, match="role issuer may not"),
    ):
        c.add_checkpoint(0, [], first)


# --- credex serve as a real process ----------------------------------------------------------


class ServeProcess:
    def __init__(self, home: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from credex.cli.main import main; main()",
                "serve",
                "--home",
                str(home),
                "--listen",
                "127.0.0.1:0",
                "--mtls-listen",
                "127.0.0.1:0",
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        line = self.wait_for("listening on")
        addrs = line.split("listening on ", 1)[1]
        self.public = addrs.split(" ")[0]
        self.mtls = addrs.split("(mtls ", 1)[1].rstrip(")\n")

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and self.lines.empty():
                break
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from credex serve: {''.join(self.seen)}")

    def wait(self) -> int:
        code = self.proc.wait(timeout=DEADLINE_S)
        self._pump_thread.join(DEADLINE_S)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def test_serve_subprocess_sigterm_exits_cleanly(tmp_path: Path) -> None:
    home = _init_home(tmp_path / "home", None)
    p = ServeProcess(home.path)
    try:
        tls = NodeTls(home.path, name=REGION)
        info = json.loads((home.path / "node.json").read_text())
        assert info["listen"] == p.public and info["mtls_listen"] == p.mtls
        key, cert, _ = tls.issue_client("tool", "issuer", now=int(time.time()))  # after start
        with LocalNode(home) as signer:
            data = _statements(signer, 5, iat=int(time.time()))
        with PeerClient(
            p.public, ca_pem=tls.ca_pem(), client_cert=cert, client_key=key, mtls_endpoint=p.mtls
        ) as c:
            assert [a.leaf_index for a in c.submit(data)] == list(range(5))
            assert SignedNote.from_text(c.get_checkpoint()).checkpoint.size == 5
    finally:
        p.proc.send_signal(signal.SIGTERM)
        code = p.wait()
    assert code == 0, "".join(p.seen)
    assert json.loads((home.path / "node.json").read_text())["listen"] is None
    with LocalNode(home) as n:
        assert n.log.size == 5


def test_kill_9_during_streamed_submit_loses_nothing_acknowledged(
    tmp_path: Path, store_url: str
) -> None:
    home = _init_home(tmp_path / "home", _db(store_url))
    tls = NodeTls(home.path, name=REGION)
    tls.ensure(now=int(time.time()))
    key, cert, _ = tls.issue_client("tool", "issuer", now=int(time.time()))
    with LocalNode(home) as signer:
        data = _statements(signer, 400, iat=int(time.time()))
    p = ServeProcess(home.path)
    acked: list[submit_pb2.SubmitResult] = []
    with PeerClient(
        p.public, ca_pem=tls.ca_pem(), client_cert=cert, client_key=key, mtls_endpoint=p.mtls
    ) as c:
        assert [a.leaf_index for a in c.submit(data[:10])] == list(range(10))
        checkpoint = SignedNote.from_text(c.get_checkpoint()).checkpoint
    assert checkpoint.size == 10
    creds = grpc.ssl_channel_credentials(tls.ca_pem(), key, cert)
    killed = threading.Event()

    def requests() -> Iterator[submit_pb2.SubmitStatementsRequest]:
        for i in range(10, 400, 10):
            if killed.is_set():
                return
            yield submit_pb2.SubmitStatementsRequest(statements=data[i : i + 10])

    with grpc.secure_channel(p.mtls, creds) as ch:
        stream = submit_pb2_grpc.SubmitStub(ch).SubmitStatements(requests(), timeout=DEADLINE_S)
        with pytest.raises(grpc.RpcError) as e:
            for resp in stream:
                acked.extend(resp.results)
                if len(acked) >= 50 and not killed.is_set():
                    p.proc.kill()  # SIGKILL mid-stream
                    killed.set()
        assert e.value.code() in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.CANCELLED,
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.UNKNOWN,
        )
    assert p.wait() == -signal.SIGKILL
    assert len(acked) >= 50
    p2 = ServeProcess(home.path)  # reopening checks the stored tree against the checkpoint
    try:
        with PeerClient(p2.public, ca_pem=tls.ca_pem()) as c:
            now = SignedNote.from_text(c.get_checkpoint()).checkpoint
            assert now.size >= 10 + len(acked)
            verify_consistency(
                10, now.size, checkpoint.root, now.root, c.get_consistency_proof(10, now.size)
            )
            for r in acked:
                index, _, h, proof = c.get_inclusion_proof(r.leaf_index, now.size)
                assert h == r.leaf_hash
                verify_inclusion(h, index, now.size, proof, now.root)
    finally:
        p2.proc.send_signal(signal.SIGTERM)
        assert p2.wait() == 0, "".join(p2.seen)


def test_cli_node_info_and_client_add(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from credex.cli.main import main

    home = _init_home(tmp_path / "home", None)

    def run(*args: str) -> str:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as e:
            assert e.code in (0, None), capsys.readouterr().err
        return capsys.readouterr().out

    info = json.loads(run("node", "info", "--home", str(home.path), "--json"))
    assert info["origin"] == ORIGIN and info["region"] == REGION and info["listen"] is None
    assert info["log_public_key"] == home.log_key().public_key.hex()
    assert info["tls_cert_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert info["ca_pem"].startswith("-----BEGIN CERTIFICATE-----")
    out_dir = tmp_path / "bank"
    added = json.loads(
        run(
            "client",
            "add",
            "bank-1",
            "--role",
            "bank",
            "-o",
            str(out_dir),
            "--home",
            str(home.path),
            "--json",
        )
    )
    assert added["role"] == "bank"
    assert (out_dir / "bank-1.key").stat().st_mode & 0o777 == 0o600
    assert (out_dir / "ca.pem").read_text() == info["ca_pem"]
    assert (home.path / "keys" / "tls-ca.key").stat().st_mode & 0o777 == 0o600
    peer_pem = tmp_path / "peer.pem"
    other = NodeTls(tmp_path / "other", name="other")
    other.ensure(now=int(time.time()))
    peer_pem.write_bytes(other.server_cert_pem() + other.ca_pem())
    run(
        "client",
        "add",
        "other",
        "--role",
        "peer",
        "--cert",
        str(peer_pem),
        "--home",
        str(home.path),
    )
    rows = json.loads(run("client", "list", "--home", str(home.path), "--json"))
    assert [(r["name"], r["role"], r["external"]) for r in rows] == [
        ("bank-1", "bank", False),
        ("other", "peer", True),
    ]
    os.environ.pop("CREDEX_HOME", None)
