"""The tamper table, steps 2-6: issuer trust, the issuer's signature, inclusion, the
receipt's signature and the checkpoint (log signature, size and root, witness quorum)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import cbor2

from .golden_edit import (
    IAT,
    Case,
    edit_protected,
    edit_receipt,
    edit_record,
    edit_statement,
    enc,
    flip,
    golden_map,
    issuer_trust,
    note_lines,
    other_log_key,
    other_note_name,
    parts_of,
    resigned_note,
    s_plus_l,
    trust_with,
    with_note,
)


def proof_cases() -> Iterator[Case]:
    b0, b1 = golden_map(0), golden_map(1)
    raw0 = enc(b0)
    # step 2: issuer trust
    yield Case("issuer-untrusted", raw0, 2, trust_with(lambda d: d.update(issuers=[])))
    yield Case("issuer-other-id", raw0, 2, issuer_trust(issuer_id="cn-zj-ningbo/other"))
    yield Case("issuer-key-not-yet-valid", raw0, 2, issuer_trust(valid_from=IAT + 1))
    yield Case("issuer-key-expired", raw0, 2, issuer_trust(valid_until=IAT))
    yield Case("issuer-key-valid-last-second", raw0, None, issuer_trust(valid_until=IAT + 1))
    yield Case("issuer-kind-not-authorised", raw0, 2, issuer_trust(kinds=["score.city"]))
    yield Case("envelope-kind-not-authorised", enc(b1), 2, issuer_trust(kinds=["penalty.admin"]))
    yield Case(
        "envelope-without-body-kind-not-authorised",
        enc({k: v for k, v in b1.items() if k != "preimage"}),
        2,
        issuer_trust(kinds=["penalty.admin"]),
    )

    # step 3: the issuer's signature
    yield Case(
        "statement-signature-flipped",
        enc(edit_statement(b0, lambda p: p.__setitem__(3, flip(p[3], 5)))),
        3,
    )
    yield Case(
        "statement-signature-s-plus-l",
        enc(edit_statement(b0, lambda p: p.__setitem__(3, s_plus_l(p[3])))),
        3,
    )
    yield Case(
        "record-field-changed", enc(edit_record(b0, lambda r: r["body"].update(fine_wan="0.6"))), 3
    )
    yield Case(
        "statement-iat-changed", enc(edit_protected(b0, lambda h: h[15].update({6: IAT + 1}))), 3
    )
    yield Case("statement-alg-minus-19", enc(edit_protected(b0, lambda h: h.update({1: -19}))), 3)
    yield Case(
        "envelope-payload-changed-no-body",
        enc(
            edit_statement(
                {k: v for k, v in b1.items() if k != "preimage"},
                lambda p: p.__setitem__(2, flip(p[2], 0)),
            )
        ),
        3,
    )

    # step 4: inclusion
    yield Case(
        "receipt-log-kid-unknown",
        enc(
            edit_receipt(
                b0, lambda r, p: r.__setitem__(0, enc({**cbor2.loads(r[0]), 4: b"\x05" * 32}))
            )
        ),
        4,
    )
    yield Case("log-untrusted", raw0, 4, trust_with(other_log_key))
    yield Case(
        "receipt-path-extra-hash", enc(edit_receipt(b0, lambda r, p: p[2].append(b"\x00" * 32))), 4
    )
    yield Case("receipt-path-empty", enc(edit_receipt(b0, lambda r, p: p.__setitem__(2, []))), 4)
    yield Case(
        "receipt-path-hash-31-bytes",
        enc(edit_receipt(b0, lambda r, p: p.__setitem__(2, [p[2][0][:31]]))),
        4,
    )
    yield Case("receipt-tree-size-3", enc(edit_receipt(b0, lambda r, p: p.__setitem__(0, 3))), 4)
    yield Case(
        "receipt-tree-size-2-pow-63",
        enc(edit_receipt(b0, lambda r, p: p.__setitem__(0, 2**63))),
        4,
    )
    yield Case(
        "receipt-tree-size-max-uint64",
        enc(edit_receipt(b0, lambda r, p: p.__setitem__(0, 2**64 - 1))),
        4,
    )
    yield Case(
        "receipt-leaf-index-out-of-range",
        enc(edit_receipt(b1, lambda r, p: p.__setitem__(0, 1))),
        1,
    )
    yield Case(
        "receipt-leaf-index-negative", enc(edit_receipt(b0, lambda r, p: p.__setitem__(1, -1))), 1
    )

    # step 5: the receipt's signature over the computed root
    yield Case(
        "receipt-path-hash-flipped",
        enc(edit_receipt(b0, lambda r, p: p.__setitem__(2, [flip(p[2][0], 3)]))),
        5,
    )
    yield Case(
        "receipt-leaf-index-changed", enc(edit_receipt(b0, lambda r, p: p.__setitem__(1, 1))), 5
    )
    yield Case(
        "receipt-signature-flipped",
        enc(edit_receipt(b0, lambda r, p: r.__setitem__(3, flip(r[3], 9)))),
        5,
    )
    yield Case(
        "receipt-alg-minus-19",
        enc(edit_receipt(b0, lambda r, p: r.__setitem__(0, enc({**cbor2.loads(r[0]), 1: -19})))),
        5,
    )
    other_receipt = parts_of(b1["statement"])[1]
    yield Case(
        "receipt-of-the-other-leaf",
        enc(edit_statement(b0, lambda p: p.__setitem__(1, other_receipt))),
        5,
    )
    yield Case(
        "receipt-vds-2",
        enc(edit_receipt(b0, lambda r, p: r.__setitem__(0, enc({**cbor2.loads(r[0]), 395: 2})))),
        1,
    )
    yield Case(
        "receipt-attached-payload",
        enc(edit_receipt(b0, lambda r, p: r.__setitem__(2, b"\x00" * 32))),
        1,
    )
    yield Case(
        "receipt-oversize",
        enc(edit_receipt(b0, lambda r, p: p.__setitem__(2, [b"\x00" * 32] * 300))),
        1,
    )

    # step 6: the checkpoint
    body, sigs = note_lines(b0)
    yield Case(
        "checkpoint-origin-changed", enc(with_note(b0, ["other.example/log", *body[1:]], sigs)), 6
    )
    yield Case(
        "checkpoint-root-changed",
        enc(with_note(b0, [body[0], body[1], base64.b64encode(b"\x01" * 32).decode()], sigs)),
        6,
    )
    yield Case("checkpoint-size-changed", enc(with_note(b0, [body[0], "3", body[2]], sigs)), 6)
    yield Case(
        "checkpoint-log-signature-flipped",
        enc(
            with_note(
                b0,
                body,
                [sigs[0][:-10] + ("A" if sigs[0][-10] != "A" else "B") + sigs[0][-9:], sigs[1]],
            )
        ),
        6,
    )
    yield Case("checkpoint-log-signature-dropped", enc(with_note(b0, body, sigs[1:])), 6)
    yield Case("checkpoint-cosignature-dropped", enc(with_note(b0, body, sigs[:1])), 6)
    yield Case(
        "checkpoint-cosignature-flipped",
        enc(
            with_note(
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
        enc(with_note(b0, body, [sigs[0], bad_cosig, sigs[1]])),
        6,
    )
    unknown = "\u2014 someone.example/key " + base64.b64encode(b"\x00" * 68).decode()
    yield Case(
        "checkpoint-unknown-signer-ignored", enc(with_note(b0, body, [*sigs, unknown])), None
    )
    yield Case(
        "quorum-zero-without-cosignature",
        enc(with_note(b0, body, sigs[:1])),
        None,
        trust_with(lambda d: d.update(quorum=0)),
    )
    yield Case(
        "witness-untrusted",
        raw0,
        6,
        trust_with(lambda d: d["witnesses"][0].update(public_key="22" * 32)),
    )
    yield Case(
        "witness-other-name",
        raw0,
        6,
        trust_with(lambda d: d["witnesses"][0].update(name="other.witness.example")),
    )
    yield Case(
        "log-other-origin",
        raw0,
        6,
        trust_with(lambda d: d["logs"][0].update(origin="other.example/log")),
    )
    yield Case("log-other-note-key-name", raw0, 6, trust_with(other_note_name))
    root = base64.b64decode(body[2])
    yield Case(
        "checkpoint-resigned-other-size", enc({**b0, "checkpoint": resigned_note(3, root)}), 6
    )
    yield Case(
        "checkpoint-resigned-other-root",
        enc({**b0, "checkpoint": resigned_note(2, b"\x02" * 32)}),
        6,
    )
    yield Case(
        "checkpoint-resigned-with-extension-line",
        enc({**b0, "checkpoint": resigned_note(2, root, ("ext",))}),
        None,
    )
