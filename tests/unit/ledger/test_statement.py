"""Statements: COSE_Sign1 layout, independent verification (pycose), strict parsing."""

from __future__ import annotations

import cbor2
import pytest
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from credex.ledger import encoding
from credex.ledger.errors import (
    CborError,
    CoseError,
    IdentifierError,
    NonDeterministicCborError,
    OversizeError,
    RecordError,
    SignatureError,
    UnknownKindError,
)
from credex.ledger.keys import SigningKey, compute_kid
from credex.ledger.merkle import leaf_hash
from credex.ledger.record import Record, Subject
from credex.ledger.statement import (
    CONTENT_TYPE,
    MAX_STATEMENT_BYTES,
    Statement,
    sig_structure,
    sign_statement,
    verify_statement_signature,
)

KEY = SigningKey(bytes(range(32)))
OTHER = SigningKey(bytes(range(1, 33)))
ISSUER = "cn-zj-hangzhou/platform"


def _record(**body: object) -> Record:
    b = {"scheme": "HANGZHOU_QIANJIANG", "score": 700, "band": "优秀", "as_of": "2026-11-01"}
    b.update(body)
    return Record(
        "score.city",
        "cn-zj-hangzhou",
        Subject("org", "91330100MA0YX0016X"),
        b,
        1_790_000_000,
        1_792_000_000,
    )


def _statement() -> Statement:
    return sign_statement(_record(), ISSUER, KEY, 1_790_000_123)


def _cose(protected: object, unprotected: object, payload: object, sig: object) -> bytes:
    return encoding.encode(cbor2.CBORTag(18, [protected, unprotected, payload, sig]))


def test_layout_matches_formats_md() -> None:
    st = _statement()
    tag = cbor2.loads(st.to_bytes())
    assert tag.tag == 18
    protected, unprotected, payload, sig = tag.value
    assert unprotected == {}
    hdr = cbor2.loads(protected)
    assert hdr == {
        1: -8,
        3: CONTENT_TYPE,
        4: compute_kid(KEY.public_key),
        15: {1: ISSUER, 2: "91330100MA0YX0016X", 6: 1_790_000_123},
    }
    rec = cbor2.loads(payload)
    assert rec["v"] == 1 and rec["kind"] == "score.city"
    assert rec["subject"] == {"type": "org", "id": "91330100MA0YX0016X"}
    assert len(sig) == 64
    assert st.leaf == st.to_bytes()
    assert st.leaf_hash == leaf_hash(st.leaf)


def test_pycose_verifies_our_statement() -> None:
    msg = Sign1Message.decode(_statement().to_bytes())
    msg.key = OKPKey(crv=Ed25519, x=KEY.public_key)
    assert msg.verify_signature()
    msg.key = OKPKey(crv=Ed25519, x=OTHER.public_key)
    assert not msg.verify_signature()


def test_we_verify_a_pycose_signed_statement() -> None:
    """Interop the other way: a statement signed by pycose parses and verifies here."""
    from pycose.algorithms import EdDSA
    from pycose.headers import KID, Algorithm, ContentType

    payload = _record().to_bytes()
    hdr = {
        Algorithm: EdDSA,
        ContentType: CONTENT_TYPE,
        KID: KEY.kid,
        15: {1: ISSUER, 2: "91330100MA0YX0016X", 6: 5},
    }
    msg = Sign1Message(phdr=hdr, payload=payload)
    msg.key = OKPKey(crv=Ed25519, d=KEY.seed, x=KEY.public_key)
    data = msg.encode(tag=True)
    st = Statement.from_bytes(data)
    verify_statement_signature(st, KEY.public_key)
    assert st.claims.iat == 5


def test_round_trip_and_receipts_do_not_change_the_leaf() -> None:
    st = _statement()
    again = Statement.from_bytes(st.to_bytes())
    assert again == st
    with_r = st.with_receipts([b"\x01\x02"])
    parsed = Statement.from_bytes(with_r.to_bytes())
    assert parsed.receipts == (b"\x01\x02",)
    assert parsed.leaf == st.leaf and parsed.leaf_hash == st.leaf_hash


