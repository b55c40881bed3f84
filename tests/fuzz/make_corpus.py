"""Write the seed corpora ``tests/fuzz/corpus/<target>/`` (committed; rerun to refresh).

Seeds are valid inputs: the golden vectors (``tests/vectors/golden``), the shipped policy
files, a small manifest chain, evidence of a split view, adapter samples, and one
serialised message per gRPC request and response. Deterministic keys and times, so
rerunning writes the same bytes (``python -m tests.fuzz.make_corpus``).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from credex.adapters.sample import penalty_csv
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from credex.ledger.evidence import build_evidence
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import encode_chain, retire_log_key
from credex.ledger.statement import Statement
from credex.v1 import log_pb2, query_pb2, submit_pb2, witness_pb2
from tests.fuzz.targets import CORPUS, GOLDEN, TARGETS, _node
from tests.security._federation_chain import HZ, LOGS, NB, XM, bundle_of, signed, v1
from tests.security._nodes import statements

REPO = Path(__file__).resolve().parents[2]
HK_REPORT = {
    "agency": "Example Credit Agency (HK) Ltd",
    "report_id": "R-2026-0001",
    "report_date": "2026-05-31",
    "cr_no": "91234567",
    "company_name": {"en": "Example Trading (HK) Ltd", "zh": "示例貿易（香港）有限公司"},
    "status": "Live",
    "incorporation_date": "2010-03-15",
    "company_type": "Private company limited by shares",
    "directors": ["陳大文", "Chan Tai Man"],
    "court_judgments": {"count": 1, "latest_date": "2025-11-02", "amount_hkd_cents": 12345600},
    "payment_records": {"count": 12, "days_beyond_terms": 15},
    "ccra": {"facilities": 3, "total_limit_hkd_cents": 500000000, "default": False},
    "rating": "3A2",
}


def _golden(name: str) -> bytes:
    return (GOLDEN / name).read_bytes()


def _notes() -> dict[str, bytes]:
    log, w = SigningKey(b"\x07" * 32), SigningKey(b"\x08" * 32)
    note = sign_checkpoint(
        Checkpoint("example.org/log", 12, bytes(range(32))), "example.org/log", log
    )
    cosigned = note.with_signature(cosign_checkpoint(note, "witness.example", w, 1_780_272_000))
    return {
        "golden.txt": _golden("checkpoint.txt"),
        "cosigned.txt": cosigned.to_text().encode(),
        "extension.txt": sign_checkpoint(
            Checkpoint("example.org/log", 0, bytes(32), ("ext line",)), "example.org/log", log
        )
        .to_text()
        .encode(),
    }


def _evidence() -> bytes:
    log = SigningKey(b"\x07" * 32)
    a = sign_checkpoint(Checkpoint("example.org/log", 3, b"\x01" * 32), "example.org/log", log)
    b = sign_checkpoint(Checkpoint("example.org/log", 3, b"\x02" * 32), "example.org/log", log)
    ev = build_evidence(
        a.to_text(), b.to_text(), (), log_note_name="example.org/log", log_key=log.public_key
    )
    return ev.to_bytes()


def seeds() -> dict[str, dict[str, bytes]]:
    b0, b1 = _golden("bundle-0.credex"), _golden("bundle-1.credex")
    st0, st1 = _golden("statement-0.cbor"), _golden("statement-1.cbor")
    nested = Bundle.from_bytes(b0)
    with_status = Bundle(nested.statement, nested.checkpoint, status=(nested,)).to_bytes()
    body = v1()
    chain1 = encode_chain([signed(body)])
    v2 = retire_log_key(
        body, HZ, SigningKey(b"\x51" * 32).public_key, body.issued_at + 10, body.issued_at + 10
    )
    chain2 = encode_chain([signed(body), signed(v2)])
    manifest_bundle = bundle_of(LOGS[HZ], [NB, XM], body.issued_at + 5)
    trust = _golden("trust.json")
    policies = {
        p.name: p.read_bytes() for p in sorted((REPO / "adapters" / "policies").glob("*.json"))
    }
    csv = penalty_csv("cn-zj-ningbo", rows=4, seed=1, reference_date=date(2026, 5, 31))
    hk = json.dumps(
        [HK_REPORT, dict(HK_REPORT, cr_no=None, brn="91234567-000")], ensure_ascii=False
    )
    notes = _notes()
    note_text = notes["cosigned.txt"].decode()
    root = bytes(range(32))
    log_requests = {
        "checkpoint.pb": b"\x00" + log_pb2.GetCheckpointRequest(tree_size=0).SerializeToString(),
        "entries.pb": b"\x01" + log_pb2.GetEntriesRequest(start=0, end=3).SerializeToString(),
        "inclusion.pb": b"\x02"
        + log_pb2.GetInclusionProofRequest(leaf_index=1, tree_size=5).SerializeToString(),
        "consistency.pb": b"\x03"
        + log_pb2.GetConsistencyProofRequest(old_size=2, new_size=5).SerializeToString(),
        "bundle.pb": b"\x04" + log_pb2.GetBundleRequest(leaf_index=1).SerializeToString(),
        "bundle-hash.pb": b"\x04" + log_pb2.GetBundleRequest(leaf_hash=root).SerializeToString(),
        "receipt.pb": b"\x05"
        + log_pb2.GetReceiptRequest(leaf_index=1, tree_size=5).SerializeToString(),
    }
    responses = {
        "checkpoint.pb": b"\x00"
        + log_pb2.GetCheckpointResponse(
            checkpoint=note_text, tree_size=12, root_hash=root
        ).SerializeToString(),
        "acks.pb": b"\x01"
        + submit_pb2.SubmitStatementsResponse(
            results=[
                submit_pb2.SubmitResult(
                    leaf_index=1, leaf_hash=root, is_new=True, receipt=_golden("receipt-0.cbor")
                )
            ]
        ).SerializeToString(),
        "proof.pb": b"\x02"
        + log_pb2.GetInclusionProofResponse(
            leaf_index=1, tree_size=2, hashes=[root]
        ).SerializeToString(),
        "cosignature.pb": b"\x04"
        + witness_pb2.AddCheckpointResponse(cosignature=note_text).SerializeToString(),
    }
    return {
        "cbor": {
            "statement.cbor": st0,
            "bundle.credex": b1,
            "receipt.cbor": _golden("receipt-0.cbor"),
        },
        "bundle": {"bundle-0.credex": b0, "bundle-1.credex": b1, "with-status.credex": with_status},
        "bundle_manifest": {"manifest.credex": manifest_bundle, "bundle-0.credex": b0},
        "statement": {"statement-0.cbor": st0, "statement-1.cbor": st1},
        "receipt": {
            "receipt-0.cbor": _golden("receipt-0.cbor"),
            "receipt-1.cbor": _golden("receipt-1.cbor"),
        },
        "record": {
            "preimage-1.cbor": _golden("preimage-1.cbor"),
            "payload-0.cbor": Statement.from_bytes(st0).payload,
        },
        "evidence": {"split-view.cbor": _evidence()},
        "manifest_chain": {"chain-1.cbor": chain1, "chain-2.cbor": chain2},
        "checkpoint": notes,
        "witness": {k: b"\x00" + v for k, v in notes.items()},
        "trust_file": {"trust.json": trust},
        "trust_material": {"trust.json": trust, "chain-1.cbor": chain1},
        "policy_file": policies,
        "strict_json": {"trust.json": trust, **policies},
        "adapter_penalty_csv": {"penalties.csv": csv},
        "adapter_hk_report_json": {"reports.json": hk.encode()},
        "dates": {
            "iso.txt": b"2026-05-31",
            "slash.txt": b"2026/5/31",
            "compact.txt": b"20260531",
            "chinese.txt": "2026年5月31日".encode(),
            "unix.txt": b"1780272000",
        },
        "identifiers": {
            "uscc.txt": b"91330100MA0YX0016X",
            "hk-cr.txt": b"HK-CR:91234567",
            "hk-br.txt": b"HK-BR:91234567-000",
        },
        "grpc_log": log_requests,
        "grpc_submit": {
            "one.pb": submit_pb2.SubmitStatementsRequest(statements=[st0]).SerializeToString(),
            "registered.pb": submit_pb2.SubmitStatementsRequest(
                statements=statements(_node(), 2, seed=9)
            ).SerializeToString(),
            "envelope.pb": submit_pb2.SubmitStatementsRequest(
                statements=[st1], preimages=[_golden("preimage-1.cbor")]
            ).SerializeToString(),
        },
        "grpc_witness": {
            "add.pb": witness_pb2.AddCheckpointRequest(
                old_size=0, checkpoint=_golden("checkpoint.txt").decode()
            ).SerializeToString()
        },
        "grpc_query": {
            "org.pb": query_pb2.LookupRequest(
                subject="91330100MA0YX0016X", purpose="eligibility", authorisation="case-1"
            ).SerializeToString(),
            "person.pb": query_pb2.LookupRequest(
                subject="hmac:00000001:" + "ab" * 32, purpose="eligibility", authorisation="c:1"
            ).SerializeToString(),
        },
        "grpc_responses": responses,
    }


def main() -> None:
    all_seeds = seeds()
    assert set(all_seeds) == set(TARGETS), set(all_seeds) ^ set(TARGETS)
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    for target, files in sorted(all_seeds.items()):
        d = CORPUS / target
        d.mkdir(parents=True)
        for name, data in sorted(files.items()):
            (d / name).write_bytes(data)
    print(f"wrote {sum(len(f) for f in all_seeds.values())} seeds for {len(all_seeds)} targets")


if __name__ == "__main__":
    main()
