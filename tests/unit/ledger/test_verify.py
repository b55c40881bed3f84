"""Bundle verification: every step passes on a good bundle, and each kind of tampering or
policy violation fails at its named step with a specific error."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

import pytest

from credex.ledger.attestation import sign_attestation
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import (
    SignedNote,
    cosign_checkpoint,
    sign_checkpoint,
)
from credex.ledger.dates import cst_second
from credex.ledger.errors import (
    CborError,
    CheckpointError,
    InclusionProofError,
    KeyValidityError,
    KindNotAuthorisedError,
    SignatureError,
    UntrustedKeyError,
    VerificationError,
    WrongLogError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import Receipt, build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustedWitness, TrustStore
from credex.ledger.verify import Verifier, run_verification, verify_bundle

from .index_support import indexed_checkpoint, status_proof

LOG = SigningKey(b"\x01" * 32)
OTHER_LOG = SigningKey(b"\x02" * 32)
ISSUER = SigningKey(b"\x03" * 32)
ROGUE = SigningKey(b"\x04" * 32)
WITNESS = SigningKey(b"\x05" * 32)
ORIGIN = "credex.hangzhou.example/log"
ISS = "cn-zj-hangzhou/platform"
IAT = 1_790_000_000


def _trust(**kw: object) -> TrustStore:
    issuer = TrustedIssuer(
        ISS,
        "cn-zj-hangzhou",
        ISSUER.public_key,
        kw.pop("valid_from", 0),
        kw.pop("valid_until", None),  # type: ignore[arg-type]
        frozenset(kw.pop("kinds", ["score.city", "lifecycle.repair"])),
    )  # type: ignore[arg-type]
    return TrustStore((TrustedLog(ORIGIN, ORIGIN, LOG.public_key),), (issuer,), **kw)  # type: ignore[arg-type]


def _record(kind: str = "score.city", refs: tuple[bytes, ...] = ()) -> Record:
    body: dict[str, object] = {
        "scheme": "HANGZHOU_QIANJIANG",
        "score": 700,
        "band": "优秀",
        "as_of": "2026-11-01",
    }
    if kind == "lifecycle.repair":
        body = {"route": "终止公示", "decided_on": "2026-11-02"}
    return Record(
        kind, "cn-zj-hangzhou", Subject("org", "91330100MA0YX0016X"), body, IAT, refs=refs
    )


def _log_bundles(
    statements: list[Statement],
    *,
    log: SigningKey = LOG,
    origin: str = ORIGIN,
    index: int = 2,
) -> tuple[list[Bundle], SignedNote]:
    tree = MerkleTree()
    tree.append_hash(hashlib.sha256(b"filler-0").digest())
    tree.append_hash(hashlib.sha256(b"filler-1").digest())
    for st in statements:
        tree.append_hash(st.leaf_hash)
    tree.append_hash(hashlib.sha256(b"filler-2").digest())
    body = indexed_checkpoint(
        origin, tree.size, tree.root(), {index + i: st for i, st in enumerate(statements)}
    )
    note = sign_checkpoint(body, origin, log)
    out = []
    for i, st in enumerate(statements):
        idx = index + i
        r = build_receipt(log, tree.size, idx, tree.inclusion_proof(idx), tree.root())
        out.append(
            Bundle(
                st.with_receipts([r.to_bytes()]).to_bytes(), note.to_text(), preimage=st.preimage
            )
        )
    return out, note


def _good(key: SigningKey = ISSUER, kind: str = "score.city") -> bytes:
    st = sign_statement(_record(kind), ISS, key, IAT)
    return _log_bundles([st])[0][0].to_bytes()


def test_good_bundle_passes_every_step() -> None:
    report = verify_bundle(_good(), _trust())
    assert report.ok and [s.number for s in report.steps] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(s.ok for s in report.steps)
    assert report.kind == "score.city" and report.leaf_index == 2 and report.tree_size == 4
    assert report.to_json_value()["verdict"] == "valid"


def _flip_in(data: bytes, needle: bytes, offset: int = 0) -> bytes:
    pos = data.index(needle) + offset
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _bundle_parts(data: bytes) -> tuple[Statement, Receipt, str]:
    b = Bundle.from_bytes(data)
    st = Statement.from_bytes(b.statement)
    return st, Receipt.from_bytes(st.receipts[0]), b.checkpoint


def _rebundle(st: Statement, receipt: bytes, checkpoint: str) -> bytes:
    return Bundle(st.with_receipts([receipt]).to_bytes(), checkpoint).to_bytes()


def _case_payload_byte(data: bytes) -> bytes:
    _st, _, _ = _bundle_parts(data)
    return _flip_in(data, b"2026-11-01", 9)  # the as_of digit, still valid CBOR


def _case_signature_byte(data: bytes) -> bytes:
    st, _, _ = _bundle_parts(data)
    return _flip_in(data, st.signature, 5)


def _case_proof_byte(data: bytes) -> bytes:
    _, r, _ = _bundle_parts(data)
    return _flip_in(data, r.path[0], 3)


def _case_receipt_signature(data: bytes) -> bytes:
    _, r, _ = _bundle_parts(data)
    return _flip_in(data, r.signature, 7)


def _case_checkpoint_root(data: bytes) -> bytes:
    st, _r, cp = _bundle_parts(data)
    note = SignedNote.from_text(cp)
    lines = note.body.split("\n")
    root = bytearray(base64.b64decode(lines[2]))
    root[5] ^= 1
    lines[2] = base64.b64encode(bytes(root)).decode()
    return _rebundle(st, st.receipts[0], SignedNote("\n".join(lines), note.signatures).to_text())


def _case_checkpoint_signature(data: bytes) -> bytes:
    st, _r, cp = _bundle_parts(data)
    note = SignedNote.from_text(cp)
    sig = note.signatures[0]
    bad = type(sig)(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    return _rebundle(st, st.receipts[0], SignedNote(note.body, (bad,)).to_text())


def _case_receipt_other_root(data: bytes) -> bytes:
    """A receipt validly signed by the log, but for a different tree than the checkpoint."""
    st, _r, cp = _bundle_parts(data)
    tree = MerkleTree()
    for i in range(2):
        tree.append_hash(hashlib.sha256(b"filler-%d" % i).digest())
    tree.append_hash(st.leaf_hash)
    tree.append_hash(hashlib.sha256(b"other").digest())
    other = build_receipt(LOG, 4, 2, tree.inclusion_proof(2), tree.root())
    return _rebundle(st, other.to_bytes(), cp)


def _case_truncated(data: bytes) -> bytes:
    return data[:-7]


TAMPER = [
    ("payload-byte", _case_payload_byte, 3, SignatureError, "statement: signature"),
    ("signature-byte", _case_signature_byte, 3, SignatureError, "statement: signature"),
    ("proof-byte", _case_proof_byte, 5, SignatureError, "receipt: signature"),
    ("receipt-signature", _case_receipt_signature, 5, SignatureError, "receipt: signature"),
    ("checkpoint-root", _case_checkpoint_root, 6, SignatureError, "checkpoint: signature"),
    ("checkpoint-signature", _case_checkpoint_signature, 6, SignatureError, "checkpoint"),
    (
        "receipt-root-differs",
        _case_receipt_other_root,
        6,
        CheckpointError,
        "root differs from the receipt",
    ),
    ("truncated", _case_truncated, 1, CborError, "truncated"),
]


@pytest.mark.parametrize(
    ("fn", "step", "err", "match"), [t[1:] for t in TAMPER], ids=[t[0] for t in TAMPER]
)
def test_tampering_fails_at_its_step(fn, step, err, match) -> None:  # type: ignore[no-untyped-def]
    bad = fn(_good())
    report = run_verification(bad, _trust())
    assert not report.ok
    assert report.failed_step == step, report.steps
    assert isinstance(report.error, err)
    assert match in str(report.error)
    assert all(s.ok for s in report.steps[:-1]) and not report.steps[-1].ok
    with pytest.raises(err, match=match) as e:
        verify_bundle(bad, _trust())
    assert e.value.step == step


def test_unknown_issuer_key() -> None:
    report = run_verification(_good(ROGUE), _trust())
    assert report.failed_step == 2 and isinstance(report.error, UntrustedKeyError)
    assert "not in the trust material" in str(report.error)


def test_key_outside_validity_window() -> None:
    report = run_verification(_good(), _trust(valid_from=IAT + 1))
    assert report.failed_step == 2 and isinstance(report.error, KeyValidityError)
    assert f"iat {cst_second(IAT)} not in [{cst_second(IAT + 1)}, ∞)" in str(report.error)
    report = run_verification(_good(), _trust(valid_until=IAT))
    assert isinstance(report.error, KeyValidityError)


def test_kind_not_authorised() -> None:
    report = run_verification(_good(), _trust(kinds=["penalty.admin"]))
    assert report.failed_step == 2 and isinstance(report.error, KindNotAuthorisedError)
    assert "not authorised for kind 'score.city'" in str(report.error)


def test_bundle_for_a_different_log() -> None:
    st = sign_statement(_record(), ISS, ISSUER, IAT)
    data = _log_bundles([st], log=OTHER_LOG, origin="credex.xiamen.example/log")[0][0].to_bytes()
    report = run_verification(data, _trust())
    assert report.failed_step == 4 and isinstance(report.error, WrongLogError)
    assert "not a trusted log" in str(report.error)


def test_checkpoint_of_another_origin_signed_by_the_same_key() -> None:
    st = sign_statement(_record(), ISS, ISSUER, IAT)
    data = _log_bundles([st], origin="credex.other.example/log")[0][0].to_bytes()
    report = run_verification(data, _trust())
    assert report.failed_step == 6 and isinstance(report.error, WrongLogError)


def test_witness_quorum() -> None:
    data = _good()
    trust = _trust(witnesses=(TrustedWitness("w.example", WITNESS.public_key),), quorum=1)
    report = run_verification(data, trust)
    assert report.failed_step == 6 and "quorum not met: expected 1, got 0" in str(report.error)
    st, _, cp = _bundle_parts(data)
    note = SignedNote.from_text(cp)
    cosigned = note.with_signature(cosign_checkpoint(note, "w.example", WITNESS, IAT))
    assert verify_bundle(_rebundle(st, st.receipts[0], cosigned.to_text()), trust).ok


def test_repaired_record_fails_status() -> None:
    st = sign_statement(_record(), ISS, ISSUER, IAT)
    repair = sign_statement(_record("lifecycle.repair", refs=(st.leaf_hash,)), ISS, ISSUER, IAT)
    (main, rep), _ = _log_bundles([st, repair])
    data = Bundle(main.statement, main.checkpoint, status=(rep,)).to_bytes()
    report = run_verification(data, _trust())
    assert report.failed_step == 7 and isinstance(report.error, VerificationError)
    assert "the record is repaired" in str(report.error)


def test_status_statement_must_reference_record() -> None:
    st = sign_statement(_record(), ISS, ISSUER, IAT)
    unrelated = sign_statement(_record("lifecycle.repair", refs=(b"\x00" * 32,)), ISS, ISSUER, IAT)
    (main, rep), _ = _log_bundles([st, unrelated])
    report = run_verification(
        Bundle(main.statement, main.checkpoint, status=(rep,)).to_bytes(), _trust()
    )
    assert report.failed_step == 7 and "does not reference this record" in str(report.error)


def test_verifier_cache_does_not_hide_failures() -> None:
    v = Verifier(_trust())
    good = _good()
    assert v.run(good).ok
    assert v.run(_case_receipt_signature(good)).failed_step == 5
    assert v.run(_case_checkpoint_signature(good)).failed_step == 6
    assert v.run(good).ok


def test_inclusion_index_out_of_range() -> None:
    st, r, cp = _bundle_parts(_good())
    forged = Receipt(r.protected, r.log_kid, r.tree_size, r.leaf_index, r.path[:-1], r.signature)
    report = run_verification(_rebundle(st, forged.to_bytes(), cp), _trust())
    assert report.failed_step == 4 and isinstance(report.error, InclusionProofError)


def _attested(b: Bundle, *status: Bundle, log: SigningKey = LOG, by: int = IAT) -> Bundle:
    """``b`` carrying ``status`` and the log's attestation that they are all there are."""
    st, receipt, text = _bundle_parts(b.to_bytes())
    cp = SignedNote.from_text(text).checkpoint
    att = sign_attestation(
        log,
        origin=cp.origin,
        size=cp.size,
        root=cp.root,
        leaf=st.leaf_hash,
        index=receipt.leaf_index,
        status=[Statement.from_bytes(s.statement).leaf_hash for s in status],
        logged_after=0,
        logged_by=by,
    )
    proof = status_proof(text, st.leaf_hash)
    return dataclasses.replace(b, status=status, attestation=att, status_proof=proof)


