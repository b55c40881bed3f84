"""Verification of verifiable index proofs against a root hash.

The algorithm, step by step (docs/index.md, "Verifying a proof", is the same list for a
verifier written in another language):

Lookup (``verify_lookup(root, key, value, proof)``, ``value`` ``None`` for absence):

1. sizes: root, key 32 bytes; value 32 bytes or absent;
2. the proof is about ``key``, and claims the expected result (the value, or absence);
3. absent key, no leaf in the proof: the path is empty and ``root`` is ``EMPTY_ROOT``;
4. absent key with a leaf: the leaf's key differs from ``key``; start from the leaf's hash.
   Present key: start from ``leaf_hash(key, value)``;
5. climb the path: bits strictly decrease; at each bit, the bit of ``key`` (and, for an
   absent key, the same bit of the leaf's key) puts the running hash on the left (0) or
   right (1) of the sibling: ``inner_hash(bit, left, right)``;
6. the hash reached is ``root``.

Prefix (``verify_prefix(root, prefix, subtree, proof)``): the same with the prefix in
place of the key: a non-empty subtree climbs from ``subtree`` with every bit inside the
prefix (below ``8 * len(prefix)``); no keys (``subtree == EMPTY_ROOT``) climbs from a leaf
whose key does not start with the prefix, the prefix being read as a padded key.

Each failure raises ``IndexProofError`` naming what failed; nothing here returns a bool.
This module does not decode proofs (``proof``) or read a tree.
"""

from __future__ import annotations

from collections.abc import Iterable

from credex.ledger.errors import IndexFormatError, IndexProofError
from credex.ledger.vindex.hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    KEY_BITS,
    KEY_SIZE,
    VALUE_SIZE,
    climb,
    leaf_hash,
)
from credex.ledger.vindex.proof import LookupProof, PrefixProof
from credex.ledger.vindex.treehash import compute_root

__all__ = ["verify_lookup", "verify_prefix", "verify_prefix_listing"]


def _size(what: str, x: object, size: int) -> bytes:
    if type(x) is not bytes or len(x) != size:
        got = f"{len(x)} bytes" if isinstance(x, bytes | bytearray) else type(x).__name__
        raise IndexFormatError(f"index: {what}: expected {size} bytes, got {got}")
    return x


def _root_matches(root: bytes, reached: bytes, what: str) -> None:
    if reached != root:
        raise IndexProofError(
            f"index: {what} does not lead to the root: expected {root.hex()}, got {reached.hex()}"
        )


def verify_lookup(root: bytes, key: bytes, value: bytes | None, proof: LookupProof) -> None:
    """Check that, in the index with root hash ``root``, ``key`` has ``value`` (or, when
    ``value`` is ``None``, that ``key`` is absent).

    Raises:
        IndexFormatError: ``root``, ``key`` or ``value`` of the wrong size.
        IndexProofError: the proof does not prove that claim against ``root``.
    """
    # (1) sizes
    _size("root", root, HASH_SIZE)
    _size("key", key, KEY_SIZE)
    if value is not None:
        _size("value", value, VALUE_SIZE)
    # (2) the proof is about this key and claims this result
    if proof.key != key:
        raise IndexProofError(
            f"index: lookup proof is for another key: expected {key.hex()}, got {proof.key.hex()}"
        )
    if value is None and proof.value is not None:
        raise IndexProofError(
            f"index: lookup proof for key {key.hex()}: expected absent, got present"
        )
    if value is not None:
        if proof.value is None:
            raise IndexProofError(
                f"index: lookup proof for key {key.hex()}: expected present, got absent"
            )
        if proof.value != value:
            # values are not shown: they may be derived from personal data
            raise IndexProofError(
                f"index: lookup proof for key {key.hex()}: expected the given value, got another"
            )
        # (4, 5, 6) present: climb from the key's own leaf
        start = leaf_hash(key, value)
        _root_matches(root, climb(start, key, key, proof.path, below=KEY_BITS), "lookup proof")
        return
    if proof.leaf is None:
        # (3) absent without a leaf: only the empty tree
        if proof.path or root != EMPTY_ROOT:
            raise IndexProofError(
                f"index: absence of key {key.hex()} without a leaf: expected the empty root"
                f" {EMPTY_ROOT.hex()}, got {root.hex()}"
            )
        return
    # (4) absent: the lookup reached another leaf
    other, other_value = proof.leaf
    if other == key:
        raise IndexProofError(
            f"index: absence proof of key {key.hex()}: expected a leaf of another key,"
            " got the key's own leaf"
        )
    # (5, 6)
    start = leaf_hash(other, other_value)
    _root_matches(root, climb(start, key, other, proof.path, below=KEY_BITS), "absence proof")


