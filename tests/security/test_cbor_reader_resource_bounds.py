"""A44: make the one-pass reader allocate or recurse without bound.

The reader builds values as it reads (issue 13), so a claimed length must never be
trusted before the bytes are there. An attacker sends a few bytes that claim an array of
2^64 - 1 items, a map of 2^32 pairs, a byte string of 4 GiB, seventeen levels of arrays
or tags, and 65,537 one-byte items; through ``Bundle.from_bytes``, ``Statement.from_bytes``
and the receipt parser. Each is refused by name (``CborError``) before anything of that
size is built, and the limits hold exactly (16 levels and 65,536 items pass).
"""

from __future__ import annotations

import pytest

from credex.ledger.bundle import Bundle
from credex.ledger.encoding import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, decode
from credex.ledger.errors import CborError, CoseError
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement

CLAIMS = {
    "array of 2^64-1": (b"\x9b" + b"\xff" * 8, "container past the end"),
    "map of 2^32 pairs": (b"\xbb" + (2**32).to_bytes(8, "big"), "container past the end"),
    "bstr of 4 GiB": (b"\x5b" + (2**32).to_bytes(8, "big") + b"\x00", "string past the end"),
    "tstr of 2^64-1": (b"\x7b" + b"\xff" * 8, "string past the end"),
    "array in a tag": (b"\xd2\x9b" + b"\xff" * 8, "container past the end"),
}


@pytest.mark.parametrize("name", sorted(CLAIMS))
@pytest.mark.parametrize("parse", [Bundle.from_bytes, Statement.from_bytes, decode])
def test_a_claimed_length_is_not_trusted(name: str, parse: object) -> None:
    data, message = CLAIMS[name]
    with pytest.raises(CborError, match=message):
        parse(data)  # type: ignore[operator]


def test_a_receipt_claiming_a_huge_array() -> None:
    with pytest.raises(CborError, match="container past the end"):
        Receipt.from_bytes(b"\xd2\x9b" + b"\xff" * 8)


@pytest.mark.parametrize("wrap", [b"\x81", b"\xd2"], ids=["arrays", "tags"])
def test_nesting_at_and_past_the_limit(wrap: bytes) -> None:
    assert decode(wrap * MAX_CBOR_DEPTH + b"\x01") is not None
    with pytest.raises(CborError, match="nesting too deep"):
        decode(wrap * (MAX_CBOR_DEPTH + 1) + b"\x01")


def test_items_at_and_past_the_limit() -> None:
    n = MAX_CBOR_ITEMS - 1  # the array itself is an item
    ok = b"\x99" + n.to_bytes(2, "big") + b"\x00" * n
    assert len(decode(ok)) == n
    with pytest.raises(CborError, match="too many cbor items"):
        decode(b"\x9a" + (n + 1).to_bytes(4, "big") + b"\x00" * (n + 1))


def test_a_statement_whose_protected_header_claims_too_much() -> None:
    protected = b"\xbb" + (2**40).to_bytes(8, "big")
    data = b"\xd2\x84\x49" + protected + b"\xa0\x40\x58\x40" + b"\x00" * 64
    with pytest.raises(CoseError, match="container past the end"):
        Statement.from_bytes(data)
