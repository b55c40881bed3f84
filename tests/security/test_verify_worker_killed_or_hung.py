"""A57: kill or hang a verification worker process, hoping for a verdict nobody reached.

Since issue 13 a bank verifies many bundles on worker processes (``VerifierPool``) and a
mirror verifies a peer's entries on them (``PeerSync(processes=2)``). An attacker who
could make a worker die (a crash in C, the out-of-memory killer) or hang on a bundle
must get neither a wrong "valid" nor a batch that never ends:

- a worker killed while the batch runs, or before it is given work: ``WorkerError``
  names it, no report of the batch is returned, every worker is reaped;
- a worker stopped (it never answers): the deadline fails the batch in bounded time,
  the worker is killed and reaped;
- hostile bundles (deep nesting, claimed lengths of gigabytes, garbage, oversize) are
  refused in the worker exactly as in one thread, and the workers live on;
- a mirror whose worker dies mid-round appends nothing of that batch and raises; the
  next round starts new workers and mirrors the log.

Real processes and signals; real SQLite stores.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from credex.ledger.log import AppendOnlyLog
from credex.ledger.storage.sql import SqlStore
from credex.ledger.verify import Verifier
from credex.node.federation.sync import PeerSync
from credex.node.local import LocalNode
from credex.node.procpool import WorkerError
from credex.node.verify_pool import VerifierPool
from tests.security.support import T0, make_home
from tests.security.test_sync_parallel_first_bad_entry import _Peer, _records
from tests.unit.node.test_verify_pool import BUNDLES, TRUST


def _gone(pids: list[int | None]) -> bool:
    """Each worker exited and was reaped (a zombie keeps its /proc entry)."""
    return all(p is not None and not Path(f"/proc/{p}").exists() for p in pids)


def test_a_worker_killed_during_the_batch_fails_the_batch() -> None:
    pool = VerifierPool(TRUST, processes=2, chunk=4)
    pids = pool.pids
    victim = pids[0]
    assert victim is not None

    def kill_when_busy() -> None:
        stat = Path(f"/proc/{victim}/stat")
        for _ in range(2000):  # as soon as it has verified something
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[11]) > 0:
                break
            time.sleep(0.001)
        os.kill(victim, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    try:
        with pytest.raises(WorkerError, match=r"died|closed"):
            for _ in range(50):  # a batch is running when the kill lands
                pool.run_many(BUNDLES * 500)
    finally:
        killer.join()
    assert _gone(pids)
    with pytest.raises(WorkerError):
        pool.run_many(BUNDLES * 50)  # the pool stays closed: no half-working pool


def test_a_dead_idle_worker_fails_the_next_batch() -> None:
    pool = VerifierPool(TRUST, processes=2, chunk=4)
    pids = pool.pids
    os.kill(pids[1] or 0, signal.SIGKILL)
    with pytest.raises(WorkerError, match="died"):
        pool.run_many(BUNDLES * 50)
    assert _gone(pids)


def test_a_hung_worker_fails_the_batch_within_the_deadline() -> None:
    pool = VerifierPool(TRUST, processes=2, chunk=4, timeout=3.0)
    pids = pool.pids
    os.kill(pids[0] or 0, signal.SIGSTOP)  # it never answers
    t0 = time.monotonic()
    with pytest.raises(WorkerError, match="took over 3 s"):
        pool.run_many(BUNDLES * 50)
    assert time.monotonic() - t0 < 60  # bounded (3 s deadline; a loaded machine)
    assert _gone(pids)


def _hostile() -> list[bytes]:
    deep = b"\x81" * 5000 + b"\x00"  # 5000 nested arrays
    return [
        deep,
        b"\x9b" + b"\xff" * 8,  # an array claiming 2^64 - 1 items
        b"\x5a\xff\xff\xff\xff",  # a 4 GiB byte string, announced
        b"\xa1" * 3000,
        os.urandom(2000),
        b"\x00" * (3 << 20),  # over any bundle limit
    ]


def test_hostile_bundles_fail_in_the_worker_as_in_one_thread() -> None:
    batch = [*_hostile(), *BUNDLES] * 4
    alone = [Verifier(TRUST).run(b) for b in batch]
    with VerifierPool(TRUST, processes=2, chunk=3) as pool:
        together = pool.run_many(batch)
        assert [r.to_json_value() for r in together] == [r.to_json_value() for r in alone]
        assert sum(r.ok for r in together) == 2 * 4
        assert all(r.ok for r in pool.run_many(BUNDLES * 10))  # the workers live on


def test_a_mirror_whose_worker_dies_appends_nothing_of_that_batch(tmp_path: Path) -> None:
    home = make_home(tmp_path / "peer")
    with LocalNode(home) as node:
        node.issue(_records(120, 0, home.region), iat=T0)
        store = SqlStore(f"sqlite:///{tmp_path / 'mirror'}.sqlite")
        mirror = AppendOnlyLog(store)
        try:
            with PeerSync(
                home.origin, _Peer(node), home.trust(), mirror, batch=40, processes=2
            ) as sync:
                sync.start_workers()
                assert sync._pool is not None
                pids = sync._pool.pids
                os.kill(pids[0] or 0, signal.SIGKILL)
                with pytest.raises(WorkerError, match="died"):
                    sync.sync_once(T0)
                assert mirror.size == 0  # nothing of the batch a dead worker held
                assert _gone(pids) and sync._pool is None
                r = sync.sync_once(T0)  # new workers, the whole log
                assert r.error is None and mirror.size == 120 == r.mirrored_size
                assert mirror.root() == node.log.root(120)
        finally:
            mirror.close()
            store.close()
