"""Attacks on the decision-number index (issue #14).

- A hostile peer logs a penalty whose decision number is several kilobytes: indexed, it
  would exceed PostgreSQL's B-tree entry limit and make every append of that batch fail,
  so a mirror could never sync past it. It is left out of the index, and the append (on
  SQLite and PostgreSQL) succeeds.
- A natural person's penalty is a hash envelope: its decision number is in the off-log,
  erasable body, so nothing of it enters the index, not even at the issuing node.
"""

from __future__ import annotations

from credex.ledger.envelope import salted
from credex.ledger.indexing import MAX_DECISION_NO_CHARS, decision_no_of, leaf_for
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement

T0 = 1_780_000_000
KEY = SigningKey(bytes(range(32)))
BODY = {
    "decision_date": "2026-01-02",
    "penalty_types": ["罚款"],
    "content": "罚款1万元",
    "authority": "宁波市市场监督管理局",
    "authority_uscc": "11330200MA0YX8018B",
}


def _penalty(decision_no: str, subject: Subject) -> Record:
    return Record(
        "penalty.admin", "cn-zj-ningbo", subject, {**BODY, "decision_no": decision_no}, T0
    )


def test_an_oversized_decision_number_cannot_stop_appends(log: AppendOnlyLog) -> None:
    huge = "号" * 4000  # 12 000 bytes of UTF-8: beyond any B-tree entry
    record = _penalty(huge, Subject("org", "91330200MA0YX20892"))
    st = sign_statement(record, "cn-zj-ningbo/platform", KEY, T0)
    leaf = leaf_for(st)
    assert leaf.decision_no is None and leaf.subject == "91330200MA0YX20892"
    (res,) = log.append_many([leaf])
    assert res.is_new and log.by_decision_no(huge) == []
    longest = "号" * MAX_DECISION_NO_CHARS
    assert decision_no_of(_penalty(longest, Subject("org", "91330200MA0YX20892"))) == longest


def test_a_persons_penalty_is_never_indexed_by_number() -> None:
    person = Subject("person", "hmac:00000001:" + "ab" * 32)
    record = salted(_penalty("甬市监罚〔2026〕7号", person), b"node secret")
    st = sign_statement(record, "cn-zj-ningbo/platform", KEY, T0)
    assert st.is_envelope and st.has_body  # the issuing node holds the body...
    assert leaf_for(st).decision_no is None  # ...and still indexes nothing of it
