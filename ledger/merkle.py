"""RFC 9162 §2.1 Merkle tree math: hashing, roots, proofs and their verification.

Pure and standard-library only. Leaves are 0-indexed. A *node id* ``(level, index)``
names the perfect subtree of ``2**level`` leaves that starts at leaf ``index << level``;
storage keeps exactly these nodes, so any root or proof for any past tree size is a
fold over O(log n) stored hashes (see ``inclusion_plan`` / ``consistency_plan``).

This module does not: touch storage, sign anything, or know about statements. The
``verify_*`` functions raise ``InclusionProofError`` / ``ConsistencyProofError`` and
return ``None``; they accept only 32-byte digests (stricter than transparency-dev, which
accepts equal non-digest roots when size1 == size2; see tests/unit/ledger/test_merkle.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from credex.ledger.errors import ConsistencyProofError, InclusionProofError, OutOfRangeError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "NodeId",
    "Plan",
    "consistency_plan",
    "fold",
    "inclusion_plan",
    "leaf_hash",
    "node_hash",
    "plan_nodes",
    "proof_from_plan",
    "range_nodes",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
#: one list of node ids per proof element; the element is the fold of those nodes
Plan = list[list[NodeId]]

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """Maximal perfect subtrees covering ``[start, end)``, left to right.

    ``start`` must be aligned as every RFC 9162 subtree is: a multiple of the
    largest power of two not above ``end - start`` (always true for 0).
    """
    out: list[NodeId] = []
    pos, size = start, end - start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Root of adjacent perfect subtrees given left to right (a right fold)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_plan(index: int, size: int) -> Plan:
    """Nodes behind PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), bottom-up.

    Raises:
        OutOfRangeError: index >= size or index < 0.
    """
    if not 0 <= index < size:
        raise OutOfRangeError(f"merkle: leaf index out of range: expected < {size}, got {index}")
    rev: Plan = []
    lo, hi = 0, size
    while hi - lo > 1 and (hi - lo) & (hi - lo - 1):  # the right edge: not a perfect subtree
        k = _split(hi - lo)
        if index < lo + k:
            rev.append(range_nodes(lo + k, hi))
            hi = lo + k
        else:
            level = k.bit_length() - 1
            rev.append([(level, lo >> level)])
            lo = lo + k
    # inside a perfect subtree: one sibling per level, bottom-up
    plan: Plan = [[(level, (index >> level) ^ 1)] for level in range((hi - lo).bit_length() - 1)]
    plan.extend(reversed(rev))
    return plan


def consistency_plan(old_size: int, new_size: int) -> Plan:
    """Nodes behind PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1).

    Empty when old_size == new_size or old_size == 0.

    Raises:
        OutOfRangeError: old_size > new_size or a negative size.
    """
    if old_size < 0 or old_size > new_size:
        raise OutOfRangeError(
            f"merkle: consistency range invalid: expected 0 <= old <= new, "
            f"got old {old_size}, new {new_size}"
        )
    if old_size in (0, new_size):
        return []
    rev: Plan = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                rev.append(range_nodes(lo, hi))
            break
        k = _split(n)
        if m <= k:
            rev.append(range_nodes(lo + k, hi))
            hi = lo + k
        else:
            rev.append(range_nodes(lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    rev.reverse()
    return rev


def plan_nodes(plan: Plan) -> set[NodeId]:
    """Every node id a plan needs: what storage must read (O(log n))."""
    return {nid for element in plan for nid in element}


def proof_from_plan(plan: Plan, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Fold the looked-up node hashes into proof elements."""
    return [
        nodes[element[0]] if len(element) == 1 else fold([nodes[nid] for nid in element])
        for element in plan
    ]


