"""Derived records: build under a signed policy, verify refs and replay (step 8)."""

from __future__ import annotations

from typing import Any

import pytest

from credex.ledger.derive import build_derived_record, verify_derivation
from credex.ledger.keys import SigningKey
from credex.ledger.policy import (
    ConversionError,
    DerivationMismatchError,
    PolicyDefinitionError,
    build_policy_record,
)
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement

KEY = SigningKey(bytes(range(32)))
PERSON = Subject("person", "hmac:0badc0de:" + "ab" * 32)
NOW = 1_775_000_000
TIANYI = {
    "bands": [
        {"name": f"t{i + 1}", "level": f"L{i + 1}", "lo": lo, "hi": hi}
        for i, (lo, hi) in enumerate(((0, 399), (400, 549), (550, 649), (650, 799), (800, 1000)))
    ]
}
RULES: dict[str, Any] = {
    "type": "band_table",
    "source_scheme": "NINGBO_TIANYI",
    "table": {"t1": "L1", "t2": "L2", "t3": "L3", "t4": "L4", "t5": "L5"},
    "schemes": {"NINGBO_TIANYI": TIANYI},
}


def _sign(record: Record, iss: str = "cn-zj-ningbo") -> Statement:
    return sign_statement(record, iss, KEY, NOW)


def _source(score: int = 700, band: str = "t4") -> Statement:
    body = {"scheme": "NINGBO_TIANYI", "score": score, "band": band, "as_of": "2026-03-01"}
    return _sign(Record("score.city", "cn-zj-ningbo", PERSON, body, NOW - 100, NOW + 1000))


def _policy(rules: dict[str, Any] = RULES) -> Statement:
    return _sign(build_policy_record("tianyi-levels", 1, rules, "cn-zj-hangzhou", NOW - 50))


def _derived(src: Statement, pol: Statement) -> Record:
    return build_derived_record(
        pol.record, pol.leaf_hash, [(src.record, src.leaf_hash)], "cn-zj-hangzhou", NOW
    )


def test_build_and_verify() -> None:
    src, pol = _source(), _policy()
    rec = _derived(src, pol)
    assert rec.kind == "derived.score"
    assert rec.refs == (src.leaf_hash, pol.leaf_hash)  # sources first, policy last
    assert rec.subject == PERSON
    assert (rec.valid_from, rec.valid_until) == (NOW, NOW + 1000)
    assert dict(rec.body) == {"scheme": "COMMON_LEVEL", "level": "L4"}
    verify_derivation(rec, [src], pol)
    # survives the round trip through a signed statement (a person's record: a hash
    # envelope, so the body travels beside it)
    signed = _sign(rec, "cn-zj-hangzhou")
    assert signed.preimage is not None
    parsed = Statement.from_bytes(signed.to_bytes()).with_preimage(signed.preimage)
    verify_derivation(parsed.record, [src], pol)


def test_tampered_derived_value_names_the_field() -> None:
    src, pol = _source(), _policy()
    rec = _derived(src, pol)
    tampered = Record(
        rec.kind,
        rec.region,
        rec.subject,
        {**rec.body, "level": "L5"},
        rec.valid_from,
        rec.valid_until,
        rec.refs,
    )
    with pytest.raises(
        DerivationMismatchError,
        match="derivation: field 'level' does not replay",
    ):
        verify_derivation(tampered, [src], pol)


def _with_refs(rec: Record, refs: tuple[bytes, ...]) -> Record:
    return Record(
        rec.kind, rec.region, rec.subject, rec.body, rec.valid_from, rec.valid_until, refs
    )


