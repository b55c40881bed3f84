"""Protobuf <-> ledger values for the credex.v1 contract: the only place pb meets ledger.

Converters are ``x_to_proto`` / ``x_from_proto``. Decoding checks what protobuf cannot
express (a hash is 32 bytes, a oneof is set, a batch is bounded) and raises
``FormatError`` / ``OversizeError``; it never re-serialises a statement: statements,
bundles and receipts are opaque bytes here. Encoding never fails on values the ledger
produced. This module does no I/O and holds no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import CheckpointError, FormatError, OversizeError
from credex.node.services.intake import MAX_SUBMIT_BATCH, SubmitAck
from credex.v1 import log_pb2, submit_pb2, witness_pb2

__all__ = [
    "HASH_SIZE",
    "MAX_PROOFS_BATCH",
    "MAX_PROOF_HASHES",
    "LeafRef",
    "add_checkpoint_from_proto",
    "add_checkpoint_to_proto",
    "bundle_request_to_proto",
    "checkpoint_from_proto",
    "checkpoint_to_proto",
    "consistency_proof_to_proto",
    "cosignature_to_proto",
    "entries_to_proto",
    "hashes_from_proto",
    "inclusion_proof_to_proto",
    "inclusion_proofs_from_proto",
    "inclusion_proofs_request_to_proto",
    "inclusion_proofs_to_proto",
    "inclusion_request_to_proto",
    "leaf_ref_from_proto",
    "leaf_refs_from_proto",
    "submit_acks_from_proto",
    "submit_acks_to_proto",
    "submit_request_to_proto",
    "submit_statements_from_proto",
]

HASH_SIZE: Final = 32
#: a proof over a tree of at most 2^64 leaves has at most 2 * 64 hashes
MAX_PROOF_HASHES: Final = 128
#: entries per GetInclusionProofs call (an answer stays well under the 4 MiB message limit:
#: at most 64 hashes a proof, about 2.3 KiB)
MAX_PROOFS_BATCH: Final = 256

#: an entry named by its 0-based index (int) or by its leaf hash (bytes)
LeafRef = int | bytes


def _hash(value: bytes, what: str) -> bytes:
    if len(value) != HASH_SIZE:
        raise FormatError(f"rpc: {what} has wrong length: expected {HASH_SIZE}, got {len(value)}")
    return bytes(value)


def hashes_from_proto(values: Sequence[bytes], what: str) -> list[bytes]:
    """A proof's hashes, each 32 bytes, at most ``MAX_PROOF_HASHES``."""
    if len(values) > MAX_PROOF_HASHES:
        raise OversizeError(
            f"rpc: {what} too long: expected <= {MAX_PROOF_HASHES} hashes, got {len(values)}"
        )
    return [_hash(v, f"{what} hash") for v in values]


# Log ------------------------------------------------------------------------------------------


def checkpoint_to_proto(note: SignedNote) -> log_pb2.GetCheckpointResponse:
    cp = note.checkpoint
    return log_pb2.GetCheckpointResponse(
        checkpoint=note.to_text(), tree_size=cp.size, root_hash=cp.root
    )


def checkpoint_from_proto(msg: log_pb2.GetCheckpointResponse) -> SignedNote:
    """The signed note; the size and root fields must repeat its body.

    Raises:
        FormatError: the note does not parse.
        CheckpointError: ``tree_size`` or ``root_hash`` differ from the note's body.
    """
    note = SignedNote.from_text(msg.checkpoint)
    cp = note.checkpoint
    if cp.size != msg.tree_size or cp.root != msg.root_hash:
        raise CheckpointError("rpc: checkpoint fields do not match the signed note")
    return note


def entries_to_proto(start: int, leaves: Sequence[bytes]) -> log_pb2.GetEntriesResponse:
    return log_pb2.GetEntriesResponse(start=start, statements=list(leaves))


def leaf_ref_from_proto(
    msg: log_pb2.GetInclusionProofRequest | log_pb2.GetBundleRequest,
) -> LeafRef:
    """The oneof ``leaf``: an index or a 32-byte leaf hash.

    Raises:
        FormatError: neither is set, or the hash is not 32 bytes.
    """
    which = msg.WhichOneof("leaf")
    if which == "leaf_index":
        return int(msg.leaf_index)
    if which == "leaf_hash":
        return _hash(msg.leaf_hash, "leaf hash")
    raise FormatError("rpc: request names no entry: set leaf_index or leaf_hash")


