"""Submit's statement checks run in worker processes (``CheckPool``): attack them.

A59: a worker that dies (killed, or crashed by what it was given) or stalls (stopped)
while a batch is being checked. The batch fails with one clean error (``StorageError``,
INTERNAL), nothing of it is logged or acknowledged, the server keeps serving, and the
next batch is checked by new workers. A stalled worker is killed, not left behind.

A60: a bad statement deep inside a batch large enough to go to the workers (in the
second worker's share, after valid ones, or several bad ones): the call fails with the
first bad statement's own one-line error, as when checked in the server process, and
nothing of the batch is logged; a statement that decodes to nesting or sizes at the
decoder's limits is refused by name in the worker, which survives.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from credex.ledger.errors import CoseError, CredexError, FormatError, SignatureError
from credex.node.services.checks import DEFAULT_MIN_BATCH, CheckPool
from tests.security._nodes import Served, init_home, served, statements

N = 4 * DEFAULT_MIN_BATCH  # large enough to be checked in the pool, by both workers


def _pool(s: Served) -> CheckPool:
    pool = s.server.checks
    assert pool is not None
    pool.start(wait=True)
    assert len(pool.pids()) == pool.workers == 2
    return pool


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a killed child not yet reaped is a zombie: dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped meanwhile (read: ESRCH)
        return False


def _wait_dead(pid: int, timeout_s: float = 10.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_a59_killed_workers_fail_the_batch_cleanly_and_are_replaced(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, check_workers=2) as s:
        data = statements(s.node, 2 * N)
        pool = _pool(s)
        old = pool.pids()
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        assert all(_wait_dead(pid) for pid in old)
        with s.client("issuer-a") as c:
            with pytest.raises(CredexError) as err:
                c.submit(data[:N], batch=N)
            assert "internal error" in str(err.value)  # one line, nothing of the input
            assert s.node.log.size == 0  # nothing logged, nothing acknowledged
            acks = c.submit(data[N:], batch=N)  # new workers check the next batch
        assert [a.leaf_index for a in acks] == list(range(N))
        assert s.node.log.size == N
        assert pool.pids() and not set(pool.pids()) & set(old)


def test_a59_a_stalled_worker_is_killed_and_the_batch_fails(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, check_workers=2) as s:
        data = statements(s.node, 2 * N)
        pool = _pool(s)
        pool.timeout_s = 3.0
        stalled = pool.pids()
        for pid in stalled:
            os.kill(pid, signal.SIGSTOP)  # alive, holding its task, never answering
        try:
            with s.client("issuer-a") as c:
                t0 = time.monotonic()
                with pytest.raises(CredexError, match="internal error"):
                    c.submit(data[:N], batch=N)
                assert time.monotonic() - t0 < 30
                assert s.node.log.size == 0
                assert all(_wait_dead(pid) for pid in stalled)  # killed, not left behind
                acks = c.submit(data[N:], batch=N)
            assert len(acks) == N and s.node.log.size == N
        finally:
            for pid in stalled:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def _forged(st: bytes) -> bytes:
    return st[:-1] + bytes([st[-1] ^ 1])  # the signature's last byte


@pytest.mark.parametrize("at", [1, DEFAULT_MIN_BATCH + 5, N - 1])
def test_a60_a_bad_statement_deep_in_a_pooled_batch_gets_its_own_error(
    tmp_path: Path, at: int
) -> None:
    home = init_home(tmp_path / "home")
    with served(home, check_workers=2) as s:
        data = statements(s.node, N)
        _pool(s)
        batch = list(data)
        batch[at] = _forged(batch[at])
        with s.client("issuer-a") as c:
            with pytest.raises(SignatureError) as err:
                c.submit(batch, batch=N)
            assert "\n" not in str(err.value)
            assert s.node.log.size == 0
            # two bad ones: the first in input order is named, as in-process
            batch[N - 2] = b"\xa0"  # an empty map: not a statement
            first: type[CredexError] = SignatureError if at < N - 2 else CoseError
            with pytest.raises(first):
                c.submit(batch, batch=N)
            batch[at], batch[N - 2] = data[at], data[N - 2]
            assert len(c.submit(batch, batch=N)) == N  # the workers survived


def test_a60_decoder_limits_in_a_worker_are_refused_by_name(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, check_workers=2) as s:
        data = statements(s.node, N)
        pool = _pool(s)
        pids = pool.pids()
        deep = b"\x81" * 5000 + b"\x00"  # arrays nested 5,000 deep
        huge = b"\xd2" + b"\x5a\xff\xff\xff\xff"  # tag 18 over a 4 GiB byte string, absent
        with s.client("issuer-a") as c:
            for bad in (deep, huge, b"\xff" * 60_000):
                batch = [*data[:-1], bad]
                with pytest.raises(FormatError) as err:
                    c.submit(batch, batch=N)
                assert "\n" not in str(err.value)
        assert s.node.log.size == 0
        assert pool.pids() == pids  # the same workers: none crashed


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def test_a59_workers_of_a_server_killed_with_sigkill_end_themselves(tmp_path: Path) -> None:
    """``credex serve`` killed outright cannot stop its workers: they must not live on
    (orphans holding the server's stderr and memory)."""
    from credex.node.bench.loadtest import ServeProcess
    from credex.node.bench.rpc import _live_home

    home = _live_home(tmp_path / "serve")
    server = ServeProcess(home.path)
    try:
        end = time.monotonic() + 60
        while len(kids := _children(server.proc.pid)) < 3 and time.monotonic() < end:
            time.sleep(0.1)  # 2 workers and multiprocessing's resource tracker
        assert len(kids) >= 2
    finally:
        server.kill9()  # returns once its stderr is closed: by the workers too
    assert all(_wait_dead(pid, 15) for pid in kids)
