"""What the log indexes a statement by: its subject and the record it points at.

``subject`` is the CWT ``sub`` claim (a USCC, a HK CR number or a person pseudonym; never
a raw id). ``target`` is ``refs[0]``: for a lifecycle statement the record it is about,
for a derived record its first source (never set for a hash envelope). Both are indexed
columns of the ``entries`` table (see ``ledger/storage/tables.py``), so a bank's subject
lookup and a record's status are index reads, not log scans. ``lifecycle_in`` is that
read for a record's lifecycle statements.

``decision_no`` is a 双公示 penalty's decision number (决定书文号, body field
``decision_no``), kept in the small ``decision_numbers`` table so a penalty is found by
the number on its paper decision. Only penalties whose body is on the log are indexed:
a person's penalty is a hash envelope whose body stays off the log and can be erased,
so nothing of it is copied into an index. A number longer than
``MAX_DECISION_NO_CHARS`` (no real one is) is not indexed, so a hostile record cannot
make an index key that a database refuses (and so stop a mirror's sync).
"""

from __future__ import annotations

from typing import Final

from credex.ledger.lifecycle import STATUS_KINDS
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.record import Record
from credex.ledger.statement import Statement

__all__ = [
    "MAX_DECISION_NO_CHARS",
    "decision_no_of",
    "leaf_for",
    "lifecycle_in",
    "normalise_decision_no",
    "record_target",
]

#: the longest decision number indexed (real ones are about 20 characters)
MAX_DECISION_NO_CHARS: Final = 128
_PENALTY_KIND: Final = "penalty.admin"


def record_target(record: Record) -> bytes | None:
    """``refs[0]`` of ``record``, or None when it names no other record."""
    return record.refs[0] if record.refs else None


def normalise_decision_no(text: str) -> str:
    """A decision number as indexed and looked up: surrounding white space removed."""
    return text.strip()


def decision_no_of(record: Record) -> str | None:
    """The decision number ``record`` is indexed by: a penalty's, if short enough."""
    value = record.body.get("decision_no") if record.kind == _PENALTY_KIND else None
    if not isinstance(value, str):
        return None
    value = normalise_decision_no(value)
    return value if 0 < len(value) <= MAX_DECISION_NO_CHARS else None


def leaf_for(st: Statement, record_hash: bytes | None = None) -> NewLeaf:
    """The ``NewLeaf`` that appends ``st`` with its index keys. An RFC 9995 envelope
    (a person's record, body off-log) is indexed by subject only: its refs and its
    decision number are in the body, which a mirror does not hold and which may be
    erased."""
    clear = None if st.is_envelope else st.record
    return NewLeaf(
        st.leaf,
        st.kind,
        st.claims.iss,
        st.claims.iat,
        record_hash,
        st.claims.sub,
        None if clear is None else record_target(clear),
        None if clear is None else decision_no_of(clear),
    )


def lifecycle_in(
    log: AppendOnlyLog, target_leaf_hash: bytes, size: int | None = None
) -> list[tuple[int, Statement]]:
    """The lifecycle statements (``STATUS_KINDS``) in the first ``size`` entries of
    ``log`` whose ``refs[0]`` is ``target_leaf_hash``, in log order: one read of the
    ``target`` index, never a scan."""
    return [
        (e.index, Statement.from_bytes(e.leaf))
        for e in log.by_target(target_leaf_hash, size)
        if e.kind in STATUS_KINDS
    ]
