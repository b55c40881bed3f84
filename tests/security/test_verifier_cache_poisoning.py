"""A43: poison or flood what a verifier remembers.

Issue 13 made a ``Verifier`` remember more by bytes: parsed checkpoints, the trust's keys
and log per kid, parsed protected headers (statement and receipt), and it verifies a
batch on two threads (``run_many``). An attacker tries to make a remembered success stand
for bytes that were never checked, or to grow the memory without bound:

- a bundle whose receipt or checkpoint signature fails, sent before, between and after
  the genuine one: it fails every time, and the genuine one passes;
- a statement with the genuine protected header (remembered) and another payload: the
  signature step still fails;
- 600 bundles, each with a receipt naming another log key: each fails at step 4, and the
  verifier remembers at most 256 kids;
- a batch mixing good and bad bundles on two threads: each report equals the one the
  bundle gets alone.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import SignatureError, WrongLogError
from credex.ledger.trust import TrustStore
from credex.ledger.verify import Verifier

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
BUNDLE = (GOLDEN / "bundle-0.credex").read_bytes()
TRUST = TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))


def _edit_statement(fn: object) -> bytes:
    value = cbor2.loads(BUNDLE)
    st = cbor2.loads(value["statement"])
    fn(st.value)  # type: ignore[operator]
    value["statement"] = encoding.encode(st)
    return encoding.encode(value)


def _edit_receipt(fn: object) -> bytes:
    def edit(cose: list[object]) -> None:
        receipts = cose[1][394]  # type: ignore[index]
        receipt = cbor2.loads(receipts[0])
        fn(receipt.value)  # type: ignore[operator]
        receipts[0] = encoding.encode(receipt)

    return _edit_statement(edit)


def _flip_last(b: bytes) -> bytes:
    return b[:-1] + bytes([b[-1] ^ 1])


BAD_RECEIPT_SIG = _edit_receipt(lambda r: r.__setitem__(3, _flip_last(r[3])))
OTHER_PAYLOAD = _edit_statement(lambda s: s.__setitem__(3, _flip_last(s[3])))


def _bad_checkpoint() -> bytes:
    value = cbor2.loads(BUNDLE)
    body, sigs = value["checkpoint"].split("\n\n", 1)
    line = sigs.split("\n")[0]
    name, blob = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    lines = sigs.split("\n")
    lines[0] = f"{name} {base64.b64encode(bytes(raw)).decode()}"
    value["checkpoint"] = body + "\n\n" + "\n".join(lines)
    return encoding.encode(value)


BAD_CHECKPOINT = _bad_checkpoint()


def test_failures_are_never_remembered_as_successes() -> None:
    v = Verifier(TRUST)
    for _ in range(2):
        for bad, step in ((BAD_RECEIPT_SIG, 5), (OTHER_PAYLOAD, 3), (BAD_CHECKPOINT, 6)):
            report = v.run(bad)
            assert report.failed_step == step and type(report.error) is SignatureError
        assert v.run(BUNDLE).ok


def test_a_flood_of_log_kids_is_bounded() -> None:
    v = Verifier(TRUST)

    def other_kid(r: list[object]) -> None:
        hdr = cbor2.loads(r[0])  # type: ignore[arg-type]
        hdr[4] = os.urandom(32)
        r[0] = encoding.encode(hdr)

    for _ in range(600):
        report = v.run(_edit_receipt(other_kid))
        assert report.failed_step == 4 and type(report.error) is WrongLogError
    assert len(v._cache.logs) <= 256  # the memory under attack
    assert v.run(BUNDLE).ok


def test_a_mixed_batch_on_two_threads_matches_one_by_one() -> None:
    batch = [BUNDLE, BAD_RECEIPT_SIG, OTHER_PAYLOAD, BAD_CHECKPOINT, b"\xa0", BUNDLE] * 20
    alone = [(r.failed_step, type(r.error)) for r in (Verifier(TRUST).run(b) for b in batch)]
    together = [(r.failed_step, type(r.error)) for r in Verifier(TRUST).run_many(batch)]
    assert together == alone
    assert sum(1 for step, _ in together if step is None) == 40
