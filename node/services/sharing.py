"""What a node still shares: a record's status decides whether its body leaves the node.

After a repair (信用修复), a withdrawal, a correction, or the end of a penalty's, court
list's or black list's publication window,
"publication ends, sharing and use stop" (DOMAIN §3): the leaf stays in the log (the tree
is append-only and GetEntries still serves it to auditors), but ``GetBundle`` and subject
lookups no longer hand the record out. This holds for the node's own log and for every
mirror it keeps: a peer that has mirrored the repair stops serving the record too.

``credex.ledger.indexing.lifecycle_in`` reads the lifecycle statements about a record
from a log's ``target`` index (no scan); ``sharing_status`` folds them with
``ledger.lifecycle.status_at``; ``require_shared`` raises ``RecordWithheldError`` with the
reason (dates and issuer ids only, never the body).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from credex.ledger.errors import CredexError, RecordWithheldError
from credex.ledger.lifecycle import STATUS_KINDS, Status, status_at
from credex.ledger.statement import Statement

__all__ = [
    "PUBLICATION_KINDS",
    "WITHHELD_STATES",
    "Lifecycle",
    "require_shared",
    "sharing_status",
]

#: states in which a record is no longer shared (its leaf stays in the log)
WITHHELD_STATES: Final = frozenset({"repaired", "withdrawn", "corrected", "superseded"})
#: kinds whose window is a legal *publication* window (DOMAIN §3): once it has ended the
#: record is withheld too. Other kinds past ``valid_until`` are still served; verification
#: reports them ``expired`` and refuses them for every purpose.
PUBLICATION_KINDS: Final = frozenset({"penalty.admin", "court.dishonest-debtor", "list.black"})


#: lifecycle statements as a view holds them: bare, or with their log index
Lifecycle = Sequence[Statement] | Sequence[tuple[int, Statement]]


def sharing_status(
    target: Statement,
    lifecycle: Lifecycle,
    now: int,
    *,
    authorised_repairers: Callable[[Statement, Statement], bool] | None = None,
    positions: Mapping[bytes, int] | None = None,
) -> Status:
    """The status of ``target`` at ``now`` from the lifecycle statements a view holds,
    with the manifest's repair delegations (``authorised_repairers``) when it has one and
    the log positions of those in the record's own log (``positions``)."""
    return status_at(
        target,
        lifecycle,
        now,
        authorised_repairers=authorised_repairers,
        positions=positions,
    )


def require_shared(
    target: Statement,
    lifecycle: Lifecycle,
    now: int,
    *,
    authorised_repairers: Callable[[Statement, Statement], bool] | None = None,
    positions: Mapping[bytes, int] | None = None,
) -> Status | None:
    """The status of ``target`` at ``now``, if the record may still be shared (None for a
    lifecycle statement: status is public and always shared). ``target`` is a hash
    envelope (a person's record) with its body attached when this node holds it; without
    it (a mirror, or an erased body) the status comes from the lifecycle statements alone
    and the record, if still shared, is served as the envelope without a body.

    Raises:
        RecordWithheldError: the record is repaired, withdrawn, corrected, superseded or
            expired at ``now`` (the message gives the state and its first reason).
    """
    if target.kind in STATUS_KINDS:
        return None
    try:
        status = sharing_status(
            target,
            lifecycle,
            now,
            authorised_repairers=authorised_repairers,
            positions=positions,
        )
    except CredexError as e:
        raise RecordWithheldError(
            f"sharing: record {target.leaf_hash.hex()[:16]}… has no computable status, "
            f"so it is not shared: {e}"
        ) from e
    ended = status.state == "expired" and target.record.kind in PUBLICATION_KINDS
    if status.state in WITHHELD_STATES or ended:
        why = status.reasons[0] if status.reasons else status.state
        raise RecordWithheldError(
            f"sharing: record {target.leaf_hash.hex()[:16]}… is no longer shared ({why}); "
            "its leaf stays in the log"
        )
    return status
