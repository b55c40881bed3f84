"""The tamper table, steps 7 and 8: the golden statements and new ones signed with the
golden test keys, logged in a fresh tree and cosigned, so status and derivation bundles
reach their step with everything before it valid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from credex.ledger.bundle import Bundle
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement

from .golden_edit import (
    GOLDEN,
    IAT,
    ISS,
    ISSUER,
    LOG,
    ORG,
    OTHER_ORG,
    Case,
    flip,
    issuer_trust,
    resigned_note,
)

# --- a fresh log under the golden keys, for the later steps --------------------------------
LIFECYCLE_KINDS = [
    "derived.score",
    "lifecycle.objection",
    "lifecycle.withdrawal",
    "penalty.admin",
    "policy.conversion",
    "score.city",
]
WIDE_TRUST = issuer_trust(kinds=LIFECYCLE_KINDS)


def _golden_statements() -> list[Statement]:
    return [
        Statement.from_bytes((GOLDEN / "statement-0.cbor").read_bytes()),
        Statement.from_bytes(
            (GOLDEN / "statement-1.cbor").read_bytes(), (GOLDEN / "preimage-1.cbor").read_bytes()
        ),
    ]


def _lifecycle(kind: str, ref: bytes, subject: str = ORG, **body: Any) -> Statement:
    defaults: dict[str, dict[str, Any]] = {
        "lifecycle.objection": {"raised_on": "2026-09-01"},
        "lifecycle.withdrawal": {"reason": "entered twice", "withdrawn_on": "2026-09-01"},
    }
    rec = Record(
        kind,
        "cn-zj-ningbo",
        Subject("org", subject),
        {**defaults[kind], **body},
        1_773_417_600,
        refs=(ref,),
    )
    return sign_statement(rec, ISS, ISSUER, IAT + 60)


class _Log:
    """The two golden statements and ``extra`` ones in one tree, cosigned."""

    def __init__(self, extra: list[Statement]) -> None:
        self.statements = [*_golden_statements(), *extra]
        tree = MerkleTree()
        for st in self.statements:
            tree.append_hash(st.leaf_hash)
        self.tree = tree
        self.note = resigned_note(tree.size, tree.root())

    def bundle(self, i: int) -> Bundle:
        st = self.statements[i]
        tree = self.tree
        receipt = build_receipt(LOG, tree.size, i, tree.inclusion_proof(i), tree.root())
        return Bundle(
            st.with_receipts([receipt.to_bytes()]).to_bytes(), self.note, preimage=st.preimage
        )


def later_step_cases() -> Iterator[Case]:
    g = _golden_statements()
    leaf0 = g[0].leaf_hash
    objection = _lifecycle("lifecycle.objection", leaf0)
    wrong_target = _lifecycle("lifecycle.objection", b"\x07" * 32)
    other_subject = _lifecycle("lifecycle.objection", leaf0, OTHER_ORG)
    withdrawal = _lifecycle("lifecycle.withdrawal", leaf0)
    penalty_ref = sign_statement(
        Record(
            "penalty.admin",
            "cn-zj-ningbo",
            Subject("org", ORG),
            dict(g[0].record.body),
            1_773_417_600,
            refs=(leaf0,),
        ),
        ISS,
        ISSUER,
        IAT + 60,
    )
    policy = sign_statement(
        Record(
            "policy.conversion",
            "cn-zj-ningbo",
            Subject("person", "hmac:00000000:" + "ab" * 32),
            {"name": "p", "version": 1, "rules": {}},
            IAT,
        ),
        ISS,
        ISSUER,
        IAT,
    )

    def derived(refs: tuple[bytes, ...]) -> Statement:
        rec = Record(
            "derived.score",
            "cn-zj-ningbo",
            Subject("org", ORG),
            {"scheme": "HANGZHOU_QIANJIANG", "level": "L4"},
            IAT,
            refs=refs,
        )
        return sign_statement(rec, ISS, ISSUER, IAT + 120)

    log = _Log(
        [
            objection,  # 2
            wrong_target,  # 3
            other_subject,  # 4
            withdrawal,  # 5
            penalty_ref,  # 6
            policy,  # 7
            derived((leaf0, b"\x09" * 32)),  # 8: refs do not match the bundle
            derived((leaf0, policy.leaf_hash)),  # 9: refs match; policy rules are empty
        ]
    )
    main = log.bundle(0)

    def with_status(*subs: int) -> bytes:
        return Bundle(
            main.statement, main.checkpoint, tuple(log.bundle(i) for i in subs)
        ).to_bytes()

    yield Case("resigned-plain-record", main.to_bytes(), None, WIDE_TRUST)
    yield Case("status-objection", with_status(2), None, WIDE_TRUST)
    yield Case("lifecycle-statement-on-its-own", log.bundle(2).to_bytes(), 7, WIDE_TRUST)
    yield Case("status-objection-kind-not-trusted", with_status(2), 7)
    yield Case("status-wrong-target", with_status(3), 7, WIDE_TRUST)
    yield Case("status-other-subject", with_status(4), 7, WIDE_TRUST)
    yield Case("status-not-a-lifecycle-kind", with_status(6), 7, WIDE_TRUST)
    yield Case("status-golden-envelope-has-no-refs", with_status(1), 7, WIDE_TRUST)
    no_body = Bundle(log.bundle(1).statement, log.note)
    yield Case(
        "status-envelope-without-body",
        Bundle(main.statement, main.checkpoint, (no_body,)).to_bytes(),
        7,
        WIDE_TRUST,
    )
    yield Case(
        "status-bad-signature",
        Bundle(
            main.statement,
            main.checkpoint,
            (Bundle(flip(log.bundle(2).statement, 40), log.note),),
        ).to_bytes(),
        7,
        WIDE_TRUST,
    )
    # the withdrawal's effect needs the lifecycle engine: Python fails step 7, the browser
    # reports the statement and says the status is not evaluated (the test checks both)
    yield Case("status-withdrawal", with_status(5), 7, WIDE_TRUST)
    src, pol = log.bundle(0), log.bundle(7)
    yield Case(
        "sources-on-a-plain-record",
        Bundle(main.statement, main.checkpoint, sources=(src,)).to_bytes(),
        8,
        WIDE_TRUST,
    )
    d8, d9 = log.bundle(8), log.bundle(9)
    yield Case("derived-without-sources", d9.to_bytes(), 8, WIDE_TRUST)
    yield Case(
        "derived-wrong-refs",
        Bundle(d8.statement, d8.checkpoint, sources=(src,), policy=pol).to_bytes(),
        8,
        WIDE_TRUST,
    )
    yield Case(
        "derived-policy-not-a-policy",
        Bundle(d9.statement, d9.checkpoint, sources=(src,), policy=log.bundle(6)).to_bytes(),
        8,
        WIDE_TRUST,
    )
    yield Case(
        "derived-source-bad-signature",
        Bundle(
            d9.statement,
            d9.checkpoint,
            sources=(Bundle(flip(src.statement, 40), src.checkpoint),),
            policy=pol,
        ).to_bytes(),
        8,
        WIDE_TRUST,
    )
    # refs match, so the JavaScript verifier passes step 8 saying the replay is not done;
    # Python replays and refuses the empty rules (the test checks both)
    yield Case(
        "derived-replay-needed",
        Bundle(d9.statement, d9.checkpoint, sources=(src,), policy=pol).to_bytes(),
        8,
        WIDE_TRUST,
    )


#: cases where the browser stops short of a Python check by design (docs/spec.md §3):
#: Python fails at the step given, the browser passes it and reports what it did not do
NOT_EVALUATED_IN_BROWSER = frozenset({"status-withdrawal", "derived-replay-needed"})
