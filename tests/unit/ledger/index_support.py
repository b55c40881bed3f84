"""Test helper: a checkpoint that commits to the verifiable index of hand-built entries,
and status proofs from it (docs/spec.md §5), for tests that build bundles by hand."""

from __future__ import annotations

from collections.abc import Mapping

from credex.ledger.checkpoint import Checkpoint
from credex.ledger.index_map import index_extension_line, map_input_of, map_pairs, status_key
from credex.ledger.statement import Statement
from credex.ledger.vindex import IndexTree, MemoryNodeStore

#: index trees by the checkpoint body that commits to them
_TREES: dict[str, IndexTree] = {}


def indexed_checkpoint(
    origin: str, size: int, root: bytes, statements: Mapping[int, Statement]
) -> Checkpoint:
    """A checkpoint body with the index line of ``statements`` (log index -> statement;
    other entries are not statements and map to nothing)."""
    tree = IndexTree(MemoryNodeStore())
    pairs = map_pairs(map_input_of(i, statements[i].leaf) for i in sorted(statements))
    if pairs:
        tree.apply(pairs)
    cp = Checkpoint(origin, size, root, (index_extension_line(tree.root().hash),))
    _TREES[cp.to_text()] = tree
    return cp


def status_proof(checkpoint_text: str, record_leaf: bytes) -> bytes:
    """The status proof of ``record_leaf`` under the checkpoint of note ``checkpoint_text``."""
    from credex.ledger.checkpoint import SignedNote

    body = SignedNote.from_text(checkpoint_text).body
    return _TREES[body].prove(status_key(record_leaf)).to_bytes()
