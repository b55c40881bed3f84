"""Finding 5: backdated statements.

Key validity was checked only against the issuer-chosen ``iat``: a retired (or stolen)
key signed today with an ``iat`` inside its old window, Submit logged it, and verify
accepted it. Now (``credex.ledger.logtime``, docs/spec.md §2 and §3 step 2):

- a node logs a submitted statement only when its ``iat`` is within ``MAX_CLOCK_SKEW``
  (300 s) of the node's clock;
- a log records when it first recorded each checkpoint, so it can attest when an entry
  was logged (after the last checkpoint without it, by the first with it), in the
  attestation its bundles carry;
- a mirror refuses a peer entry signed by a key retired before the mirror last saw the
  peer's log without that entry (plus tolerance), or dated in its future;
- verify step 2 refuses a key that was not valid when the log attests the entry was
  logged, or before the witnesses saw it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from credex.ledger.errors import PolicyError
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.storage.sql import SqlStore
from credex.ledger.verify import run_verification
from credex.node.federation.sync import PeerSync
from credex.node.home import NodeHome
from credex.node.local import LocalNode

from .support import T0, Clock, db_of, make_home, serve

DAY = 86_400
COURT = "cn-zj-ningbo/court"
RETIRED = T0 + 30 * DAY  # the court's key was retired (rotated out) then
LATER = RETIRED + 60 * DAY  # the attacker, holding the old key, acts then
COMPANY = Subject("org", "91330100MA0YX0016X")


def _listing(n: int) -> Record:
    body = {
        "court": "宁波市中级人民法院",
        "case_no": f"（2026）浙02执{n}号",
        "filed_on": "2026-01-05",
        "listed_on": "2026-02-01",
    }
    return Record("court.dishonest-debtor", "cn-zj-ningbo", COMPANY, body, T0 - DAY)


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    h = make_home(tmp_path / "ningbo", db=db_of(store_url))
    # the court's key, valid until it was retired at RETIRED
    h.add_issuer(
        COURT, ["court.dishonest-debtor"], valid_from=0, valid_until=RETIRED, seed=b"\x05" * 32
    )
    return h


def _backdated(home: NodeHome, n: int = 1) -> bytes:
    """Signed at LATER with the retired key, dated inside its old window."""
    key = home.issuer_signing_key(COURT, "court.dishonest-debtor", RETIRED - DAY)
    return sign_statement(_listing(n), COURT, key, RETIRED - DAY).to_bytes()


def _is_log_time(err: BaseException) -> None:
    assert isinstance(err, PolicyError) and err.code == "log_time", err
    assert "\n" not in str(err)


def test_submit_bounds_iat_by_the_node_clock(home: NodeHome) -> None:
    with serve(home, Clock(LATER)) as s, s.registered("court-tool", "issuer") as c:
        with pytest.raises(PolicyError) as e:
            c.submit([_backdated(home)])
        _is_log_time(e.value)
        assert s.node.log.size == 0
        # dated in the future: refused too
        key = home.issuer_signing_key(home.platform_issuer, "court.dishonest-debtor", LATER)
        ahead = sign_statement(_listing(2), home.platform_issuer, key, LATER + 3600)
        with pytest.raises(PolicyError) as e:
            c.submit([ahead.to_bytes()])
        _is_log_time(e.value)
        # within the skew: logged
        fresh = sign_statement(_listing(3), home.platform_issuer, key, LATER - 200)
        assert c.submit([fresh.to_bytes()])[0].leaf_index == 0
    with LocalNode(home) as node, pytest.raises(PolicyError) as e:
        node.submit(_backdated(home), now=LATER)
    _is_log_time(e.value)


def test_a_mirror_refuses_a_backdated_entry(home: NodeHome, tmp_path: Path) -> None:
    clock = Clock(RETIRED + DAY)
    with serve(home, clock) as s:
        s.node.issue([_listing(9)], iat=RETIRED + DAY)  # an honest entry by the platform
        store = SqlStore(f"sqlite:///{tmp_path / 'mirror.sqlite'}")
        try:
            with AppendOnlyLog(store) as mirror, s.anonymous() as peer:
                sync = PeerSync(home.origin, peer, home.trust(), mirror)
                first = sync.sync_once(RETIRED + DAY)  # the mirror sees size 1, after RETIRED
                assert first.error is None and mirror.size == 1
                # the attacker's node logs the backdated statement below every check
                clock.now = LATER
                s.node.append([_statement(_backdated(home))])
                r = sync.sync_once(LATER)
                assert r.error is not None and r.error.startswith("entry 1: sync: key of")
                assert "backdated" in r.error and mirror.size == 1
        finally:
            store.close()


def _statement(data: bytes):  # type: ignore[no-untyped-def]
    from credex.ledger.statement import Statement

    return Statement.from_bytes(data)


def test_verify_refuses_a_key_retired_before_the_log_attests_it_logged(home: NodeHome) -> None:
    with LocalNode(home) as node:
        node.issue([_listing(9)], iat=RETIRED + DAY)
        node.publish_checkpoint(RETIRED + DAY)  # the log recorded size 1 then
        node.append([_statement(_backdated(home))])
        data = node.bundle_with_status(1, LATER).to_bytes()
    report = run_verification(data, home.trust())
    assert report.failed_step == 2, report.to_json_value()
    _is_log_time(report.error)  # type: ignore[arg-type]
    assert "retired" in str(report.error) and "logged after" in str(report.error)


def test_an_honest_entry_of_a_since_retired_key_still_verifies(home: NodeHome) -> None:
    """Logged while the key was valid: verifies long after the key was retired."""
    with LocalNode(home) as node:
        key = home.issuer_signing_key(COURT, "court.dishonest-debtor", T0)
        st = sign_statement(_listing(4), COURT, key, T0)
        node.submit(st.to_bytes(), now=T0 + 10)
        node.publish_checkpoint(T0 + 20)
        data = node.bundle_with_status(0, LATER).to_bytes()
    report = run_verification(data, home.trust(), purpose="punitive")
    assert report.ok, report.to_json_value()
    assert "logged after - and by" in report.steps[1].detail


def test_bad_input_one_named_error_and_nothing_stored(home: NodeHome) -> None:
    with LocalNode(home) as node:
        with pytest.raises(PolicyError) as e:
            node.submit(_backdated(home), now=LATER)
        _is_log_time(e.value)
        assert str(e.value).startswith("submit: iat is not within 300 s of this node's clock")
        assert node.log.size == 0
