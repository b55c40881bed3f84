"""The fixed-layout readers (``ledger/fixed_layout.py``) never disagree with the general
path: whenever one returns a value, ``encoding.decode`` and the format's checks accept the
same bytes with the same result (on the fuzz seeds, their mutations, and generated
receipts and statements), and the formats' ``from_bytes`` give what the general path gives."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credex.ledger import fixed_layout
from credex.ledger.bundle import Bundle
from credex.ledger.encoding import decode, encode
from credex.ledger.errors import CredexError
from credex.ledger.keys import SigningKey
from credex.ledger.receipt import Receipt, build_receipt
from credex.ledger.statement import Statement, _leaf_bytes, _parse_cose
from tests.fuzz import strategies as fuzz_strategies

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
SEEDS = [
    p.read_bytes()
    for name in ("bundle", "cbor", "receipt", "statement", "grpc_submit")
    for p in sorted((CORPUS / name).iterdir())
]
EXAMPLES = int(os.environ.get("CREDEX_FUZZ_EXAMPLES", "400"))
KEY = SigningKey(b"\x05" * 32)


def _receipts_of(seeds: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for s in seeds:
        with contextlib.suppress(CredexError):
            out.extend(_parse_cose(s)[1])
        with contextlib.suppress(CredexError, TypeError, KeyError):
            out.extend(_parse_cose(decode(s)["statement"])[1])
    return out


ALL = SEEDS + _receipts_of(SEEDS)


def _outcome(fn: object, data: bytes) -> tuple[str, object]:
    try:
        return ("ok", fn(data))  # type: ignore[operator]
    except CredexError as e:
        return (type(e).__name__, str(e))


def _check(data: bytes) -> None:
    fast = fixed_layout.statement(data)
    if fast is not None:
        assert _parse_cose(data) == fast[:4]
        assert fast[4] == _leaf_bytes(fast[0], fast[2], fast[3])
    fast_r = fixed_layout.receipt(data)
    if fast_r is not None:
        value = decode(data)
        assert isinstance(value, cbor2.CBORTag) and value.tag == 18
        protected, unprotected, payload, signature = value.value
        assert (protected, unprotected[396][-1][0], payload, signature) == (
            fast_r[0],
            fast_r[1],
            None,
            fast_r[2],
        )
        _check_proof(fast_r[1])
    fast_b = fixed_layout.bundle(data)
    if fast_b is not None:
        assert Bundle.from_value(decode(data)) == Bundle(*fast_b)
    # the formats' parsers: the fast path and the general one agree
    assert _outcome(Receipt.from_bytes, data) == _outcome(
        lambda d: Receipt._from_value(decode(d, what="receipt", max_size=8192)), data
    )
    assert _outcome(Bundle.from_bytes, data) == _outcome(
        lambda d: Bundle.from_value(decode(d, what="bundle", max_size=4 * 1024 * 1024)), data
    )


def _check_proof(proof: bytes) -> None:
    fast = fixed_layout.inclusion_proof(proof)
    if fast is not None:
        size, index, path = fast
        assert decode(proof) == [size, index, list(path)]


@pytest.mark.parametrize("data", ALL, ids=lambda b: b[:10].hex())
def test_seeds(data: bytes) -> None:
    _check(data)


def test_the_layouts_credex_writes_take_the_fast_path() -> None:
    receipt = build_receipt(KEY, 1000, 7, [bytes([i]) * 32 for i in range(10)], b"\x01" * 32)
    data = receipt.to_bytes()
    assert fixed_layout.receipt(data) is not None
    assert Receipt.from_bytes(data) == receipt
    plain = 0
    for seed in SEEDS[:3]:
        value = decode(seed)
        if set(value) == {"v", "statement", "checkpoint"}:
            assert fixed_layout.bundle(seed) is not None
            plain += 1
        statement = value["statement"]
        assert fixed_layout.statement(statement) is not None
        assert Statement.from_bytes(statement, value.get("preimage")).to_bytes() == statement
    assert plain


def test_an_empty_receipt_list_is_not_part_of_the_leaf() -> None:
    """``{394: []}`` reads as no receipts, and the leaf still has the empty map."""
    seed = next(s for s in SEEDS if fixed_layout.bundle(s) is not None)
    st = decode(decode(seed)["statement"]).value
    data = encode(cbor2.CBORTag(18, [st[0], {394: []}, st[2], st[3]]))
    fast = fixed_layout.statement(data)
    assert fast is not None and fast[1] == ()
    assert fast[4] == _leaf_bytes(st[0], st[2], st[3]) != data
    parsed = Statement.from_bytes(data)
    assert parsed.leaf == _leaf_bytes(st[0], st[2], st[3])


@st.composite
def _receipt_bytes(draw: st.DrawFn) -> bytes:
    size = draw(st.integers(1, 2**64 - 1))
    index = draw(st.integers(0, size - 1))
    path = draw(st.lists(st.binary(min_size=32, max_size=32), max_size=64))
    data = build_receipt(KEY, size, index, path, b"\x02" * 32).to_bytes()
    if draw(st.booleans()):
        return data
    return draw(fuzz_strategies.mutated([data]))


@st.composite
def _proof_bytes(draw: st.DrawFn) -> bytes:
    size = draw(st.integers(0, 2**64 - 1))
    index = draw(st.integers(0, 2**64 - 1))
    path = draw(st.lists(st.binary(min_size=30, max_size=34), max_size=8))
    data = encode([size, index, path])
    return data if draw(st.booleans()) else draw(fuzz_strategies.mutated([data]))


@st.composite
def _statement_bytes(draw: st.DrawFn) -> bytes:
    """A statement with an unprotected map of any shape credex might see, or a mutation."""
    protected = draw(st.binary(max_size=300))
    payload = draw(st.binary(max_size=300))
    size = draw(st.sampled_from([63, 64, 64, 64, 65]))
    signature = draw(st.binary(min_size=size, max_size=size))
    unprotected = draw(
        st.one_of(
            st.just({}),
            st.just({394: []}),
            st.builds(lambda r: {394: r}, st.lists(st.binary(max_size=40), max_size=3)),
            st.dictionaries(st.integers(-2, 400), st.binary(max_size=4), max_size=2),
        )
    )
    data = encode(cbor2.CBORTag(18, [protected, unprotected, payload, signature]))
    return data if draw(st.booleans()) else draw(fuzz_strategies.mutated([data]))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("CREDEX_FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
)
@given(
    st.one_of(fuzz_strategies.mutated(ALL), _receipt_bytes(), _proof_bytes(), _statement_bytes())
)
def test_mutations(data: bytes) -> None:
    _check(data)
    _check_proof(data)
