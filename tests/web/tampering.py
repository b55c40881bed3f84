"""The tamper table: bundles made from the golden vectors, each changed in one way, with the
docs/spec.md step it must fail at (``None``: it must verify).

Both verifiers (``credex.ledger.verify`` and the JavaScript one in node/web/static/verify)
must reach the same verdict at the same step for every case (tests/web/test_js_verifier.py).
Most cases change bytes of ``tests/vectors/golden``; the re-signed ones use the golden test
keys (public on purpose, ``tests/vectors/generate.py``) to log new statements in a fresh tree,
so they reach the later steps (status, derivation) with everything before them valid.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2

from credex.ledger import encoding
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement

__all__ = ["GOLDEN", "Case", "cases"]

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
_spec = importlib.util.spec_from_file_location("golden_generate", GOLDEN.parent / "generate.py")
assert _spec is not None and _spec.loader is not None
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)

ISSUER = SigningKey(_gen.ISSUER_SEED)
LOG = SigningKey(_gen.LOG_SEED)
WITNESS = SigningKey(_gen.WITNESS_SEED)
ORIGIN: str = _gen.ORIGIN
ISS: str = _gen.ISS
IAT: int = _gen.IAT
WITNESS_NAME = "golden.witness.example"
TRUST_TEXT = (GOLDEN / "trust.json").read_text(encoding="utf-8")
#: Ed25519 group order: S + L is the same scalar, a non-canonical (malleated) signature
ED25519_L = 2**252 + 27742317777372353535851937790883648493


@dataclass(frozen=True)
class Case:
    name: str
    bundle: bytes
    step: int | None  # the step both verifiers must fail at; None: both must accept
    trust: str = TRUST_TEXT


def _golden(i: int) -> dict[str, Any]:
    value = cbor2.loads((GOLDEN / f"bundle-{i}.credex").read_bytes())
    assert isinstance(value, dict)
    return value


enc = encoding.encode


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


# --- statements and receipts as editable parts -------------------------------------------
def _parts(statement: bytes) -> list[Any]:
    tag = cbor2.loads(statement)
    assert isinstance(tag, cbor2.CBORTag) and tag.tag == 18
    return list(tag.value)


def _statement(parts: list[Any]) -> bytes:
    return enc(cbor2.CBORTag(18, parts))


def _edit_statement(b: dict[str, Any], fn: Callable[[list[Any]], None]) -> dict[str, Any]:
    out = copy.deepcopy(b)
    parts = _parts(out["statement"])
    fn(parts)
    out["statement"] = _statement(parts)
    return out


def _edit_protected(b: dict[str, Any], fn: Callable[[dict[Any, Any]], None]) -> dict[str, Any]:
    def edit(parts: list[Any]) -> None:
        hdr = cbor2.loads(parts[0])
        fn(hdr)
        parts[0] = enc(hdr)

    return _edit_statement(b, edit)


def _deep(value: Any) -> bytes:
    """Deterministic CBOR of a value nested deeper than ``encoding.encode`` allows (text keys
    only: cbor2's length-first order is then the RFC 8949 bytewise one)."""
    return cbor2.dumps(value, canonical=True)


def _edit_record(
    b: dict[str, Any], fn: Callable[[dict[str, Any]], Any], encoder: Callable[[Any], bytes] = enc
) -> dict[str, Any]:
    def edit(parts: list[Any]) -> None:
        rec = cbor2.loads(parts[2])
        fn(rec)
        parts[2] = encoder(rec)

    return _edit_statement(b, edit)


def _edit_receipt(b: dict[str, Any], fn: Callable[[list[Any], list[Any]], None]) -> dict[str, Any]:
    """fn(receipt parts, proof [size, index, path]) edits in place."""

    def edit(parts: list[Any]) -> None:
        receipt = _parts(parts[1][394][0])
        proof = cbor2.loads(receipt[1][396][-1][0])
        fn(receipt, proof)
        receipt[1] = {396: {-1: [enc(proof)]}}
        parts[1] = {394: [_statement(receipt)]}

    return _edit_statement(b, edit)


def _s_plus_l(sig: bytes) -> bytes:
    s = int.from_bytes(sig[32:], "little") + ED25519_L
    return sig[:32] + s.to_bytes(32, "little")


# --- checkpoints -------------------------------------------------------------------------
def _note_lines(b: dict[str, Any]) -> tuple[list[str], list[str]]:
    body, sigs = b["checkpoint"].split("\n\n")
    return body.split("\n"), sigs.rstrip("\n").split("\n")


def _with_note(b: dict[str, Any], body: list[str], sigs: list[str]) -> dict[str, Any]:
    return {**b, "checkpoint": "\n".join(body) + "\n\n" + "".join(s + "\n" for s in sigs)}


def _noncanonical_b64(text: str) -> str:
    """The same bytes in a base64 text whose unused bits are not zero."""
    pad = text.count("=")
    assert pad, "needs padding to have unused bits"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    i = len(text) - pad - 1
    v = alphabet.index(text[i]) | (1 if pad == 1 else 3)
    out = text[:i] + alphabet[v] + text[i + 1 :]
    assert base64.b64decode(out) == base64.b64decode(text) and out != text
    return out


def _resigned(size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    note = sign_checkpoint(Checkpoint(ORIGIN, size, root, extensions), ORIGIN, LOG)
    return note.with_signature(cosign_checkpoint(note, WITNESS_NAME, WITNESS, IAT)).to_text()


def _trust(fn: Callable[[dict[str, Any]], None]) -> str:
    doc = json.loads(TRUST_TEXT)
    fn(doc)
    return json.dumps(doc)


def _issuer(**changes: Any) -> str:
    return _trust(lambda d: d["issuers"][0].update(changes))


def _other_log_key(doc: dict[str, Any]) -> None:
    log = doc["logs"][0]
    log.update(public_key="11" * 32, kid=hashlib.sha256(b"\x11" * 32).hexdigest())
    del log["note_verifier_key"]


def _other_note_name(doc: dict[str, Any]) -> None:
    doc["logs"][0]["note_key_name"] = "other.example/log"
    del doc["logs"][0]["note_verifier_key"]


# --- raw CBOR ----------------------------------------------------------------------------
def _raw_map(pairs: list[tuple[bytes, bytes]], head: bytes | None = None) -> bytes:
    return (head if head is not None else bytes([0xA0 + len(pairs)])) + b"".join(
        k + v for k, v in pairs
    )


def _pairs(b: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The map's (key, value) encodings in deterministic order."""
    return sorted((enc(k), enc(v)) for k, v in b.items())


def _nested_list(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


# --- a fresh log under the golden keys, for the later steps --------------------------------
LIFECYCLE_KINDS = [
    "derived.score",
    "lifecycle.objection",
    "lifecycle.withdrawal",
    "penalty.admin",
    "policy.conversion",
    "score.city",
]
WIDE_TRUST = _issuer(kinds=LIFECYCLE_KINDS)
ORG = "91330200MA0YX00163"
OTHER_ORG = "91330100MA0YX0016X"


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
        self.note = _resigned(tree.size, tree.root())

    def bundle(self, i: int) -> Bundle:
        st = self.statements[i]
        tree = self.tree
        receipt = build_receipt(LOG, tree.size, i, tree.inclusion_proof(i), tree.root())
        return Bundle(
            st.with_receipts([receipt.to_bytes()]).to_bytes(), self.note, preimage=st.preimage
        )


def _later_step_cases() -> Iterator[Case]:
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
            (Bundle(_flip(log.bundle(2).statement, 40), log.note),),
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
            sources=(Bundle(_flip(src.statement, 40), src.checkpoint),),
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


def cases() -> list[Case]:
    """Every case of the table, in order."""
    return list(_cases())


def _cases() -> Iterator[Case]:
    b0, b1 = _golden(0), _golden(1)
    raw0 = enc(b0)
    yield Case("golden-bundle-0", raw0, None)
    yield Case("golden-bundle-1-envelope", enc(b1), None)

    # step 1: CBOR
    yield Case("cbor-empty", b"", 1)
    yield Case("cbor-truncated", raw0[:-1], 1)
    yield Case("cbor-trailing-byte", raw0 + b"\x00", 1)
    pairs = _pairs(b0)
    v_pair = next(p for p in pairs if p[0] == enc("v"))
    yield Case(
        "cbor-non-shortest-head",
        _raw_map([(v_pair[0], b"\x18\x01") if p is v_pair else p for p in pairs]),
        1,
    )
    yield Case("cbor-unsorted-keys", _raw_map(list(reversed(pairs))), 1)
    yield Case("cbor-duplicate-key", _raw_map([*pairs, v_pair]), 1)
    yield Case("cbor-indefinite-map", _raw_map(pairs, b"\xbf") + b"\xff", 1)
    yield Case(
        "cbor-float-version",
        _raw_map([(v_pair[0], b"\xf9\x3c\x00") if p is v_pair else p for p in pairs]),
        1,
    )
    yield Case(
        "cbor-tagged-statement", enc({**b0, "statement": cbor2.CBORTag(24, b0["statement"])}), 1
    )
    cp_pair = next(p for p in pairs if p[0] == enc("checkpoint"))
    bad_text = b"\x62\xff\xfe"  # a 2-byte text that is not UTF-8
    yield Case(
        "cbor-invalid-utf8",
        _raw_map([(cp_pair[0], bad_text) if p is cp_pair else p for p in pairs]),
        1,
    )
    yield Case("cbor-nesting-17-in-extra-key", _deep({**b0, "x": _nested_list(17)}), 1)
    yield Case(
        "record-nesting-at-limit",
        enc(_edit_record(b0, lambda r: r["body"].update(penalty_types=_nested_list(14)), _deep)),
        3,
    )
    yield Case(
        "record-nesting-over-limit",
        enc(_edit_record(b0, lambda r: r["body"].update(penalty_types=_nested_list(15)), _deep)),
        1,
    )
    yield Case(
        "record-float",
        enc(_edit_record(b0, lambda r: r["body"].update(penalty_types=[1.5]), _deep)),
        1,
    )

    # step 1: the bundle
    yield Case("bundle-not-a-map", enc([b0["statement"]]), 1)
    yield Case("bundle-version-2", enc({**b0, "v": 2}), 1)
    yield Case("bundle-extra-key", enc({**b0, "x": 1}), 1)
    yield Case(
        "bundle-checkpoint-as-bytes", enc({**b0, "checkpoint": b0["checkpoint"].encode()}), 1
    )
    yield Case("bundle-status-not-an-array", enc({**b0, "status": b0}), 1)
    nested: dict[str, Any] = dict(b0)
    for _ in range(5):
        nested = {**b0, "status": [nested]}
    yield Case("bundle-nested-5-levels", enc(nested), 1)
    yield Case("bundle-oversize", enc({**b0, "x": b"\x00" * (4 * 1024 * 1024)}), 1)

    # step 1: the statement and its record
    yield Case(
        "statement-wrong-tag",
        enc({**b0, "statement": enc(cbor2.CBORTag(17, _parts(b0["statement"])))}),
        1,
    )
    yield Case("statement-oversize", enc({**b0, "statement": b0["statement"] + b"\x00" * 65536}), 1)
    yield Case(
        "statement-signature-63-bytes",
        enc(_edit_statement(b0, lambda p: p.__setitem__(3, p[3][:63]))),
        1,
    )
    yield Case("statement-no-receipt", enc(_edit_statement(b0, lambda p: p.__setitem__(1, {}))), 1)
    yield Case(
        "statement-two-receipts",
        enc(_edit_statement(b0, lambda p: p[1][394].append(p[1][394][0]))),
        1,
    )
    yield Case(
        "statement-extra-unprotected-label",
        enc(_edit_statement(b0, lambda p: p[1].update({33: b"x"}))),
        1,
    )
    yield Case(
        "statement-extra-protected-label",
        enc(_edit_protected(b0, lambda h: h.update({5: b"x"}))),
        1,
    )
    yield Case(
        "statement-content-type-changed",
        enc(_edit_protected(b0, lambda h: h.update({3: "application/cbor"}))),
        1,
    )
    yield Case("statement-alg-es256", enc(_edit_protected(b0, lambda h: h.update({1: -7}))), 1)
    yield Case(
        "statement-kid-31-bytes", enc(_edit_protected(b0, lambda h: h.update({4: h[4][:31]}))), 1
    )
    yield Case(
        "statement-sub-not-the-record-subject",
        enc(_edit_protected(b0, lambda h: h[15].update({2: OTHER_ORG}))),
        1,
    )
    yield Case(
        "statement-iat-negative", enc(_edit_protected(b0, lambda h: h[15].update({6: -1}))), 1
    )
    yield Case("record-extra-key", enc(_edit_record(b0, lambda r: r.update(x=1))), 1)
    yield Case(
        "record-unknown-kind", enc(_edit_record(b0, lambda r: r.update(kind="penalty.unknown"))), 1
    )
    yield Case(
        "record-unknown-body-field", enc(_edit_record(b0, lambda r: r["body"].update(x="y"))), 1
    )
    yield Case(
        "record-uscc-check-character",
        enc(_edit_record(b0, lambda r: r["subject"].update(id=ORG[:-1] + "4"))),
        1,
    )
    yield Case(
        "record-uscc-lower-case",
        enc(_edit_record(b0, lambda r: r["subject"].update(id="91330200ma0yx00163"))),
        1,
    )
    yield Case(
        "record-region-upper-case", enc(_edit_record(b0, lambda r: r.update(region="CN-ZJ"))), 1
    )
    yield Case(
        "record-valid-until-before-from",
        enc(_edit_record(b0, lambda r: r.update(valid_until=1))),
        1,
    )
    yield Case("record-empty-refs", enc(_edit_record(b0, lambda r: r.update(refs=[]))), 1)
    yield Case(
        "record-salt-on-org", enc(_edit_record(b0, lambda r: r.update(salt=b"\x00" * 16))), 1
    )

    # step 1: hash envelopes (RFC 9995)
    yield Case("envelope-wrong-preimage", enc({**b1, "preimage": _flip(b1["preimage"], 20)}), 1)
    yield Case("envelope-empty-preimage", enc({**b1, "preimage": b""}), 1)
    yield Case("envelope-preimage-on-plain-statement", enc({**b0, "preimage": b1["preimage"]}), 1)
    yield Case(
        "envelope-hash-alg-sha384", enc(_edit_protected(b1, lambda h: h.update({258: -43}))), 1
    )
    yield Case(
        "envelope-kind-unknown",
        enc(
            _edit_protected(
                b1, lambda h: h.update({259: "application/vnd.credex.record+cbor;kind=x.y"})
            )
        ),
        1,
    )
    yield Case(
        "envelope-kind-never-enveloped",
        enc(
            _edit_protected(
                b1,
                lambda h: h.update(
                    {259: "application/vnd.credex.record+cbor;kind=lifecycle.repair"}
                ),
            )
        ),
        1,
    )
    swapped = _edit_protected(
        b1, lambda h: h.update({259: "application/vnd.credex.record+cbor;kind=penalty.admin"})
    )
    yield Case("envelope-kind-swapped-with-body", enc(swapped), 1)
    yield Case(
        "envelope-kind-swapped-without-body",
        enc({k: v for k, v in swapped.items() if k != "preimage"}),
        3,
    )
    yield Case(
        "envelope-payload-31-bytes",
        enc(
            _edit_statement(
                {k: v for k, v in b1.items() if k != "preimage"},
                lambda p: p.__setitem__(2, p[2][:31]),
            )
        ),
        1,
    )
    yield Case("envelope-without-body", enc({k: v for k, v in b1.items() if k != "preimage"}), 7)

    # step 2: issuer trust
    yield Case("issuer-untrusted", raw0, 2, _trust(lambda d: d.update(issuers=[])))
    yield Case("issuer-other-id", raw0, 2, _issuer(issuer_id="cn-zj-ningbo/other"))
    yield Case("issuer-key-not-yet-valid", raw0, 2, _issuer(valid_from=IAT + 1))
    yield Case("issuer-key-expired", raw0, 2, _issuer(valid_until=IAT))
    yield Case("issuer-key-valid-last-second", raw0, None, _issuer(valid_until=IAT + 1))
    yield Case("issuer-kind-not-authorised", raw0, 2, _issuer(kinds=["score.city"]))
    yield Case("envelope-kind-not-authorised", enc(b1), 2, _issuer(kinds=["penalty.admin"]))
    yield Case(
        "envelope-without-body-kind-not-authorised",
        enc({k: v for k, v in b1.items() if k != "preimage"}),
        2,
        _issuer(kinds=["penalty.admin"]),
    )

    # step 3: the issuer's signature
    yield Case(
        "statement-signature-flipped",
        enc(_edit_statement(b0, lambda p: p.__setitem__(3, _flip(p[3], 5)))),
        3,
    )
    yield Case(
        "statement-signature-s-plus-l",
        enc(_edit_statement(b0, lambda p: p.__setitem__(3, _s_plus_l(p[3])))),
        3,
    )
    yield Case(
        "record-field-changed", enc(_edit_record(b0, lambda r: r["body"].update(fine_wan="0.6"))), 3
    )
    yield Case(
        "statement-iat-changed", enc(_edit_protected(b0, lambda h: h[15].update({6: IAT + 1}))), 3
    )
    yield Case("statement-alg-minus-19", enc(_edit_protected(b0, lambda h: h.update({1: -19}))), 3)
    yield Case(
        "envelope-payload-changed-no-body",
        enc(
            _edit_statement(
                {k: v for k, v in b1.items() if k != "preimage"},
                lambda p: p.__setitem__(2, _flip(p[2], 0)),
            )
        ),
        3,
    )

    # step 4: inclusion
    yield Case(
        "receipt-log-kid-unknown",
        enc(
            _edit_receipt(
                b0, lambda r, p: r.__setitem__(0, enc({**cbor2.loads(r[0]), 4: b"\x05" * 32}))
            )
        ),
        4,
    )
    yield Case("log-untrusted", raw0, 4, _trust(_other_log_key))
    yield Case(
        "receipt-path-extra-hash", enc(_edit_receipt(b0, lambda r, p: p[2].append(b"\x00" * 32))), 4
    )
    yield Case("receipt-path-empty", enc(_edit_receipt(b0, lambda r, p: p.__setitem__(2, []))), 4)
    yield Case(
        "receipt-path-hash-31-bytes",
        enc(_edit_receipt(b0, lambda r, p: p.__setitem__(2, [p[2][0][:31]]))),
        4,
    )
    yield Case("receipt-tree-size-3", enc(_edit_receipt(b0, lambda r, p: p.__setitem__(0, 3))), 4)
    yield Case(
        "receipt-tree-size-2-pow-63",
        enc(_edit_receipt(b0, lambda r, p: p.__setitem__(0, 2**63))),
        4,
    )
    yield Case(
        "receipt-tree-size-max-uint64",
        enc(_edit_receipt(b0, lambda r, p: p.__setitem__(0, 2**64 - 1))),
        4,
    )
    yield Case(
        "receipt-leaf-index-out-of-range",
        enc(_edit_receipt(b1, lambda r, p: p.__setitem__(0, 1))),
        1,
    )
    yield Case(
        "receipt-leaf-index-negative", enc(_edit_receipt(b0, lambda r, p: p.__setitem__(1, -1))), 1
    )

    # step 5: the receipt's signature over the computed root
    yield Case(
        "receipt-path-hash-flipped",
        enc(_edit_receipt(b0, lambda r, p: p.__setitem__(2, [_flip(p[2][0], 3)]))),
        5,
    )
    yield Case(
        "receipt-leaf-index-changed", enc(_edit_receipt(b0, lambda r, p: p.__setitem__(1, 1))), 5
    )
    yield Case(
        "receipt-signature-flipped",
        enc(_edit_receipt(b0, lambda r, p: r.__setitem__(3, _flip(r[3], 9)))),
        5,
    )
    yield Case(
        "receipt-alg-minus-19",
        enc(_edit_receipt(b0, lambda r, p: r.__setitem__(0, enc({**cbor2.loads(r[0]), 1: -19})))),
        5,
    )
    other_receipt = _parts(b1["statement"])[1]
    yield Case(
        "receipt-of-the-other-leaf",
        enc(_edit_statement(b0, lambda p: p.__setitem__(1, other_receipt))),
        5,
    )
    yield Case(
        "receipt-vds-2",
        enc(_edit_receipt(b0, lambda r, p: r.__setitem__(0, enc({**cbor2.loads(r[0]), 395: 2})))),
        1,
    )
    yield Case(
        "receipt-attached-payload",
        enc(_edit_receipt(b0, lambda r, p: r.__setitem__(2, b"\x00" * 32))),
        1,
    )
    yield Case(
        "receipt-oversize",
        enc(_edit_receipt(b0, lambda r, p: p.__setitem__(2, [b"\x00" * 32] * 300))),
        1,
    )

    # step 6: the checkpoint
    body, sigs = _note_lines(b0)
    yield Case(
        "checkpoint-origin-changed", enc(_with_note(b0, ["other.example/log", *body[1:]], sigs)), 6
    )
    yield Case(
        "checkpoint-root-changed",
        enc(_with_note(b0, [body[0], body[1], base64.b64encode(b"\x01" * 32).decode()], sigs)),
        6,
    )
    yield Case("checkpoint-size-changed", enc(_with_note(b0, [body[0], "3", body[2]], sigs)), 6)
    yield Case(
        "checkpoint-log-signature-flipped",
        enc(
            _with_note(
                b0,
                body,
                [sigs[0][:-10] + ("A" if sigs[0][-10] != "A" else "B") + sigs[0][-9:], sigs[1]],
            )
        ),
        6,
    )
    yield Case("checkpoint-log-signature-dropped", enc(_with_note(b0, body, sigs[1:])), 6)
    yield Case("checkpoint-cosignature-dropped", enc(_with_note(b0, body, sigs[:1])), 6)
    yield Case(
        "checkpoint-cosignature-flipped",
        enc(
            _with_note(
                b0,
                body,
                [sigs[0], sigs[1][:-10] + ("A" if sigs[1][-10] != "A" else "B") + sigs[1][-9:]],
            )
        ),
        6,
    )
    bad_cosig = sigs[1][:-10] + ("A" if sigs[1][-10] != "A" else "B") + sigs[1][-9:]
    yield Case(
        "checkpoint-bad-cosignature-line-first",
        enc(_with_note(b0, body, [sigs[0], bad_cosig, sigs[1]])),
        6,
    )
    unknown = "\u2014 someone.example/key " + base64.b64encode(b"\x00" * 68).decode()
    yield Case(
        "checkpoint-unknown-signer-ignored", enc(_with_note(b0, body, [*sigs, unknown])), None
    )
    yield Case(
        "quorum-zero-without-cosignature",
        enc(_with_note(b0, body, sigs[:1])),
        None,
        _trust(lambda d: d.update(quorum=0)),
    )
    yield Case(
        "witness-untrusted",
        raw0,
        6,
        _trust(lambda d: d["witnesses"][0].update(public_key="22" * 32)),
    )
    yield Case(
        "witness-other-name",
        raw0,
        6,
        _trust(lambda d: d["witnesses"][0].update(name="other.witness.example")),
    )
    yield Case(
        "log-other-origin",
        raw0,
        6,
        _trust(lambda d: d["logs"][0].update(origin="other.example/log")),
    )
    yield Case("log-other-note-key-name", raw0, 6, _trust(_other_note_name))
    root = base64.b64decode(body[2])
    yield Case("checkpoint-resigned-other-size", enc({**b0, "checkpoint": _resigned(3, root)}), 6)
    yield Case(
        "checkpoint-resigned-other-root", enc({**b0, "checkpoint": _resigned(2, b"\x02" * 32)}), 6
    )
    yield Case(
        "checkpoint-resigned-with-extension-line",
        enc({**b0, "checkpoint": _resigned(2, root, ("ext",))}),
        None,
    )

    # step 1: checkpoint grammar (C2SP signed note, ASCII)
    for name, size in [
        ("fullwidth", "\uff12"),
        ("arabic-indic", "\u0662"),
        ("superscript", "\u00b2"),
        ("leading-zero", "02"),
        ("plus-sign", "+2"),
        ("2-pow-64", str(2**64)),
    ]:
        yield Case(
            f"checkpoint-size-{name}", enc(_with_note(b0, [body[0], size, body[2]], sigs)), 1
        )
    yield Case(
        "checkpoint-root-noncanonical-base64",
        enc(_with_note(b0, [body[0], body[1], _noncanonical_b64(body[2])], sigs)),
        1,
    )
    dash, name_, blob = sigs[0].split(" ")
    yield Case(
        "checkpoint-signature-noncanonical-base64",
        enc(_with_note(b0, body, [f"{dash} {name_} {_noncanonical_b64(blob)}", sigs[1]])),
        1,
    )
    yield Case(
        "checkpoint-control-character", enc(_with_note(b0, [body[0] + "\x07", *body[1:]], sigs)), 1
    )
    yield Case(
        "checkpoint-crlf", enc({**b0, "checkpoint": b0["checkpoint"].replace("\n", "\r\n", 1)}), 1
    )
    yield Case(
        "checkpoint-no-blank-line",
        enc({**b0, "checkpoint": b0["checkpoint"].replace("\n\n", "\n")}),
        1,
    )
    yield Case("checkpoint-empty-extension-line", enc(_with_note(b0, [*body, ""], sigs)), 1)
    yield Case("checkpoint-no-signatures", enc({**b0, "checkpoint": "\n".join(body) + "\n\n"}), 1)
    yield Case("checkpoint-ascii-dash", enc(_with_note(b0, body, ["-" + sigs[0][1:], sigs[1]])), 1)
    yield Case(
        "checkpoint-key-name-with-plus",
        enc(_with_note(b0, body, [sigs[0].replace(ORIGIN, ORIGIN + "+x"), sigs[1]])),
        1,
    )
    yield Case("checkpoint-oversize", enc(_with_note(b0, [*body, *(["x" * 1000] * 70)], sigs)), 1)

    # later steps: status (7) and derivation (8), re-signed under the golden keys
    yield from _later_step_cases()
