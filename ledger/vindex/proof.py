"""Verifiable index proofs as values, and their deterministic CBOR encoding.

Two proofs, both about one version of the index (one root hash):

- ``LookupProof``: the value of one key, or its absence (docs/index.md, "Proofs").
- ``PrefixProof``: the hash of the subtree holding every key that starts with a prefix.

Encoding (RFC 8949 §4.2.1 deterministic CBOR through ``credex.ledger.encoding``)::

    lookup-proof = {
      "v": 1,
      "key": bstr .size 32,
      "value": bstr .size 32 / null,              ; null: the key is absent
      "leaf": [bstr .size 32, bstr .size 32] / null,  ; absent key, non-empty tree
      "path": [* [uint .le 255, bstr .size 32]],  ; (bit, sibling), leaf up to root
    }
    prefix-proof = {
      "v": 1,
      "prefix": bstr .size (0..32),
      "subtree": bstr .size 32,                   ; EMPTY_ROOT: no key has the prefix
      "leaf": [bstr .size 32, bstr .size 32] / null,  ; no key, non-empty tree
      "path": [* [uint .le 255, bstr .size 32]],
    }

Decoding is strict: bounded size, exactly these fields with exactly these types, bits
strictly decreasing. A value that decodes is well formed, not true: ``verify`` checks it
against a root. This module does not hash or verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from credex.ledger import encoding
from credex.ledger.errors import IndexFormatError
from credex.ledger.vindex.hashing import EMPTY_ROOT, HASH_SIZE, KEY_BITS, KEY_SIZE, VALUE_SIZE

__all__ = ["FORMAT_VERSION", "MAX_PROOF_BYTES", "LookupProof", "PrefixProof", "Step"]

FORMAT_VERSION: Final = 1
#: 256 steps of (bit, hash) are under 9.5 KiB; anything larger is not a proof
MAX_PROOF_BYTES: Final = 12 * 1024

Step = tuple[int, bytes]
_LOOKUP_FIELDS: Final = frozenset({"v", "key", "value", "leaf", "path"})
_PREFIX_FIELDS: Final = frozenset({"v", "prefix", "subtree", "leaf", "path"})


def _bytes(what: str, x: object, size: int) -> bytes:
    if type(x) is not bytes or len(x) != size:
        got = f"{len(x)} bytes" if isinstance(x, bytes | bytearray) else type(x).__name__
        raise IndexFormatError(f"index: {what}: expected {size} bytes, got {got}")
    return x


def _shown(x: object) -> str:
    """An untrusted item as it may appear in a message: a small integer, else its type."""
    return str(x) if type(x) is int and -(2**64) <= x < 2**64 else type(x).__name__


def _names(keys: set[Any]) -> list[str]:
    """Up to three untrusted field names, each cut to 16 characters."""
    return sorted(str(k)[:16] for k in keys)[:3]


def _count(x: object) -> str:
    return f"{len(x)} items" if isinstance(x, tuple | list | dict) else "one item"


def _leaf(what: str, x: object) -> tuple[bytes, bytes] | None:
    if x is None:
        return None
    if not isinstance(x, tuple | list) or len(x) != 2:
        raise IndexFormatError(
            f"index: {what} leaf: expected [key, value], got {type(x).__name__} of {_count(x)}"
        )
    key, value = x
    return _bytes(f"{what} leaf key", key, KEY_SIZE), _bytes(
        f"{what} leaf value", value, VALUE_SIZE
    )


def _path(what: str, x: object) -> tuple[Step, ...]:
    if not isinstance(x, tuple | list):
        raise IndexFormatError(f"index: {what} path: expected an array, got {type(x).__name__}")
    steps: list[Step] = []
    below = KEY_BITS
    for item in x:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise IndexFormatError(
                f"index: {what} path step: expected [bit, hash], got {type(item).__name__}"
                f" of {_count(item)}"
            )
        bit, sibling = item
        if type(bit) is not int or not 0 <= bit < below:
            raise IndexFormatError(
                f"index: {what} path bits must strictly decrease: expected 0..{below - 1},"
                f" got {_shown(bit)}"
            )
        if type(sibling) is not bytes or len(sibling) != HASH_SIZE:
            _bytes(f"{what} path sibling", sibling, HASH_SIZE)
        below = bit
        steps.append((bit, sibling))
    return tuple(steps)


def _fields(what: str, value: Any, expected: frozenset[str]) -> dict[str, Any]:
    if type(value) is not dict:
        raise IndexFormatError(f"index: {what}: expected a map, got {type(value).__name__}")
    if set(value) != expected:
        extra = _names(set(value) - expected)
        missing = sorted(expected - set(value))
        raise IndexFormatError(
            f"index: {what}: expected fields {sorted(expected)}, got extra {extra},"
            f" missing {missing}"
        )
    if type(value["v"]) is not int or value["v"] != FORMAT_VERSION:
        raise IndexFormatError(
            f"index: {what} version: expected {FORMAT_VERSION}, got {_shown(value['v'])}"
        )
    return value


def _encode_leaf(leaf: tuple[bytes, bytes] | None) -> list[bytes] | None:
    return None if leaf is None else [leaf[0], leaf[1]]


@dataclass(frozen=True, slots=True)
class LookupProof:
    """A proof that ``key`` has ``value`` (``value`` is ``None``: ``key`` is absent).

    ``path`` lists ``(bit, sibling hash)`` from the leaf up to the root, bits strictly
    decreasing. For an absent key in a non-empty tree, ``leaf`` is the ``(key, value)``
    the lookup reached instead; in an empty tree, ``leaf`` is ``None`` and ``path`` empty.
    """

    key: bytes
    value: bytes | None
    leaf: tuple[bytes, bytes] | None
    path: tuple[Step, ...]

    def __post_init__(self) -> None:
        _bytes("lookup proof key", self.key, KEY_SIZE)
        if self.value is not None:
            _bytes("lookup proof value", self.value, VALUE_SIZE)
            if self.leaf is not None:
                raise IndexFormatError(
                    "index: lookup proof leaf: expected null for a present key, got a leaf"
                )
        object.__setattr__(self, "leaf", _leaf("lookup proof", self.leaf))
        object.__setattr__(self, "path", _path("lookup proof", self.path))
        if self.value is None and self.leaf is None and self.path:
            raise IndexFormatError(
                "index: lookup proof leaf: expected the leaf reached for an absent key with a"
                " path, got null"
            )

    @property
    def present(self) -> bool:
        return self.value is not None

    def to_cbor(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "key": self.key,
            "value": self.value,
            "leaf": _encode_leaf(self.leaf),
            "path": [[bit, sibling] for bit, sibling in self.path],
        }

    def to_bytes(self) -> bytes:
        return encoding.encode(self.to_cbor())

    @classmethod
    def from_cbor(cls, value: Any) -> LookupProof:
        """From the decoded CBOR item (inside a larger structure, such as a bundle).

        Raises:
            IndexFormatError: not exactly the documented structure.
        """
        f = _fields("lookup proof", value, _LOOKUP_FIELDS)
        return cls(
            key=_bytes("lookup proof key", f["key"], KEY_SIZE),
            value=None
            if f["value"] is None
            else _bytes("lookup proof value", f["value"], VALUE_SIZE),
            leaf=_leaf("lookup proof", f["leaf"]),
            path=_path("lookup proof", f["path"]),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> LookupProof:
        """Strictly decode a lookup proof.

        Raises:
            OversizeError: over ``MAX_PROOF_BYTES``.
            CborError: not one deterministic CBOR item (truncated, trailing bytes, ...).
            IndexFormatError: not exactly the documented structure.
        """
        return cls.from_cbor(
            encoding.decode(data, what="index: lookup proof", max_size=MAX_PROOF_BYTES)
        )


@dataclass(frozen=True, slots=True)
class PrefixProof:
    """A proof that ``subtree`` is the hash of a subtree holding every key that starts
    with ``prefix`` (``EMPTY_ROOT``: no key does).

    For a non-empty subtree, ``path`` climbs from the subtree to the root with bits inside
    the prefix. For none in a non-empty tree, ``leaf`` is the ``(key, value)`` reached by
    looking the prefix up as a key, and ``path`` climbs from that leaf. The proof is one
    sided (torchwood): it shows the subtree holds every such key, not only those; a
    verifier rebuilds ``subtree`` from the listed pairs and checks each has the prefix
    (``verify.verify_prefix_listing``).
    """

    prefix: bytes
    subtree: bytes
    leaf: tuple[bytes, bytes] | None
    path: tuple[Step, ...]

    def __post_init__(self) -> None:
        if type(self.prefix) is not bytes or len(self.prefix) > KEY_SIZE:
            raise IndexFormatError(f"index: prefix proof prefix: expected 0..{KEY_SIZE} bytes")
        _bytes("prefix proof subtree", self.subtree, HASH_SIZE)
        object.__setattr__(self, "leaf", _leaf("prefix proof", self.leaf))
        object.__setattr__(self, "path", _path("prefix proof", self.path))
        if self.leaf is not None and self.subtree != EMPTY_ROOT:
            raise IndexFormatError(
                "index: prefix proof leaf: expected null for a found subtree, got a leaf"
            )
        if self.subtree == EMPTY_ROOT and self.leaf is None and self.path:
            raise IndexFormatError(
                "index: prefix proof leaf: expected the leaf reached when no key has the"
                " prefix, got null"
            )

    def to_cbor(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "prefix": self.prefix,
            "subtree": self.subtree,
            "leaf": _encode_leaf(self.leaf),
            "path": [[bit, sibling] for bit, sibling in self.path],
        }

    def to_bytes(self) -> bytes:
        return encoding.encode(self.to_cbor())

    @classmethod
    def from_cbor(cls, value: Any) -> PrefixProof:
        """From the decoded CBOR item.

        Raises:
            IndexFormatError: not exactly the documented structure.
        """
        f = _fields("prefix proof", value, _PREFIX_FIELDS)
        prefix = f["prefix"]
        if type(prefix) is not bytes or len(prefix) > KEY_SIZE:
            raise IndexFormatError(f"index: prefix proof prefix: expected 0..{KEY_SIZE} bytes")
        return cls(
            prefix=prefix,
            subtree=_bytes("prefix proof subtree", f["subtree"], HASH_SIZE),
            leaf=_leaf("prefix proof", f["leaf"]),
            path=_path("prefix proof", f["path"]),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PrefixProof:
        """Strictly decode a prefix proof.

        Raises:
            OversizeError: over ``MAX_PROOF_BYTES``.
            CborError: not one deterministic CBOR item.
            IndexFormatError: not exactly the documented structure.
        """
        return cls.from_cbor(
            encoding.decode(data, what="index: prefix proof", max_size=MAX_PROOF_BYTES)
        )
