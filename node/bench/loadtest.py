"""A bounded load test of one ``credex serve`` on loopback (``scripts/loadtest.py``).

One real server process, many concurrent clients for a fixed time (or a fixed number of
requests): anonymous readers on the public port (checkpoint, entries, inclusion proofs,
bundles) and authenticated submitters on the mTLS port (``SubmitStatements`` batches with
their bodies). The server's resident memory is sampled from ``/proc/<pid>/status``. At the
end the server is killed with SIGKILL while submitters are still sending and restarted;
every entry is fetched from the restarted server, the tree rebuilt and checked against its
signed checkpoint, and every acknowledged leaf hash must be at its acknowledged index:
nothing acknowledged may be lost.

It reports counts and memory, never speed judgements; it is not imported by production
code. Statements are signed before the server starts (a pool, so signing does not compete
with the server for the CPU during the run).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from credex.adapters.sample import score_records
from credex.ledger.checkpoint import SignedNote
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import CredexError
from credex.ledger.merkle import MerkleTree, leaf_hash
from credex.ledger.record import Record
from credex.ledger.statement import Statement
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls

__all__ = ["LoadReport", "ServeProcess", "run_load", "status_kib"]

_START_TIMEOUT_S: Final = 60.0
_REGION: Final = "cn-zj-ningbo"


@dataclass
class LoadReport:
    """What a run did: requests and errors by kind, acknowledged statements, memory."""

    seconds: float = 0.0
    readers: int = 0
    submitters: int = 0
    reads: int = 0
    submit_requests: int = 0
    acknowledged: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    #: calls in flight when the server was killed (expected to fail; never acknowledged)
    after_kill: Counter[str] = field(default_factory=Counter)
    rss_kib: list[int] = field(default_factory=list)
    lost: int = -1  # -1: not checked
    #: when the submitters ran out of pre-signed statements (None: they did not)
    pool_exhausted_after_s: float | None = None
    log_size_after_restart: int = 0

    @property
    def requests(self) -> int:
        return self.reads + self.submit_requests

    @property
    def peak_rss_kib(self) -> int:
        return max(self.rss_kib, default=0)

    @property
    def rss_growth_kib(self) -> int:
        """Mean RSS of the last quarter of samples minus that of the second quarter (the
        first quarter is warm-up): a leak shows as steady growth."""
        n = len(self.rss_kib)
        if n < 8:
            return 0
        q = n // 4
        second = self.rss_kib[q : 2 * q]
        last = self.rss_kib[-q:]
        return sum(last) // len(last) - sum(second) // len(second)

    def to_json_value(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "readers": self.readers,
            "submitters": self.submitters,
            "requests": self.requests,
            "reads": self.reads,
            "submit_requests": self.submit_requests,
            "acknowledged_statements": self.acknowledged,
            "errors": dict(sorted(self.errors.items())),
            "failed_in_flight_at_kill_9": dict(sorted(self.after_kill.items())),
            "rss_kib": {
                "first": self.rss_kib[0] if self.rss_kib else 0,
                "peak": self.peak_rss_kib,
                "last": self.rss_kib[-1] if self.rss_kib else 0,
                "growth_second_to_last_quarter": self.rss_growth_kib,
                "samples": len(self.rss_kib),
            },
            "pool_exhausted_after_s": None
            if self.pool_exhausted_after_s is None
            else round(self.pool_exhausted_after_s, 1),
            "lost_after_kill_9": self.lost,
            "log_size_after_restart": self.log_size_after_restart,
        }


def status_kib(pid: int, field: str) -> int | None:
    """A ``/proc/PID/status`` memory field (``VmRSS:``, ``VmHWM:``) in KiB; None once the
    process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return None