def verify_prefix(root: bytes, prefix: bytes, subtree: bytes, proof: PrefixProof) -> None:
    """Check that, in the index with root hash ``root``, every key starting with
    ``prefix`` lies in the subtree with hash ``subtree`` (``EMPTY_ROOT``: there is none).

    One sided: this does not show the subtree holds *only* such keys; use
    ``verify_prefix_listing`` to check a full listing of them.

    Raises:
        IndexFormatError: ``root`` or ``subtree`` not 32 bytes, ``prefix`` over 32 bytes.
        IndexProofError: the proof does not prove that claim against ``root``.
    """
    _size("root", root, HASH_SIZE)
    _size("subtree", subtree, HASH_SIZE)
    if type(prefix) is not bytes or len(prefix) > KEY_SIZE:
        raise IndexFormatError(f"index: prefix: expected 0..{KEY_SIZE} bytes")
    if proof.prefix != prefix:
        raise IndexProofError(
            f"index: prefix proof is for another prefix: expected {prefix.hex()},"
            f" got {proof.prefix.hex()}"
        )
    if proof.subtree != subtree:
        raise IndexProofError(
            f"index: prefix proof for {prefix.hex()} claims another subtree:"
            f" expected {subtree.hex()}, got {proof.subtree.hex()}"
        )
    width = 8 * len(prefix)
    if subtree != EMPTY_ROOT:
        reached = climb(subtree, prefix, prefix, proof.path, below=width)
        _root_matches(root, reached, "prefix proof")
        return
    if proof.leaf is None:
        if proof.path or root != EMPTY_ROOT:
            raise IndexProofError(
                f"index: no key with prefix {prefix.hex()} without a leaf: expected the"
                f" empty root {EMPTY_ROOT.hex()}, got {root.hex()}"
            )
        return
    other, other_value = proof.leaf
    if other.startswith(prefix):
        raise IndexProofError(
            f"index: proof of no key with prefix {prefix.hex()}: expected a leaf without the"
            f" prefix, got key {other.hex()}, which has it"
        )
    reached = climb(leaf_hash(other, other_value), prefix, other, proof.path, below=KEY_BITS)
    _root_matches(root, reached, "prefix absence proof")


def verify_prefix_listing(
    root: bytes, prefix: bytes, pairs: Iterable[tuple[bytes, bytes]], proof: PrefixProof
) -> None:
    """Check that ``pairs`` (sorted by key) are exactly the keys of the index with root
    ``root`` that start with ``prefix``, with their values: every pair has the prefix,
    their tree hash is the proved subtree, and the proof holds.

    Raises:
        IndexFormatError: a pair of the wrong size, or pairs out of order.
        IndexProofError: a pair without the prefix, a listing that is not the subtree,
            or a proof that does not hold.
    """
    listed = list(pairs)
    for key, _ in listed:
        _size("listed key", key, KEY_SIZE)
        if not key.startswith(prefix):
            raise IndexProofError(
                f"index: listed key {key.hex()} does not start with prefix {prefix.hex()}"
            )
    subtree = compute_root(listed)
    if subtree != proof.subtree:
        raise IndexProofError(
            f"index: listing for prefix {prefix.hex()} is not the proved subtree:"
            f" expected {proof.subtree.hex()}, got {subtree.hex()}"
        )
    verify_prefix(root, prefix, subtree, proof)
