"""The tamper table, what the hardened verifiers added: the log's attestation (step 1 parse,
step 2 a trusted log's about this entry and the key valid when it was logged, step 7 the
status it lists), the record's region bound to its issuer (step 2), a person's record in
the clear (step 1), evaluations (step 8), and fields sent as null or true where the format
says absent-or-value or 1 (step 1). Signed with the golden test keys in a fresh tree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cbor2

from credex.ledger.attestation import ATTESTATION_CONTENT_TYPE, sign_attestation
from credex.ledger.bundle import Bundle
from credex.ledger.keys import SigningKey
from credex.ledger.record import Record, Subject
from credex.ledger.statement import CONTENT_TYPE, sig_structure, sign_statement

from .golden_edit import (
    IAT,
    ISS,
    ISSUER,
    LOG,
    ORG,
    Case,
    edit_record,
    enc,
    flip,
    golden_map,
    issuer_trust,
    parts_of,
    statement_bytes,
)
from .tamper_resigned import LIFECYCLE_KINDS, _golden_statements, _lifecycle, _Log

TRUST = issuer_trust(kinds=[*LIFECYCLE_KINDS, "derived.grade", "policy.rule"])


def _attestation(log: _Log, i: int, status: list[bytes], **change: Any) -> bytes:
    """The log's attestation about entry ``i``; ``change`` overrides payload fields (the
    result is then re-signed by hand, so any value can be written)."""
    fields: dict[str, Any] = {
        "origin": log.note.split("\n", 1)[0],
        "size": log.tree.size,
        "root": log.tree.root(),
        "leaf": log.statements[i].leaf_hash,
        "index": i,
        "status": status,
        "logged_after": 0,
        "logged_by": IAT,
    }
    if not change:
        return sign_attestation(LOG, **fields)
    payload = enc({"v": 1, **fields, **change})
    return _signed(LOG, payload)


def _signed(key: SigningKey, payload: bytes) -> bytes:
    protected = enc({1: -8, 3: ATTESTATION_CONTENT_TYPE, 4: key.kid})
    sig = key.sign(sig_structure(protected, payload))
    return enc(cbor2.CBORTag(18, [protected, {}, payload, sig]))


def _person_in_the_clear() -> bytes:
    """A person's score signed as an ordinary COSE_Sign1 (it must be a hash envelope)."""
    b0 = golden_map(0)
    rec = Record(
        "score.city",
        "cn-zj-ningbo",
        Subject("person", "hmac:0a0b0c0d:" + "ab" * 32),
        {"scheme": "NINGBO_TIANYI", "score": 700, "band": "A", "as_of": "2026-09-01"},
        IAT,
    )
    sub = rec.subject.id
    protected = enc({1: -8, 3: CONTENT_TYPE, 4: ISSUER.kid, 15: {1: ISS, 2: sub, 6: IAT}})
    payload = rec.to_bytes()
    sig = ISSUER.sign(sig_structure(protected, payload))
    receipts = parts_of(b0["statement"])[1]
    return enc({**b0, "statement": statement_bytes([protected, receipts, payload, sig])})


