"""Index map vectors: a small log, the verifiable index's map over it, and the roots.

``index-map/index-map.json`` holds a log of 8 statements (the two golden ones, three
lifecycle statements about the golden penalty, another company's record, a repair of
that record and a person's record by another key id), each with the map inputs an
implementation must derive from its bytes (docs/spec.md §6), every ``(key, value)`` pair
after the whole log, the index root after each entry, and the lookup proofs (CBOR,
docs/index.md §3) of the golden penalty's status key and of an absent key as of the
whole log. Run ``python tests/vectors/generate_index.py`` to rewrite it;
``tests/unit/ledger/test_index_map.py`` regenerates it in memory and asserts equality.
The seeds are test keys, public on purpose.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from credex.ledger.index_map import map_input_of, map_pairs, status_key, subject_key
from credex.ledger.keys import SigningKey
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.subject import SubjectKey, person_subject_id
from credex.ledger.vindex import IndexTree, MemoryNodeStore, compute_root

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("golden_generate", HERE / "generate.py")
assert _spec and _spec.loader
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

OTHER_ORG = "91330100MA0YX0016X"


def statements() -> list[Statement]:
    issuer = SigningKey(golden.ISSUER_SEED)
    base = golden.build()
    first = [Statement.from_bytes(base[f"statement-{i}.cbor"]) for i in (0, 1)]
    penalty = first[0].leaf_hash
    org = first[0].claims.sub
    iss, iat = golden.ISS, golden.IAT

    def sign(kind: str, subject: str, body: dict[str, Any], refs: tuple[bytes, ...]) -> Statement:
        rec = Record(kind, "cn-zj-ningbo", Subject("org", subject), body, 1_790_000_000, refs=refs)
        return sign_statement(rec, iss, issuer, iat)

    red = Record(
        "list.red",
        "cn-zj-ningbo",
        Subject("org", OTHER_ORG),
        {
            "list_name": "A级纳税人",
            "authority": "国家税务总局宁波市税务局",
            "listed_on": "2026-04-01",
        },
        1_775_001_600,
    )
    red_st = sign_statement(red, iss, issuer, iat)
    skey = SubjectKey.from_secret(b"credex index vectors person key.")
    person = Record(
        "score.city",
        "cn-zj-ningbo",
        Subject("person", person_subject_id(skey, "11010519491231002X")),
        {
            "scheme": "NINGBO_TIANYI_PLACEHOLDER",
            "score": 650,
            "band": "placeholder-3",
            "as_of": "2026-11-01",
            "level": "L3",
        },
        1_793_462_400,
    )
    return [
        *first,
        sign("lifecycle.objection", org, {"raised_on": "2026-04-01"}, (penalty,)),
        sign(
            "lifecycle.objection-resolved",
            org,
            {"outcome": "UPHELD", "closed_on": "2026-04-20"},
            (penalty,),
        ),
        red_st,
        sign("lifecycle.repair", org, {"route": "general", "decided_on": "2026-10-01"}, (penalty,)),
        sign(
            "lifecycle.withdrawal",
            OTHER_ORG,
            {"reason": "entered in error", "withdrawn_on": "2026-05-01"},
            (red_st.leaf_hash,),
        ),
        sign_statement(person, iss, issuer, iat),
    ]


def build() -> dict[str, Any]:
    sts = statements()
    inputs = [map_input_of(i, st.leaf) for i, st in enumerate(sts)]
    tree = IndexTree(MemoryNodeStore())
    roots = []
    for n in range(1, len(sts) + 1):
        pairs = map_pairs(inputs[:n])
        roots.append(compute_root(pairs).hex())
    pairs = map_pairs(inputs)
    tree.apply(pairs)
    assert tree.root().hash.hex() == roots[-1]
    penalty = sts[0].leaf_hash
    return {
        "map_version": 1,
        "note": "entries: the logged statement bytes and the map inputs derived from them; "
        "pairs: the index after every entry, sorted by key; roots[n-1]: the index root "
        "after entries 0..n-1 (what a checkpoint of size n commits to)",
        "entries": [
            {
                "index": e.index,
                "leaf": st.leaf.hex(),
                "leaf_hash": e.leaf_hash.hex(),
                "kind": e.kind,
                "sub": e.subject,
                "refs0": None if e.target is None else e.target.hex(),
            }
            for e, st in zip(inputs, sts, strict=True)
        ],
        "keys": {
            "status_of_entry_0": status_key(penalty).hex(),
            "status_of_entry_4": status_key(sts[4].leaf_hash).hex(),
            "subject_of_entry_0": subject_key(sts[0].claims.sub).hex(),
            "subject_of_entry_1": subject_key(sts[1].claims.sub).hex(),
            "subject_of_entry_4": subject_key(sts[4].claims.sub).hex(),
        },
        "pairs": [[k.hex(), v.hex()] for k, v in pairs],
        "roots": roots,
        "proofs": {
            "status_of_entry_0": tree.prove(status_key(penalty)).to_bytes().hex(),
            "status_of_entry_1_absent": tree.prove(status_key(sts[1].leaf_hash)).to_bytes().hex(),
        },
    }


if __name__ == "__main__":
    target = HERE / "index-map"
    target.mkdir(exist_ok=True)
    (target / "index-map.json").write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")