def test_refs_must_match_the_statements_in_order() -> None:
    src, pol = _source(), _policy()
    rec = _derived(src, pol)
    with pytest.raises(DerivationMismatchError, match=r"ref 0 \(source 0\) does not match"):
        verify_derivation(_with_refs(rec, (pol.leaf_hash, src.leaf_hash)), [src], pol)
    with pytest.raises(DerivationMismatchError, match=r"ref 1 \(policy\) does not match"):
        verify_derivation(_with_refs(rec, (src.leaf_hash, b"\0" * 32)), [src], pol)
    with pytest.raises(DerivationMismatchError, match=r"refs count: expected 2 .*, got 1"):
        verify_derivation(_with_refs(rec, (src.leaf_hash,)), [src], pol)
    other = _source(650, "t4")
    with pytest.raises(DerivationMismatchError, match=r"ref 0 \(source 0\) does not match"):
        verify_derivation(rec, [other], pol)


def test_policy_statement_must_be_a_policy() -> None:
    src, pol = _source(), _policy()
    rec = _derived(src, pol)
    with pytest.raises(
        DerivationMismatchError,
        match=r"policy statement kind: expected 'policy\.conversion', got 'score\.city'",
    ):
        verify_derivation(_with_refs(rec, (src.leaf_hash, src.leaf_hash)), [src], src)
    with pytest.raises(DerivationMismatchError, match=r"not a derived record: kind 'score\.city'"):
        verify_derivation(src.record, [src], pol)


def test_a_signed_but_invalid_policy_is_refused_at_verification() -> None:
    src, pol = _source(), _policy()
    bad_rules = {**RULES, "table": {**RULES["table"], "t5": "L3"}}
    bad = _sign(
        Record(
            "policy.conversion",
            "cn-zj-hangzhou",
            pol.record.subject,
            {"name": "x", "version": 1, "rules": bad_rules},
            NOW,
        )
    )
    rec = _with_refs(_derived(src, pol), (src.leaf_hash, bad.leaf_hash))
    with pytest.raises(PolicyDefinitionError, match="band_table is not monotonic: 't4' -> L4"):
        verify_derivation(rec, [src], bad)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not-policy", "policy record kind: expected 'policy.conversion', got 'score.city'"),
        ("two-sources", "expected exactly 1 source record, got 2"),
        ("expired", f"source record expired: valid until {NOW + 1000}, now {NOW + 1001}"),
        ("wrong-kind", "source kind not converted by this policy"),
    ],
)
def test_build_refuses(case: str, message: str) -> None:
    src, pol = _source(), _policy()
    pairs = [(src.record, src.leaf_hash)]
    policy_record, now = pol.record, NOW
    if case == "not-policy":
        policy_record = src.record
    elif case == "two-sources":
        pairs = pairs * 2
    elif case == "expired":
        now = NOW + 1001
    else:
        pairs = [(pol.record, pol.leaf_hash)]
    with pytest.raises(ConversionError, match=message):
        build_derived_record(policy_record, pol.leaf_hash, pairs, "cn-zj-hangzhou", now)


def test_hk_report_conversion_end_to_end() -> None:
    rules = {
        "type": "field_map",
        "source_kind": "report.hk",
        "format": "cn-enterprise-report/1",
        "fields": [
            {"from": "company_name", "to": "企业名称", "type": "text"},
            {"from": "items.status", "to": "经营状态", "type": "enum", "enum": {"Live": "存续"}},
        ],
        "keep_specific": ["items.directors"],
    }
    body = {
        "agency": "Example Agency",
        "report_id": "SYN-1",
        "report_date": "2026-03-01",
        "company_name": "Example Trading (HK) Ltd",
        "items": {"status": "Live", "directors": ["陳**"]},
    }
    src = _sign(Record("report.hk", "hk", Subject("org", "HK-CR:91234567"), body, NOW - 10), "hk")
    pol = _policy(rules)
    rec = build_derived_record(
        pol.record, pol.leaf_hash, [(src.record, src.leaf_hash)], "cn-gd-qianhai", NOW
    )
    assert rec.kind == "derived.report" and rec.valid_until is None
    assert rec.body["items"] == {
        "企业名称": "Example Trading (HK) Ltd",
        "经营状态": "存续",
        "specific": {"items.directors": ["陳**"]},
    }
    verify_derivation(rec, [src], pol)
