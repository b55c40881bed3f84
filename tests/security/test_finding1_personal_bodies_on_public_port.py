"""Finding 1: personal bodies to anyone.

``Log.GetBundle`` on the public TLS port returned a person's record with its ``preimage``
(the off-log body) to any client without a certificate, with no authorisation and no
``audit.lookup``; enumerating indices returned every body held. Now no Log RPC (on either
port) attaches a body: GetBundle serves the envelope (steps 1-6 verify), and step 7 says
which log holds the body and how to ask for it. Bodies leave a node only through a
Lookup over mTLS by a registered client with a purpose and an authorisation reference,
which is logged as ``audit.lookup``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.ledger.bundle import Bundle
from credex.ledger.errors import BodyNotHeldError, UnauthenticatedError
from credex.ledger.statement import Statement
from credex.ledger.verify import run_verification

from .support import T0, db_of, make_home, serve

AS_OF = date(2026, 5, 31)
N = 6


@pytest.fixture
def home(tmp_path: Path, store_url: str):
    return make_home(tmp_path / "ningbo", db=db_of(store_url))


def _issue_scores(node, home) -> list[bytes]:
    records = score_records(home.region, home.subject_key(), N, as_of=AS_OF)
    node.issue(records, iat=T0)
    bodies = [node.bodies.get(e.leaf_hash) for e in node.log.entries(0, N)]
    assert all(b is not None for b in bodies)  # the issuing node holds every body
    return [b for b in bodies if b is not None]


def test_no_log_rpc_hands_out_a_body(home) -> None:
    with serve(home) as s:
        bodies = _issue_scores(s.node, home)
        with s.anonymous() as anyone, s.registered("bank-1", "bank") as bank:
            for client in (anyone, bank):  # the public port, and the Log service over mTLS
                for index in range(N):  # enumerating every index
                    data = client.get_bundle(index)
                    b = Bundle.from_bytes(data)
                    assert b.preimage is None
                    assert Statement.from_bytes(b.statement).is_envelope
                    assert not any(body in data for body in bodies)
                leaves = [leaf for chunk in client.get_entries(0, N) for leaf in chunk]
                assert not any(body in leaf for leaf in leaves for body in bodies)
        # the envelope proves the statement; step 7 says where the body is and how to ask
        report = run_verification(data, home.trust())
        assert [st.ok for st in report.steps[:6]] == [True] * 6
        assert report.failed_step == 7 and isinstance(report.error, BodyNotHeldError)
        message = str(report.error)
        assert home.origin in message and "lookup" in message


def test_the_body_leaves_only_through_an_audited_lookup(home) -> None:
    with serve(home) as s:
        _issue_scores(s.node, home)
        subject = Statement.from_bytes(s.node.log.entry(0).leaf).claims.sub
        size = s.node.log.size
        with s.registered("bank-1", "bank") as bank:
            answer = bank.lookup(
                subject=subject, purpose="eligibility", authorisation="consent:2026-118"
            )
        got = [r for r in answer.records if r.bundle is not None]
        assert got and all(Bundle.from_bytes(r.bundle).preimage is not None for r in got)
        assert s.node.log.size == size + 1  # the lookup itself is on the log
        assert s.node.log.entry(size).kind == "audit.lookup"


def test_bad_input_anonymous_lookup_is_refused_and_nothing_is_logged(home) -> None:
    with serve(home) as s:
        _issue_scores(s.node, home)
        subject = Statement.from_bytes(s.node.log.entry(0).leaf).claims.sub
        size = s.node.log.size
        with s.anonymous() as anyone:
            anyone.mtls_endpoint = anyone.endpoint
            with pytest.raises(UnauthenticatedError) as e:
                anyone.lookup(subject=subject, purpose="eligibility", authorisation="x:1")
        assert "\n" not in str(e.value)
        assert s.node.log.size == size
