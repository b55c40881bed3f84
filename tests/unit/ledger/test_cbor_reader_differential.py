"""The one-pass reader (``encoding.decode``) against the decoder it replaced
(``cbor_reference.reference_decode``: pre-scan, cbor2, re-encode): on every input both
accept with equal values (types included: ``True`` is not ``1``) or both refuse with the
same error type; messages are equal except for three classes whose old wording named a
cbor2 internal (listed in ``_REWORDED``).

Inputs: every fuzz corpus seed of every target, the CBOR golden and report vectors, and
every byte string nested in them,
hand-picked edge cases, and hypothesis-generated ones (mutated seeds, arbitrary CBOR with
any tag, float, indefinite length, deterministic encodings of random values and their
mutations, random bytes).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credex.ledger.encoding import decode, encode
from credex.ledger.errors import CredexError
from tests.fuzz import strategies as fuzz_strategies
from tests.unit.ledger.cbor_reference import reference_decode

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
VECTORS = Path(__file__).resolve().parents[2] / "vectors"
EXAMPLES = int(os.environ.get("CREDEX_FUZZ_EXAMPLES", "600"))

#: (old message pattern, new message pattern) pairs allowed to differ in wording
_REWORDED = (
    (r"malformed or truncated cbor: CBORDecode\w*Error$", r"malformed cbor: text string is not"),
    (r"unsupported cbor item: cannot encode type FrozenDict$", r"a map as a map key$"),
    (
        r"unsupported cbor item: cannot encode type CBORSimpleValue$",
        r"unsupported cbor item: simple value 2[012] in a two-byte head$",
    ),
    (r"re-encoding differs$", r"re-encoding differs \((a head longer|map keys|duplicate)"),
)


def _canon(v: Any) -> Any:
    """A comparable form that tells types apart (1 == True in Python)."""
    t = type(v)
    if t is list or t is tuple:
        return (t.__name__, tuple(_canon(x) for x in v))
    if t is dict:
        return ("dict", tuple((_canon(k), _canon(x)) for k, x in v.items()))
    if t is cbor2.CBORTag:
        return ("tag", v.tag, _canon(v.value))
    return (t.__name__, v)


def _outcome(fn: Any, data: bytes, **kw: Any) -> tuple[Any, ...]:
    try:
        return ("ok", _canon(fn(data, **kw)))
    except CredexError as e:
        return (type(e).__name__, str(e))


def _same(data: bytes, **kw: Any) -> None:
    old, new = _outcome(reference_decode, data, **kw), _outcome(decode, data, **kw)
    if old == new:
        return
    assert old[0] == new[0], (data.hex(), old, new)
    assert old[0] != "ok", (data.hex(), old, new)
    assert any(re.search(o, old[1]) and re.search(n, new[1]) for o, n in _REWORDED), (
        data.hex(),
        old,
        new,
    )


def _nested(value: Any, out: list[bytes]) -> None:
    """Every byte string inside a decoded value (protected headers, payloads, receipts)."""
    if isinstance(value, bytes):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _nested(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            _nested(k, out)
            _nested(v, out)
    elif isinstance(value, cbor2.CBORTag):
        _nested(value.value, out)


def _seeds() -> list[bytes]:
    seeds = [p.read_bytes() for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    seeds += [  # the golden and report vectors (CBOR ones; the rest is refused alike)
        p.read_bytes()
        for p in sorted(VECTORS.rglob("*"))
        if p.is_file() and p.suffix in (".credex", ".cbor", ".credex-report")
    ]
    found: list[bytes] = []
    for s in seeds:
        with contextlib.suppress(CredexError):
            _nested(reference_decode(s), found)
    for s in list(found):  # one level further: a receipt's protected header and proof
        with contextlib.suppress(CredexError):
            _nested(reference_decode(s), found)
    return seeds + [f for f in found if f]


SEEDS = _seeds()

EDGE_CASES = [
    "",
    "00",
    "17",
    "1818",
    "1817",
    "1b0000000100000000",
    "1bffffffffffffffff",
    "3bffffffffffffffff",
    "3b00000000ffffffff",
    "f4",
    "f5",
    "f6",
    "f7",
    "f814",
    "f815",
    "f816",
    "f820",
    "f0",
    "ff",
    "1c",
    "3f",
    "df",
    "5f4161ff",
    "9fff",
    "bfff",
    "62c328",
    "62c32800",
    "8262c328f93c00",
    "63eda080",
    "180000",
    "d81201",
    "d20a",
    "d86201",
    "d86301",
    "c249010000000000000000",
    "d81c01",
    "d9010001",
    "a1a1010203",
    "a1a00102",
    "a18201020300",
    "a1820102 03".replace(" ", ""),
    "a201f5f5f4",
    "a20100f501",
    "a2810100" + "81f500",
    "a181a1010203",
    "a181180102",
    "a2d20101d20000",
    "a2d20000d20101",
    "a26161018101" + "02",
    "a1f81400",
    "a2f400f501",
    "a2f500f400",
    "82f81462c328",
    "82f814180000",
    "8262c328a1a00102",
    "a1616ba202000100",
    "a2616100616100",
    "81" * 16 + "01",
    "81" * 17 + "01",
    "81" * 16 + "80",
    "81" * 17 + "80",
    "81" * 16 + "a0",
    "d2" * 16 + "01",
    "d2" * 17 + "01",
    "a1" + "00" * 1,
    "8301",
    "83010203",
    "a2",
    "5a0000000100",
    "9b000000000000000100",
    "bb000000000000000100",
    "790000",
    "d2",
]


@pytest.mark.parametrize("data", SEEDS, ids=lambda b: b[:12].hex())
def test_every_corpus_seed_and_nested_item(data: bytes) -> None:
    _same(data)
    _same(data, what="x", max_size=len(data) - 1)


@pytest.mark.parametrize("hexdata", EDGE_CASES)
def test_edge_cases(hexdata: str) -> None:
    _same(bytes.fromhex(hexdata))


def test_item_budget_and_memoryview() -> None:
    big = encode(list(range(600)))
    for limit in (1, 2, 300, 600, 601, 602):
        _same(big, max_items=limit)
    _same(bytes.fromhex("8262c328" + "80"), max_items=1)
    assert decode(memoryview(big)) == list(range(600))  # type: ignore[arg-type]


_values = st.recursive(
    st.one_of(
        st.integers(min_value=-(2**64), max_value=2**64 - 1),
        st.binary(max_size=40),
        st.text(max_size=20),
        st.booleans(),
        st.none(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(st.integers(-300, 300), st.text(max_size=5), st.binary(max_size=4)),
            children,
            max_size=5,
        ),
        st.builds(cbor2.CBORTag, st.sampled_from([18, 98]), children),
    ),
    max_leaves=25,
)


@st.composite
def _deterministic_then_mutated(draw: st.DrawFn) -> bytes:
    data = encode(draw(_values))
    if draw(st.booleans()):
        return data
    return draw(fuzz_strategies.mutated([data]))


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("CREDEX_FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
)


@_SETTINGS
@given(
    st.one_of(
        fuzz_strategies.mutated(SEEDS),
        fuzz_strategies._cbor_bytes(),  # the fuzz suite's arbitrary CBOR
        _deterministic_then_mutated(),
        st.binary(max_size=64),
    )
)
def test_differential(data: bytes) -> None:
    _same(data)
