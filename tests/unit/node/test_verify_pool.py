"""``VerifierPool``: bundle verification on worker processes (issue 13) gives exactly the
reports ``Verifier.run`` gives on one thread: the same steps and details, the same error
class, message and step, for valid, tampered and malformed bundles alike. Real worker
processes (forkserver), started once and closed without leaving a process behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from credex.ledger.trust import TrustStore
from credex.ledger.verify import Verifier
from credex.ledger.verify_report import compact, from_compact
from credex.node.procpool import ProcessPool, WorkerError
from credex.node.verify_pool import VerifierPool
from tests.security.test_verifier_cache_poisoning import (
    BAD_CHECKPOINT,
    BAD_RECEIPT_SIG,
    OTHER_PAYLOAD,
)

GOLDEN = Path(__file__).resolve().parents[2] / "vectors" / "golden"
BUNDLES = [(GOLDEN / f"bundle-{i}.credex").read_bytes() for i in (0, 1)]
TRUST = TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))
MIXED = [*BUNDLES, BAD_RECEIPT_SIG, OTHER_PAYLOAD, BAD_CHECKPOINT, b"\xa0", b"", b"\x00" * 9]


def _same(a: object, b: object) -> None:
    from credex.ledger.verify_report import VerificationReport

    assert isinstance(a, VerificationReport) and isinstance(b, VerificationReport)
    assert a.to_json_value() == b.to_json_value()
    assert type(a.error) is type(b.error)
    assert (a.error is None) or (a.error.step == b.error.step == a.failed_step)  # type: ignore[union-attr]


def test_compact_round_trip_is_the_same_report() -> None:
    v = Verifier(TRUST, purpose=None)
    for data in MIXED:
        report = v.run(data)
        _same(from_compact(compact(report)), report)


def test_from_compact_refuses_what_is_not_a_report() -> None:
    with pytest.raises(ValueError):
        from_compact(("x",))
    good = compact(Verifier(TRUST).run(BUNDLES[0]))
    with pytest.raises(ValueError):
        from_compact((3, None, *good[2:]))  # a failed step without an error


@pytest.mark.parametrize("purpose", [None, "eligibility"])
def test_a_mixed_batch_on_processes_matches_one_by_one(purpose: str | None) -> None:
    batch = MIXED * 12
    alone = [Verifier(TRUST, purpose=purpose).run(b) for b in batch]
    with VerifierPool(TRUST, purpose=purpose, processes=2, chunk=5) as pool:
        for _ in range(2):  # the workers serve batch after batch
            together = pool.run_many(batch)
            assert len(together) == len(alone)
            for a, b in zip(alone, together, strict=True):
                _same(b, a)
        assert pool.run_many(batch[:3])[0].ok is alone[0].ok  # small: in this process
        assert pool.run_many([]) == []
    ok = sum(1 for r in together if r.ok)
    assert ok == sum(1 for r in alone if r.ok)


def test_closed_pool_leaves_no_process_and_refuses_work() -> None:
    pool = VerifierPool(TRUST, processes=2)
    pids = [p for p in pool.pids if p is not None]
    assert len(pids) == 2
    pool.close()
    pool.close()  # idempotent
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()  # exited and reaped: no zombie
    with pytest.raises(WorkerError, match="closed"):
        pool.run_many(BUNDLES * 20)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        VerifierPool(TRUST, processes=0)
    with pytest.raises(ValueError):
        VerifierPool(TRUST, chunk=0)
    with pytest.raises(ValueError):
        ProcessPool(str, None, str, timeout=0)
