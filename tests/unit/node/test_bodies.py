"""Off-log bodies of enveloped records, on SQLite and PostgreSQL: the store, LocalNode's
use of it, erasure that leaves the tree untouched, and no body bytes left on disk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.ledger import envelope
from credex.ledger.errors import (
    BodyErasedError,
    BodyNotHeldError,
    FormatError,
    NotFoundError,
    RecordWithheldError,
)
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement
from credex.ledger.storage.bodies import BodyStore
from credex.ledger.verify import verify_bundle
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.erasure import erase_if_ended

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
DAY = 86_400
AS_OF = date(2026, 5, 31)
LH = [bytes([i]) * 32 for i in range(4)]


@pytest.fixture
def bodies(store_url: str) -> Iterator[BodyStore]:
    with BodyStore(store_url) as s:
        yield s


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return NodeHome.init(
        tmp_path / "home",
        region=REGION,
        origin=ORIGIN,
        db=store_url,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )


@pytest.fixture
def node(home: NodeHome) -> Iterator[LocalNode]:
    with LocalNode(home) as n:
        yield n


# --- the store -------------------------------------------------------------------------


def _held(home: NodeHome, rec: Record) -> bytes:
    """The body a node keeps for ``rec``: the record with the node's envelope salt."""
    return envelope.salted(rec, home.envelope_secret()).to_bytes()


def test_put_get_and_counts(bodies: BodyStore) -> None:
    bodies.put_many([(LH[0], b"body-0"), (LH[1], b"body-1")], T0)
    assert bodies.get(LH[0]) == b"body-0" and bodies.get(LH[2]) is None
    assert bodies.get_many([LH[0], LH[1], LH[2]]) == {LH[0]: b"body-0", LH[1]: b"body-1"}
    # an existing row is never overwritten
    bodies.put_many([(LH[0], b"other")], T0 + 1)
    assert bodies.get(LH[0]) == b"body-0"
    c = bodies.counts()
    assert (c.held, c.erased) == (2, 0)
    info = bodies.info(LH[0])
    assert info is not None and info.held and info.stored_at == T0


def test_erase_keeps_a_tombstone_and_is_idempotent(bodies: BodyStore) -> None:
    bodies.put_many([(LH[0], b"body-0"), (LH[1], b"body-1")], T0)
    info = bodies.erase(LH[0], "repaired", T0 + DAY)
    assert not info.held and info.erased_at == T0 + DAY and info.erase_reason == "repaired"
    with pytest.raises(BodyErasedError, match=r"erased on 2026-06-02 \(repaired\)"):
        bodies.get(LH[0])
    again = bodies.erase(LH[0], "request", T0 + 2 * DAY)
    assert again == info  # the first tombstone stays
    assert bodies.get_many([LH[0], LH[1]]) == {LH[1]: b"body-1"}
    # a re-import does not bring an erased body back
    bodies.put_many([(LH[0], b"body-0")], T0 + 3 * DAY)
    with pytest.raises(BodyErasedError):
        bodies.get(LH[0])
    c = bodies.counts()
    assert (c.held, c.erased) == (1, 1)
    assert [i.leaf_hash for i in bodies.list_bodies(held=False)] == [LH[0]]
    assert [i.leaf_hash for i in bodies.list_bodies(held=True)] == [LH[1]]
    assert len(bodies.list_bodies()) == 2


def test_erase_refuses_unknown_leaf_and_reason(bodies: BodyStore) -> None:
    with pytest.raises(NotFoundError, match="no record body held"):
        bodies.erase(LH[3], "request", T0)
    bodies.put_many([(LH[0], b"body-0")], T0)
    with pytest.raises(FormatError, match="erase reason"):
        bodies.erase(LH[0], "because", T0)
    assert bodies.get(LH[0]) == b"body-0"


# --- LocalNode ----------------------------------------------------------------------------


def _scores(home: NodeHome, n: int, seed: int = 0) -> list[Record]:
    return score_records(REGION, home.subject_key(), n, seed=seed, as_of=AS_OF)


