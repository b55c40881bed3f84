"""The verifiable index: a Merkle Patricia tree from 32-byte keys to 32-byte values.

Each log gets an index built from it by a fixed map function; its root is committed at every
checkpoint, and bundles carry lookup proofs, so a bank can check offline that a record has
no lifecycle statement, or that a report lists every record of its subject, as of that
checkpoint. Nodes hash exactly as FiloSottile/torchwood ``mpt`` does (docs/index.md).

Modules, one job each: ``hashing`` (node hashes, key bits), ``store`` (node layout, the
``NodeStore`` seam, an in-memory store), ``batch`` (one pass of a batch of updates),
``tree`` (the index API: updates, lookups, proofs),
``proof`` (proof values and their CBOR), ``verify`` (proof verification), ``treehash``
(a root from sorted pairs, streaming), ``torchwood`` (torchwood's binary proof bytes).

Pure: no I/O, no clock. The map function, the node's SQL store and the checkpoint
commitment are not here.
"""

from __future__ import annotations

from credex.ledger.vindex.hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    KEY_SIZE,
    VALUE_SIZE,
    inner_hash,
    leaf_hash,
)
from credex.ledger.vindex.proof import MAX_PROOF_BYTES, LookupProof, PrefixProof
from credex.ledger.vindex.store import (
    IndexCommit,
    IndexRoot,
    MemoryNodeStore,
    Node,
    NodeStore,
)
from credex.ledger.vindex.torchwood import (
    lookup_proof_from_torchwood,
    prefix_proof_from_torchwood,
    to_torchwood,
    verify_torchwood_lookup,
    verify_torchwood_prefix,
)
from credex.ledger.vindex.tree import MAX_BATCH, IndexTree
from credex.ledger.vindex.treehash import compute_root
from credex.ledger.vindex.verify import verify_lookup, verify_prefix, verify_prefix_listing

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "KEY_SIZE",
    "MAX_BATCH",
    "MAX_PROOF_BYTES",
    "VALUE_SIZE",
    "IndexCommit",
    "IndexRoot",
    "IndexTree",
    "LookupProof",
    "MemoryNodeStore",
    "Node",
    "NodeStore",
    "PrefixProof",
    "compute_root",
    "inner_hash",
    "leaf_hash",
    "lookup_proof_from_torchwood",
    "prefix_proof_from_torchwood",
    "to_torchwood",
    "verify_lookup",
    "verify_prefix",
    "verify_prefix_listing",
    "verify_torchwood_lookup",
    "verify_torchwood_prefix",
]
