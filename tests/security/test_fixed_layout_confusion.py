"""A42: bytes that look like the layout credex writes, but are not.

Statements, receipts and plain bundles in the exact layout a log writes are read by
slicing (``ledger/fixed_layout.py``, issue 13). An attacker sends near misses hoping the
slicer reads them where the strict path would refuse them, or reads them differently: a
byte after the signature, a signature one byte short, a second receipt, an extra bundle
field after the checkpoint, a non-shortest integer inside the inclusion proof, a path
element of 31 bytes. Each falls through to the general path and is refused at step 1
with the error it always got; the slicer itself never accepts anything the general path
refuses (``tests/unit/ledger/test_fixed_layout.py`` compares the two on mutations).
"""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest

from credex.ledger import encoding, fixed_layout
from credex.ledger.errors import CborError, CoseError, FormatError, NonDeterministicCborError
from credex.ledger.receipt import Receipt
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
BUNDLE = (GOLDEN / "bundle-0.credex").read_bytes()
TRUST = TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))


def _parts() -> tuple[bytes, bytes, bytes, str]:
    """(statement without receipts, receipt, statement with receipt, checkpoint)."""
    value = cbor2.loads(BUNDLE)
    st = cbor2.loads(value["statement"])
    receipt = st.value[1][394][0]
    bare = cbor2.CBORTag(18, [st.value[0], {}, st.value[2], st.value[3]])
    return encoding.encode(bare), receipt, value["statement"], value["checkpoint"]


def _with_receipts(statement: bytes, receipts: list[bytes]) -> bytes:
    st = cbor2.loads(statement).value
    return encoding.encode(cbor2.CBORTag(18, [st[0], {394: receipts}, st[2], st[3]]))


def _bundle(statement: bytes, checkpoint: str, **extra: object) -> bytes:
    return encoding.encode({"v": 1, "statement": statement, "checkpoint": checkpoint, **extra})


def _step1(data: bytes) -> Exception:
    report = run_verification(data, TRUST)
    assert report.failed_step == 1, report.steps
    assert report.error is not None
    return report.error


def test_the_parts_take_the_fast_path() -> None:
    _bare, receipt, statement, _ = _parts()
    assert fixed_layout.bundle(BUNDLE) is not None
    assert fixed_layout.statement(statement) is not None
    assert fixed_layout.receipt(receipt) is not None


def test_a_byte_after_the_receipt_signature() -> None:
    bare, receipt, _, cp = _parts()
    bad = receipt + b"\x00"
    assert fixed_layout.receipt(bad) is None
    err = _step1(_bundle(_with_receipts(bare, [bad]), cp))
    assert type(err) is CborError and "trailing bytes" in str(err)


def test_a_receipt_signature_one_byte_short() -> None:
    bare, receipt, _, cp = _parts()
    value = cbor2.loads(receipt)
    value.value[3] = value.value[3][:63]
    bad = encoding.encode(value)
    assert fixed_layout.receipt(bad) is None
    err = _step1(_bundle(_with_receipts(bare, [bad]), cp))
    assert type(err) is CoseError and "64-byte" in str(err)


def test_two_receipts() -> None:
    bare, receipt, _, cp = _parts()
    report = run_verification(_bundle(_with_receipts(bare, [receipt, receipt]), cp), TRUST)
    assert report.failed_step == 1 and "exactly one receipt" in str(report.error)


def test_an_extra_bundle_field_after_the_checkpoint() -> None:
    _, _, statement, cp = _parts()
    data = _bundle(statement, cp, zz=b"\x00")
    assert fixed_layout.bundle(data) is None
    err = _step1(data)
    assert type(err) is FormatError and "unexpected fields: zz" in str(err)


@pytest.mark.parametrize("where", ["size", "index"])
def test_a_long_integer_head_in_the_inclusion_proof(where: str) -> None:
    bare, receipt, _, cp = _parts()
    value = cbor2.loads(receipt)
    proof = cbor2.loads(value.value[1][396][-1][0])
    size, index, path = proof
    heads = {
        "size": b"\x1b" + size.to_bytes(8, "big") + encoding.encode(index),
        "index": encoding.encode(size) + b"\x1b" + index.to_bytes(8, "big"),
    }
    raw = b"\x83" + heads[where] + encoding.encode(path)
    assert fixed_layout.inclusion_proof(raw) is None
    value.value[1][396][-1][0] = raw
    bad = encoding.encode(value)
    with pytest.raises(CoseError, match="bad inclusion proof") as info:
        Receipt.from_bytes(bad)
    assert isinstance(info.value.__cause__, NonDeterministicCborError)
    err = _step1(_bundle(_with_receipts(bare, [bad]), cp))
    assert type(err) is CoseError


def test_a_path_element_of_31_bytes() -> None:
    bare, receipt, _, cp = _parts()
    value = cbor2.loads(receipt)
    size, index, path = cbor2.loads(value.value[1][396][-1][0])
    raw = encoding.encode([size, index, [path[0][:31], *path[1:]]])
    assert fixed_layout.inclusion_proof(raw) is None
    value.value[1][396][-1][0] = raw
    report = run_verification(_bundle(_with_receipts(bare, [encoding.encode(value)]), cp), TRUST)
    assert report.failed_step == 4  # the general path reads it; the inclusion step refuses
