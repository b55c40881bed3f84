"""Golden vectors: credex statements, receipts, checkpoints and bundles from fixed keys.

Other implementations can check their encoders and verifiers against these files, the
interoperability contract of FORMATS.md version 1. Statement 1 (a person's score) is an
RFC 9995 hash envelope: ``preimage-1.cbor`` is its body, and ``bundle-1.credex`` carries
it under the bundle's optional ``preimage`` key. Run ``python tests/vectors/generate.py``
to rewrite them; ``tests/unit/ledger/test_golden.py`` regenerates them in memory and
asserts byte equality. The seeds below are test keys, public on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.subject import SubjectKey, person_subject_id
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustedWitness, TrustStore

HERE = Path(__file__).resolve().parent
ISSUER_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
LOG_SEED = bytes(range(32))
WITNESS_SEED = bytes(range(32, 64))
SUBJECT_SECRET = b"credex golden subject key v1...."
ORIGIN = "golden.credex.example/log"
ISS = "cn-zj-ningbo/platform"
IAT = 1_790_000_000


def build() -> dict[str, bytes]:
    issuer, log, witness = SigningKey(ISSUER_SEED), SigningKey(LOG_SEED), SigningKey(WITNESS_SEED)
    skey = SubjectKey.from_secret(SUBJECT_SECRET)
    records = [
        Record(
            "penalty.admin",
            "cn-zj-ningbo",
            Subject("org", "91330200MA0YX00163"),
            {
                "decision_no": "甬市监罚〔2026〕1号",
                "decision_date": "2026-03-14",
                "penalty_types": ["警告", "罚款"],
                "content": "罚款人民币五千元",
                "authority": "宁波市市场监督管理局",
                "authority_uscc": "11330200MA0YX0091P",
                "fine_wan": "0.5",
            },
            1_773_417_600,
            1_868_112_000,
        ),
        Record(
            "score.city",
            "cn-zj-ningbo",
            Subject("person", person_subject_id(skey, "11010519491231002X")),
            {
                "scheme": "NINGBO_TIANYI_PLACEHOLDER",
                "score": 700,
                "band": "placeholder-4",
                "as_of": "2026-11-01",
                "level": "L4",
            },
            1_793_462_400,
            1_796_140_800,
        ),
    ]
    statements = [sign_statement(r, ISS, issuer, IAT) for r in records]
    tree = MerkleTree()
    for st in statements:
        tree.append_hash(st.leaf_hash)
    root = tree.root()
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, root), ORIGIN, log)
    note = note.with_signature(cosign_checkpoint(note, "golden.witness.example", witness, IAT))
    out: dict[str, bytes] = {"checkpoint.txt": note.to_text().encode()}
    for i, st in enumerate(statements):
        receipt = build_receipt(log, tree.size, i, tree.inclusion_proof(i), root)
        out[f"statement-{i}.cbor"] = st.leaf
        out[f"receipt-{i}.cbor"] = receipt.to_bytes()
        out[f"bundle-{i}.credex"] = Bundle(
            st.with_receipts([receipt.to_bytes()]).to_bytes(), note.to_text(), preimage=st.preimage
        ).to_bytes()
        if st.preimage is not None:  # a person's record: an RFC 9995 hash envelope
            out[f"preimage-{i}.cbor"] = st.preimage
    trust = TrustStore(
        (TrustedLog(ORIGIN, ORIGIN, log.public_key),),
        (
            TrustedIssuer(
                ISS,
                "cn-zj-ningbo",
                issuer.public_key,
                0,
                None,
                frozenset(["penalty.admin", "score.city"]),
            ),
        ),
        (TrustedWitness("golden.witness.example", witness.public_key),),
        1,
    )
    out["trust.json"] = trust.to_json().encode()
    index: dict[str, Any] = {
        "tree_size": tree.size,
        "root": root.hex(),
        "leaf_hashes": [st.leaf_hash.hex() for st in statements],
        "hash_envelopes": [i for i, st in enumerate(statements) if st.is_envelope],
        "issuer_public_key": issuer.public_key.hex(),
        "log_public_key": log.public_key.hex(),
    }
    out["index.json"] = (json.dumps(index, indent=2) + "\n").encode()
    return out


if __name__ == "__main__":
    target = HERE / "golden"
    target.mkdir(exist_ok=True)
    for name, data in build().items():
        (target / name).write_bytes(data)
