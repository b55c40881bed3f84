"""The tamper table, step 1 (decode): CBOR, the bundle, the statement and its record,
hash envelopes and the checkpoint grammar; each case names the step both verifiers must
fail at (``None``: both must accept)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cbor2

from .golden_edit import (
    ORG,
    ORIGIN,
    OTHER_ORG,
    Case,
    deep,
    edit_protected,
    edit_record,
    edit_statement,
    enc,
    flip,
    golden_map,
    nested_list,
    noncanonical_b64,
    note_lines,
    pairs_of,
    parts_of,
    raw_map,
    with_note,
)


def decode_cases() -> Iterator[Case]:
    b0, b1 = golden_map(0), golden_map(1)
    raw0 = enc(b0)

    # step 1: CBOR
    yield Case("cbor-empty", b"", 1)
    yield Case("cbor-truncated", raw0[:-1], 1)
    yield Case("cbor-trailing-byte", raw0 + b"\x00", 1)
    pairs = pairs_of(b0)
    v_pair = next(p for p in pairs if p[0] == enc("v"))
    yield Case(
        "cbor-non-shortest-head",
        raw_map([(v_pair[0], b"\x18\x01") if p is v_pair else p for p in pairs]),
        1,
    )
    yield Case("cbor-unsorted-keys", raw_map(list(reversed(pairs))), 1)
    yield Case("cbor-duplicate-key", raw_map([*pairs, v_pair]), 1)
    yield Case("cbor-indefinite-map", raw_map(pairs, b"\xbf") + b"\xff", 1)
    yield Case(
        "cbor-float-version",
        raw_map([(v_pair[0], b"\xf9\x3c\x00") if p is v_pair else p for p in pairs]),
        1,
    )
    yield Case(
        "cbor-tagged-statement", enc({**b0, "statement": cbor2.CBORTag(24, b0["statement"])}), 1
    )
    cp_pair = next(p for p in pairs if p[0] == enc("checkpoint"))
    bad_text = b"\x62\xff\xfe"  # a 2-byte text that is not UTF-8
    yield Case(
        "cbor-invalid-utf8",
        raw_map([(cp_pair[0], bad_text) if p is cp_pair else p for p in pairs]),
        1,
    )
    yield Case("cbor-nesting-17-in-extra-key", deep({**b0, "x": nested_list(17)}), 1)
    yield Case(
        "record-nesting-at-limit",
        enc(edit_record(b0, lambda r: r["body"].update(penalty_types=nested_list(14)), deep)),
        3,
    )
    yield Case(
        "record-nesting-over-limit",
        enc(edit_record(b0, lambda r: r["body"].update(penalty_types=nested_list(15)), deep)),
        1,
    )
    yield Case(
        "record-float",
        enc(edit_record(b0, lambda r: r["body"].update(penalty_types=[1.5]), deep)),
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
        enc({**b0, "statement": enc(cbor2.CBORTag(17, parts_of(b0["statement"])))}),
        1,
    )
    yield Case("statement-oversize", enc({**b0, "statement": b0["statement"] + b"\x00" * 65536}), 1)
    yield Case(
        "statement-signature-63-bytes",
        enc(edit_statement(b0, lambda p: p.__setitem__(3, p[3][:63]))),
        1,
    )
    yield Case("statement-no-receipt", enc(edit_statement(b0, lambda p: p.__setitem__(1, {}))), 1)
    yield Case(
        "statement-two-receipts",
        enc(edit_statement(b0, lambda p: p[1][394].append(p[1][394][0]))),
        1,
    )
    yield Case(
        "statement-extra-unprotected-label",
        enc(edit_statement(b0, lambda p: p[1].update({33: b"x"}))),
        1,
    )
    yield Case(
        "statement-extra-protected-label",
        enc(edit_protected(b0, lambda h: h.update({5: b"x"}))),
        1,
    )
    yield Case(
        "statement-content-type-changed",
        enc(edit_protected(b0, lambda h: h.update({3: "application/cbor"}))),
        1,
    )
    yield Case("statement-alg-es256", enc(edit_protected(b0, lambda h: h.update({1: -7}))), 1)
    yield Case(
        "statement-kid-31-bytes", enc(edit_protected(b0, lambda h: h.update({4: h[4][:31]}))), 1
    )
    yield Case(
        "statement-sub-not-the-record-subject",
        enc(edit_protected(b0, lambda h: h[15].update({2: OTHER_ORG}))),
        1,
    )
    yield Case(
        "statement-iat-negative", enc(edit_protected(b0, lambda h: h[15].update({6: -1}))), 1
    )
    yield Case("record-extra-key", enc(edit_record(b0, lambda r: r.update(x=1))), 1)
    yield Case(
        "record-unknown-kind", enc(edit_record(b0, lambda r: r.update(kind="penalty.unknown"))), 1
    )
    yield Case(
        "record-unknown-body-field", enc(edit_record(b0, lambda r: r["body"].update(x="y"))), 1
    )
    yield Case(
        "record-uscc-check-character",
        enc(edit_record(b0, lambda r: r["subject"].update(id=ORG[:-1] + "4"))),
        1,
    )
    yield Case(
        "record-uscc-lower-case",
        enc(edit_record(b0, lambda r: r["subject"].update(id="91330200ma0yx00163"))),
        1,
    )
    yield Case(
        "record-region-upper-case", enc(edit_record(b0, lambda r: r.update(region="CN-ZJ"))), 1
    )
    yield Case(
        "record-valid-until-before-from",
        enc(edit_record(b0, lambda r: r.update(valid_until=1))),
        1,
    )
    yield Case("record-empty-refs", enc(edit_record(b0, lambda r: r.update(refs=[]))), 1)
    yield Case("record-salt-on-org", enc(edit_record(b0, lambda r: r.update(salt=b"\x00" * 16))), 1)

    # step 1: hash envelopes (RFC 9995)
    yield Case("envelope-wrong-preimage", enc({**b1, "preimage": flip(b1["preimage"], 20)}), 1)
    yield Case("envelope-empty-preimage", enc({**b1, "preimage": b""}), 1)
    yield Case("envelope-preimage-on-plain-statement", enc({**b0, "preimage": b1["preimage"]}), 1)
    yield Case(
        "envelope-hash-alg-sha384", enc(edit_protected(b1, lambda h: h.update({258: -43}))), 1
    )
    yield Case(
        "envelope-kind-unknown",
        enc(
            edit_protected(
                b1, lambda h: h.update({259: "application/vnd.credex.record+cbor;kind=x.y"})
            )
        ),
        1,
    )
    yield Case(
        "envelope-kind-never-enveloped",
        enc(
            edit_protected(
                b1,
                lambda h: h.update(
                    {259: "application/vnd.credex.record+cbor;kind=lifecycle.repair"}
                ),
            )
        ),
        1,
    )
    swapped = edit_protected(
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
            edit_statement(
                {k: v for k, v in b1.items() if k != "preimage"},
                lambda p: p.__setitem__(2, p[2][:31]),
            )
        ),
        1,
    )
    yield Case("envelope-without-body", enc({k: v for k, v in b1.items() if k != "preimage"}), 7)


def checkpoint_grammar_cases() -> Iterator[Case]:
    b0 = golden_map(0)
    body, sigs = note_lines(b0)
    # step 1: checkpoint grammar (C2SP signed note, ASCII)
    for name, size in [
        ("fullwidth", "\uff12"),
        ("arabic-indic", "\u0662"),
        ("superscript", "\u00b2"),
        ("leading-zero", "02"),
        ("plus-sign", "+2"),
        ("2-pow-64", str(2**64)),
    ]:
        yield Case(f"checkpoint-size-{name}", enc(with_note(b0, [body[0], size, body[2]], sigs)), 1)
    yield Case(
        "checkpoint-root-noncanonical-base64",
        enc(with_note(b0, [body[0], body[1], noncanonical_b64(body[2])], sigs)),
        1,
    )
    dash, name_, blob = sigs[0].split(" ")
    yield Case(
        "checkpoint-signature-noncanonical-base64",
        enc(with_note(b0, body, [f"{dash} {name_} {noncanonical_b64(blob)}", sigs[1]])),
        1,
    )
    yield Case(
        "checkpoint-control-character", enc(with_note(b0, [body[0] + "\x07", *body[1:]], sigs)), 1
    )
    yield Case(
        "checkpoint-crlf", enc({**b0, "checkpoint": b0["checkpoint"].replace("\n", "\r\n", 1)}), 1
    )
    yield Case(
        "checkpoint-no-blank-line",
        enc({**b0, "checkpoint": b0["checkpoint"].replace("\n\n", "\n")}),
        1,
    )
    yield Case("checkpoint-empty-extension-line", enc(with_note(b0, [*body, ""], sigs)), 1)
    yield Case("checkpoint-no-signatures", enc({**b0, "checkpoint": "\n".join(body) + "\n\n"}), 1)
    yield Case("checkpoint-ascii-dash", enc(with_note(b0, body, ["-" + sigs[0][1:], sigs[1]])), 1)
    yield Case(
        "checkpoint-key-name-with-plus",
        enc(with_note(b0, body, [sigs[0].replace(ORIGIN, ORIGIN + "+x"), sigs[1]])),
        1,
    )
    yield Case("checkpoint-oversize", enc(with_note(b0, [*body, *(["x" * 1000] * 70)], sigs)), 1)