def test_signature_checks() -> None:
    st = _statement()
    verify_statement_signature(st, KEY.public_key)
    with pytest.raises(SignatureError, match="statement: signature does not verify"):
        verify_statement_signature(st, OTHER.public_key)
    raw = bytearray(st.to_bytes())
    raw[-5] ^= 1
    flipped = Statement.from_bytes(bytes(raw))
    with pytest.raises(SignatureError, match="does not verify"):
        verify_statement_signature(flipped, KEY.public_key)


def test_sig_structure_is_rfc9052() -> None:
    assert cbor2.loads(sig_structure(b"\xa0", b"xy")) == ["Signature1", b"\xa0", b"", b"xy"]


# -- bad input: each a named error -------------------------------------------------------


def _parts() -> tuple[bytes, bytes, bytes]:
    st = _statement()
    return st.protected, st.payload, st.signature


def _hdr(**over: object) -> bytes:
    base: dict[int, object] = {
        1: -8,
        3: CONTENT_TYPE,
        4: KEY.kid,
        15: {1: ISSUER, 2: "91330100MA0YX0016X", 6: 1},
    }
    for k, v in over.items():
        label = int(k[1:])
        if v is None:
            base.pop(label)
        else:
            base[label] = v
    return encoding.encode(base)


@pytest.mark.parametrize(
    ("data", "err", "match"),
    [
        (b"", CborError, "empty input"),
        (b"\xd2\x84\x41", CborError, "malformed or truncated"),
        (lambda: _statement().to_bytes()[:-3], CborError, "malformed or truncated"),
        (lambda: _statement().to_bytes() + b"\x00", CborError, "trailing bytes"),
        (lambda: encoding.encode(cbor2.CBORTag(98, [1])), CoseError, "wrong cose tag"),
        (lambda: encoding.encode([1, 2, 3, 4]), CoseError, "wrong cose tag"),
        (lambda: _cose(_parts()[0], {}, _parts()[1], b"x" * 10), CoseError, "64-byte"),
        (lambda: _cose(_parts()[0], {}, None, _parts()[2]), CoseError, "attached bstr"),
        (
            lambda: _cose(_hdr(l1=-7), {}, _parts()[1], _parts()[2]),
            CoseError,
            "unsupported algorithm",
        ),
        (
            lambda: _cose(_hdr(l3="application/json"), {}, _parts()[1], _parts()[2]),
            CoseError,
            "wrong content type",
        ),
        (lambda: _cose(_hdr(l4=b"short"), {}, _parts()[1], _parts()[2]), CoseError, "kid"),
        (
            lambda: _cose(_hdr(l15=None), {}, _parts()[1], _parts()[2]),
            CoseError,
            "protected header labels",
        ),
        (
            lambda: _cose(_hdr(), {99: 1}, _parts()[1], _parts()[2]),
            CoseError,
            "unexpected unprotected",
        ),
        (
            lambda: _cose(_parts()[0], {}, b"\x9f\xff", _parts()[2]),
            NonDeterministicCborError,
            "record",
        ),
        (
            lambda: _cose(b"\xbf\x01\x27\xff", {}, _parts()[1], _parts()[2]),
            NonDeterministicCborError,
            "protected header",
        ),
        (lambda: b"\x00" * (MAX_STATEMENT_BYTES + 1), OversizeError, "too large"),
    ],
    ids=[
        "empty",
        "truncated-header",
        "truncated",
        "trailing",
        "wrong-tag",
        "untagged",
        "short-signature",
        "detached-payload",
        "alg-es256",
        "content-type",
        "kid-length",
        "no-cwt-claims",
        "unknown-unprotected",
        "indefinite-payload",
        "indefinite-header",
        "oversize",
    ],
)
def test_malformed_statements(data: object, err: type[Exception], match: str) -> None:
    raw = data() if callable(data) else data
    assert isinstance(raw, bytes)
    with pytest.raises(err, match=match):
        Statement.from_bytes(raw)


def _with_record(value: dict[str, object]) -> bytes:
    p, _, s = _parts()
    return _cose(p, {}, encoding.encode(value), s)


