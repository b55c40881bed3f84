"""RFC 9942 COSE receipts for the RFC9162_SHA256 verifiable data structure.

::

    18([protected = {1: -8, 4: log kid, 395: 1},
        unprotected = {396: {-1: [bstr .cbor [tree_size, leaf_index, [* bstr]]]}},
        payload = nil,                           ; detached: the Merkle root
        signature = Ed25519(["Signature1", protected, h'', root])])

A receipt proves inclusion of one leaf: the verifier recomputes the root from the leaf
hash and the path, then checks the log's signature over that root. This module builds
and parses receipts; whether the log key is trusted is ``credex.ledger.verify``'s call.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import cbor2

from credex.ledger import encoding, fixed_layout
from credex.ledger.errors import CborError, CoseError, InclusionProofError, OversizeError
from credex.ledger.keys import SigningKey, verify_ed25519
from credex.ledger.merkle import root_from_inclusion_proof
from credex.ledger.statement import (
    ALG_ED25519,
    ALG_EDDSA,
    COSE_SIGN1_TAG,
    _bstr,
    _head,
    sig_structure,
)

__all__ = [
    "LABEL_VDP",
    "LABEL_VDS",
    "MAX_RECEIPT_BYTES",
    "VDS_RFC9162_SHA256",
    "Receipt",
    "build_receipt",
    "build_receipts",
]

LABEL_VDS: Final = 395
LABEL_VDP: Final = 396
VDS_RFC9162_SHA256: Final = 1
_INCLUSION: Final = -1
MAX_RECEIPT_BYTES: Final = 8 * 1024
_UINT64_LIMIT: Final = 2**64
#: the unprotected header up to its one proof: {396: {-1: [ (then the proof's bstr)
_UNPROTECTED_HEAD: Final = b"\xa1\x19\x01\x8c\xa1\x20\x81"
#: payload nil, then a 64-byte signature's head
_SIGNATURE_HEAD: Final = b"\xf6\x58\x40"
#: a path hash's head (a 32-byte bstr); every path of a log is made of them
_HASH_HEAD: Final = b"\x58\x20"
_BYTES_ONLY: Final = frozenset({bytes})
_HASH_ONLY: Final = frozenset({32})


@dataclass(frozen=True, slots=True)
class Receipt:
    protected: bytes
    log_kid: bytes
    tree_size: int
    leaf_index: int
    path: tuple[bytes, ...]
    signature: bytes

    def root_for(self, leaf_hash: bytes) -> bytes:
        """The root this receipt's inclusion path gives for ``leaf_hash``.

        Raises:
            InclusionProofError: the path does not fit (index, size).
        """
        return root_from_inclusion_proof(leaf_hash, self.leaf_index, self.tree_size, self.path)

    def verify_signature(self, public_key: bytes, root: bytes) -> None:
        """Raises SignatureError unless the log signed ``root`` in this receipt."""
        verify_ed25519(
            public_key, sig_structure(self.protected, root), self.signature, what="receipt"
        )

    def to_bytes(self) -> bytes:
        """Deterministic CBOR, assembled from bytes (one receipt per acknowledged
        statement); equal to the general encoding (``_to_bytes_general``, a test checks),
        which anything outside the layout a log writes takes."""
        size, index, path, sig = self.tree_size, self.leaf_index, self.path, self.signature
        if (
            type(size) is int
            and type(index) is int
            and 0 <= index < _UINT64_LIMIT
            and 0 <= size < _UINT64_LIMIT
            and type(sig) is bytes
            and len(sig) == 64
            and type(self.protected) is bytes
            and set(map(type, path)) <= _BYTES_ONLY
            and set(map(len, path)) <= _HASH_ONLY
        ):
            hashes = _HASH_HEAD + _HASH_HEAD.join(path) if path else b""
            proof = b"\x83" + _head(0, size) + _head(0, index) + _head(4, len(path)) + hashes
            return _receipt_head(self.protected) + _bstr(proof) + _SIGNATURE_HEAD + sig
        return self._to_bytes_general()

    def _to_bytes_general(self) -> bytes:
        proof = encoding.encode([self.tree_size, self.leaf_index, list(self.path)])
        return encoding.encode(
            cbor2.CBORTag(
                COSE_SIGN1_TAG,
                [self.protected, {LABEL_VDP: {_INCLUSION: [proof]}}, None, self.signature],
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Receipt:
        """Strictly parse a receipt carrying exactly one inclusion proof.

        A receipt in the exact layout credex logs write (``fixed_layout``) is read by
        slicing; anything else takes the general path (``encoding.decode`` and checks),
        which accepts the same bytes with the same result (a test compares the two).

        Raises:
            CborError / OversizeError: not deterministic CBOR or too large.
            CoseError: wrong tag, structure, algorithm or VDS.
        """
        if len(data) > MAX_RECEIPT_BYTES:
            raise OversizeError(
                f"receipt: too large: expected <= {MAX_RECEIPT_BYTES} bytes, got {len(data)}"
            )
        fast = fixed_layout.receipt(data)
        if fast is None:
            return cls._from_value(encoding.decode(data, what="receipt"))
        protected, proof_bytes, signature = fast
        kid = _parse_protected(protected)
        proof = fixed_layout.inclusion_proof(proof_bytes)
        if proof is None:
            return cls._from_value(encoding.decode(data, what="receipt"))
        size, index, path = proof
        if not 0 <= index < size:
            raise InclusionProofError(
                f"receipt: leaf index out of range: expected < {size}, got {index}"
            )
        return cls(protected, kid, size, index, path, signature)

    @classmethod
    def _from_value(cls, value: object) -> Receipt:
        if not isinstance(value, cbor2.CBORTag) or value.tag != COSE_SIGN1_TAG:
            raise CoseError("receipt: wrong cose tag: expected 18 (COSE_Sign1)")
        arr = value.value
        if not isinstance(arr, list) or len(arr) != 4:
            raise CoseError("receipt: cose_sign1 must be an array of 4 items")
        protected, unprotected, payload, signature = arr
        if not isinstance(protected, bytes) or payload is not None:
            raise CoseError("receipt: protected must be bstr and the payload detached (nil)")
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise CoseError("receipt: signature must be a 64-byte bstr")
        kid = _parse_protected(protected)
        if not isinstance(unprotected, dict) or set(unprotected) != {LABEL_VDP}:
            raise CoseError("receipt: unprotected header must hold exactly 396")
        vdp = unprotected[LABEL_VDP]
        if not isinstance(vdp, dict) or set(vdp) != {_INCLUSION}:
            raise CoseError("receipt: proofs (396) must hold exactly inclusion proofs (-1)")
        proofs = vdp[_INCLUSION]
        if not isinstance(proofs, list) or len(proofs) != 1 or not isinstance(proofs[0], bytes):
            raise CoseError("receipt: expected exactly one inclusion proof bstr")
        try:
            proof = encoding.decode(proofs[0], what="receipt inclusion proof")
        except CborError as e:
            raise CoseError(f"receipt: bad inclusion proof: {e}") from e
        if (
            not isinstance(proof, list)
            or len(proof) != 3
            or type(proof[0]) is not int
            or type(proof[1]) is not int
            or not isinstance(proof[2], list)
            or not all(isinstance(p, bytes) for p in proof[2])
        ):
            raise CoseError("receipt: inclusion proof must be [tree_size, leaf_index, [* bstr]]")
        size, index, path = proof
        if not 0 <= index < size:
            raise InclusionProofError(
                f"receipt: leaf index out of range: expected < {size}, got {index}"
            )
        return cls(protected, kid, size, index, tuple(path), signature)


@functools.lru_cache(maxsize=64)
def _receipt_head(protected: bytes) -> bytes:
    """``18([protected, {396: {-1: [``: the same for every receipt of one log key."""
    return b"\xd2\x84" + _bstr(protected) + _UNPROTECTED_HEAD


@functools.lru_cache(maxsize=64)
def _protected_header(kid: bytes) -> bytes:
    """``{1: -8, 4: kid, 395: 1}``, encoded once per log key (its bytes are immutable)."""
    return encoding.encode({1: ALG_EDDSA, 4: kid, LABEL_VDS: VDS_RFC9162_SHA256})


@functools.lru_cache(maxsize=256)
def _parse_protected(protected: bytes) -> bytes:
    """The log kid of a receipt's protected header ``{1: -8, 4: kid, 395: 1}``: one per
    log key, so remembered (the last 256; refusals are not remembered).

    Raises:
        CoseError: not that header.
        NonDeterministicCborError: not deterministic CBOR.
    """
    try:
        hdr = encoding.decode(protected, what="receipt protected header")
    except CborError as e:
        raise CoseError(f"receipt: bad protected header: {e}") from e
    if not isinstance(hdr, dict) or set(hdr) != {1, 4, LABEL_VDS}:
        raise CoseError("receipt: protected header must hold exactly 1, 4 and 395")
    if hdr[1] not in (ALG_EDDSA, ALG_ED25519):
        raise CoseError(f"receipt: unsupported algorithm: expected -8, got {hdr[1]!r}")
    if hdr[LABEL_VDS] != VDS_RFC9162_SHA256:
        raise CoseError(f"receipt: unsupported vds: expected 1, got {hdr[LABEL_VDS]!r}")
    kid = hdr[4]
    if not isinstance(kid, bytes) or len(kid) != 32:
        raise CoseError("receipt: kid must be a 32-byte bstr")
    return kid


def build_receipts(
    log_key: SigningKey, tree_size: int, root: bytes, paths: Sequence[tuple[int, Sequence[bytes]]]
) -> list[Receipt]:
    """Receipts for many entries of one tree: the signature covers only the root and the
    leaf-independent protected header, so one signature serves them all."""
    protected = _protected_header(log_key.kid)
    signature = log_key.sign(sig_structure(protected, root))
    kid = log_key.kid
    return [
        Receipt(protected, kid, tree_size, index, tuple(path), signature) for index, path in paths
    ]


def build_receipt(
    log_key: SigningKey, tree_size: int, leaf_index: int, path: Sequence[bytes], root: bytes
) -> Receipt:
    """Sign a receipt for entry ``leaf_index`` of the tree of ``tree_size`` with ``root``."""
    protected = _protected_header(log_key.kid)
    signature = log_key.sign(sig_structure(protected, root))
    return Receipt(protected, log_key.kid, tree_size, leaf_index, tuple(path), signature)
