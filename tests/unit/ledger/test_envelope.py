"""Hash envelopes (RFC 9995) for personal records: which records, the exact headers,
parsing with and without the body, pycose as an oracle, and bundle verification."""

from __future__ import annotations

import hashlib

import cbor2
import pytest
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from credex.ledger import encoding, envelope
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, sign_checkpoint
from credex.ledger.errors import (
    BodyNotHeldError,
    CoseError,
    FormatError,
    PreimageMismatchError,
    RecordError,
    SignatureError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.lifecycle import STATUS_KINDS
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import build_receipt
from credex.ledger.record import SUBJECTLESS_KINDS, Record, Subject
from credex.ledger.statement import (
    Statement,
    sig_structure,
    sign_leaf,
    sign_statement,
    verify_statement_signature,
)
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustStore
from credex.ledger.verify import run_verification

ISSUER = SigningKey(b"\x07" * 32)
LOG = SigningKey(b"\x08" * 32)
ISS = "cn-zj-ningbo/platform"
ORIGIN = "credex.ningbo.example/log"
IAT = 1_790_000_000
PERSON = Subject("person", "hmac:0badc0de:" + "cd" * 32)
ORG = Subject("org", "91330200MA0YX00163")


def _score(subject: Subject = PERSON, score: int = 712) -> Record:
    body = {"scheme": "NINGBO_TIANYI", "score": score, "band": "t4", "as_of": "2026-11-01"}
    return Record("score.city", "cn-zj-ningbo", subject, body, IAT - 100, IAT + 10_000)


def _repair(target: bytes, subject: Subject = PERSON) -> Record:
    body = {"route": "终止公示", "decided_on": "2026-11-02"}
    return Record("lifecycle.repair", "cn-zj-ningbo", subject, body, IAT, refs=(target,))


def _trust(kinds: tuple[str, ...] = ("score.city", "lifecycle.repair")) -> TrustStore:
    issuer = TrustedIssuer(ISS, "cn-zj-ningbo", ISSUER.public_key, 0, None, frozenset(kinds))
    return TrustStore((TrustedLog(ORIGIN, ORIGIN, LOG.public_key),), (issuer,))


def _bundle(st: Statement, preimage: bytes | None) -> bytes:
    tree = MerkleTree()
    tree.append_hash(hashlib.sha256(b"filler").digest())
    tree.append_hash(st.leaf_hash)
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), ORIGIN, LOG)
    r = build_receipt(LOG, tree.size, 1, tree.inclusion_proof(1), tree.root())
    return Bundle(
        st.with_receipts([r.to_bytes()]).to_bytes(), note.to_text(), preimage=preimage
    ).to_bytes()


# --- which records ------------------------------------------------------------------


def test_on_log_kinds_are_status_and_subjectless_kinds() -> None:
    expected = frozenset((*STATUS_KINDS, *SUBJECTLESS_KINDS, "audit.lookup"))
    assert expected == envelope.ON_LOG_KINDS


@pytest.mark.parametrize(
    ("record", "wrapped"),
    [
        (_score(PERSON), True),
        (_score(ORG), False),
        (_repair(b"\x11" * 32, PERSON), False),
    ],
    ids=["person-score", "org-score", "person-repair"],
)
def test_should_envelope(record: Record, wrapped: bool) -> None:
    assert envelope.should_envelope(record) is wrapped
    assert sign_statement(record, ISS, ISSUER, IAT).is_envelope is wrapped


def test_policy_records_stay_on_log() -> None:
    from credex.ledger.policy import build_policy_record

    bands = [{"name": "t1", "level": "L1", "lo": 0, "hi": 1000}]
    rules = {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI",
        "table": {"t1": "L1"},
        "schemes": {"NINGBO_TIANYI": {"bands": bands}},
    }
    rec = build_policy_record("tianyi", 1, rules, "cn-zj-ningbo", IAT)
    assert rec.subject.type == "person"  # the reserved subject key id 00000000
    assert not envelope.should_envelope(rec)


# --- the envelope's bytes -----------------------------------------------------------------


def test_envelope_headers_and_payload() -> None:
    rec = _score()
    st = sign_statement(rec, ISS, ISSUER, IAT)
    hdr = encoding.decode(st.protected)
    assert hdr == {
        1: -8,
        4: ISSUER.kid,
        15: {1: ISS, 2: PERSON.id, 6: IAT},
        258: -16,
        259: "application/vnd.credex.record+cbor;kind=score.city",
    }
    assert 3 not in hdr  # RFC 9995: no content_type with a hash envelope
    assert st.payload == hashlib.sha256(rec.to_bytes()).digest()
    assert st.preimage == rec.to_bytes() and st.kind == "score.city"
    assert b"NINGBO_TIANYI" not in st.leaf and b"as_of" not in st.leaf
    assert sign_leaf(rec, ISS, ISSUER, IAT) == st.leaf
    # the signature is over the ordinary Sig_structure of the digest payload
    verify_statement_signature(st, ISSUER.public_key)
    with pytest.raises(SignatureError):
        verify_statement_signature(st, SigningKey(b"\x09" * 32).public_key)


