"""One batch of index updates: a single pass over the changed paths of the tree.

``plan_batch`` takes the sorted, distinct keys of a batch and the latest root, walks the
tree once (the batch is split at each inner node; a lone key walks down and rewrites its
path back up; a key that leaves a subtree's prefix gets a new inner node above it) and
returns the new root, the nodes it creates and the ids of those they replace. It reads
nodes through a getter and writes nothing; ``tree.IndexTree`` validates the batch and
commits the result. Unchanged values leave their paths untouched.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from hashlib import sha256
from itertools import count

from credex.ledger.errors import IndexFormatError
from credex.ledger.vindex.hashing import (
    INNER_PREFIX,
    KEY_BITS,
    KEY_SIZE,
    LEAF_PREFIX,
    VALUE_LEN,
    VALUE_SIZE,
)
from credex.ledger.vindex.store import SEQ_BITS, IndexRoot, Inner, Node

__all__ = ["check_key", "check_value", "plan_batch"]

_Result = tuple[int, bytes]  # (node id, node hash)


def _size(x: object) -> str:
    return str(len(x)) if isinstance(x, bytes | bytearray) else type(x).__name__


def check_key(key: object) -> None:
    if type(key) is not bytes or len(key) != KEY_SIZE:
        raise IndexFormatError(f"index: key: expected {KEY_SIZE} bytes, got {_size(key)}")


def check_value(key: bytes, value: object) -> None:
    if type(value) is not bytes or len(value) != VALUE_SIZE:
        raise IndexFormatError(
            f"index: value for key {key.hex()}: expected {VALUE_SIZE} bytes, got {_size(value)}"
        )


def plan_batch(
    get: Callable[[int], Node],
    base: IndexRoot,
    version: int,
    keys: list[bytes],
    vals: list[bytes],
) -> tuple[_Result, int, dict[int, Node], list[int]]:
    """One pass of a batch over the tree: the new root, the number of keys added, the new
    nodes and the ids of the nodes they replace. ``keys`` are sorted and distinct.

    Written as closures over locals: this is the hot loop (about a dozen nodes per key at a
    million keys), and local and cell reads are the cheapest lookups CPython has.
    """
    ks = [int.from_bytes(k) for k in keys]
    nodes: dict[int, Node] = {}
    stale: list[int] = []
    next_id = count(version << SEQ_BITS).__next__
    inner_prefix, leaf_prefix, value_len = INNER_PREFIX, LEAF_PREFIX, VALUE_LEN
    top = KEY_BITS - 1
    replaced = 0
    created = 0

    def new_leaf(i: int) -> _Result:
        nonlocal created
        created += 1
        nid = next_id()
        key, value = keys[i], vals[i]
        nodes[nid] = (key, value)
        return nid, sha256(leaf_prefix + key + value_len + value).digest()

    def new_inner(bit: int, prefix: int, left: _Result, right: _Result) -> _Result:
        nid = next_id()
        lh, rh = left[1], right[1]
        nodes[nid] = (bit, prefix, left[0], right[0], lh, rh)
        return nid, sha256(inner_prefix[bit] + lh + rh).digest()

    def build(lo: int, hi: int) -> _Result:
        # a fresh subtree holding keys lo..hi-1
        if hi - lo == 1:
            return new_leaf(lo)
        first = ks[lo]
        bit = KEY_BITS - (first ^ ks[hi - 1]).bit_length()
        shift = top - bit
        prefix = first >> (shift + 1) << (shift + 1)
        mid = bisect_left(ks, prefix | (1 << shift), lo, hi)
        return new_inner(bit, prefix, build(lo, mid), build(mid, hi))

    def split(nid: int, nhash: bytes, label: int, common: int, lo: int, hi: int) -> _Result:
        # keys lo..hi-1 leave the prefix of subtree ``nid`` (label ``label``) at bit
        # ``common``: a new inner node there, with ``nid`` and those of the keys that share
        # its bit on one side and only new keys on the other
        shift = top - common
        prefix = label >> (shift + 1) << (shift + 1)
        mid = bisect_left(ks, prefix | (1 << shift), lo, hi)
        if (label >> shift) & 1:
            here = sub(nid, nhash, mid, hi)
            return new_inner(common, prefix, build(lo, mid), here)
        here = sub(nid, nhash, lo, mid)
        return new_inner(common, prefix, here, build(mid, hi))

    def sub(nid: int, nhash: bytes, lo: int, hi: int) -> _Result:
        n = hi - lo
        return (
            (nid, nhash)
            if n == 0
            else merge_one(nid, nhash, lo)
            if n == 1
            else merge(nid, nhash, lo, hi)
        )

    def merge_one(nid: int, nhash: bytes, i: int) -> _Result:
        # the subtree ``nid`` with key i added or updated: walk down, change the bottom,
        # rewrite the path back up (most nodes of a batch are on such single-key paths)
        nonlocal replaced, created
        k = ks[i]
        passed: list[tuple[int, Inner, int]] = []
        start = nid, nhash
        while True:
            node = get(nid)
            if len(node) == 2:
                if node[0] == keys[i]:
                    if vals[i] == node[1]:
                        return start  # same value: nothing changes
                    stale.append(nid)
                    replaced += 1
                    hid, h = new_leaf(i)
                    break
                label = int.from_bytes(node[0])
            else:
                label = node[1]
                bit = node[0]
                if not (k ^ label) >> (KEY_BITS - bit):
                    side = (k >> (top - bit)) & 1
                    passed.append((nid, node, side))
                    if side:
                        nid, nhash = node[3], node[5]
                    else:
                        nid, nhash = node[2], node[4]
                    continue
            # key i leaves this subtree's prefix: a new inner node above it, at the first
            # bit where they differ, with the new leaf on one side
            common = KEY_BITS - (k ^ label).bit_length()
            shift = top - common
            lid, lh = new_leaf(i)
            hid = next_id()
            prefix = label >> (shift + 1) << (shift + 1)
            if (k >> shift) & 1:
                nodes[hid] = (common, prefix, nid, lid, nhash, lh)
                h = sha256(inner_prefix[common] + nhash + lh).digest()
            else:
                nodes[hid] = (common, prefix, lid, nid, lh, nhash)
                h = sha256(inner_prefix[common] + lh + nhash).digest()
            break
        for pid, (bit, prefix, left, right, lh, rh), side in reversed(passed):
            stale.append(pid)
            nid = next_id()
            if side:
                nodes[nid] = (bit, prefix, left, hid, lh, h)
                h = sha256(inner_prefix[bit] + lh + h).digest()
            else:
                nodes[nid] = (bit, prefix, hid, right, h, rh)
                h = sha256(inner_prefix[bit] + h + rh).digest()
            hid = nid
        return hid, h

    def merge(nid: int, nhash: bytes, lo: int, hi: int) -> _Result:
        # the subtree ``nid`` with keys lo..hi-1 (two or more) added or updated: each of
        # these keys follows the path to ``nid``, but may leave its prefix at a bit the
        # path skipped
        node = get(nid)
        if len(node) == 2:
            label, depth = int.from_bytes(node[0]), KEY_BITS
        else:
            depth, label = node[0], node[1]
        # bits shared by all of lo..hi-1 and the label (keys are sorted: the ends suffice)
        common = KEY_BITS - ((ks[lo] ^ label) | (ks[hi - 1] ^ label)).bit_length()
        if common < depth:
            return split(nid, nhash, label, common, lo, hi)
        if len(node) == 2:
            raise AssertionError("distinct keys cannot all equal one leaf key")
        bit, prefix, left, right, lh, rh = node
        mid = bisect_left(ks, prefix | (1 << (top - bit)), lo, hi)
        n = mid - lo
        new_left = (
            (left, lh)
            if n == 0
            else merge_one(left, lh, lo)
            if n == 1
            else merge(left, lh, lo, mid)
        )
        n = hi - mid
        new_right = (
            (right, rh)
            if n == 0
            else merge_one(right, rh, mid)
            if n == 1
            else merge(right, rh, mid, hi)
        )
        if new_left[0] == left and new_right[0] == right:
            return nid, nhash
        stale.append(nid)
        lid, lh = new_left
        rid, rh = new_right
        new = next_id()
        nodes[new] = (bit, prefix, lid, rid, lh, rh)
        return new, sha256(inner_prefix[bit] + lh + rh).digest()

    n = len(keys)
    result = build(0, n) if base.node is None else sub(base.node, base.hash, 0, n)
    if len(nodes) > 1 << SEQ_BITS:
        # node ids past the version's range were only ever local: nothing is committed
        raise IndexFormatError(
            f"index: batch creates too many nodes: expected <= {1 << SEQ_BITS}, got {len(nodes)}"
        )
    return result, created - replaced, nodes, stale
