"""Index proofs as deterministic CBOR: round trips, and a strict decoder.

Each malformed input gets its own named error: truncated or trailing bytes ``CborError``,
non-deterministic encodings ``NonDeterministicCborError``, oversize ``OversizeError``, and
any structure other than the documented one ``IndexFormatError``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2
import pytest

from credex.ledger import encoding
from credex.ledger.errors import (
    CborError,
    IndexFormatError,
    NonDeterministicCborError,
    OversizeError,
)
from credex.ledger.vindex import (
    EMPTY_ROOT,
    MAX_PROOF_BYTES,
    IndexTree,
    LookupProof,
    MemoryNodeStore,
    PrefixProof,
)


def key(i: int) -> bytes:
    return hashlib.sha256(b"proof-key:%d" % i).digest()


@pytest.fixture(scope="module")
def tree() -> IndexTree:
    t = IndexTree(MemoryNodeStore())
    t.apply((key(i), key(i + 1000)) for i in range(300))
    return t


@pytest.fixture(scope="module")
def present(tree: IndexTree) -> LookupProof:
    return tree.prove(key(7))


@pytest.fixture(scope="module")
def absent(tree: IndexTree) -> LookupProof:
    return tree.prove(key(10_000))


def test_round_trips(tree: IndexTree, present: LookupProof, absent: LookupProof) -> None:
    for proof in (present, absent, LookupProof(key(1), None, None, ())):
        data = proof.to_bytes()
        assert LookupProof.from_bytes(data) == proof
        assert encoding.encode(encoding.decode(data)) == data
    for prefix in (b"", key(7)[:1], key(7)[:2], key(7), b"\x00\x00\x00"):
        p = tree.prove_prefix(prefix)
        assert PrefixProof.from_bytes(p.to_bytes()) == p


def test_layout_is_the_documented_one(present: LookupProof, absent: LookupProof) -> None:
    item = cbor2.loads(absent.to_bytes())
    assert set(item) == {"v", "key", "value", "leaf", "path"}
    assert item["v"] == 1 and item["value"] is None and len(item["leaf"]) == 2
    assert all(len(step) == 2 for step in item["path"])
    item = cbor2.loads(present.to_bytes())
    assert item["value"] == key(1007) and item["leaf"] is None
    # the map keys in RFC 8949 bytewise order of their encodings: "v", "key", "leaf", ...
    assert list(item) == ["v", "key", "leaf", "path", "value"]


def test_truncated(present: LookupProof) -> None:
    data = present.to_bytes()
    for cut in (1, len(data) // 2, len(data) - 1):
        with pytest.raises(CborError, match="malformed or truncated"):
            LookupProof.from_bytes(data[:cut])
    with pytest.raises(CborError, match="empty input"):
        LookupProof.from_bytes(b"")


def test_trailing_bytes(present: LookupProof) -> None:
    with pytest.raises(CborError, match="trailing bytes"):
        LookupProof.from_bytes(present.to_bytes() + b"\x00")


def test_oversized() -> None:
    with pytest.raises(OversizeError, match=f"expected <= {MAX_PROOF_BYTES} bytes"):
        LookupProof.from_bytes(b"\xa0" + b"\x00" * MAX_PROOF_BYTES)


def test_not_deterministic(present: LookupProof) -> None:
    item = present.to_cbor()
    # same content, map keys in insertion (non-canonical) order
    data = cbor2.dumps(dict(reversed(list(item.items()))))
    with pytest.raises(NonDeterministicCborError):
        LookupProof.from_bytes(data)


def _mutated(proof: LookupProof | PrefixProof, **changes: Any) -> bytes:
    item = proof.to_cbor()
    for k, v in changes.items():
        if v is _DROP:
            del item[k]
        else:
            item[k] = v
    return encoding.encode(item)


_DROP = object()
_H = b"\x11" * 32


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"extra": 1}, r"extra \['extra'\]"),
        ({"path": _DROP}, r"missing \['path'\]"),
        ({"v": 2}, "version: expected 1, got 2"),
        ({"v": True}, "version: expected 1, got bool"),
        ({"v": "x" * 1000}, "version: expected 1, got str$"),
        ({"key": b"\x00" * 31}, "key: expected 32 bytes, got 31 bytes"),
        ({"key": "k" * 32}, "key: expected 32 bytes, got str"),
        ({"value": b"\x00" * 33}, "value: expected 32 bytes"),
        ({"value": 0}, "value: expected 32 bytes, got int"),
        ({"leaf": [_H]}, r"leaf: expected \[key, value\]"),
        ({"leaf": [_H, _H, _H]}, r"leaf: expected \[key, value\]"),
        ({"leaf": [_H, b"\x00"]}, "leaf value: expected 32 bytes"),
        ({"path": {}}, "path: expected an array"),
        ({"path": [[1]]}, r"path step: expected \[bit, hash\]"),
        ({"path": [[256, _H]]}, "bits must strictly decrease: expected 0..255, got 256"),
        ({"path": [[-1, _H]]}, "got -1"),
        ({"path": [[True, _H]]}, "got bool"),
        ({"path": [[5, _H], [5, _H]]}, "expected 0..4, got 5"),
        ({"path": [[5, _H], [9, _H]]}, "expected 0..4, got 9"),
        ({"path": [[5, b"\x00" * 31]]}, "path sibling: expected 32 bytes"),
    ],
    ids=[
        "extra-field",
        "missing-field",
        "version-2",
        "version-bool",
        "version-long-text",
        "short-key",
        "text-key",
        "long-value",
        "int-value",
        "leaf-one-item",
        "leaf-three-items",
        "leaf-short-value",
        "path-map",
        "step-one-item",
        "bit-256",
        "bit-negative",
        "bit-bool",
        "bits-equal",
        "bits-increasing",
        "short-sibling",
    ],
)
def test_malformed_lookup_proofs(
    absent: LookupProof, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(IndexFormatError, match=message):
        LookupProof.from_bytes(_mutated(absent, **changes))


def test_contradictory_claims(present: LookupProof, absent: LookupProof) -> None:
    with pytest.raises(IndexFormatError, match="expected null for a present key, got a leaf"):
        LookupProof.from_bytes(_mutated(present, leaf=[_H, _H]))
    with pytest.raises(
        IndexFormatError, match="expected the leaf reached for an absent key with a path, got null"
    ):
        LookupProof.from_bytes(_mutated(absent, leaf=None))


def test_not_a_map() -> None:
    with pytest.raises(IndexFormatError, match="expected a map, got list"):
        LookupProof.from_bytes(encoding.encode([1, 2]))
    with pytest.raises(IndexFormatError, match="expected a map, got list"):
        PrefixProof.from_bytes(encoding.encode([1, 2]))


def test_malformed_prefix_proofs(tree: IndexTree) -> None:
    found = tree.prove_prefix(key(7)[:1])
    missing = tree.prove_prefix(b"\x00\x00\x00")
    assert found.subtree != EMPTY_ROOT and missing.subtree == EMPTY_ROOT
    with pytest.raises(IndexFormatError, match=r"prefix: expected 0\.\.32 bytes"):
        PrefixProof.from_bytes(_mutated(found, prefix=b"\x00" * 33))
    with pytest.raises(IndexFormatError, match="subtree: expected 32 bytes"):
        PrefixProof.from_bytes(_mutated(found, subtree=b""))
    with pytest.raises(IndexFormatError, match="expected null for a found subtree, got a leaf"):
        PrefixProof.from_bytes(_mutated(found, leaf=[_H, _H]))
    with pytest.raises(
        IndexFormatError, match="expected the leaf reached when no key has the prefix, got null"
    ):
        PrefixProof.from_bytes(_mutated(missing, leaf=None))
    with pytest.raises(IndexFormatError, match=r"extra \['key'\]"):
        PrefixProof.from_bytes(_mutated(found, key=_H))
    with pytest.raises(IndexFormatError, match=r"extra \['prefix', 'subtree'\]"):
        LookupProof.from_bytes(found.to_bytes())


def test_constructor_validates_too() -> None:
    with pytest.raises(IndexFormatError, match="bits must strictly decrease"):
        LookupProof(key(1), key(2), None, ((3, _H), (4, _H)))
    with pytest.raises(IndexFormatError, match="key: expected 32 bytes"):
        LookupProof(b"", None, None, ())
    proof = LookupProof(key(1), key(2), None, [(3, _H)])  # type: ignore[arg-type]
    assert proof.path == ((3, _H),)