def test_pycose_verifies_an_envelope() -> None:
    rec = _score()
    st = sign_statement(rec, ISS, ISSUER, IAT)
    msg = Sign1Message.decode(st.leaf)
    msg.key = OKPKey(crv=Ed25519, x=ISSUER.public_key)
    assert msg.verify_signature()
    assert msg.payload == hashlib.sha256(rec.to_bytes()).digest()
    assert cbor2.loads(st.protected)[258] == -16


def test_parse_without_and_with_body() -> None:
    rec = _score()
    st = Statement.from_bytes(sign_statement(rec, ISS, ISSUER, IAT).leaf)
    assert st.is_envelope and st.kind == "score.city" and not st.has_body
    assert st.preimage is None
    with pytest.raises(BodyNotHeldError, match="kept off-log by cn-zj-ningbo/platform"):
        _ = st.record
    full = st.with_preimage(rec.to_bytes())
    assert full.record == rec and full.leaf == st.leaf and full.preimage == rec.to_bytes()
    assert full.with_receipts([b"r"]).record == rec


def test_preimage_mismatch_is_named() -> None:
    st = Statement.from_bytes(sign_statement(_score(), ISS, ISSUER, IAT).leaf)
    with pytest.raises(PreimageMismatchError, match="does not match the signed hash"):
        st.with_preimage(_score(score=713).to_bytes())


def test_body_of_another_subject_is_refused() -> None:
    other = Subject("person", "hmac:0badc0de:" + "ef" * 32)
    rec = _score(other)
    # an envelope whose payload is the hash of a record about another person
    st = sign_statement(_score(), ISS, ISSUER, IAT)
    forged = Statement.from_bytes(
        _signed(encoding.decode(st.protected), hashlib.sha256(rec.to_bytes()).digest())
    )
    with pytest.raises(CoseError, match="sub claim"):
        forged.with_preimage(rec.to_bytes())


def test_ordinary_statement_takes_no_preimage() -> None:
    st = sign_statement(_score(ORG), ISS, ISSUER, IAT)
    assert not st.is_envelope and st.preimage is None and st.has_body
    with pytest.raises(FormatError, match="only for a hash envelope"):
        st.with_preimage(b"\xa0")


def _signed(hdr: dict[int, object], payload: bytes) -> bytes:
    protected = encoding.encode(hdr)
    sig = ISSUER.sign(sig_structure(protected, payload))
    return encoding.encode(cbor2.CBORTag(18, [protected, {}, payload, sig]))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({258: -43}, "payload hash algorithm"),
        ({259: "application/vnd.credex.record+cbor;kind=nope"}, "unknown record kind"),
        ({259: "application/json"}, "preimage content type"),
        ({259: "application/vnd.credex.record+cbor;kind=lifecycle.repair"}, "never enveloped"),
        ({3: "application/vnd.credex.record+cbor"}, "protected header labels"),
    ],
    ids=["sha-384", "unknown-kind", "foreign-type", "status-kind", "with-label-3"],
)
def test_bad_envelope_headers(change: dict[int, object], match: str) -> None:
    st = sign_statement(_score(), ISS, ISSUER, IAT)
    hdr = {**encoding.decode(st.protected), **change}
    with pytest.raises(CoseError, match=match):
        Statement.from_bytes(_signed(hdr, st.payload))


def test_envelope_payload_must_be_a_digest() -> None:
    st = sign_statement(_score(), ISS, ISSUER, IAT)
    with pytest.raises(CoseError, match="32-byte"):
        Statement.from_bytes(_signed(encoding.decode(st.protected), st.payload[:31]))


# --- bundles and verification -----------------------------------------------------------------


def test_bundle_preimage_is_optional_and_strict() -> None:
    plain = Bundle(b"st", "cp")
    assert "preimage" not in encoding.decode(plain.to_bytes())
    withp = Bundle(b"st", "cp", preimage=b"body")
    assert Bundle.from_bytes(withp.to_bytes()) == withp
    for bad in (b"", "text"):
        value = {"v": 1, "statement": b"st", "checkpoint": "cp", "preimage": bad}
        with pytest.raises(FormatError, match="preimage"):
            Bundle.from_bytes(encoding.encode(value))