class ServeProcess:
    """``credex serve`` as a child process on ports picked by the OS."""

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
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        line = self._wait_for("listening on")
        addrs = line.split("listening on ", 1)[1]
        self.public = addrs.split(" ")[0]
        self.mtls = addrs.split("(mtls ", 1)[1].rstrip(")\n")

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def _wait_for(self, text: str) -> str:
        deadline = time.monotonic() + _START_TIMEOUT_S
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if text in line:
                return line
        raise RuntimeError(f"loadtest: credex serve did not start: {''.join(seen)[-500:]}")

    def rss_kib(self) -> int | None:
        """Resident memory now (``VmRSS``), KiB; None once the process is gone."""
        return status_kib(self.proc.pid, "VmRSS:")

    def peak_rss_kib(self) -> int | None:
        """Peak resident memory since the process started (``VmHWM``), KiB."""
        return status_kib(self.proc.pid, "VmHWM:")

    def _reap(self) -> int:
        code = self.proc.wait(_START_TIMEOUT_S)
        self._pump_thread.join(_START_TIMEOUT_S)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code

    def kill9(self) -> None:
        self.proc.kill()
        self._reap()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self._reap()


def _pool(home: NodeHome, count: int, now: int) -> list[Statement]:
    """``count`` distinct signed statements (person scores: hash envelopes with bodies),
    made from 256 synthetic subjects scored on different days."""
    base = score_records(_REGION, home.subject_key(), 256, seed=7, as_of=date(2026, 5, 31))
    records: list[Record] = []
    day = 0
    while len(records) < count:
        as_of = date(2026, 5, 31) - timedelta(days=day)
        stamp = date_to_unix(as_of)
        for r in base:
            body = {**r.body, "as_of": as_of.isoformat()}
            records.append(dataclasses.replace(r, body=body, valid_from=stamp))
        day += 1
    with LocalNode(home) as node:
        return node.sign(records[:count], None, now)


