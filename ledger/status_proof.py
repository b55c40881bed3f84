"""Step 7's status proof: the bundle's lifecycle statements are all its log holds.

A bundle's ``status_proof`` is the verifiable index's lookup proof of its record's status
key as of the bundle's checkpoint (docs/spec.md §5.3). ``check_status_proof`` checks it
against the index root the checkpoint's ``credex-index/v1`` line commits to: the
lifecycle statements the bundle carries from the record's own log, below the checkpoint's
size, must be exactly the index's value for that key (a chain of ``(index, leaf)``), or
there must be none and the proof must show the key absent. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from credex.ledger.checkpoint import Checkpoint
from credex.ledger.errors import IndexProofError, StatusNotProvenError
from credex.ledger.index_map import parse_index_extension, status_key, status_value
from credex.ledger.vindex.proof import LookupProof
from credex.ledger.vindex.verify import verify_lookup

__all__ = ["check_status_proof"]


def check_status_proof(
    record_leaf: bytes,
    checkpoint: Checkpoint,
    carried: Sequence[tuple[str, int, bytes]],
    proof_bytes: bytes,
    what: str = "status",
) -> str:
    """Check a status proof; returns the step's phrase ("status proven as of checkpoint N").

    Args:
        record_leaf: the record's leaf hash.
        checkpoint: the bundle's (verified) checkpoint.
        carried: ``(origin, leaf index, leaf hash)`` of each verified lifecycle statement
            the bundle carries.
        proof_bytes: the bundle's ``status_proof``.

    Raises:
        StatusNotProvenError: the checkpoint commits to no index root, or the proven
            value is not the carried statements (some stripped, added or repeated).
        IndexFormatError / OversizeError / CborError: a malformed proof or index line.
        IndexProofError: a proof for another key, or one that does not verify under the
            committed root (another root or size, a forged sibling, a non-membership
            proof for a key that is present).
    """
    root = parse_index_extension(checkpoint.extensions)
    if root is None:
        raise StatusNotProvenError(
            f"{what}: not proven: the bundle's checkpoint (size {checkpoint.size}) commits to "
            "no index root (no credex-index/v1 line), so its status_proof proves nothing"
        )
    proof = LookupProof.from_bytes(proof_bytes)
    key = status_key(record_leaf)
    if proof.key != key:
        raise IndexProofError(
            f"{what} proof: for another key: expected the status key {key.hex()[:16]}… of "
            f"this record, got {proof.key.hex()[:16]}…"
        )
    try:  # the proof, for this key, must prove its own claim against the committed root
        verify_lookup(root, key, proof.value, proof)
    except IndexProofError as e:
        raise IndexProofError(
            f"{what} proof: does not verify against the index root of checkpoint "
            f"{checkpoint.size}: {e}"
        ) from e
    items = sorted(
        (index, leaf)
        for origin, index, leaf in carried
        if origin == checkpoint.origin and index < checkpoint.size
    )
    if proof.value is None and items:
        raise StatusNotProvenError(
            f"{what}: not proven: the index shows no lifecycle statement about this record "
            f"in {checkpoint.origin} as of size {checkpoint.size}, but the bundle carries "
            f"{len(items)} from that log below that size"
        )
    if proof.value is not None and not items:
        raise StatusNotProvenError(
            f"{what}: not proven: the index lists lifecycle statements about this record "
            f"in {checkpoint.origin} as of size {checkpoint.size}; the bundle carries none "
            "of them"
        )
    if items and proof.value != status_value(items):
        raise StatusNotProvenError(
            f"{what}: not proven: the {len(items)} lifecycle statements the bundle carries "
            f"from {checkpoint.origin} are not the ones the index lists as of size "
            f"{checkpoint.size} (one is missing, added or repeated)"
        )
    return f"status proven as of checkpoint {checkpoint.size} ({checkpoint.origin})"
