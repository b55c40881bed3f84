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

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.vindex.hashing import (
        EMPTY_ROOT,
        HASH_SIZE,
        KEY_SIZE,
        VALUE_SIZE,
        inner_hash,
        leaf_hash,
    )
    from credex.ledger.vindex.proof import (
        MAX_PROOF_BYTES,
        LookupProof,
        PrefixProof,
    )
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
    from credex.ledger.vindex.tree import (
        MAX_BATCH,
        IndexTree,
    )
    from credex.ledger.vindex.treehash import (
        compute_root,
    )
    from credex.ledger.vindex.verify import (
        verify_lookup,
        verify_prefix,
        verify_prefix_listing,
    )

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

__getattr__ = lazy_exports(
    __name__,
    {
        "EMPTY_ROOT": "credex.ledger.vindex.hashing",
        "HASH_SIZE": "credex.ledger.vindex.hashing",
        "IndexCommit": "credex.ledger.vindex.store",
        "IndexRoot": "credex.ledger.vindex.store",
        "IndexTree": "credex.ledger.vindex.tree",
        "KEY_SIZE": "credex.ledger.vindex.hashing",
        "LookupProof": "credex.ledger.vindex.proof",
        "MAX_BATCH": "credex.ledger.vindex.tree",
        "MAX_PROOF_BYTES": "credex.ledger.vindex.proof",
        "MemoryNodeStore": "credex.ledger.vindex.store",
        "Node": "credex.ledger.vindex.store",
        "NodeStore": "credex.ledger.vindex.store",
        "PrefixProof": "credex.ledger.vindex.proof",
        "VALUE_SIZE": "credex.ledger.vindex.hashing",
        "compute_root": "credex.ledger.vindex.treehash",
        "inner_hash": "credex.ledger.vindex.hashing",
        "leaf_hash": "credex.ledger.vindex.hashing",
        "lookup_proof_from_torchwood": "credex.ledger.vindex.torchwood",
        "prefix_proof_from_torchwood": "credex.ledger.vindex.torchwood",
        "to_torchwood": "credex.ledger.vindex.torchwood",
        "verify_lookup": "credex.ledger.vindex.verify",
        "verify_prefix": "credex.ledger.vindex.verify",
        "verify_prefix_listing": "credex.ledger.vindex.verify",
        "verify_torchwood_lookup": "credex.ledger.vindex.torchwood",
        "verify_torchwood_prefix": "credex.ledger.vindex.torchwood",
    },
)