def test_verify_with_body_passes_every_step() -> None:
    rec = _score()
    st = sign_statement(rec, ISS, ISSUER, IAT)
    report = run_verification(_bundle(st, rec.to_bytes()), _trust())
    assert report.ok, report.steps
    assert [s.number for s in report.steps] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert report.kind == "score.city" and report.subject == PERSON.id
    assert "hash envelope, body attached" in report.steps[0].detail


def test_verify_without_body_fails_at_step_7_after_the_proofs() -> None:
    st = sign_statement(_score(), ISS, ISSUER, IAT)
    report = run_verification(_bundle(st, None), _trust())
    assert report.failed_step == 7 and isinstance(report.error, BodyNotHeldError)
    assert [s.ok for s in report.steps] == [True] * 6 + [False]
    assert "not in this bundle: it is kept off-log by cn-zj-ningbo/platform" in str(report.error)
    assert report.kind == "score.city" and report.subject == PERSON.id


def test_verify_with_wrong_body_fails_at_step_1() -> None:
    st = sign_statement(_score(), ISS, ISSUER, IAT)
    report = run_verification(_bundle(st, _score(score=1).to_bytes()), _trust())
    assert report.failed_step == 1 and isinstance(report.error, PreimageMismatchError)


def test_verify_envelope_kind_authorisation_without_body() -> None:
    st = sign_statement(_score(), ISS, ISSUER, IAT)
    report = run_verification(_bundle(st, None), _trust(kinds=("lifecycle.repair",)))
    assert report.failed_step == 2 and "not authorised for kind 'score.city'" in str(report.error)


def test_verify_preimage_given_for_an_ordinary_statement_fails_step_1() -> None:
    st = sign_statement(_score(ORG), ISS, ISSUER, IAT)
    report = run_verification(_bundle(st, b"\xa0"), _trust())
    assert report.failed_step == 1 and "only for a hash envelope" in str(report.error)


def test_golden_envelope_vector() -> None:
    """statement-1 of the golden vectors is a person's score: an envelope whose payload
    is SHA-256 of preimage-1.cbor, verified by pycose; bundle-1 carries that body."""
    import json
    from pathlib import Path

    golden = Path(__file__).resolve().parents[2] / "vectors" / "golden"
    index = json.loads((golden / "index.json").read_text())
    assert index["hash_envelopes"] == [1]
    leaf, body = (
        (golden / "statement-1.cbor").read_bytes(),
        (golden / "preimage-1.cbor").read_bytes(),
    )
    msg = Sign1Message.decode(leaf)
    msg.key = OKPKey(crv=Ed25519, x=bytes.fromhex(index["issuer_public_key"]))
    assert msg.verify_signature() and msg.payload == hashlib.sha256(body).digest()
    st = Statement.from_bytes(leaf, body)
    assert st.kind == "score.city" and st.record.subject.type == "person"
    assert Bundle.from_bytes((golden / "bundle-1.credex").read_bytes()).preimage == body
    assert Bundle.from_bytes((golden / "bundle-0.credex").read_bytes()).preimage is None


# --- salt ----------------------------------------------------------------------------


def test_salt_hides_a_guessable_body() -> None:
    """Without a salt, the logged hash of a score is found by hashing the ~1000 possible
    scores; with the node's keyed salt it is not, and the salt is deterministic."""
    secret = b"\x11" * 32
    plain = _score(score=712)
    salted = envelope.salted(plain, secret)
    assert salted.salt is not None and len(salted.salt) == 16
    assert envelope.salted(plain, secret) == salted  # same record, same salt: imports dedupe
    assert envelope.salted(plain, b"\x12" * 32).salt != salted.salt
    assert envelope.salted(salted, b"\x12" * 32) is salted  # already salted: unchanged
    st = sign_statement(salted, ISS, ISSUER, IAT)
    guesses = {envelope.payload_hash(_score(score=v).to_bytes()) for v in range(1001)}
    assert envelope.payload_hash(plain.to_bytes()) in guesses  # the attack works unsalted
    assert st.payload not in guesses  # and fails salted
    back = Statement.from_bytes(st.leaf, salted.to_bytes())
    assert back.record == salted and back.record.body["score"] == 712
    assert Record.from_bytes(salted.to_bytes()).salt == salted.salt


def test_salt_only_on_enveloped_records_and_16_bytes() -> None:
    assert envelope.salted(_score(ORG), b"\x11" * 32).salt is None  # org: on the log
    body = {"scheme": "S", "score": 1, "band": "b", "as_of": "2026-11-01"}
    with pytest.raises(RecordError, match="only a person's record carries a salt"):
        Record("score.city", "cn-zj-ningbo", ORG, body, IAT, salt=b"\x00" * 16)
    with pytest.raises(RecordError, match="salt must be 16 bytes"):
        Record("score.city", "cn-zj-ningbo", PERSON, body, IAT, salt=b"\x00" * 15)