def test_issue_keeps_bodies_off_the_log(node: LocalNode, home: NodeHome) -> None:
    recs = _scores(home, 3)
    results = node.issue(recs, iat=T0)
    assert node.bodies.counts().held == 3
    for r, rec in zip(results, recs, strict=True):
        leaf = node.log.entry(r.index).leaf
        assert rec.to_bytes() not in leaf and b"as_of" not in leaf
        assert node.bodies.get(r.leaf_hash) == _held(home, rec)
        assert node.statement_at(r.index).record == envelope.salted(rec, home.envelope_secret())
    # idempotent: a second issue logs nothing and stores nothing new
    again = node.issue(recs, iat=T0 + 5)
    assert [a.is_new for a in again] == [False] * 3 and node.log.size == 3
    b = node.bundle(results[0].index, T0, with_body=True)
    assert b.preimage == _held(home, recs[0])
    report = verify_bundle(b.to_bytes(), home.trust())
    assert report.ok and report.kind == "score.city"


def test_append_of_signed_statements_stores_bodies(node: LocalNode, home: NodeHome) -> None:
    recs = _scores(home, 2, seed=3)
    [st0, st1] = node.sign(recs, None, T0)
    res = node.append([st0, st1])
    assert node.bodies.get(res[1].leaf_hash) == _held(home, recs[1])
    # the same records through issue are recognised as already logged
    assert [r.is_new for r in node.issue(recs, iat=T0)] == [False, False]


def test_erase_leaves_the_tree_untouched(node: LocalNode, home: NodeHome) -> None:
    results = node.issue(_scores(home, 4), iat=T0)
    node.publish_checkpoint(T0)
    size, root = node.log.size, node.log.root(node.log.size)
    target = results[1]
    node.bodies.erase(target.leaf_hash, "request", T0 + DAY)
    assert (node.log.size, node.log.root(node.log.size)) == (size, root)
    assert node.log.entry(target.index).leaf_hash == target.leaf_hash
    with pytest.raises(BodyErasedError, match=r"\(request\); the leaf .* stays in the log"):
        node.bundle(target.index, T0 + DAY, with_body=True)
    with pytest.raises(BodyErasedError):
        node.bundle_with_status(target.index, T0 + DAY, with_body=True)
    st = node.statement_at(target.index)
    assert st.is_envelope and not st.has_body
    with pytest.raises(BodyNotHeldError):
        _ = st.record
    # the other records are unaffected
    other = node.bundle(results[2].index, T0 + DAY, with_body=True)
    assert verify_bundle(other.to_bytes(), home.trust()).ok


def test_sqlite_erase_leaves_no_body_bytes_on_disk(tmp_path: Path) -> None:
    home = NodeHome.init(
        tmp_path / "home",
        region=REGION,
        origin=ORIGIN,
        db=None,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )
    rec = _scores(home, 1, seed=7)[0]
    body = _held(home, rec)
    db = Path(home.db_url.removeprefix("sqlite:///"))

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())

    with LocalNode(home) as node:
        [res] = node.issue([rec], iat=T0)
        assert body in on_disk()  # the test can see a body when one is there
        node.bodies.erase(res.leaf_hash, "window-ended", T0 + DAY)
        assert body not in on_disk()
        assert body[-40:] not in on_disk()
    assert body not in on_disk()


def test_erase_if_ended(node: LocalNode, home: NodeHome) -> None:
    person = _scores(home, 1)[0].subject
    body = {"scheme": "NINGBO_TIANYI_PLACEHOLDER", "score": 700, "band": "b", "as_of": "x"}
    short = Record("score.city", REGION, person, body, T0 - 10 * DAY, T0 + DAY)
    long = Record("score.city", REGION, person, body, T0 - 10 * DAY, T0 + 400 * DAY)
    org = Record("score.city", REGION, Subject("org", "91330200MA0YX00163"), body, T0, T0 + DAY)
    r_short, r_long, r_org = node.issue([short, long, org], iat=T0)
    assert erase_if_ended(node, r_short.leaf_hash, T0) is None  # still active
    info = erase_if_ended(node, r_short.leaf_hash, T0 + 2 * DAY)
    assert info is not None and not info.held and info.erase_reason == "window-ended"
    assert erase_if_ended(node, r_short.leaf_hash, T0 + 3 * DAY) == info  # idempotent
    assert erase_if_ended(node, r_long.leaf_hash, T0 + 2 * DAY) is None
    assert erase_if_ended(node, r_org.leaf_hash, T0 + 2 * DAY) is None  # not enveloped
    assert node.bodies.get(r_long.leaf_hash) == _held(home, long)
    with pytest.raises(NotFoundError):
        erase_if_ended(node, b"\x00" * 32, T0)


