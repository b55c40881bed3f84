"""gRPC benchmarks of ``credex bench`` (issue 3, point 8): P2, P3 and P5.

Everything runs on 127.0.0.1 in one process: real servers from ``create_server`` with
real TLS (mTLS for Submit), real ``PeerClient`` / ``PeerSync`` on the other side, SQLite
nodes. Client and server share the interpreter (and the GIL) and the machine's cores, so
the figures are a floor of what two hosts would see.

- **P2** ``p2_submit``: durable acknowledged submit. Statements are signed before timing
  (signing is the client's job); ``clients`` threads, each with its own mTLS channel and
  an issuer-role certificate, stream their share in request batches of ``batch``; the
  clock stops when the last durable ack arrived. Each repetition uses a fresh node (same
  issuer key, so one signed set serves every repetition) whose statement-check workers
  (``CheckPool``) are started before the clock, as ``credex serve`` starts them; each is
  followed by the same run on a node checking in the server process
  (``check_workers=0``), so the two compare under the same load.
- **P3** ``p3_proofs``: (a) GetInclusionProof, one RPC at a time per client thread, vs a
  bare echo RPC (bytes in, bytes out, no protobuf, no interceptor) on a separate
  ``grpc.server`` with the node's own TLS certificate and the same thread-pool size, at
  the same concurrency; (b) GetInclusionProofs calls of ``batch`` (256) random entries,
  one call in flight per client thread, vs the same batched read in-process
  (``node.log.leaves_and_inclusion_proofs`` of the same chunks: the work the server does
  per call), with proofs one by one in-process as a further figure. Both read through
  the log's node cache, as the server does.
- **P5** ``p5_sync``: a fresh SQLite mirror follows a source node through its server with
  ``PeerClient`` + ``PeerSync.sync_once``: checkpoint signature, every statement decoded
  and checked against the trust policy and its Ed25519 signature, the mirrored root
  checked against the checkpoint, batches committed durably. Also the same sync from an
  in-process source, to separate transport from verification.

Memory (issue 13, point 4) is measured on ``credex serve`` as a child process, from
``/proc/<pid>/status`` (``VmHWM``: the peak resident set since it started):

- ``p2_server_memory``: a fresh SQLite node under P2's load (``clients`` mTLS issuers
  streaming ``n`` signed statements in requests of ``batch``); its child processes (the
  statement-check workers and multiprocessing's resource tracker) are reported beside
  it, and the sum;
- ``sync_memory``: a source node of ``n`` entries served by ``credex serve`` while a
  follower child process mirrors the whole log with ``PeerSync`` (every entry verified,
  as P5) into an empty SQLite mirror; the peaks of both processes.

Nothing here asserts; rates are medians of ``reps`` repetitions.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import grpc

from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.sync import PeerSync
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc import convert
from credex.node.rpc.client import PeerClient
from credex.node.rpc.convert import MAX_PROOFS_BATCH
from credex.node.rpc.server import NodeServer, ServerPorts, create_server
from credex.node.rpc.tls import NodeTls
from credex.node.services.checks import default_check_workers

__all__ = [
    "bench_records",
    "follow_in_child",
    "p2_server_memory",
    "p2_submit",
    "p3_proofs",
    "p5_sync",
    "source_node",
    "sync_memory",
]

T0: Final = 1_790_000_000
REGION: Final = "cn-zj-hangzhou"
_ECHO_METHOD: Final = "/credex.bench.Echo/Echo"
_CLIENT_TIMEOUT_S: Final = 300.0
_SERVER_WORKERS: Final = 32  # create_server's default max_workers


def _stats(rates: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def bench_records(n: int, offset: int = 0) -> list[Record]:
    """``n`` distinct city scores of one company (``as_of`` seconds differ)."""
    return [
        Record(
            "score.city",
            REGION,
            Subject("org", "91330100MA0YX0016X"),
            {
                "scheme": "HANGZHOU_QIANJIANG",
                "score": 500 + i % 400,
                "band": "良好",
                "as_of": "2026-11-01",
                "level": "L3",
            },
            T0 + i,
        )
        for i in range(offset, offset + n)
    ]


def _home(path: Path, platform_seed: bytes) -> NodeHome:
    return NodeHome.init(
        path,
        region=REGION,
        origin=f"bench.example/{path.name}",
        db=None,
        now=T0,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=platform_seed,
    )


@dataclass(slots=True)
class _Served:
    home: NodeHome
    node: LocalNode
    server: NodeServer
    ports: ServerPorts
    tls: NodeTls

    @property
    def public(self) -> str:
        return f"127.0.0.1:{self.ports}"

    @property
    def mtls(self) -> str:
        return f"127.0.0.1:{self.ports.mtls}"

    def client(self, cert: bytes | None = None, key: bytes | None = None) -> PeerClient:
        return PeerClient(
            self.public,
            ca_pem=self.tls.ca_pem(),
            client_cert=cert,
            client_key=key,
            mtls_endpoint=self.mtls,
            timeout_s=_CLIENT_TIMEOUT_S,
        )


@contextmanager
def _serve(home: NodeHome, check_workers: int | None = None) -> Iterator[_Served]:
    node = LocalNode(home)
    try:
        server, ports = create_server(
            node, home=home, clock=lambda: T0, check_workers=check_workers
        )
        try:
            yield _Served(home, node, server, ports, NodeTls(home.path, name=home.region))
        finally:
            server.stop(None).wait()
    finally:
        node.close()


@contextmanager
def _echo_server(tls: NodeTls) -> Iterator[int]:
    """A bare echo RPC (bytes in, bytes out) with the node's TLS certificate."""

    def echo(request: bytes, context: Any) -> bytes:
        return request

    server = grpc.server(futures.ThreadPoolExecutor(_SERVER_WORKERS))
    handler = grpc.method_handlers_generic_handler(
        "credex.bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    creds = grpc.ssl_server_credentials([(tls.server_key_pem(), tls.server_cert_pem())])
    port = int(server.add_secure_port("127.0.0.1:0", creds))
    server.start()
    try:
        yield port
    finally:
        server.stop(None).wait()


def _threads(work: Sequence[Callable[[], None]]) -> float:
    """Run each callable on its own thread, started together; wall seconds until all end."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(work) + 1)

    def run(fn: Callable[[], None]) -> None:
        start.wait()
        try:
            fn()
        except BaseException as e:
            errors.append(e)

    ts = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in ts:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed


def _split(items: Sequence[Any], k: int) -> list[Sequence[Any]]:
    return [items[i::k] for i in range(k)]


# --- P2 -------------------------------------------------------------------------------------


def _p2_once(
    home: NodeHome,
    warm: Sequence[bytes],
    shares: Sequence[Sequence[bytes]],
    batch: int,
    check_workers: int | None = None,
) -> float:
    """One fresh node; one mTLS issuer client per share; seconds until every durable ack."""
    with _serve(home, check_workers) as s:
        pcs: list[PeerClient] = []
        acks = [0] * len(shares)
        try:
            for c in range(len(shares)):
                k, cert, _ = s.tls.issue_client(f"bench-issuer-{c}", "issuer", now=T0)
                pcs.append(s.client(cert, k))
            if s.server.checks is not None:  # started with the server, as credex serve does
                s.server.checks.start(wait=True)
            for c, pc in enumerate(pcs):  # TLS handshakes and server warm-up, untimed
                pc.submit([warm[c]])

            def work(c: int) -> Callable[[], None]:
                def go() -> None:
                    acks[c] = len(pcs[c].submit(shares[c], batch=batch))

                return go

            elapsed = _threads([work(c) for c in range(len(shares))])
        finally:
            for pc in pcs:
                pc.close()
        n = sum(len(x) for x in shares)
        if sum(acks) != n or s.node.log.size != n + len(warm):
            raise RuntimeError(f"P2: {sum(acks)} acks of {n}, log size {s.node.log.size}")
        return elapsed


def p2_submit(
    base: Path, n: int, *, clients: int = 4, batch: int = 128, reps: int = 3
) -> dict[str, Any]:
    """Durable acknowledged submits per second over mTLS (statements signed beforehand)."""
    seed = os.urandom(32)
    proto = _home(base / "p2-signer", seed)
    key = proto.issuer_signing_key(proto.platform_issuer, "score.city", T0)
    t0 = time.perf_counter()
    signed = [
        sign_statement(r, proto.platform_issuer, key, T0).to_bytes()
        for r in bench_records(n + clients, offset=1_000_000)
    ]
    sign_rate = (n + clients) / (time.perf_counter() - t0)
    warm, timed = signed[:clients], signed[clients:]
    shares = _split(timed, clients)
    workers = default_check_workers()
    rates, in_process = [], []
    for r in range(reps):  # interleaved: the same load for both
        home = _home(base / f"p2-node-{r}", seed)
        rates.append(len(timed) / _p2_once(home, warm, shares, batch))
        home = _home(base / f"p2-node-{r}-in-process", seed)
        in_process.append(len(timed) / _p2_once(home, warm, shares, batch, check_workers=0))
    return {
        "submit_per_s": _stats(rates),
        "check_workers": workers,
        "in_process_checks_submit_per_s": _stats(in_process),
        "client_sign_per_s": sign_rate,
        "statements": n,
        "clients": clients,
        "batch": batch,
    }


# --- P3 -------------------------------------------------------------------------------------


def _unary_rate(
    call: Callable[[int, int], object], per: int, clients: int, reps: int
) -> list[float]:
    """Aggregate calls/s of ``clients`` threads, each making ``per`` calls one at a time."""

    def work(c: int) -> Callable[[], None]:
        def go() -> None:
            for k in range(per):
                call(c, k)

        return go

    return [per * clients / _threads([work(c) for c in range(clients)]) for _ in range(reps)]


def p3_proofs(
    served_node: _Served,
    n_rpcs: int,
    *,
    clients: int = 4,
    batch: int = MAX_PROOFS_BATCH,
    batch_factor: int = 16,
    reps: int = 3,
) -> dict[str, Any]:
    """(a) single proof RPC vs bare echo RPC; (b) GetInclusionProofs batches vs the same
    batched proofs in-process (``n_rpcs * batch_factor`` proofs)."""
    s = served_node
    size = s.node.log.size
    rng = random.Random(3)
    idx = [rng.randrange(size) for _ in range(n_rpcs)]
    per = max(1, n_rpcs // clients)
    # response-sized echo payload: a serialised GetInclusionProofResponse at this size
    resp = convert.inclusion_proof_to_proto(
        0, size, b"\x00" * 32, s.node.log.inclusion_proof(0, size)
    ).SerializeToString()
    payload = os.urandom(len(resp))
    out: dict[str, Any] = {"log_size": size, "clients": clients, "rpcs": per * clients}

    # (a) single RPCs, one in flight per client thread, one channel per thread
    pcs = [s.client() for _ in range(clients)]
    try:
        for pc in pcs:
            pc.get_inclusion_proof(0, size)  # handshake
        proof_rates = _unary_rate(
            lambda c, k: pcs[c].get_inclusion_proof(idx[c * per + k], size), per, clients, reps
        )
    finally:
        for pc in pcs:
            pc.close()
    with _echo_server(s.tls) as port:
        creds = grpc.ssl_channel_credentials(s.tls.ca_pem())
        chans = [grpc.secure_channel(f"127.0.0.1:{port}", creds) for _ in range(clients)]
        try:
            stubs = [ch.unary_unary(_ECHO_METHOD) for ch in chans]
            for st in stubs:
                st(payload, timeout=_CLIENT_TIMEOUT_S)
            echo_rates = _unary_rate(
                lambda c, k: stubs[c](payload, timeout=_CLIENT_TIMEOUT_S), per, clients, reps
            )
        finally:
            for ch in chans:
                ch.close()
    out["single"] = {
        "proof_rpc_per_s": _stats(proof_rates),
        "echo_rpc_per_s": _stats(echo_rates),
        "echo_bytes": len(payload),
    }

    # (b) GetInclusionProofs batches, one in flight per channel, vs the same batched
    # read in-process (the work the server does for one call)
    proofs = [rng.randrange(size) for _ in range(n_rpcs * batch_factor)]
    chunks = [proofs[i : i + batch] for i in range(0, len(proofs), batch)]
    mine = _split(chunks, clients)
    pcs = [s.client() for _ in range(clients)]
    try:

        def batches(c: int) -> Callable[[], None]:
            def go() -> None:
                for chunk in mine[c]:
                    got_size, got = pcs[c].get_inclusion_proofs(chunk, size)
                    if got_size != size or len(got) != len(chunk):
                        raise RuntimeError("P3: batched proofs answer differs")

            return go

        for pc in pcs:  # handshakes, untimed
            pc.get_inclusion_proofs([0], size)
        batched = [
            len(proofs) / _threads([batches(c) for c in range(clients)]) for _ in range(reps)
        ]
    finally:
        for pc in pcs:
            pc.close()
    local, local_single = [], []
    log = s.node.log
    for _ in range(reps):
        t0 = time.perf_counter()
        for chunk in chunks:
            log.leaves_and_inclusion_proofs(chunk, size)
        local.append(len(proofs) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for j in proofs:
            log.leaf_and_inclusion_proof(j, size)
        local_single.append(len(proofs) / (time.perf_counter() - t0))
    out["batched"] = {
        "proof_rpc_per_s": _stats(batched),
        "in_process_proof_per_s": _stats(local),
        "in_process_one_by_one_per_s": _stats(local_single),
        "batch": batch,
        "proofs": len(proofs),
    }
    return out


@contextmanager
def source_node(base: Path, n: int) -> Iterator[_Served]:
    """A served SQLite node holding ``n`` issued entries and a checkpoint at ``n``."""
    home = _home(base / "src", os.urandom(32))
    with _serve(home) as s:
        for i in range(0, n, 4096):
            s.node.issue(bench_records(min(4096, n - i), offset=i), iat=T0)
        s.node.publish_checkpoint(T0)
        yield s


# --- P5 -------------------------------------------------------------------------------------


class _InProcess:
    """The source read directly (no gRPC): what sync costs without the transport."""

    def __init__(self, node: LocalNode, batch: int = 256) -> None:
        self.node, self.batch = node, batch

    def get_checkpoint(self) -> str:
        return self.node.publish_checkpoint(T0).to_text()

    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self.node.log.consistency_proof(old_size, new_size)

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        for i in range(start, end, self.batch):
            yield [e.leaf for e in self.node.log.entries(i, min(end, i + self.batch))]


def p5_sync(base: Path, s: _Served, *, reps: int = 3) -> dict[str, Any]:
    """Entries per second mirrored by a fresh follower, every entry verified."""
    n = s.node.log.size
    trust = s.home.trust()
    origin = s.home.origin

    def one(tag: str, r: int, source_for: Callable[[], Any], processes: int = 0) -> float:
        """One sync's rate; its CPU time per entry (this process and any workers) is
        added to ``cpu[tag]``."""
        store = SqlStore(f"sqlite:///{base / f'mirror-{tag}-{r}.sqlite'}")
        mirror = AppendOnlyLog(store)
        try:
            src = source_for()
            try:
                c0 = time.process_time()
                t0 = time.perf_counter()  # worker start-up included
                with PeerSync(origin, src, trust, mirror, processes=processes) as sync:
                    res = sync.sync_once(T0)
                    workers = sync.worker_cpu_seconds()
                elapsed = time.perf_counter() - t0
                cpu[tag].append((time.process_time() - c0) / n * 1e6)
                if workers is not None:
                    cpu["workers"].append(workers / n * 1e6)
            finally:
                if isinstance(src, PeerClient):
                    src.close()
            if res.error is not None or res.mirrored_size != n:
                raise RuntimeError(f"P5: sync failed: {res}")
            if mirror.root() != s.node.log.root(n):
                raise RuntimeError("P5: mirrored root differs")
        finally:
            mirror.close()
            store.close()
        return n / elapsed

    # the three take turns in each repetition: a changing load weighs on all alike
    cpu: dict[str, list[float]] = {"grpc": [], "local": [], "procs": [], "workers": []}
    grpc_rates, local_rates, procs_rates = [], [], []
    for r in range(reps):
        grpc_rates.append(one("grpc", r, s.client))
        local_rates.append(one("local", r, lambda: _InProcess(s.node)))
        procs_rates.append(one("procs", r, s.client, processes=2))
    return {
        "sync_per_s": _stats(grpc_rates),
        "in_process_sync_per_s": _stats(local_rates),
        "processes_sync_per_s": _stats(procs_rates),
        "processes": 2,
        # CPU time per entry mirrored: this process (its gRPC threads included) and,
        # with processes, the workers (their start-up included)
        "cpu_us_per_entry": {
            "threads": statistics.median(cpu["grpc"]),
            "in_process": statistics.median(cpu["local"]),
            "processes_main": statistics.median(cpu["procs"]),
            "processes_workers": statistics.median(cpu["workers"]) if cpu["workers"] else None,
        },
        "entries": n,
        "sync_batch": 1000,
    }


# --- memory ---------------------------------------------------------------------------------


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _live_home(path: Path) -> NodeHome:
    """A home for a ``credex serve`` child, whose clock is the real one."""
    return NodeHome.init(
        path,
        region=REGION,
        origin=f"bench.example/{path.name}",
        db=None,
        now=int(time.time()) - 60,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )


def p2_server_memory(base: Path, n: int, *, clients: int = 4, batch: int = 128) -> dict[str, Any]:
    """Resident memory of ``credex serve`` (fresh SQLite node) under P2's submit load:
    after start, at its peak and after the load, in MiB."""
    from credex.node.bench.loadtest import ServeProcess, status_kib

    home = _live_home(base / "p2-serve")
    now = int(time.time())
    key = home.issuer_signing_key(home.platform_issuer, "score.city", now)
    signed = [
        sign_statement(r, home.platform_issuer, key, now).to_bytes()
        for r in bench_records(n, offset=2_000_000)
    ]
    tls = NodeTls(home.path, name=home.region)
    tls.ensure(now=now)
    creds = [tls.issue_client(f"bench-issuer-{c}", "issuer", now=now) for c in range(clients)]
    shares = _split(signed, clients)
    server = ServeProcess(home.path)
    try:
        started = server.rss_kib()
        pcs = [
            PeerClient(
                server.public,
                ca_pem=tls.ca_pem(),
                client_cert=cert,
                client_key=k,
                mtls_endpoint=server.mtls,
                timeout_s=_CLIENT_TIMEOUT_S,
            )
            for k, cert, _ in creds
        ]
        acks = [0] * clients
        try:

            def work(c: int) -> Callable[[], None]:
                def go() -> None:
                    acks[c] = len(pcs[c].submit(shares[c], batch=batch))

                return go

            elapsed = _threads([work(c) for c in range(clients)])
        finally:
            for pc in pcs:
                pc.close()
        if sum(acks) != n:
            raise RuntimeError(f"P2 memory: {sum(acks)} acks of {n}")
        peak, after = server.peak_rss_kib(), server.rss_kib()
        children = _children(server.proc.pid)  # the check workers (and a resource tracker)
        child_peaks = [status_kib(pid, "VmHWM:") or 0 for pid in children]
    finally:
        server.stop()
    return {
        "statements": n,
        "submit_per_s": n / elapsed,
        "after_start_mib": _mib(started),
        "peak_mib": _mib(peak),
        "after_load_mib": _mib(after),
        "child_processes": len(children),
        "children_peak_mib": _mib(sum(child_peaks)),
        "with_children_peak_mib": _mib((peak or 0) + sum(child_peaks)),
    }


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux ``/proc/<pid>/task/*/children``)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return sorted(set(out))


def sync_memory(
    base: Path, n: int, *, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Peak resident memory of a source ``credex serve`` holding ``n`` entries and of a
    follower process mirroring all of them (verified, durable) from it, in MiB."""
    home = _live_home(base / f"sync-src-{n}")
    now = int(time.time())
    progress(f"building a source log of {n} entries")
    t0 = time.perf_counter()
    with LocalNode(home) as node:
        for i in range(0, n, 4096):
            node.issue(bench_records(min(4096, n - i), offset=i), iat=now)
        node.publish_checkpoint(now)
    build_s = time.perf_counter() - t0
    followed = follow_in_child(home, base / f"sync-mirror-{n}.sqlite", n, progress=progress)
    return {
        "entries": n,
        "build_seconds": build_s,
        "sync_per_s": followed["sync_per_s"],
        "source_serve_after_start_mib": followed["source_serve_after_start_mib"],
        "source_serve_peak_mib": followed["source_serve_peak_mib"],
        "follower_peak_mib": followed["follower_peak_mib"],
        "follower_peak_before_close_mib": followed["follower_peak_before_close_mib"],
        "follower_rss_quarters_mib": followed["follower_rss_quarters_mib"],
        "source_serve_rss_quarters_mib": followed["source_serve_rss_quarters_mib"],
    }


def follow_in_child(
    home: NodeHome, mirror: Path, n: int, *, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Serve ``home`` (a log of ``n`` entries, not open elsewhere) with a ``credex serve``
    child and let a follower child process mirror all of it over TLS gRPC (``PeerSync``:
    every statement verified, batches committed durably) into the empty SQLite file
    ``mirror``; the sync rate, both processes' peak RSS and the RSS at the end of each
    quarter of the sync, in MiB. Raises ``RuntimeError`` unless the follower mirrored
    exactly ``n`` entries with the source's root."""
    from credex.node.bench.loadtest import ServeProcess, status_kib

    with LocalNode(home) as node:
        root = node.log.root(n).hex()
    server = ServeProcess(home.path)
    try:
        started = server.rss_kib()
        progress(f"a follower process mirrors {n} entries")
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from credex.node.bench.rpc import follower_main; follower_main()",
                str(home.path),
                server.public,
                str(mirror),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        samples: list[tuple[int | None, int | None]] = []
        while True:  # the follower's and the source's RSS, every half second
            samples.append((status_kib(child.pid, "VmRSS:"), server.rss_kib()))
            try:
                stdout, stderr = child.communicate(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                continue
        if child.returncode != 0:
            raise RuntimeError(f"sync memory: follower failed: {stderr[-500:]}")
        follower = json.loads(stdout)
        peak = server.peak_rss_kib()
    finally:
        server.stop()
    if follower["mirrored"] != n or follower["error"] is not None:
        raise RuntimeError(f"sync memory: follower mirrored {follower}")
    if follower["root"] != root:
        raise RuntimeError("sync memory: the mirrored root differs from the source's")
    return {
        "entries": n,
        "seconds": follower["seconds"],
        "sync_per_s": n / follower["seconds"],
        "source_serve_after_start_mib": _mib(started),
        "source_serve_peak_mib": _mib(peak),
        "follower_peak_mib": _mib(follower["peak_rss_kib"]),
        "follower_peak_before_close_mib": _mib(follower["synced_peak_rss_kib"]),
        # RSS at the end of each quarter of the sync's time (the rate is about steady)
        "follower_rss_quarters_mib": _quarters([f for f, _ in samples]),
        "source_serve_rss_quarters_mib": _quarters([s for _, s in samples]),
    }


def _quarters(samples: Sequence[int | None]) -> list[float | None]:
    seen = [k for k in samples if k is not None]
    if not seen:
        return []
    return [_mib(max(seen[: max(1, len(seen) * q // 4)])) for q in (1, 2, 3, 4)]


def follower_main() -> None:
    """The follower child of ``sync_memory``: argv = source home, public address, mirror
    file; prints what it mirrored, in how long, and its own peak RSS, as JSON."""
    home_path, public, mirror_path = sys.argv[1:4]
    home = NodeHome.open(Path(home_path))
    tls = NodeTls(home.path, name=home.region)
    store = SqlStore(f"sqlite:///{mirror_path}")
    mirror = AppendOnlyLog(store)
    client = PeerClient(public, ca_pem=tls.ca_pem(), timeout_s=3600.0)
    try:
        t0 = time.perf_counter()
        res = PeerSync(home.origin, client, home.trust(), mirror).sync_once(int(time.time()))
        elapsed = time.perf_counter() - t0
        synced_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        root = mirror.root().hex() if mirror.size else ""
    finally:
        client.close()
        mirror.close()
        store.close()  # (SQLite checkpoints its write-ahead log into the file here)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"mirrored": res.mirrored_size, "error": res.error, "seconds": elapsed, "root": root}
    print(json.dumps({**out, "peak_rss_kib": peak, "synced_peak_rss_kib": synced_peak}))
