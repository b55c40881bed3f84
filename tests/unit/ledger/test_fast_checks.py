"""The faster record checks and receipt encoding (issue #13, P2) accept, refuse and
encode exactly as the general code they replaced: the record's per-kind tables against
the spec-driven loop (written out here as it was), the assembled receipt bytes against
``encoding.encode`` of the receipt value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from credex.ledger import encoding
from credex.ledger.errors import CredexError, RecordError
from credex.ledger.identifiers import REGION_RE
from credex.ledger.keys import SigningKey
from credex.ledger.receipt import (
    LABEL_VDS,
    VDS_RFC9162_SHA256,
    Receipt,
    build_receipt,
    build_receipts,
)
from credex.ledger.record import _PY_TYPES, KIND_SPECS, SUBJECTLESS_KINDS, Record, Subject
from credex.ledger.statement import ALG_EDDSA

ORG = "91330100MA0YX0016X"
SAMPLES: Mapping[str, Any] = {
    "text": "x",
    "int": 7,
    "list": ["a"],
    "map": {"a": 1},
    "bytes": b"\x01",
    "bool": True,
}
ODD_VALUES: tuple[Any, ...] = (None, True, False, 0, -1, "", b"", [], {}, 2**63)


def _reference_body_error(kind: str, body: Mapping[Any, Any]) -> str | None:
    """The body checks as ``Record.__post_init__`` made them before the tables."""
    spec = KIND_SPECS[kind]
    for name in spec.required:
        if name not in body:
            return f"record: {kind} body is missing required field {name!r}"
    for name, value in body.items():
        found = spec.required.get(name) or spec.optional.get(name)
        if found is None:
            return f"record: {kind} body has unknown field {name!r}"
        ok = type(value) is int if found == "int" else isinstance(value, _PY_TYPES[found])
        if not ok:
            return (
                f"record: {kind} body field {name!r} has wrong type: "
                f"expected {found}, got {type(value).__name__}"
            )
    return None


def _subject(kind: str) -> Subject:
    if kind in SUBJECTLESS_KINDS:
        return Subject("person", "hmac:00000000:" + "ab" * 32)
    return Subject("org", ORG)


def _error(kind: str, body: Mapping[Any, Any], region: str = "cn-zj-hangzhou") -> str | None:
    refs = (b"\x00" * 32,) if KIND_SPECS[kind].needs_refs else ()
    try:
        Record(kind, region, _subject(kind), body, 1, refs=refs)
    except RecordError as e:
        return str(e)
    return None


def _bodies(kind: str) -> list[dict[Any, Any]]:
    spec = KIND_SPECS[kind]
    full = {n: SAMPLES[t] for n, t in {**spec.optional, **spec.required}.items()}
    minimal = {n: SAMPLES[t] for n, t in spec.required.items()}
    out: list[dict[Any, Any]] = [full, minimal, {}, {**minimal, "zz_unknown": "x"}]
    out.append({**minimal, 1: "x"})
    for name in full:
        out.append({k: v for k, v in full.items() if k != name})
        for value in (*SAMPLES.values(), *ODD_VALUES):
            out.append({**full, name: value})
            out.append({**minimal, name: value})
    return out


@pytest.mark.parametrize("kind", sorted(KIND_SPECS))
def test_body_checks_refuse_and_accept_as_the_spec_loop(kind: str) -> None:
    for body in _bodies(kind):
        assert _error(kind, body) == _reference_body_error(kind, body), body


@pytest.mark.parametrize(
    "region",
    ["cn-zj-hangzhou", "", "CN-ZJ", "cn-zj-hangzhou\n", "cn-zj-杭州", "cn-" + "a" * 80, "hk"],
)
def test_region_checks_as_the_pattern(region: str) -> None:
    body = {"scheme": "s", "score": 1, "band": "b", "as_of": "a"}
    got = _error("score.city", body, region)
    want = None if REGION_RE.match(region) else f"record: region id invalid: {region!r}"
    assert got == want
    assert _error("score.city", body, region) == want  # remembered: same answer twice


def test_time_checks_keep_their_messages() -> None:
    body = {"scheme": "s", "score": 1, "band": "b", "as_of": "a"}
    subject = Subject("org", ORG)
    for kw, msg in (
        ({"valid_from": -1}, "record: valid_from must be a uint (Unix seconds)"),
        ({"valid_from": True}, "record: valid_from must be a uint (Unix seconds)"),
        ({"valid_from": 2**64}, "record: valid_from must be a uint (Unix seconds)"),
        ({"valid_from": 5, "valid_until": 4}, "record: valid_until is before valid_from"),
        ({"valid_from": 5, "valid_until": -4}, "record: valid_until must be a uint (Unix seconds)"),
    ):
        with pytest.raises(RecordError) as e:
            Record("score.city", "cn-zj-hangzhou", subject, body, **kw)
        assert str(e.value) == msg
    assert Record("score.city", "cn-zj-hangzhou", subject, body, 5, 5).valid_until == 5


def _receipts() -> list[Receipt]:
    key = SigningKey(bytes(range(32)))
    h = [os.urandom(32) for _ in range(40)]
    sig = os.urandom(64)
    prot = encoding.encode({1: ALG_EDDSA, 4: key.kid, LABEL_VDS: VDS_RFC9162_SHA256})
    out = [
        Receipt(prot, key.kid, size, index, tuple(h[:n]), sig)
        for size, index in ((1, 0), (24, 23), (300, 256), (2**32 + 1, 2**32), (2**64 - 1, 2**63))
        for n in (0, 1, 23, 24, 40)
    ]
    out.append(Receipt(prot, key.kid, 9, 3, (b"\x01" * 31, h[0]), sig))  # not a hash
    out.append(Receipt(prot, key.kid, 9, 3, (b"",), sig))
    out.append(Receipt(prot, key.kid, 9, 3, (h[0],), sig[:63]))  # short signature
    out.append(Receipt(b"\xa0", key.kid, 9, 3, (h[0],), sig))  # another header
    out.append(Receipt(prot, key.kid, 2**64, 3, (h[0],), sig))  # past uint64
    out.append(Receipt(prot, key.kid, 9, -3, (h[0],), sig))  # negative
    return out


def _general(r: Receipt) -> bytes:
    proof = encoding.encode([r.tree_size, r.leaf_index, list(r.path)])
    return encoding.encode(
        encoding.cbor2.CBORTag(18, [r.protected, {396: {-1: [proof]}}, None, r.signature])
    )


def test_receipt_bytes_are_the_general_encoding() -> None:
    for r in _receipts():
        try:
            want = _general(r)
        except CredexError:
            continue
        assert r.to_bytes() == want, r


def test_receipt_builders_share_one_header_and_round_trip() -> None:
    key = SigningKey(bytes(range(32)))
    root = os.urandom(32)
    path = [os.urandom(32) for _ in range(5)]
    many = build_receipts(key, 40, root, [(i, path) for i in range(3)])
    one = build_receipt(key, 40, 2, path, root)
    want = encoding.encode({1: ALG_EDDSA, 4: key.kid, LABEL_VDS: VDS_RFC9162_SHA256})
    assert {r.protected for r in many} == {want} == {one.protected}
    assert one.to_bytes() == many[2].to_bytes() == _general(one)
    assert Receipt.from_bytes(one.to_bytes()) == one
    one.verify_signature(key.public_key, root)