def inclusion_request_to_proto(ref: LeafRef, tree_size: int) -> log_pb2.GetInclusionProofRequest:
    if isinstance(ref, bytes):
        return log_pb2.GetInclusionProofRequest(leaf_hash=ref, tree_size=tree_size)
    return log_pb2.GetInclusionProofRequest(leaf_index=ref, tree_size=tree_size)


def bundle_request_to_proto(ref: LeafRef, origin: str = "") -> log_pb2.GetBundleRequest:
    if isinstance(ref, bytes):
        return log_pb2.GetBundleRequest(leaf_hash=ref, origin=origin)
    return log_pb2.GetBundleRequest(leaf_index=ref, origin=origin)


def inclusion_proof_to_proto(
    leaf_index: int, tree_size: int, leaf_hash: bytes, hashes: Sequence[bytes]
) -> log_pb2.GetInclusionProofResponse:
    return log_pb2.GetInclusionProofResponse(
        leaf_index=leaf_index, tree_size=tree_size, leaf_hash=leaf_hash, hashes=list(hashes)
    )


def leaf_refs_from_proto(msg: log_pb2.GetInclusionProofsRequest) -> list[LeafRef]:
    """The entries of a GetInclusionProofs request: its indices, then its 32-byte hashes.

    Raises:
        FormatError: no entry is named, or a hash is not 32 bytes.
        OversizeError: more than ``MAX_PROOFS_BATCH`` entries (checked before any hash).
    """
    n = len(msg.leaf_indices) + len(msg.leaf_hashes)
    if n > MAX_PROOFS_BATCH:
        raise OversizeError(
            f"rpc: too many entries in one proofs request: expected <= {MAX_PROOFS_BATCH}, got {n}"
        )
    if n == 0:
        raise FormatError("rpc: request names no entry: set leaf_indices or leaf_hashes")
    refs: list[LeafRef] = [int(i) for i in msg.leaf_indices]
    refs.extend(_hash(h, "leaf hash") for h in msg.leaf_hashes)
    return refs


def inclusion_proofs_request_to_proto(
    refs: Sequence[LeafRef], tree_size: int
) -> log_pb2.GetInclusionProofsRequest:
    """Indices go first, then hashes: the order the answer comes in."""
    return log_pb2.GetInclusionProofsRequest(
        leaf_indices=[r for r in refs if isinstance(r, int)],
        leaf_hashes=[r for r in refs if isinstance(r, bytes)],
        tree_size=tree_size,
    )


def inclusion_proofs_to_proto(
    tree_size: int, indices: Sequence[int], found: Sequence[tuple[bytes, Sequence[bytes]]]
) -> log_pb2.GetInclusionProofsResponse:
    msg = log_pb2.GetInclusionProofsResponse(tree_size=tree_size)
    add = msg.proofs.add
    for index, (leaf_hash, hashes) in zip(indices, found, strict=True):
        add(leaf_index=index, tree_size=tree_size, leaf_hash=leaf_hash, hashes=hashes)
    return msg


def inclusion_proofs_from_proto(
    msg: log_pb2.GetInclusionProofsResponse, refs: Sequence[LeafRef], tree_size: int
) -> list[tuple[int, bytes, list[bytes]]]:
    """(leaf_index, leaf_hash, proof hashes) per entry of ``refs``, in the order of
    ``refs`` (the answer comes indices first, as ``inclusion_proofs_request_to_proto`` sent
    them); checks that the answer is one proof per entry, of the tree asked for (0: any
    one size), and names the entries asked.

    Raises:
        FormatError: a proof is missing, extra, of another size or entry, or malformed.
        OversizeError: a proof has more than ``MAX_PROOF_HASHES`` hashes.
    """
    size = int(msg.tree_size)
    if tree_size and size != tree_size:
        raise FormatError(f"rpc: proofs of another tree: expected size {tree_size}, got {size}")
    order = [k for k, r in enumerate(refs) if isinstance(r, int)]
    order += [k for k, r in enumerate(refs) if isinstance(r, bytes)]
    if len(msg.proofs) != len(order):
        raise FormatError(
            f"rpc: proofs answer has wrong length: expected {len(order)}, got {len(msg.proofs)}"
        )
    out: list[tuple[int, bytes, list[bytes]]] = [(0, b"", [])] * len(order)
    for k, p in zip(order, msg.proofs, strict=True):
        index, leaf_hash = int(p.leaf_index), _hash(p.leaf_hash, "leaf hash")
        ref = refs[k]
        if int(p.tree_size) != size or ref != (index if isinstance(ref, int) else leaf_hash):
            raise FormatError("rpc: proofs answer names another entry or tree than asked")
        out[k] = (index, leaf_hash, hashes_from_proto(p.hashes, "inclusion proof"))
    return out


