"""Attacks on the verifiable index's proofs, each named after what it tries.

The attacker holds real proofs from the index (they are public, in bundles) and may edit
them, splice them, or hand them over against another key, root or version. Each attempt
must fail with a specific error, never verify.
"""

from __future__ import annotations

import hashlib

import cbor2
import pytest

from credex.ledger import encoding
from credex.ledger.errors import (
    CborError,
    IndexFormatError,
    IndexProofError,
    NonDeterministicCborError,
    StorageError,
)
from credex.ledger.vindex import (
    EMPTY_ROOT,
    IndexTree,
    LookupProof,
    MemoryNodeStore,
    PrefixProof,
    leaf_hash,
    verify_lookup,
    verify_prefix,
    verify_prefix_listing,
    verify_torchwood_lookup,
)


def key(i: int) -> bytes:
    return hashlib.sha256(b"attack-key:%d" % i).digest()


def value(i: int) -> bytes:
    return hashlib.sha256(b"attack-value:%d" % i).digest()


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


@pytest.fixture(scope="module")
def tree() -> IndexTree:
    t = IndexTree(MemoryNodeStore())
    t.apply((key(i), value(i)) for i in range(1000))
    return t


@pytest.fixture(scope="module")
def root(tree: IndexTree) -> bytes:
    return tree.root().hash


