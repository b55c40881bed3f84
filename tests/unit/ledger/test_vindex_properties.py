"""Properties of the verifiable index over random key sets (Hypothesis).

Keys are drawn both uniformly and as near neighbours of a few fixed keys (one or two bits
apart, or sharing long prefixes), so that trees get deep splits and long proofs, not only
the shallow shape uniform keys give.
"""

from __future__ import annotations

import hashlib
import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credex.ledger.errors import CredexError
from credex.ledger.vindex import (
    EMPTY_ROOT,
    IndexTree,
    LookupProof,
    MemoryNodeStore,
    compute_root,
    verify_lookup,
    verify_prefix,
    verify_prefix_listing,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_BASES = [hashlib.sha256(b"base:%d" % i).digest() for i in range(3)]


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _near(base: int, bits: list[int]) -> bytes:
    key = _BASES[base]
    for b in bits:
        key = _flip(key, b)
    return key


_KEY = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.builds(_near, st.integers(0, 2), st.lists(st.integers(0, 255), max_size=2)),
    st.builds(_near, st.integers(0, 2), st.lists(st.integers(200, 255), min_size=1, max_size=3)),
)
KEYS = st.lists(_KEY, unique=True, max_size=40)
VALUE = st.binary(min_size=32, max_size=32)


def _pairs(keys: list[bytes], seed: int) -> dict[bytes, bytes]:
    rng = random.Random(seed)
    return {k: rng.randbytes(32) for k in keys}


def _tree(pairs: dict[bytes, bytes]) -> IndexTree:
    tree = IndexTree(MemoryNodeStore())
    tree.apply(pairs.items())
    return tree


@SETTINGS
@given(keys=KEYS, others=st.lists(_KEY, max_size=10), seed=st.integers(0, 2**32))
def test_present_keys_prove_membership_absent_keys_non_membership(
    keys: list[bytes], others: list[bytes], seed: int
) -> None:
    pairs = _pairs(keys, seed)
    tree = _tree(pairs)
    root = tree.root().hash
    for k, v in pairs.items():
        proof = LookupProof.from_bytes(tree.prove(k).to_bytes())
        verify_lookup(root, k, v, proof)
    for k in others:
        if k not in pairs:
            verify_lookup(root, k, None, LookupProof.from_bytes(tree.prove(k).to_bytes()))


@SETTINGS
@given(keys=KEYS.filter(bool), seed=st.integers(0, 2**32), data=st.data())
def test_any_bit_flip_fails(keys: list[bytes], seed: int, data: st.DataObject) -> None:
    pairs = _pairs(keys, seed)
    tree = _tree(pairs)
    root = tree.root().hash
    present = data.draw(st.sampled_from(sorted(pairs)))
    absent = data.draw(_KEY.filter(lambda k: k not in pairs))
    for k, v in ((present, pairs[present]), (absent, None)):
        encoded = tree.prove(k).to_bytes()
        bit = data.draw(st.integers(0, 8 * len(encoded) - 1))
        try:
            verify_lookup(root, k, v, LookupProof.from_bytes(_flip(encoded, bit)))
        except CredexError:
            pass
        else:
            raise AssertionError(f"a flipped proof bit {bit} still verified")
        proof = tree.prove(k)
        for wrong_root, wrong_key, wrong_value in (
            (_flip(root, data.draw(st.integers(0, 255))), k, v),
            (root, _flip(k, data.draw(st.integers(0, 255))), v),
            (root, k, None if v is None else _flip(v, data.draw(st.integers(0, 255)))),
        ):
            if (wrong_root, wrong_key, wrong_value) == (root, k, v):
                continue  # an absent key has no value to flip
            try:
                verify_lookup(wrong_root, wrong_key, wrong_value, proof)
            except CredexError:
                continue
            raise AssertionError("a flipped root, key or value still verified")


@SETTINGS
@given(keys=KEYS, seed=st.integers(0, 2**32), cuts=st.lists(st.integers(0, 40), max_size=4))
def test_batches_equal_one_by_one(keys: list[bytes], seed: int, cuts: list[int]) -> None:
    pairs = _pairs(keys, seed)
    items = list(pairs.items())
    single = _tree(pairs)
    one_by_one = IndexTree(MemoryNodeStore())
    for k, v in items:
        one_by_one.set(k, v)
    chunked = IndexTree(MemoryNodeStore())
    rng = random.Random(seed)
    rng.shuffle(items)
    bounds = sorted({0, len(items), *(min(c, len(items)) for c in cuts)})
    for lo, hi in itertools.pairwise(bounds):
        chunked.apply(items[lo:hi])
    assert single.root().hash == one_by_one.root().hash == chunked.root().hash
    assert list(single.items()) == list(chunked.items()) == sorted(pairs.items())
    assert single.root().size == one_by_one.root().size == len(pairs)


@SETTINGS
@given(keys=KEYS, seed=st.integers(0, 2**32), rounds=st.integers(1, 3))
def test_whole_tree_hash_equals_root(keys: list[bytes], seed: int, rounds: int) -> None:
    tree = IndexTree(MemoryNodeStore())
    rng = random.Random(seed)
    state: dict[bytes, bytes] = {}
    for _ in range(rounds):
        batch = {k: rng.randbytes(32) for k in keys if rng.random() < 0.6}
        tree.apply(batch.items())
        state.update(batch)
        assert compute_root(sorted(state.items())) == tree.root().hash
    assert compute_root([]) == EMPTY_ROOT


@SETTINGS
@given(keys=KEYS.filter(bool), seed=st.integers(0, 2**32), data=st.data())
def test_old_version_proofs(keys: list[bytes], seed: int, data: st.DataObject) -> None:
    pairs = _pairs(keys, seed)
    tree = _tree(pairs)
    old = tree.root()
    changed = data.draw(st.sampled_from(sorted(pairs)))
    added = data.draw(_KEY.filter(lambda k: k not in pairs))
    new_value = _flip(pairs[changed], 0)
    new = tree.apply([(changed, new_value), (added, new_value)])
    for k, v_old, v_new in ((changed, pairs[changed], new_value), (added, None, new_value)):
        then = tree.prove(k, version=old.version)
        verify_lookup(old.hash, k, v_old, then)
        try:
            verify_lookup(new.hash, k, v_old, then)
        except CredexError:
            pass
        else:
            raise AssertionError("a proof as of the old version verified against the new root")
        verify_lookup(new.hash, k, v_new, tree.prove(k))


@SETTINGS
@given(keys=KEYS, seed=st.integers(0, 2**32), data=st.data())
def test_prefix_listings(keys: list[bytes], seed: int, data: st.DataObject) -> None:
    pairs = _pairs(keys, seed)
    tree = _tree(pairs)
    root = tree.root().hash
    source = data.draw(st.one_of(st.sampled_from(sorted(pairs) or [b"\x00" * 32]), _KEY))
    prefix = source[: data.draw(st.integers(0, 32))]
    proof = tree.prove_prefix(prefix)
    listing = sorted(kv for kv in pairs.items() if kv[0].startswith(prefix))
    verify_prefix(root, prefix, proof.subtree, proof)
    verify_prefix_listing(root, prefix, listing, proof)
    if listing:
        try:
            verify_prefix_listing(root, prefix, listing[:-1], proof)
        except CredexError:
            pass
        else:
            raise AssertionError("a listing missing a key verified")
