"""``NodeCache``: the log's bounded in-memory cache of subtree hashes that never change.

A perfect subtree of a log, once every one of its leaves is logged, keeps its hash for
ever (the log only grows), so it can be kept in memory without invalidation. The cache
holds two kinds of item, each bounded by a count fixed here, so its memory does not grow
with the log (about 30 MiB when full):

- **blocks**: the 63 node hashes (levels 0 to 5) of an aligned run of ``BLOCK`` = 32
  leaves, one packed ``bytes`` of 63 x 32 bytes, built from the 32 leaf hashes by 31
  interior hashes; an inclusion proof needs the low levels of exactly one block, so a
  cached block turns a proof's leaf-hash read into a slice;
- **single nodes**: hashes at level ``BLOCK_LEVEL`` and above (subtrees of 32 or more
  leaves), read by every proof near the top of the tree, and the complete subtrees of
  the block at the log's right edge, which is not complete yet (every proof at the
  current size ends there).

When full, the oldest item of a kind goes first (insertion order). Pure: no I/O; the log
(``credex.ledger.log``) reads the store and fills the cache.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from typing import Final

from credex.ledger.merkle import NodeId, node_hash

__all__ = ["BLOCK", "BLOCK_LEVEL", "NodeCache"]

#: a block is the perfect subtree of 2 ** BLOCK_LEVEL leaves
BLOCK_LEVEL: Final = 5
BLOCK: Final = 1 << BLOCK_LEVEL
#: where each level's row starts in a packed block, in hashes
_OFFSET: Final = tuple(sum(BLOCK >> k for k in range(level)) for level in range(BLOCK_LEVEL + 1))
_HASH: Final = 32
#: blocks kept (about 2 KiB each: 16 MiB, the leaf hashes of 262,144 entries)
MAX_BLOCKS: Final = 8192
#: upper nodes kept (about 180 bytes each with the dict: 12 MiB)
MAX_UPPER: Final = 1 << 16


def pack_block(leaves: Sequence[bytes]) -> bytes:
    """The 63 hashes of one block, level by level, from its ``BLOCK`` leaf hashes."""
    if len(leaves) != BLOCK:
        raise ValueError(f"node cache: a block has {BLOCK} leaves, got {len(leaves)}")
    rows = [list(leaves)]
    row = rows[0]
    while len(row) > 1:
        row = [node_hash(row[k], row[k + 1]) for k in range(0, len(row), 2)]
        rows.append(row)
    return b"".join(h for r in rows for h in r)


class NodeCache:
    """Blocks by block index and single nodes by node id; thread-safe (reads take no
    lock). A maximum of 0 keeps nothing of that kind (the bench reads from storage)."""

    def __init__(self, max_blocks: int = MAX_BLOCKS, max_upper: int = MAX_UPPER) -> None:
        self._blocks: dict[int, bytes] = {}
        self._upper: dict[NodeId, bytes] = {}
        self._max_blocks = max_blocks
        self._max_upper = max_upper
        self._lock = threading.Lock()

    def limit(self, max_blocks: int, max_upper: int) -> None:
        """New maxima (a bulk import keeps few: it appends and makes no proofs); the
        oldest items over them go now."""
        with self._lock:
            self._max_blocks, self._max_upper = max_blocks, max_upper
            for b in list(itertools.islice(self._blocks, max(0, len(self._blocks) - max_blocks))):
                del self._blocks[b]
            for nid in list(itertools.islice(self._upper, max(0, len(self._upper) - max_upper))):
                del self._upper[nid]

    def __len__(self) -> int:
        return len(self._blocks) + len(self._upper)

    def upper(self, nid: NodeId) -> bytes | None:
        return self._upper.get(nid)

    def block(self, b: int) -> bytes | None:
        return self._blocks.get(b)

    @staticmethod
    def node_in(block: bytes, b: int, nid: NodeId) -> bytes:
        """The hash of ``nid`` (level < ``BLOCK_LEVEL`` + 1, inside block ``b``) in ``block``."""
        level, i = nid
        pos = (_OFFSET[level] + i - (b << (BLOCK_LEVEL - level))) * _HASH
        return block[pos : pos + _HASH]

    def add_block(self, b: int, packed: bytes) -> None:
        if self._max_blocks <= 0:
            return
        with self._lock:
            blocks = self._blocks
            if b not in blocks and len(blocks) >= self._max_blocks:
                del blocks[next(iter(blocks))]
            blocks[b] = packed

    def add_upper(self, items: Iterable[tuple[NodeId, bytes]]) -> None:
        if self._max_upper <= 0:
            return
        with self._lock:
            upper = self._upper
            for nid, h in items:
                if nid not in upper and len(upper) >= self._max_upper:
                    del upper[next(iter(upper))]
                upper[nid] = h