def test_purpose_refuses_a_record_under_objection() -> None:
    from credex.ledger.errors import PolicyError

    st = sign_statement(_record(), ISS, ISSUER, IAT)
    objection = Record(
        "lifecycle.objection",
        "cn-zj-hangzhou",
        Subject("org", "91330100MA0YX0016X"),
        {"raised_on": "2026-11-02"},
        IAT,
        refs=(st.leaf_hash,),
    )
    obj = sign_statement(objection, ISS, ISSUER, IAT + 10)
    (main, sub), _ = _log_bundles([st, obj])
    data = _attested(main, sub).to_bytes()
    trust = _trust(kinds=["score.city", "lifecycle.objection"])
    plain = run_verification(data, trust)
    assert plain.ok and plain.status == "under-objection"
    report = run_verification(data, trust, purpose="punitive")
    assert report.failed_step == 7 and isinstance(report.error, PolicyError)
    assert "not usable for punitive" in str(report.error)
    before = run_verification(data, trust, purpose="punitive", as_of=IAT + 5)
    assert before.ok and before.status == "active"  # the objection came later


def test_derived_record_replays_in_step_8() -> None:
    """A bundle carrying its source and policy verifies; a tampered derived value (validly
    signed by a trusted issuer) fails at step 8 naming the field, without its value."""
    from credex.ledger.derive import build_derived_record
    from credex.ledger.policy import build_policy_record

    bands = [
        {"name": f"t{i + 1}", "level": f"L{i + 1}", "lo": lo, "hi": hi}
        for i, (lo, hi) in enumerate(((0, 399), (400, 549), (550, 649), (650, 799), (800, 1000)))
    ]
    rules = {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI",
        "table": {f"t{i}": f"L{i}" for i in range(1, 6)},
        "schemes": {"NINGBO_TIANYI": {"bands": bands}},
    }
    person = Subject("person", "hmac:0badc0de:" + "ab" * 32)
    src = sign_statement(
        Record(
            "score.city",
            "cn-zj-hangzhou",
            person,
            {"scheme": "NINGBO_TIANYI", "score": 700, "band": "t4", "as_of": "2026-03-01"},
            IAT - 100,
            IAT + 10_000,
        ),
        ISS,
        ISSUER,
        IAT,
    )
    pol = sign_statement(
        build_policy_record("tianyi", 1, rules, "cn-zj-hangzhou", IAT), ISS, ISSUER, IAT
    )
    derived = build_derived_record(
        pol.record, pol.leaf_hash, [(src.record, src.leaf_hash)], "cn-zj-hangzhou", IAT
    )
    good = sign_statement(derived, ISS, ISSUER, IAT)
    forged = sign_statement(
        Record(
            derived.kind,
            derived.region,
            derived.subject,
            {**derived.body, "level": "L5"},
            derived.valid_from,
            derived.valid_until,
            derived.refs,
        ),
        ISS,
        ISSUER,
        IAT,
    )
    trust = _trust(kinds=["score.city", "policy.conversion", "derived.score"])
    (b_src, b_pol, b_good, b_forged), _ = _log_bundles([src, pol, good, forged])
    ok = Bundle(
        b_good.statement,
        b_good.checkpoint,
        sources=(b_src,),
        policy=b_pol,
        preimage=b_good.preimage,
    )
    report = run_verification(ok.to_bytes(), trust)
    assert report.ok, report.steps
    assert "conversion replays" in report.steps[-1].detail
    bad = Bundle(
        b_forged.statement,
        b_forged.checkpoint,
        sources=(b_src,),
        policy=b_pol,
        preimage=b_forged.preimage,
    )
    report = run_verification(bad.to_bytes(), trust)
    assert report.failed_step == 8 and "field 'level' does not replay" in str(report.error)
    assert "L5" not in str(report.error) and "L4" not in str(report.error)
    no_sources = Bundle(b_good.statement, b_good.checkpoint, preimage=b_good.preimage)
    bare = run_verification(no_sources.to_bytes(), trust)
    assert bare.failed_step == 8 and "must carry its sources" in str(bare.error)
