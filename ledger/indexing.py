"""What the log indexes a statement by: its subject and the record it points at.

``subject`` is the CWT ``sub`` claim (a USCC, a HK CR number or a person pseudonym; never
a raw id). ``target`` is ``refs[0]``: for a lifecycle statement the record it is about,
for a derived record its first source (never set for a hash envelope). Both are indexed
columns of the ``entries`` table (see ``ledger/storage/tables.py``), so a bank's subject
lookup and a record's status are index reads, not log scans. ``lifecycle_in`` is that
read for a record's lifecycle statements.
"""

from __future__ import annotations

from credex.ledger.lifecycle import STATUS_KINDS
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.record import Record
from credex.ledger.statement import Statement

__all__ = ["leaf_for", "lifecycle_in", "record_target"]


def record_target(record: Record) -> bytes | None:
    """``refs[0]`` of ``record``, or None when it names no other record."""
    return record.refs[0] if record.refs else None


def leaf_for(st: Statement, record_hash: bytes | None = None) -> NewLeaf:
    """The ``NewLeaf`` that appends ``st`` with its index keys. An RFC 9995 envelope
    (a person's record, body off-log) is indexed by subject only: its refs are in the
    body, which a mirror does not hold."""
    target = None if st.is_envelope else record_target(st.record)
    return NewLeaf(
        st.leaf, st.kind, st.claims.iss, st.claims.iat, record_hash, st.claims.sub, target
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