def run_load(
    *,
    seconds: float = 60.0,
    readers: int = 16,
    submitters: int = 4,
    batch: int = 16,
    pool: int = 20_000,
    requests_per_client: int | None = None,
    workdir: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> LoadReport:
    """Run the load test; returns the report (``lost`` is the number of acknowledged
    statements missing after kill -9 and restart: 0 unless something is wrong).

    ``requests_per_client`` bounds each reader by requests instead of ``seconds``, and the
    server is killed once half as many submit requests per submitter are acknowledged
    (the bounded test uses it); ``pool`` bounds the statements submitted.
    """
    tmp = None if workdir is not None else tempfile.TemporaryDirectory(prefix="credex-load-")
    root = workdir if workdir is not None else Path(tmp.name)  # type: ignore[union-attr]
    try:
        now = int(time.time())
        home = NodeHome.init(
            root / "home",
            region=_REGION,
            origin="credex.loadtest.example/log",
            db=None,
            now=now - 60,
            log_seed=os.urandom(32),
            subject_secret=os.urandom(32),
            platform_seed=os.urandom(32),
        )
        progress(f"signing {pool} statements")
        statements = _pool(home, pool, now)
        tls = NodeTls(home.path, name=home.region)
        tls.ensure(now=now)
        creds = [tls.issue_client(f"submitter-{i}", "issuer", now=now) for i in range(submitters)]
        report = LoadReport(readers=readers, submitters=submitters)
        return _run(
            root,
            home,
            tls,
            creds,
            statements,
            report,
            seconds,
            batch,
            requests_per_client,
            progress,
        )
    finally:
        if tmp is not None:
            tmp.cleanup()


def _run(
    root: Path,
    home: NodeHome,
    tls: NodeTls,
    creds: list[tuple[bytes, bytes, Any]],
    statements: list[Statement],
    report: LoadReport,
    seconds: float,
    batch: int,
    requests_per_client: int | None,
    progress: Callable[[str], None],
) -> LoadReport:
    server = ServeProcess(home.path)
    ca = tls.ca_pem()
    stop = threading.Event()
    started = time.monotonic()
    #: bounded runs: set once half the submit requests are acknowledged (kill -9 then,
    #: while the rest are still being sent)
    half = threading.Event()
    readers_done = threading.Event()
    lock = threading.Lock()
    acked: dict[bytes, int] = {}  # leaf hash -> index, as the server acknowledged
    work: queue.Queue[list[Statement]] = queue.Queue()
    for i in range(0, len(statements), batch):
        work.put(statements[i : i + batch])

    killed = threading.Event()

    def error(kind: str) -> None:
        with lock:
            if killed.is_set():  # in flight when the server was killed: expected
                report.after_kill[kind] += 1
            else:
                report.errors[kind] += 1

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        done = 0
        with PeerClient(server.public, ca_pem=ca, timeout_s=30) as c:
            while not readers_done.is_set() and (
                requests_per_client is None or done < requests_per_client
            ):
                done += 1
                try:
                    size = SignedNote.from_text(c.get_checkpoint()).checkpoint.size
                    if size:
                        op = rng.randrange(3)
                        i = rng.randrange(size)
                        if op == 0:
                            for _ in c.get_entries(i, min(size, i + 16)):
                                pass
                        elif op == 1:
                            c.get_inclusion_proof(i, size)
                        else:
                            c.get_bundle(i)
                except CredexError as e:
                    error(f"read {e.code}")
                except Exception as e:
                    error(f"read {type(e).__name__}")
                finally:
                    with lock:
                        report.reads += 1

    def submitter(key: bytes, cert: bytes) -> None:
        done = 0
        with PeerClient(
            server.public,
            ca_pem=ca,
            client_cert=cert,
            client_key=key,
            mtls_endpoint=server.mtls,
            timeout_s=60,
        ) as c:
            while not stop.is_set():
                try:
                    chunk = work.get_nowait()
                except queue.Empty:
                    with lock:
                        if report.pool_exhausted_after_s is None:
                            report.pool_exhausted_after_s = time.monotonic() - started
                    return
                done += 1
                try:
                    acks = c.submit(
                        [s.to_bytes() for s in chunk], preimages=[s.preimage for s in chunk]
                    )
                    with lock:
                        for a in acks:
                            acked[a.leaf_hash] = a.leaf_index
                        report.acknowledged += len(acks)
                        wanted = (requests_per_client or 0) * report.submitters // 2
                        if report.acknowledged >= wanted * batch:
                            half.set()
                except CredexError as e:
                    error(f"submit {e.code}")
                except Exception as e:
                    error(f"submit {type(e).__name__}")
                finally:
                    with lock:
                        report.submit_requests += 1

    def sampler() -> None:
        while not stop.wait(0.25):
            rss = server.rss_kib()
            if rss is not None:
                report.rss_kib.append(rss)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(report.readers)]
    threads += [threading.Thread(target=submitter, args=(k, c)) for k, c, _ in creds]
    watch = threading.Thread(target=sampler, daemon=True)
    watch.start()
    for t in threads:
        t.start()
    progress(f"load: {report.readers} readers, {report.submitters} submitters")
    if requests_per_client is None:
        stop.wait(seconds)
    else:
        for t in threads[: report.readers]:
            t.join()
        half.wait(_START_TIMEOUT_S * 5)
    # kill -9 while submitters are still sending: only what was acknowledged counts
    rss = server.rss_kib()
    if rss is not None:
        report.rss_kib.append(rss)
    readers_done.set()
    killed.set()
    server.kill9()
    stop.set()
    for t in threads:
        t.join()
    report.seconds = time.monotonic() - started
    progress(f"killed; restarting to check {len(acked)} acknowledged statements")
    restarted = ServeProcess(home.path)
    try:
        report.lost = _lost(restarted, ca, acked, report)
    finally:
        restarted.stop()
    return report


def _lost(server: ServeProcess, ca: bytes, acked: dict[bytes, int], report: LoadReport) -> int:
    """Acknowledged statements the restarted server does not hold where it said: every
    entry is fetched, the tree rebuilt and its root compared with the restarted
    server's signed checkpoint (one proof for all), then each acknowledged leaf hash is
    looked up at its acknowledged index."""
    with PeerClient(server.public, ca_pem=ca, timeout_s=600) as c:
        cp = SignedNote.from_text(c.get_checkpoint()).checkpoint
        report.log_size_after_restart = cp.size
        tree = MerkleTree()
        hashes: list[bytes] = []
        for chunk in c.get_entries(0, cp.size):
            for entry in chunk:
                h = leaf_hash(entry)
                tree.append_hash(h)
                hashes.append(h)
    if cp.size and tree.root() != cp.root:
        return len(acked)  # the served entries are not the signed tree: prove nothing
    return sum(1 for h, i in acked.items() if i >= len(hashes) or hashes[i] != h)