def attested_cases() -> Iterator[Case]:
    leaf0 = _golden_statements()[0].leaf_hash
    objection = _lifecycle("lifecycle.objection", leaf0)
    hangzhou = sign_statement(
        Record(
            "penalty.admin",
            "cn-zj-hangzhou",  # the golden issuer is Ningbo's
            Subject("org", ORG),
            dict(_golden_statements()[0].record.body),
            1_773_417_600,
        ),
        ISS,
        ISSUER,
        IAT,
    )
    rule = sign_statement(
        Record(
            "policy.conversion",  # an evaluation needs a policy.rule
            "cn-zj-ningbo",
            Subject("person", "hmac:00000000:" + "ab" * 32),
            {"name": "r", "version": 1, "rules": {}},
            IAT,
        ),
        ISS,
        ISSUER,
        IAT,
    )
    grade = sign_statement(
        Record(
            "derived.grade",
            "cn-zj-ningbo",
            Subject("org", ORG),
            {
                "rule": "r",
                "version": 1,
                "as_of": IAT,
                "provenance": "test",
                "facts": {},
                "because": "no evidence",
                "scheme": "S",
                "grade": "A",
            },
            IAT,
            refs=(rule.leaf_hash,),
        ),
        ISS,
        ISSUER,
        IAT,
    )
    log = _Log([objection, hangzhou, rule, grade])  # 2, 3, 4, 5
    main = log.bundle(0)
    status = (log.bundle(2),)

    def attested(att: bytes, subs: tuple[Bundle, ...] = ()) -> bytes:
        return Bundle(main.statement, main.checkpoint, subs, attestation=att).to_bytes()

    good = _attestation(log, 0, [objection.leaf_hash])
    yield Case("attested-status-objection", attested(good, status), None, TRUST)
    yield Case("attested-no-status", attested(_attestation(log, 0, [])), None, TRUST)
    # step 1: the attestation parses strictly
    yield Case("attestation-empty", enc({**main.to_value(), "attestation": b""}), 1, TRUST)
    yield Case("attestation-not-cose", attested(main.statement), 1, TRUST)
    yield Case("attestation-version-true", attested(_attestation(log, 0, [], v=True)), 1, TRUST)
    yield Case("attestation-index-past-size", attested(_attestation(log, 0, [], index=9)), 1, TRUST)
    yield Case("attestation-status-not-hashes", attested(_attestation(log, 0, [b"\x01"])), 1, TRUST)
    # step 2: a trusted log's, about this entry; the key valid when logged
    yield Case("attestation-payload-empty-map", attested(_signed(LOG, b"\xa0")), 1, TRUST)
    by_issuer = _signed(ISSUER, cbor2.loads(good).value[2])
    yield Case("attestation-signed-by-no-log", attested(by_issuer, status), 2, TRUST)
    yield Case("attestation-signature-flipped", attested(flip(good, len(good) - 3)), 2, TRUST)
    yield Case(
        "attestation-of-another-entry",
        attested(_attestation(log, 1, [objection.leaf_hash]), status),
        2,
        TRUST,
    )
    retired = issuer_trust(kinds=LIFECYCLE_KINDS, valid_until=IAT + 100)
    late = _attestation(log, 0, [], logged_after=IAT + 100 + 600)
    yield Case("attested-logged-after-key-retired", attested(late), 2, retired)
    yield Case(
        "attested-logged-within-tolerance",
        attested(_attestation(log, 0, [], logged_after=IAT + 100 + 599)),
        None,
        retired,
    )
    opened = issuer_trust(kinds=LIFECYCLE_KINDS, valid_from=IAT)
    early = _attestation(log, 0, [], logged_by=IAT - 601)
    yield Case("attested-logged-before-key-valid", attested(early), 2, opened)
    yield Case("region-not-the-issuers", log.bundle(3).to_bytes(), 2, TRUST)
    # step 7: the status the log lists is the status carried
    yield Case("attested-status-stripped", attested(good), 7, TRUST)
    yield Case("attested-status-unlisted", attested(_attestation(log, 0, []), status), 7, TRUST)
    # step 1: a person's record in the clear
    yield Case("person-record-in-the-clear", _person_in_the_clear(), 1, TRUST)
    # step 8: an evaluation rests on a policy.rule (it may have no evidence)
    g, r = log.bundle(5), log.bundle(4)
    yield Case(
        "evaluation-policy-not-a-rule",
        Bundle(g.statement, g.checkpoint, policy=r).to_bytes(),
        8,
        TRUST,
    )
    yield Case("evaluation-without-its-rule", g.to_bytes(), 8, TRUST)
    # step 1: null or true where the format says absent-or-value, or 1
    b0 = golden_map(0)
    yield Case("bundle-version-true", enc({**b0, "v": True}), 1)
    yield Case("bundle-policy-null", enc({**b0, "policy": None}), 1)
    yield Case("record-version-true", enc(edit_record(b0, lambda r: r.update(v=True))), 1)
    yield Case("record-salt-null", enc(edit_record(b0, lambda r: r.update(salt=None))), 1)