def test_submitted_envelope_is_logged_without_body(node: LocalNode, home: NodeHome) -> None:
    """A statement signed elsewhere arrives without its body: logged, bundled without a
    preimage (verification then names the missing body at step 7)."""
    rec = _scores(home, 1, seed=9)[0]
    [st] = node.sign([rec], None, T0)
    res = node.submit(Statement.from_bytes(st.leaf).leaf, now=T0)
    assert res.kind == "score.city" and node.bodies.info(res.leaf_hash) is None
    b = node.bundle(res.index, T0, with_body=True)
    assert b.preimage is None
    from credex.ledger.verify import run_verification

    report = run_verification(b.to_bytes(), home.trust())
    assert report.failed_step == 7 and isinstance(report.error, BodyNotHeldError)


def test_withdrawn_person_record_body_is_erased_by_the_hook(
    node: LocalNode, home: NodeHome
) -> None:
    """A lifecycle statement about a person's record is logged in the clear (status is
    public) while the record stays an envelope; once withdrawn, the hook erases its body."""
    from credex.node.services.lifecycle import add_lifecycle, status_of

    [res] = node.issue(_scores(home, 1, seed=11), iat=T0)
    body = {"reason": "issued in error", "withdrawn_on": "2026-06-02"}
    w = add_lifecycle(node, res.leaf_hash, "lifecycle.withdrawal", body, now=T0 + 2 * DAY)
    wst = node.statement_at(w.index)
    assert not wst.is_envelope and wst.record.refs[0] == res.leaf_hash
    assert status_of(node, res.leaf_hash, T0 + 3 * DAY)[1].state == "withdrawn"
    info = erase_if_ended(node, res.leaf_hash, T0 + 3 * DAY)
    assert info is not None and info.erase_reason == "withdrawn"
    with pytest.raises(BodyErasedError, match="withdrawn"):
        node.bundle(res.index, T0 + 3 * DAY, with_body=True)


def test_erased_after_withdrawal_status_still_answers(node: LocalNode, home: NodeHome) -> None:
    from credex.node.services.lifecycle import add_lifecycle, lifecycle_entries, status_of
    from credex.node.services.sharing import require_shared

    (r,) = node.issue(_scores(home, 1), iat=T0)
    root = node.log.root()
    add_lifecycle(
        node,
        r.leaf_hash,
        "lifecycle.withdrawal",
        {"reason": "entered twice", "withdrawn_on": "2026-06-02"},
        now=T0 + DAY,
    )
    assert node.bodies.info(r.leaf_hash).held  # type: ignore[union-attr]  # erased on demand
    erase_if_ended(node, r.leaf_hash, T0 + DAY)
    info = node.bodies.info(r.leaf_hash)
    assert info is not None and not info.held and info.erase_reason == "withdrawn"
    assert node.log.root(r.index + 1) == root  # the tree is untouched
    target, status = status_of(node, r.leaf_hash, T0 + 2 * DAY)
    assert not target.has_body
    assert status.state == "withdrawn" and "window: unknown here" in status.reasons[-1]
    with pytest.raises(BodyErasedError, match="erased"):
        node.bundle(r.index, T0 + 2 * DAY, with_body=True)
    with pytest.raises(RecordWithheldError, match=r"no longer shared \(withdrawn"):
        require_shared(target, lifecycle_entries(node, r.leaf_hash), T0 + 2 * DAY)
