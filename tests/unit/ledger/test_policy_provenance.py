"""Provenance carried into converted records (issue #12 point 6): a derived score from an
illustrative 天一分 is illustrative, however real the 钱江分 band it lands in looks; the
grade replays like any field; a policy that states none derives exactly as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import credex.adapters
from credex.adapters.schemes import embed_schemes
from credex.ledger.errors import DerivationMismatchError, PolicyDefinitionError
from credex.ledger.policy import apply_policy, replay, validate_policy
from credex.ledger.record import Record, Subject

POLICIES = Path(credex.adapters.__file__).parent / "policies"
PERSON = Subject("person", "hmac:0a1b2c3d:" + "cd" * 32)


def _tianyi() -> dict[str, Any]:
    value = json.loads((POLICIES / "tianyi_to_qianjiang.json").read_text(encoding="utf-8"))
    rules: dict[str, Any] = value["rules"]
    return rules


def _score(band: str = "placeholder-4") -> Record:
    body = {
        "scheme": "NINGBO_TIANYI_PLACEHOLDER",
        "score": 700,
        "band": band,
        "as_of": "2026-11-01",
    }
    return Record("score.city", "cn-zj-ningbo", PERSON, body, 1_790_000_000)


def test_a_score_converted_from_an_illustrative_scheme_is_illustrative() -> None:
    rules = embed_schemes(_tianyi())
    assert rules["schemes"]["NINGBO_TIANYI_PLACEHOLDER"]["provenance"]["grade"] == "illustrative"
    assert rules["schemes"]["HANGZHOU_QIANJIANG"]["provenance"]["grade"] == "reported"
    body = apply_policy(validate_policy(rules), _score().body)
    assert body == {
        "scheme": "HANGZHOU_QIANJIANG",
        "level": "L4",
        "band": "优秀",
        "provenance": "illustrative",
    }


def test_the_grade_replays_and_a_raised_grade_is_caught() -> None:
    policy = validate_policy(embed_schemes(_tianyi()))
    source = _score()
    body = apply_policy(policy, source.body)
    ok = Record(
        "derived.score", "cn-zj-hangzhou", PERSON, body, 1_790_000_100, refs=(b"\x01" * 32,)
    )
    replay(policy, [source], ok)
    forged = Record(
        "derived.score",
        "cn-zj-hangzhou",
        PERSON,
        {**body, "provenance": "published"},
        1_790_000_100,
        refs=(b"\x01" * 32,),
    )
    with pytest.raises(DerivationMismatchError, match="field 'provenance'"):
        replay(policy, [source], forged)


def test_the_weakest_of_policy_and_scales_wins() -> None:
    rules = embed_schemes(_tianyi())
    for s in rules["schemes"].values():
        s["provenance"] = {"grade": "published", "source": "test"}
    rules["provenance"] = {"grade": "reported", "source": "test"}
    assert apply_policy(validate_policy(rules), _score().body)["provenance"] == "reported"


def test_a_policy_without_provenance_derives_as_before() -> None:
    rules = embed_schemes(_tianyi())
    del rules["provenance"]
    rules["schemes"] = {k: {"bands": v["bands"]} for k, v in rules["schemes"].items()}
    body = apply_policy(validate_policy(rules), _score().body)
    assert "provenance" not in body


def test_bad_provenance_is_refused() -> None:
    rules = _tianyi()
    rules["provenance"] = {"grade": "official", "source": "x"}
    with pytest.raises(PolicyDefinitionError, match="grade"):
        validate_policy(embed_schemes(rules))
    rules["provenance"] = {"grade": "published"}
    with pytest.raises(PolicyDefinitionError, match="exactly grade and source"):
        validate_policy(embed_schemes(rules))


def test_the_hk_policy_says_its_names_and_rate_are_invented() -> None:
    value = json.loads((POLICIES / "hk_to_mainland.json").read_text(encoding="utf-8"))
    prov = value["rules"]["provenance"]
    assert prov["grade"] == "illustrative" and "0.92" in prov["source"]
    status = next(f for f in value["rules"]["fields"] if f["from"] == "items.status")
    assert status["enum"]["Struck Off"] != "吊销"  # removal from the register, not revocation


def test_the_demo_hk_samples_lose_no_field_to_the_policy() -> None:
    """The synthetic HK reports write the items the policy maps (``judgment_count``, not
    ``litigation_count``; ``registration_no``), so nothing is dropped silently."""
    from datetime import date

    from credex.adapters.sample_hk import hk_report_records

    value = json.loads((POLICIES / "hk_to_mainland.json").read_text(encoding="utf-8"))
    policy = validate_policy(value["rules"])
    mapped = {f["from"].removeprefix("items.") for f in value["rules"]["fields"]}
    kept = {p.removeprefix("items.") for p in value["rules"]["keep_specific"]}
    for rec in hk_report_records(5, seed=3, as_of=date(2026, 5, 31)):
        items = rec.body["items"]
        dropped = set(items) - mapped - kept - {"synthetic"}
        assert dropped == set(), dropped
        out = apply_policy(policy, rec.body)
        assert out["items"]["涉诉数量"] == items["judgment_count"]
        assert out["items"]["统一代码/登记号"] == rec.subject.id
        assert out["provenance"] == "illustrative"