def test_membership_proof_replayed_for_another_key(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove(key(1))
    with pytest.raises(IndexProofError, match="is for another key"):
        verify_lookup(root, key(2), value(1), proof)


def test_membership_proof_relabelled_with_another_key(tree: IndexTree, root: bytes) -> None:
    # the proof's own key field rewritten to the target: the leaf hash no longer matches
    proof = tree.prove(key(1))
    relabelled = LookupProof(key(2), value(1), None, proof.path)
    with pytest.raises(IndexProofError, match="does not lead to the root"):
        verify_lookup(root, key(2), value(1), relabelled)


def test_non_membership_hiding_a_present_key_with_a_forged_sibling(
    tree: IndexTree, root: bytes
) -> None:
    # a record whose status the attacker wants to hide: claim its key is absent, with an
    # invented leaf that agrees with the key on every path bit, and a sibling forged to
    # make the climb look plausible
    target = key(5)
    path = tree.prove(target).path
    used = {bit for bit, _ in path}
    free = next(b for b in range(255, -1, -1) if b not in used)
    fake_key = flip(target, free)
    forged_path = ((path[0][0], hashlib.sha256(b"forged sibling").digest()), *path[1:])
    for p in (path, forged_path):
        hiding = LookupProof(target, None, (fake_key, value(5)), p)
        with pytest.raises(IndexProofError, match="absence proof does not lead to the root"):
            verify_lookup(root, target, None, hiding)


def test_non_membership_using_another_keys_real_leaf(tree: IndexTree, root: bytes) -> None:
    # a genuine leaf and its genuine path, but not where a lookup for the key would go
    target = key(5)
    i = next(i for i in range(6, 1000) if (key(i)[0] >> 7) != (target[0] >> 7))
    real = tree.prove(key(i))
    hiding = LookupProof(target, None, (key(i), value(i)), real.path)
    with pytest.raises(IndexProofError, match="off the lookup path"):
        verify_lookup(root, target, None, hiding)


def test_absence_claimed_as_the_empty_tree(root: bytes) -> None:
    with pytest.raises(IndexProofError, match="expected the empty root"):
        verify_lookup(root, key(5), None, LookupProof(key(5), None, None, ()))


def test_truncated_path_lands_on_an_inner_node(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove(key(7))
    for cut in range(1, len(proof.path)):
        short = LookupProof(key(7), value(7), None, proof.path[:cut])
        with pytest.raises(IndexProofError, match="does not lead to the root"):
            verify_lookup(root, key(7), value(7), short)


def test_inner_node_presented_as_a_leaf(tree: IndexTree, root: bytes) -> None:
    # second preimage across node types: the two child hashes of an inner node offered as
    # a (key, value) leaf, with the path above that inner node. Domain separation (0x00
    # leaf, 0x01 inner, and the bit position) makes the leaf hash differ.
    proof = tree.prove(key(9))
    lower_bit, lower_sibling = proof.path[0]
    below = leaf_hash(key(9), value(9))
    bit_of_key = (key(9)[lower_bit // 8] >> (7 - lower_bit % 8)) & 1
    left, right = (lower_sibling, below) if bit_of_key else (below, lower_sibling)
    fake = LookupProof(left, right, None, proof.path[1:])
    with pytest.raises(IndexProofError, match="does not lead to the root"):
        verify_lookup(root, left, right, fake)


def test_bit_position_forged_to_swap_sides(tree: IndexTree, root: bytes) -> None:
    # each step's bit moved to another value that keeps the order (bits decrease from the
    # leaf up): the bit is hashed, and may also choose the other side
    proof = tree.prove(key(11))
    tried = 0
    for i, (bit, sibling) in enumerate(proof.path):
        upper = proof.path[i - 1][0] if i > 0 else 256
        lower = proof.path[i + 1][0] if i + 1 < len(proof.path) else -1
        for other in {lower + 1, upper - 1} - {bit}:
            if not lower < other < upper:
                continue
            path = (*proof.path[:i], (other, sibling), *proof.path[i + 1 :])
            with pytest.raises(IndexProofError, match="does not lead to the root"):
                verify_lookup(root, key(11), value(11), LookupProof(key(11), value(11), None, path))
            tried += 1
    assert tried > 0


def test_stale_absence_proof_replayed_after_a_lifecycle_statement() -> None:
    # at version 1 the record had no status entry; version 2 adds one. The version-1
    # absence proof must not pass against the version-2 root.
    t = IndexTree(MemoryNodeStore())
    v1 = t.apply((key(i), value(i)) for i in range(100))
    stale = t.prove(key(500))
    verify_lookup(v1.hash, key(500), None, stale)
    v2 = t.set(key(500), value(500))
    with pytest.raises(IndexProofError, match="does not lead to the root"):
        verify_lookup(v2.hash, key(500), None, stale)


def test_prefix_listing_hiding_a_record_behind_a_narrower_subtree(
    tree: IndexTree, root: bytes
) -> None:
    prefix = key(3)[:1]
    listing = sorted(
        kv for kv in ((key(i), value(i)) for i in range(1000)) if kv[0].startswith(prefix)
    )
    narrower = tree.prove_prefix(key(3)[:2])
    hidden = [kv for kv in listing if kv[0].startswith(key(3)[:2])]
    forged = PrefixProof(prefix, narrower.subtree, None, narrower.path)
    with pytest.raises(IndexProofError):
        verify_prefix_listing(root, prefix, hidden, forged)


def test_prefix_listing_claimed_empty_while_records_exist(tree: IndexTree, root: bytes) -> None:
    prefix = key(3)[:2]
    real = tree.prove(key(3))
    forged = PrefixProof(prefix, EMPTY_ROOT, (key(3), value(3)), real.path)
    with pytest.raises(IndexProofError, match="which has it"):
        verify_prefix_listing(root, prefix, [], forged)


def test_prefix_listing_with_an_invented_record(tree: IndexTree, root: bytes) -> None:
    prefix = key(3)[:2]
    listing = sorted(
        kv for kv in ((key(i), value(i)) for i in range(1000)) if kv[0].startswith(prefix)
    )
    invented = (prefix + b"\x00" * (32 - len(prefix)), value(0))
    with pytest.raises(IndexProofError, match="is not the proved subtree"):
        verify_prefix_listing(root, prefix, sorted([*listing, invented]), tree.prove_prefix(prefix))


def test_prefix_whole_tree_claim_is_caught_by_the_listing(tree: IndexTree, root: bytes) -> None:
    # torchwood's one-sided weakness: claiming the whole tree as the subtree verifies
    # alone; the listing check is what refuses it
    prefix = key(3)[:2]
    whole = PrefixProof(prefix, root, None, ())
    verify_prefix(root, prefix, root, whole)
    listing = sorted(
        kv for kv in ((key(i), value(i)) for i in range(1000)) if kv[0].startswith(prefix)
    )
    with pytest.raises(IndexProofError, match="is not the proved subtree"):
        verify_prefix_listing(root, prefix, listing, whole)


def test_cbor_duplicate_map_keys(tree: IndexTree) -> None:
    item = tree.prove(key(1)).to_cbor()
    body = b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in item.items())
    # six entries, "value" twice: the second one would win in a lax decoder
    data = bytes([0xA6]) + body + cbor2.dumps("value") + cbor2.dumps(value(2))
    with pytest.raises((CborError, IndexFormatError)):
        LookupProof.from_bytes(data)


def test_cbor_indefinite_length_path(tree: IndexTree) -> None:
    item = tree.prove(key(1)).to_cbor()
    steps = b"".join(cbor2.dumps(s) for s in item["path"])
    others = {k: v for k, v in item.items() if k != "path"}
    body = b"".join(encoding.encode(k) + encoding.encode(v) for k, v in others.items())
    data = bytes([0xA5]) + body + cbor2.dumps("path") + b"\x9f" + steps + b"\xff"
    with pytest.raises(NonDeterministicCborError):
        LookupProof.from_bytes(data)


def test_cbor_huge_declared_length() -> None:
    # a byte string that claims 2**32 bytes: refused without allocating them
    data = bytes([0xA1, 0x63]) + b"key" + bytes([0x5A, 0xFF, 0xFF, 0xFF, 0xFF]) + b"\x00" * 8
    with pytest.raises(CborError):
        LookupProof.from_bytes(data)


def test_cbor_deep_nesting() -> None:
    data = b"\x81" * 5000 + b"\x00"
    with pytest.raises(CborError):
        LookupProof.from_bytes(data)


def test_path_longer_than_any_tree() -> None:
    steps = [[b, b"\x00" * 32] for b in range(255, -1, -1)] + [[0, b"\x00" * 32]]
    item = {"v": 1, "key": key(1), "value": None, "leaf": [key(2), value(2)], "path": steps}
    with pytest.raises(IndexFormatError, match="bits must strictly decrease"):
        LookupProof.from_bytes(encoding.encode(item))


def test_torchwood_bytes_with_an_overlong_length() -> None:
    with pytest.raises(IndexFormatError, match="varint over 64 bits"):
        verify_torchwood_lookup(EMPTY_ROOT, key(1), None, b"\xff" * 11)
    with pytest.raises(IndexFormatError, match="leaf key: expected <= 1024 bytes"):
        verify_torchwood_lookup(EMPTY_ROOT, key(1), None, b"\x80\x80\x80\x80\x10")
    with pytest.raises(IndexFormatError, match="varint not minimal"):
        verify_torchwood_lookup(EMPTY_ROOT, key(1), None, b"\xa0\x00" + key(2) + b"\x20" + value(2))


def test_tampered_storage_row_never_becomes_a_proof() -> None:
    store = MemoryNodeStore()
    t = IndexTree(store)
    t.apply((key(i), value(i)) for i in range(64))
    # an inner node whose stored child hash was rewritten (a damaged or edited row)
    nid, node = next((n, x) for n, x in store._nodes.items() if len(x) == 6)
    bit, prefix, left, right, lh, rh = node  # type: ignore[misc]
    store._nodes[nid] = (bit, prefix, left, right, flip(lh, 3), rh)
    failures = 0
    for i in range(64):
        try:
            verify_lookup(t.root().hash, key(i), value(i), t.prove(key(i)))
        except StorageError:
            failures += 1
    assert failures > 0
