"""Submit's statement checks (``credex.node.services.checks``): the pool answers what the
server process would, and ``GroupCommit.submit_many`` batches a request under one future."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from credex.ledger.errors import CredexError, StorageError
from credex.ledger.group_commit import GroupCommit
from credex.ledger.indexing import leaf_for
from credex.node.local import LocalNode, record_hash
from credex.node.services.checks import CheckPool, IssuerIndex, check_chunk, check_statement
from credex.node.services.intake import Intake
from tests.security._nodes import T0, init_home, served, statements


def test_issuer_index_finds_what_the_trust_store_finds(tmp_path: Path) -> None:
    trust = init_home(tmp_path / "home").trust()
    index = IssuerIndex(trust)
    for issuer in trust.issuers:
        assert list(index.issuers_for_kid(issuer.kid)) == list(trust.issuers_for_kid(issuer.kid))
    assert index.issuers_for_kid(b"\x00" * 8) == ()


def test_the_pool_answers_as_the_server_process(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with LocalNode(home) as node:
        data = statements(node, 40)
        trust = IssuerIndex(home.trust())
        pool = CheckPool(2, min_batch=1)
        try:
            rows = pool.check(trust, T0, data, [None] * len(data))
            for d, row in zip(data, rows, strict=True):
                st = check_statement(trust, d, None, T0)
                leaf = leaf_for(st, record_hash(st.claims.iss, st.payload))
                assert row[:7] == (
                    leaf.leaf,
                    leaf.kind,
                    leaf.issuer,
                    leaf.iat,
                    leaf.subject,
                    leaf.target,
                    leaf.decision_no,
                )
                assert row[7] == st.payload and row[8] is None
            bad = [*data[:30], b"\x00", *data[30:]]
            with pytest.raises(CredexError) as err:
                pool.check(trust, T0, bad, [None] * len(bad))
            assert type(err.value).__name__ == "CborError" or "statement" in str(err.value)
            rows_in, failed = check_chunk(trust, T0, bad, [None] * len(bad))
            assert len(rows_in) == 30 and failed is not None and failed[0] == 30
            assert str(failed[1]) == str(err.value)
        finally:
            pool.close()
        with pytest.raises(StorageError):
            pool.check(trust, T0, data, [None] * len(data))


def test_intake_with_and_without_a_pool_logs_the_same(tmp_path: Path) -> None:
    roots = []
    with LocalNode(init_home(tmp_path / "signer")) as signer:
        data = statements(signer, 24)
    for name, pool in (("in-process", None), ("pooled", CheckPool(2, min_batch=1))):
        home = init_home(tmp_path / name)
        with LocalNode(home) as node:
            try:
                acks = Intake(node, lambda: T0, pool).submit(data)
            finally:
                if pool is not None:
                    pool.close()
            assert [a.leaf_index for a in acks] == list(range(24))
            roots.append(node.log.root())
    assert roots[0] == roots[1]  # same seeds, same statements: the same log


def test_a_stopped_server_stops_its_workers(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, check_workers=2) as s:
        pool = s.server.checks
        assert pool is not None
        pool.start(wait=True)
        procs = pool.pids()
        assert len(procs) == 2
    assert pool.pids() == []
    for pid in procs:  # reaped by the pool: gone
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_no_workers_means_checks_in_the_server_process(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, check_workers=0) as s:
        assert s.server.checks is None
        data = statements(s.node, 20)
        with s.client("issuer-a") as c:
            assert len(c.submit(data, batch=20)) == 20


def test_submit_many_one_future_per_request_in_one_batch() -> None:
    batches: list[list[int]] = []

    def commit(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return [i * 10 for i in items]

    gc: GroupCommit[int, int] = GroupCommit(commit, max_batch=4, max_delay_s=0.05)
    try:
        big = gc.submit_many([1, 2, 3, 4, 5, 6])  # more than max_batch: alone, whole
        one = gc.submit(7)
        few = gc.submit_many([8, 9])
        empty = gc.submit_many([])
        assert big.result() == [10, 20, 30, 40, 50, 60]
        assert one.result() == 70 and few.result() == [80, 90] and empty.result() == []
        assert [1, 2, 3, 4, 5, 6] in batches
        assert all(len(b) <= 4 or b == [1, 2, 3, 4, 5, 6] for b in batches)
    finally:
        gc.close()


def test_submit_many_delivers_a_failed_commit_to_every_caller() -> None:
    gate = threading.Event()

    def commit(items: Sequence[int]) -> list[int]:
        gate.wait(5)
        raise StorageError("log: disk full")

    gc: GroupCommit[int, int] = GroupCommit(commit, max_batch=64, max_delay_s=0.01)
    try:
        a, b = gc.submit_many([1, 2]), gc.submit(3)
        gate.set()
        for f in (a, b):
            with pytest.raises(StorageError, match="disk full"):
                f.result(5)
    finally:
        gc.close()
    with pytest.raises(StorageError, match="closed"):
        gc.submit_many([4])