def test_record_level_rejections() -> None:
    good = _record().to_value()
    unknown = dict(good, kind="score.secret")
    with pytest.raises(UnknownKindError, match=r"unknown kind 'score\.secret'"):
        Statement.from_bytes(_with_record(unknown))
    missing = dict(good, body={"scheme": "X"})
    with pytest.raises(RecordError, match="missing required field 'score'"):
        Statement.from_bytes(_with_record(missing))
    bad_uscc = dict(good, subject={"type": "org", "id": "91330100MA0YX0016Y"})
    with pytest.raises(IdentifierError, match="position 18"):
        Statement.from_bytes(_with_record(bad_uscc))
    raw_person = dict(good, subject={"type": "person", "id": "11010519491231002X"})
    with pytest.raises(RecordError, match="raw identity numbers are never accepted") as e:
        Statement.from_bytes(_with_record(raw_person))
    assert "11010519491231002X" not in str(e.value)


def test_sub_claim_must_match_record_subject() -> None:
    rec = _record().to_value()
    rec["subject"] = {"type": "org", "id": "91330200MA0YX00163"}
    with pytest.raises(CoseError, match="sub claim does not match"):
        Statement.from_bytes(_with_record(rec))


def test_record_rejects_floats() -> None:
    with pytest.raises(RecordError, match="wrong type"):
        _record(score=700.5)


def test_fast_paths_equal_the_generic_encoder() -> None:
    from credex.ledger.statement import _leaf_bytes, _protected_header

    for iss, sub, iat in [
        (ISSUER, "91330100MA0YX0016X", 0),
        ("x/" + "y" * 40, "s" * 30, 23),
        (ISSUER, "HK-CR:03645219", 2**40),
        (ISSUER, "a", 2**64 - 1),
    ]:
        hdr = {1: -8, 3: CONTENT_TYPE, 4: KEY.kid, 15: {1: iss, 2: sub, 6: iat}}
        assert _protected_header(KEY.kid, iss, sub, iat) == encoding.encode(hdr)
    for payload in [b"", b"x" * 23, b"x" * 24, b"x" * 255, b"x" * 256, b"x" * 70000]:
        assert sig_structure(b"\xa0", payload) == encoding.encode(
            ["Signature1", b"\xa0", b"", payload]
        )
        assert _leaf_bytes(b"\xa0", payload, b"s" * 64) == encoding.encode(
            cbor2.CBORTag(18, [b"\xa0", {}, payload, b"s" * 64])
        )


def test_record_from_bytes_keeps_the_exact_encoding() -> None:
    rec = _record()
    again = Record.from_bytes(rec.to_bytes())
    assert again == rec and again.to_bytes() == rec.to_bytes()
    value = rec.to_value()
    with pytest.raises(RecordError, match="valid_until, when present"):
        Record.from_bytes(encoding.encode(dict(value, valid_until=None)))
    with pytest.raises(RecordError, match="refs, when present, must not be empty"):
        Record.from_bytes(encoding.encode(dict(value, refs=[])))


def test_reserved_subject_key_id_only_for_document_kinds() -> None:
    doc_id = "hmac:00000000:" + "ab" * 32
    with pytest.raises(RecordError, match="reserved subject key id 00000000"):
        Record(
            "score.city",
            "cn-zj-hangzhou",
            Subject("person", doc_id),
            {"scheme": "s", "score": 1, "band": "b", "as_of": "2026-01-01"},
            0,
        )
    with pytest.raises(RecordError, match="reserved subject key id 00000000"):
        Record(
            "federation.manifest",
            "cn-zj-hangzhou",
            Subject("org", "91330100MA0YX0016X"),
            {"federation": "f", "version": 1, "hash": b"\x00" * 32},
            0,
        )
    rec = Record(
        "federation.manifest",
        "cn-zj-hangzhou",
        Subject("person", doc_id),
        {"federation": "f", "version": 1, "hash": b"\x00" * 32},
        0,
    )
    assert Record.from_bytes(rec.to_bytes()) == rec