def consistency_proof_to_proto(
    old_size: int, new_size: int, hashes: Sequence[bytes]
) -> log_pb2.GetConsistencyProofResponse:
    return log_pb2.GetConsistencyProofResponse(
        old_size=old_size, new_size=new_size, hashes=list(hashes)
    )


# Submit ---------------------------------------------------------------------------------------


def submit_statements_from_proto(msg: submit_pb2.SubmitStatementsRequest) -> list[bytes]:
    """The statements of one request (opaque bytes), at most ``MAX_SUBMIT_BATCH``.

    Raises:
        OversizeError: too many statements in one request.
    """
    if len(msg.statements) > MAX_SUBMIT_BATCH:
        raise OversizeError(
            f"rpc: too many statements in one request: expected <= {MAX_SUBMIT_BATCH}, "
            f"got {len(msg.statements)}"
        )
    return [bytes(s) for s in msg.statements]


def submit_request_to_proto(
    statements: Sequence[bytes], preimages: Sequence[bytes | None] = ()
) -> submit_pb2.SubmitStatementsRequest:
    if not any(preimages):
        return submit_pb2.SubmitStatementsRequest(statements=list(statements))
    return submit_pb2.SubmitStatementsRequest(
        statements=list(statements), preimages=[p or b"" for p in preimages]
    )


def submit_preimages_from_proto(msg: submit_pb2.SubmitStatementsRequest) -> list[bytes | None]:
    """The request's preimages, one per statement (None where empty or absent).

    Raises:
        FormatError: given, but not one per statement.
    """
    if not msg.preimages:
        return [None] * len(msg.statements)
    if len(msg.preimages) != len(msg.statements):
        raise FormatError(
            f"rpc: preimages must be one per statement: expected {len(msg.statements)}, "
            f"got {len(msg.preimages)}"
        )
    return [bytes(p) or None for p in msg.preimages]


def submit_acks_to_proto(acks: Sequence[SubmitAck]) -> submit_pb2.SubmitStatementsResponse:
    return submit_pb2.SubmitStatementsResponse(
        results=[
            submit_pb2.SubmitResult(
                leaf_index=a.leaf_index, leaf_hash=a.leaf_hash, is_new=a.is_new, receipt=a.receipt
            )
            for a in acks
        ]
    )


def submit_acks_from_proto(msg: submit_pb2.SubmitStatementsResponse) -> list[SubmitAck]:
    return [
        SubmitAck(int(r.leaf_index), _hash(r.leaf_hash, "leaf hash"), r.is_new, bytes(r.receipt))
        for r in msg.results
    ]


# Witness --------------------------------------------------------------------------------------


def add_checkpoint_from_proto(
    msg: witness_pb2.AddCheckpointRequest,
) -> tuple[int, list[bytes], str]:
    """(old_size, consistency proof, signed-note text).

    Raises:
        FormatError / OversizeError: a proof hash is not 32 bytes, or the proof is too long.
    """
    return (
        int(msg.old_size),
        hashes_from_proto(msg.consistency_proof, "consistency proof"),
        msg.checkpoint,
    )


def add_checkpoint_to_proto(
    old_size: int, proof: Sequence[bytes], note_text: str
) -> witness_pb2.AddCheckpointRequest:
    return witness_pb2.AddCheckpointRequest(
        old_size=old_size, consistency_proof=list(proof), checkpoint=note_text
    )


def cosignature_to_proto(line: str) -> witness_pb2.AddCheckpointResponse:
    return witness_pb2.AddCheckpointResponse(cosignature=line)