def _check_digest(what: str, value: bytes, err: type[Exception]) -> None:
    if len(value) != HASH_SIZE:
        raise err(f"merkle: {what} has wrong length: expected {HASH_SIZE}, got {len(value)}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-4).

    Raises:
        InclusionProofError: index out of range, malformed or wrong-length proof.
    """
    if size <= 0 or not 0 <= index < size:
        raise InclusionProofError(
            f"inclusion proof: leaf index out of range: expected < {size}, got {index}"
        )
    _check_digest("leaf hash", leaf, InclusionProofError)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_digest("proof element", p, InclusionProofError)
        if sn == 0:
            raise InclusionProofError(
                f"inclusion proof has wrong size: too long for index {index} in size {size}"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError(
            f"inclusion proof has wrong size: too short for index {index} in size {size}, "
            f"got {len(proof)} elements"
        )
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is entry ``index`` of the tree of ``size`` with ``root``.

    Raises:
        InclusionProofError: any mismatch; the message names what failed.
    """
    _check_digest("root", root, InclusionProofError)
    computed = root_from_inclusion_proof(leaf, index, size, proof)
    if computed != root:
        raise InclusionProofError(
            f"inclusion proof: root mismatch: expected {root.hex()}, computed {computed.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` extends the tree of ``old_size`` (§2.1.4.2).

    ``old_size == new_size`` needs an empty proof and equal roots; ``old_size == 0`` is
    rejected (nothing to be consistent with: a verifier should not pin an empty tree).

    Raises:
        ConsistencyProofError: any mismatch; the message names what failed.
    """
    _check_digest("old root", old_root, ConsistencyProofError)
    _check_digest("new root", new_root, ConsistencyProofError)
    if old_size < 1 or new_size < old_size:
        raise ConsistencyProofError(
            f"consistency proof: sizes invalid: expected 0 < old <= new, "
            f"got old {old_size}, new {new_size}"
        )
    if old_size == new_size:
        if proof:
            raise ConsistencyProofError(
                f"consistency proof has wrong size: expected 0 for equal sizes, got {len(proof)}"
            )
        if old_root != new_root:
            raise ConsistencyProofError(
                f"consistency proof: equal sizes but roots differ: "
                f"{old_root.hex()} != {new_root.hex()}"
            )
        return
    if not proof:
        raise ConsistencyProofError("consistency proof has wrong size: expected > 0, got 0")
    for p in proof:
        _check_digest("proof element", p, ConsistencyProofError)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofError("consistency proof has wrong size: too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyProofError("consistency proof has wrong size: too short")
    if fr != old_root:
        raise ConsistencyProofError(
            f"consistency proof: old root mismatch: expected {old_root.hex()}, computed {fr.hex()}"
        )
    if sr != new_root:
        raise ConsistencyProofError(
            f"consistency proof: new root mismatch: expected {new_root.hex()}, computed {sr.hex()}"
        )


class CompactRange:
    """The right edge of a tree: one perfect-subtree hash per set bit of ``size``.

    ``append`` returns every node that became complete, which is exactly what the log
    stores; ``root`` folds the edge. O(1) amortised hashing per leaf.
    """

    __slots__ = ("_edge", "size")

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        ids = range_nodes(0, size)
        if len(ids) != len(edge):
            raise ValueError(f"compact range: expected {len(ids)} edge hashes, got {len(edge)}")
        self.size = size
        self._edge: list[tuple[int, bytes]] = [
            (level, h) for (level, _), h in zip(ids, edge, strict=True)
        ]

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        index = self.size
        new: list[tuple[NodeId, bytes]] = [((0, index), leaf)]
        level, cur, edge = 0, leaf, self._edge
        while edge and edge[-1][0] == level:
            cur = _sha256(b"\x01" + edge.pop()[1] + cur).digest()
            level += 1
            new.append(((level, index >> level), cur))
        edge.append((level, cur))
        self.size = index + 1
        return new

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[NodeId, bytes]]:
        out: list[tuple[NodeId, bytes]] = []
        for leaf in leaves:
            out.extend(self.append(leaf))
        return out

    def root(self) -> bytes:
        return fold([h for _, h in self._edge])

    def edge(self) -> list[bytes]:
        return [h for _, h in self._edge]

    def copy(self) -> CompactRange:
        return CompactRange(self.size, self.edge())


class MerkleTree:
    """An in-memory tree keeping every perfect-subtree hash (tests, tools, bench)."""

    __slots__ = ("_levels", "_range")

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self._range = CompactRange()
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return self._range.size

    def append(self, data: bytes) -> bytes:
        """Append an entry (hashed as a leaf here); returns its leaf hash."""
        h = _sha256(b"\x00" + data).digest()
        self.append_hash(h)
        return h

    def append_hash(self, leaf: bytes) -> None:
        """Append a leaf hash, keeping every completed perfect subtree (amortised O(1)).

        One merge per trailing 1 bit of the old size: exactly the subtrees it completes.
        """
        levels = self._levels
        levels[0].append(leaf)
        rng = self._range
        size = rng.size
        rng.size = size + 1
        edge = rng._edge
        level, cur = 0, leaf
        while size & 1:
            cur = _sha256(b"\x01" + edge.pop()[1] + cur).digest()
            level += 1
            size >>= 1
            if level == len(levels):
                levels.append([])
            levels[level].append(cur)
        edge.append((level, cur))

    def extend(self, entries: Iterable[bytes]) -> None:
        """Append many entries at once, level by level (the log appends in batches)."""
        sha = _sha256
        levels = self._levels
        level0 = levels[0]
        level0.extend([sha(b"\x00" + d).digest() for d in entries])
        below = level0
        level = 0
        while len(below) >= 2:
            level += 1
            if level == len(levels):
                levels.append([])
            cur = levels[level]
            cur.extend(
                [
                    sha(b"\x01" + below[2 * i] + below[2 * i + 1]).digest()
                    for i in range(len(cur), len(below) // 2)
                ]
            )
            below = cur
        size = len(level0)
        self._range = CompactRange(size, [self.node(n) for n in range_nodes(0, size)])

    def node(self, nid: NodeId) -> bytes:
        return self._levels[nid[0]][nid[1]]

    def _lookup(self, plan: Plan) -> dict[NodeId, bytes]:
        return {nid: self.node(nid) for nid in plan_nodes(plan)}

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise OutOfRangeError(f"merkle: size out of range: expected <= {self.size}, got {size}")
        return fold([self.node(nid) for nid in range_nodes(0, size)])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise OutOfRangeError(f"merkle: size out of range: expected <= {self.size}, got {size}")
        plan = inclusion_plan(index, size)
        return proof_from_plan(plan, self._lookup(plan))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self.size if new_size is None else new_size
        if new_size > self.size:
            raise OutOfRangeError(
                f"merkle: size out of range: expected <= {self.size}, got {new_size}"
            )
        plan = consistency_plan(old_size, new_size)
        return proof_from_plan(plan, self._lookup(plan))
