"""Every input path has a documented limit on bytes, items and depth, tested at the limit
and one past it (docs/spec.md §1, docs/grpc.md "Limits").

A size limit is checked before anything is parsed: at the limit the input gets past the
check (and, being filler, fails later with another named error, or parses), one byte
past it is ``OversizeError``. Time limits of the gRPC streams are in
``test_submit_stream_without_limit.py``; CBOR items in ``test_finding3_*``; trust files in
``test_trust_file_*``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from credex.adapters.base import MAX_ROW_BYTES, AdapterContext
from credex.adapters.registry import ADAPTERS
from credex.ledger import encoding, strict_json
from credex.ledger.bundle import MAX_BUNDLE_BYTES, MAX_BUNDLE_COUNT, MAX_BUNDLE_DEPTH, Bundle
from credex.ledger.checkpoint import MAX_NOTE_BYTES, Checkpoint, SignedNote
from credex.ledger.errors import CredexError, FormatError, NoteError, OversizeError
from credex.ledger.evidence import MAX_EVIDENCE_BYTES, Evidence
from credex.ledger.manifest import SignedManifest, decode_chain
from credex.ledger.manifest.body import MAX_MANIFEST_BYTES
from credex.ledger.manifest.chain import MAX_CHAIN_BYTES
from credex.ledger.receipt import MAX_RECEIPT_BYTES, Receipt
from credex.ledger.record import MAX_RECORD_BYTES, Record
from credex.ledger.statement import MAX_STATEMENT_BYTES, Statement
from credex.ledger.subject import SubjectKey
from credex.ledger.trust import MAX_TRUST_BYTES, TrustStore
from credex.node.federation.admin import MAX_NODE_INFO_BYTES
from credex.node.rpc import convert
from credex.node.rpc.convert import MAX_PROOF_HASHES
from credex.node.services.intake import MAX_SUBMIT_BATCH
from credex.node.services.recognition import MAX_POLICY_FILE_BYTES, policy_file_value
from credex.node.services.records import MAX_JSON_LINE_BYTES, records_from_jsonl
from credex.v1 import submit_pb2

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"
CTX = AdapterContext("cn-zj-ningbo", SubjectKey("00000001", b"\x02" * 32))


def _adapter(name: str) -> Callable[[bytes], Any]:
    return lambda data: list(ADAPTERS[name].parse(data, CTX))


def _jsonl(data: bytes) -> Any:
    return list(
        records_from_jsonl(
            [data.decode()],
            name="f",
            region="cn-zj-ningbo",
            subject_key=CTX.subject_key,
            default_from=0,
        )
    )


#: (what, limit in bytes, the reader, how docs/spec.md states it)
SIZES: list[tuple[str, int, Callable[[bytes], Any], str]] = [
    ("statement", MAX_STATEMENT_BYTES, Statement.from_bytes, "64 KiB"),
    ("record", MAX_RECORD_BYTES, Record.from_bytes, "48 KiB"),
    ("receipt", MAX_RECEIPT_BYTES, Receipt.from_bytes, "8 KiB"),
    ("checkpoint note", MAX_NOTE_BYTES, lambda d: SignedNote.from_text(d.decode()), "64 KiB"),
    ("bundle file", MAX_BUNDLE_BYTES, Bundle.from_bytes, "4 MiB"),
    ("evidence file", MAX_EVIDENCE_BYTES, Evidence.from_bytes, f"{MAX_EVIDENCE_BYTES} bytes"),
    ("manifest version", MAX_MANIFEST_BYTES, SignedManifest.from_bytes, "1 MiB"),
    ("manifest chain file", MAX_CHAIN_BYTES, decode_chain, "64 MiB"),
    ("trust file", MAX_TRUST_BYTES, TrustStore.from_json, "1 MiB"),
    ("policy file", MAX_POLICY_FILE_BYTES, policy_file_value, "256 KiB"),
    (
        "node info",
        MAX_NODE_INFO_BYTES,
        lambda d: strict_json.loads(d, "node info", max_bytes=MAX_NODE_INFO_BYTES),
        "256 KiB",
    ),
    ("JSON record line", MAX_JSON_LINE_BYTES, _jsonl, "1 MiB"),
    ("penalty CSV row", MAX_ROW_BYTES, _adapter("penalty-csv"), "1 MiB"),
    ("HK report JSON element", MAX_ROW_BYTES, _adapter("hk-report-json"), "1 MiB"),
]


def _filler(n: int, what: str) -> bytes:
    # JSON readers get a JSON string (so at the limit they parse), the others spaces
    if what in ("trust file", "policy file", "node info", "JSON record line"):
        return b'"' + b"a" * (n - 2) + b'"'
    if what == "HK report JSON element":  # one element of n characters
        return b'["' + b"a" * (n - 2) + b'"]'
    return b" " * n


@pytest.mark.parametrize(("what", "limit", "read", "stated"), SIZES, ids=[s[0] for s in SIZES])
def test_size_at_the_limit_and_one_past(
    what: str, limit: int, read: Callable[[bytes], Any], stated: str
) -> None:
    try:
        read(_filler(limit, what))
    except OversizeError as e:
        pytest.fail(f"{what}: refused at its limit: {e}")
    except CredexError:
        pass  # filler: refused for what it is, not for its size
    with pytest.raises(OversizeError) as e:
        read(_filler(limit + 1, what))
    assert str(limit) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(("what", "limit", "read", "stated"), SIZES, ids=[s[0] for s in SIZES])
def test_size_limits_are_documented(
    what: str, limit: int, read: Callable[[bytes], Any], stated: str
) -> None:
    rows = [line for line in SPEC.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    assert any(what in row and stated in row for row in rows), f"docs/spec.md §1: {what} {stated}"


# --- items and depth ---------------------------------------------------------------------------


def _bundle(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"v": 1, "statement": b"s", "checkpoint": "c"}
    return value if depth == 0 else {**value, "policy": _bundle(depth - 1)}


def test_bundle_nesting_at_the_limit_and_one_past() -> None:
    assert Bundle.from_bytes(encoding.encode(_bundle(MAX_BUNDLE_DEPTH))).policy is not None
    with pytest.raises(FormatError, match=f"nested too deep: expected <= {MAX_BUNDLE_DEPTH}"):
        Bundle.from_bytes(encoding.encode(_bundle(MAX_BUNDLE_DEPTH + 1)))


def test_bundles_per_file_at_the_limit_and_one_past() -> None:
    leaf = {"v": 1, "statement": b"s", "checkpoint": "c"}
    at = {**leaf, "status": [leaf] * (MAX_BUNDLE_COUNT - 1)}
    assert len(Bundle.from_bytes(encoding.encode(at)).status) == MAX_BUNDLE_COUNT - 1
    past = {**leaf, "status": [leaf] * MAX_BUNDLE_COUNT}
    with pytest.raises(OversizeError, match=f"expected <= {MAX_BUNDLE_COUNT}"):
        Bundle.from_bytes(encoding.encode(past))


def test_cbor_nesting_at_the_limit_and_one_past() -> None:
    def nest(n: int) -> bytes:
        return b"\x81" * n + b"\x00"

    assert encoding.decode(nest(encoding.MAX_CBOR_DEPTH)) is not None
    with pytest.raises(FormatError, match="nesting too deep"):
        encoding.decode(nest(encoding.MAX_CBOR_DEPTH + 1))


def test_json_depth_at_the_limit_and_one_past() -> None:
    depth = strict_json.MAX_JSON_DEPTH
    assert strict_json.loads("[" * depth + "]" * depth, "t", max_bytes=1000) is not None
    with pytest.raises(FormatError, match=f"expected <= {depth} levels"):
        strict_json.loads("[" * (depth + 1) + "]" * (depth + 1), "t", max_bytes=1000)


def test_checkpoint_tree_size_at_the_limit_and_one_past() -> None:
    root = "A" * 43 + "="
    assert Checkpoint.from_text(f"o\n{2**64 - 1}\n{root}\n").size == 2**64 - 1
    with pytest.raises(NoteError):
        Checkpoint.from_text(f"o\n{2**64}\n{root}\n")


def test_statements_per_submit_request_at_the_limit_and_one_past() -> None:
    at = submit_pb2.SubmitStatementsRequest(statements=[b"x"] * MAX_SUBMIT_BATCH)
    assert len(convert.submit_statements_from_proto(at)) == MAX_SUBMIT_BATCH
    past = submit_pb2.SubmitStatementsRequest(statements=[b"x"] * (MAX_SUBMIT_BATCH + 1))
    with pytest.raises(OversizeError, match=f"expected <= {MAX_SUBMIT_BATCH}"):
        convert.submit_statements_from_proto(past)


def test_proof_hashes_per_request_at_the_limit_and_one_past() -> None:
    assert len(convert.hashes_from_proto([b"\x00" * 32] * MAX_PROOF_HASHES, "p")) == 128
    with pytest.raises(OversizeError, match=f"expected <= {MAX_PROOF_HASHES} hashes"):
        convert.hashes_from_proto([b"\x00" * 32] * (MAX_PROOF_HASHES + 1), "p")


def test_limit_rows_of_spec_are_all_tested() -> None:
    """Every row of the §1 table names a limit a test here (or a named one) covers."""
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 1. Limits", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| item")]
    assert len(rows) >= len(SIZES) + 6
    assert json.dumps(rows)  # printable
