"""What the log indexes a statement by: subject, target and a penalty's decision number."""

from __future__ import annotations

from credex.ledger.indexing import decision_no_of, leaf_for, normalise_decision_no
from credex.ledger.keys import SigningKey
from credex.ledger.record import Record, Subject
from credex.ledger.record_json import json_value, record_json
from credex.ledger.statement import sign_statement

ORG = Subject("org", "91330200MA0YX20892")
PENALTY = {
    "decision_no": " 甬市监罚〔2025〕12号 ",
    "decision_date": "2025-01-02",
    "penalty_types": ["罚款"],
    "content": "罚款1万元",
    "authority": "宁波市市场监督管理局",
    "authority_uscc": "11330200MA0YX8018B",
}


def test_a_penalty_is_indexed_by_its_decision_number() -> None:
    rec = Record("penalty.admin", "cn-zj-ningbo", ORG, PENALTY, 0)
    assert (
        decision_no_of(rec)
        == "甬市监罚〔2025〕12号"
        == normalise_decision_no(" 甬市监罚〔2025〕12号\n")
    )
    st = sign_statement(rec, "cn-zj-ningbo/platform", SigningKey(bytes(32)), 5)
    leaf = leaf_for(st, b"\x01" * 32)
    assert (leaf.subject, leaf.target, leaf.decision_no) == (ORG.id, None, "甬市监罚〔2025〕12号")
    assert (leaf.kind, leaf.iat, leaf.record_hash) == ("penalty.admin", 5, b"\x01" * 32)


def test_other_kinds_and_blank_numbers_are_not() -> None:
    list_black = Record(
        "list.black",
        "cn-zj-ningbo",
        ORG,
        {"list_name": "x", "authority": "y", "listed_on": "2025-01-01", "reason": "z"},
        0,
    )
    assert decision_no_of(list_black) is None
    blank = Record("penalty.admin", "cn-zj-ningbo", ORG, {**PENALTY, "decision_no": "  "}, 0)
    assert decision_no_of(blank) is None


def test_record_json_turns_bytes_into_hex() -> None:
    rec = Record(
        "commitment",
        "cn-zj-ningbo",
        ORG,
        {"commitment_type": "t", "matter": "m", "made_on": "2026-01-01", "text_hash": b"\xab" * 4},
        7,
        9,
        (b"\x01" * 32,),
    )
    out = record_json(rec)
    assert out["body"]["text_hash"] == "abababab" and out["refs"] == ["01" * 32]
    assert (out["valid_from"], out["valid_until"], out["subject"]) == (
        7,
        9,
        {"type": "org", "id": ORG.id},
    )
    assert "body" not in record_json(rec, body=False)
    assert json_value({"a": [b"\x00", {"b": (1, "x")}]}) == {"a": ["00", {"b": [1, "x"]}]}
