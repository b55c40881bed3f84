"""Verifying index proofs: each wrong claim fails with ``IndexProofError`` and says what."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from credex.ledger.errors import IndexFormatError, IndexProofError
from credex.ledger.vindex import (
    EMPTY_ROOT,
    IndexTree,
    LookupProof,
    MemoryNodeStore,
    PrefixProof,
    compute_root,
    verify_lookup,
    verify_prefix,
    verify_prefix_listing,
)


def key(i: int) -> bytes:
    return hashlib.sha256(b"verify-key:%d" % i).digest()


def value(i: int) -> bytes:
    return hashlib.sha256(b"verify-value:%d" % i).digest()


PAIRS = sorted((key(i), value(i)) for i in range(500))


@pytest.fixture(scope="module")
def tree() -> IndexTree:
    t = IndexTree(MemoryNodeStore())
    t.apply(PAIRS)
    return t


@pytest.fixture(scope="module")
def root(tree: IndexTree) -> bytes:
    return tree.root().hash


def test_good_proofs_verify(tree: IndexTree, root: bytes) -> None:
    for i in (0, 17, 499):
        verify_lookup(root, key(i), value(i), tree.prove(key(i)))
    for i in (500, 501, 10**6):
        verify_lookup(root, key(i), None, tree.prove(key(i)))


def test_proof_for_another_key(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove(key(1))
    with pytest.raises(
        IndexProofError, match=f"is for another key: expected {key(2).hex()}, got {key(1).hex()}"
    ):
        verify_lookup(root, key(2), value(1), proof)


def test_proof_against_another_root(tree: IndexTree, root: bytes) -> None:
    other = hashlib.sha256(b"another root").digest()
    with pytest.raises(
        IndexProofError,
        match=f"does not lead to the root: expected {other.hex()}, got {root.hex()}",
    ):
        verify_lookup(other, key(1), value(1), tree.prove(key(1)))
    with pytest.raises(IndexProofError, match="absence proof does not lead to the root"):
        verify_lookup(other, key(900), None, tree.prove(key(900)))


def test_wrong_value(tree: IndexTree, root: bytes) -> None:
    with pytest.raises(IndexProofError, match="expected the given value, got another") as e:
        verify_lookup(root, key(1), value(2), tree.prove(key(1)))
    # values never appear in messages (they may derive from personal data)
    assert value(2).hex() not in str(e.value) and value(1).hex() not in str(e.value)


def test_presence_proof_for_an_absence_claim(tree: IndexTree, root: bytes) -> None:
    with pytest.raises(IndexProofError, match="expected absent, got present"):
        verify_lookup(root, key(1), None, tree.prove(key(1)))


def test_absence_proof_for_a_presence_claim(tree: IndexTree, root: bytes) -> None:
    with pytest.raises(IndexProofError, match="expected present, got absent"):
        verify_lookup(root, key(900), value(900), tree.prove(key(900)))


def test_absence_proof_that_ends_at_the_key_itself(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove(key(1))
    forged = LookupProof(key(1), None, (key(1), value(1)), proof.path)
    with pytest.raises(
        IndexProofError, match="expected a leaf of another key, got the key's own leaf"
    ):
        verify_lookup(root, key(1), None, forged)


def test_non_membership_proof_for_a_present_key() -> None:
    # an absence proof made before the key was added, shown against the root after it
    t = IndexTree(MemoryNodeStore())
    t.apply(PAIRS[:50])
    before = t.prove(key(900))
    after = t.set(key(900), value(900))
    with pytest.raises(IndexProofError, match="absence proof does not lead to the root"):
        verify_lookup(after.hash, key(900), None, before)
    # and the current proof for the key is a presence proof, which cannot claim absence
    with pytest.raises(IndexProofError, match="expected absent, got present"):
        verify_lookup(after.hash, key(900), None, t.prove(key(900)))


def test_absence_without_a_leaf_needs_the_empty_root(root: bytes) -> None:
    with pytest.raises(
        IndexProofError, match=f"without a leaf: expected the empty root {EMPTY_ROOT.hex()}"
    ):
        verify_lookup(root, key(900), None, LookupProof(key(900), None, None, ()))
    verify_lookup(EMPTY_ROOT, key(900), None, LookupProof(key(900), None, None, ()))


def test_present_key_in_the_empty_tree(tree: IndexTree) -> None:
    proof = tree.prove(key(1))
    with pytest.raises(IndexProofError, match="does not lead to the root"):
        verify_lookup(EMPTY_ROOT, key(1), value(1), proof)


def test_a_step_out_of_order_fails_even_when_built_by_hand(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove(key(1))
    reordered = object.__new__(LookupProof)
    for f in dataclasses.fields(LookupProof):
        object.__setattr__(reordered, f.name, getattr(proof, f.name))
    object.__setattr__(reordered, "path", tuple(reversed(proof.path)))
    with pytest.raises(IndexProofError, match="path bit out of order"):
        verify_lookup(root, key(1), value(1), reordered)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"\x00" * 31, 1, 1), "root: expected 32 bytes, got 31 bytes"),
        ((None, b"\x00" * 33, 1), "key: expected 32 bytes, got 33 bytes"),
        ((None, 1, b""), "value: expected 32 bytes, got 0 bytes"),
    ],
    ids=["short-root", "long-key", "empty-value"],
)
def test_bad_arguments(
    tree: IndexTree, root: bytes, args: tuple[object, object, object], message: str
) -> None:
    r, k, v = args
    with pytest.raises(IndexFormatError, match=message):
        verify_lookup(
            root if r is None else r,  # type: ignore[arg-type]
            key(1) if k == 1 else k,  # type: ignore[arg-type]
            value(1) if v == 1 else v,  # type: ignore[arg-type]
            tree.prove(key(1)),
        )


# -- prefix proofs -----------------------------------------------------------------------


def _listing(prefix: bytes) -> list[tuple[bytes, bytes]]:
    return [kv for kv in PAIRS if kv[0].startswith(prefix)]


def test_prefix_listing_verifies(tree: IndexTree, root: bytes) -> None:
    for prefix in (b"", key(3)[:1], key(3)[:2], key(3)[:3], key(3), b"\x00\x00"):
        proof = tree.prove_prefix(prefix)
        assert proof.subtree == compute_root(_listing(prefix))
        verify_prefix(root, prefix, proof.subtree, proof)
        verify_prefix_listing(root, prefix, _listing(prefix), proof)


def test_prefix_listing_that_omits_a_record(tree: IndexTree, root: bytes) -> None:
    prefix = key(3)[:1]
    listing = _listing(prefix)
    assert len(listing) > 1
    proof = tree.prove_prefix(prefix)
    with pytest.raises(IndexProofError, match="is not the proved subtree"):
        verify_prefix_listing(root, prefix, listing[1:], proof)


def test_prefix_listing_with_a_record_of_another_prefix(tree: IndexTree, root: bytes) -> None:
    prefix = key(3)[:1]
    stranger = next(kv for kv in PAIRS if not kv[0].startswith(prefix))
    with pytest.raises(
        IndexProofError, match=f"listed key {stranger[0].hex()} does not start with prefix"
    ):
        verify_prefix_listing(
            root, prefix, sorted([*_listing(prefix), stranger]), tree.prove_prefix(prefix)
        )


def test_prefix_listing_out_of_order(tree: IndexTree, root: bytes) -> None:
    prefix = key(3)[:1]
    with pytest.raises(IndexFormatError, match="keys must strictly increase"):
        verify_prefix_listing(
            root, prefix, list(reversed(_listing(prefix))), tree.prove_prefix(prefix)
        )


def test_prefix_proof_for_another_prefix_or_subtree(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove_prefix(key(3)[:2])
    with pytest.raises(IndexProofError, match="is for another prefix"):
        verify_prefix(root, key(4)[:2], proof.subtree, proof)
    with pytest.raises(IndexProofError, match="claims another subtree"):
        verify_prefix(root, key(3)[:2], root, proof)
    with pytest.raises(IndexProofError, match="does not lead to the root"):
        verify_prefix(EMPTY_ROOT, key(3)[:2], proof.subtree, proof)


def test_prefix_absence_that_ends_at_a_key_with_the_prefix(tree: IndexTree, root: bytes) -> None:
    present = tree.prove(key(3))
    forged = PrefixProof(key(3)[:2], EMPTY_ROOT, (key(3), value(3)), present.path)
    with pytest.raises(IndexProofError, match="which has it"):
        verify_prefix(root, key(3)[:2], EMPTY_ROOT, forged)
    with pytest.raises(IndexProofError, match="without a leaf: expected the empty root"):
        verify_prefix(root, key(3)[:2], EMPTY_ROOT, PrefixProof(key(3)[:2], EMPTY_ROOT, None, ()))


def test_prefix_subtree_too_small_is_refused(tree: IndexTree, root: bytes) -> None:
    # the subtree of a longer prefix claimed for a shorter one: its path climbs through a
    # bit inside the longer prefix, past the shorter one
    short, long = key(3)[:1], key(3)[:3]
    narrow = tree.prove_prefix(long)
    wide = tree.prove_prefix(short)
    assert narrow.subtree != wide.subtree
    forged = PrefixProof(short, narrow.subtree, None, narrow.path)
    with pytest.raises(IndexProofError, match="path bit out of order: expected < 8"):
        verify_prefix(root, short, narrow.subtree, forged)


def test_prefix_bad_arguments(tree: IndexTree, root: bytes) -> None:
    proof = tree.prove_prefix(b"")
    with pytest.raises(IndexFormatError, match="subtree: expected 32 bytes"):
        verify_prefix(root, b"", b"", proof)
    with pytest.raises(IndexFormatError, match=r"prefix: expected 0\.\.32 bytes"):
        verify_prefix(root, b"\x00" * 40, root, proof)
