"""RFC 9942 receipts: layout, pycose interop (detached payload), strict parsing."""

from __future__ import annotations

import cbor2
import pytest
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from credex.ledger import encoding
from credex.ledger.errors import CoseError, InclusionProofError, OversizeError, SignatureError
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import Receipt, build_receipt

LOG = SigningKey(b"\x09" * 32)
TREE = MerkleTree(b"entry-%d" % i for i in range(11))


def _receipt(index: int = 6) -> Receipt:
    return build_receipt(LOG, TREE.size, index, TREE.inclusion_proof(index), TREE.root())


def test_layout() -> None:
    tag = cbor2.loads(_receipt().to_bytes())
    assert tag.tag == 18
    protected, unprotected, payload, sig = tag.value
    assert cbor2.loads(protected) == {1: -8, 4: LOG.kid, 395: 1}
    assert payload is None and len(sig) == 64
    (proof,) = unprotected[396][-1]
    assert cbor2.loads(proof) == [11, 6, TREE.inclusion_proof(6)]


def test_pycose_verifies_detached_root() -> None:
    msg = Sign1Message.decode(_receipt().to_bytes())
    msg.key = OKPKey(crv=Ed25519, x=LOG.public_key)
    assert msg.verify_signature(detached_payload=TREE.root())
    assert not msg.verify_signature(detached_payload=TREE.root(10))


def test_round_trip_root_and_signature() -> None:
    r = Receipt.from_bytes(_receipt().to_bytes())
    leaf = MerkleTree([b"entry-6"]).root()
    assert r.root_for(leaf) == TREE.root()
    r.verify_signature(LOG.public_key, TREE.root())
    with pytest.raises(SignatureError, match="receipt: signature does not verify"):
        r.verify_signature(LOG.public_key, TREE.root(10))


def _raw(protected: object, unprotected: object, payload: object = None) -> bytes:
    return encoding.encode(cbor2.CBORTag(18, [protected, unprotected, payload, b"s" * 64]))


def _prot(**kw: object) -> bytes:
    base: dict[int, object] = {1: -8, 4: LOG.kid, 395: 1}
    base.update({int(k[1:]): v for k, v in kw.items()})
    return encoding.encode(base)


def _vdp(size: int = 11, index: int = 6, path: object = None) -> dict[int, object]:
    p = TREE.inclusion_proof(6) if path is None else path
    return {396: {-1: [encoding.encode([size, index, p])]}}


@pytest.mark.parametrize(
    ("data", "err", "match"),
    [
        (lambda: _raw(_prot(), _vdp(), b"root"), CoseError, "detached"),
        (lambda: _raw(_prot(l395=2), _vdp()), CoseError, "unsupported vds"),
        (lambda: _raw(_prot(l1=-35), _vdp()), CoseError, "unsupported algorithm"),
        (lambda: _raw(_prot(), {}), CoseError, "exactly 396"),
        (lambda: _raw(_prot(), {396: {-2: []}}), CoseError, "inclusion proofs"),
        (lambda: _raw(_prot(), _vdp(path="x")), CoseError, "tree_size, leaf_index"),
        (lambda: _raw(_prot(), _vdp(size=5, index=5)), InclusionProofError, "out of range"),
        (lambda: b"\x00" * 9000, OversizeError, "too large"),
    ],
    ids=[
        "attached-payload",
        "vds",
        "alg",
        "no-vdp",
        "no-inclusion",
        "bad-path",
        "index-out-of-range",
        "oversize",
    ],
)
def test_malformed_receipts(data, err, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(err, match=match):
        Receipt.from_bytes(data())
