"""The rule language (docs/rules.md): validation (total, known kinds and fields, no floats),
evaluation of the seeds' codes and grades, and replay (verify step 8 on records)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import credex.adapters
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import DerivationMismatchError, EvaluationError, RuleDefinitionError
from credex.ledger.record import Record, Subject
from credex.ledger.rules import (
    Evidence,
    build_evaluation_record,
    build_rule_record,
    evaluate,
    replay_evaluation,
    rule_of,
    rule_subject_id,
    validate_rule,
)

RULES = Path(credex.adapters.__file__).parent / "rules"
ORG = Subject("org", "91441300MA0YX0016F")
OTHER = Subject("org", "91441300MA0YX0024A")
AUTH = "11330200MA0YX8018B"
AS_OF = date_to_unix(date(2026, 12, 1))
DAY = 86_400


def _file(name: str) -> dict[str, Any]:
    return json.loads((RULES / name).read_text(encoding="utf-8"))


def _rule(name: str) -> Any:
    v = _file(name)
    return validate_rule(v["name"], v["version"], v["rules"])


def _leaf(tag: str) -> bytes:
    return hashlib.sha256(tag.encode()).digest()


def _penalty(day: str, subject: Subject = ORG, **extra: Any) -> Record:
    body = {
        "decision_no": f"罚{day}",
        "decision_date": day,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "示例市市场监督管理局",
        "authority_uscc": AUTH,
    } | extra
    return Record(
        "penalty.admin", "cn-zj-ningbo", subject, body, date_to_unix(date.fromisoformat(day))
    )


def _red(day: str = "2026-01-01") -> Record:
    body = {"list_name": "本市诚信企业", "authority": "示例发改局", "listed_on": day}
    return Record("list.red", "cn-gd-huizhou", ORG, body, date_to_unix(date.fromisoformat(day)))


def _rating(scheme: str, grade: str, day: str = "2026-04-01") -> Record:
    body = {"scheme": scheme, "grade": grade, "rated_on": day, "rater": "示例"}
    return Record(
        "rating.enterprise", "cn-zj-ningbo", ORG, body, date_to_unix(date.fromisoformat(day))
    )


def _ev(record: Record, tag: str, state: str = "active", outcome: str | None = None) -> Evidence:
    return Evidence(record, _leaf(tag), state, outcome)


# --- the rule files ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(RULES.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_rule_validates_and_names_its_provenance(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    rule = validate_rule(v["name"], v["version"], v["rules"])
    assert rule.provenance.grade in ("published", "reported", "illustrative")
    assert rule.decide[-1].when is None  # total: ends with otherwise
    record = build_rule_record(v["name"], v["version"], v["rules"], "cn-zj-ningbo", 1)
    assert rule_of(record).name == rule.name
    assert record.subject.id == rule_subject_id(rule.name)


def test_grades_match_the_published_rules_not_the_invented_values() -> None:
    assert _rule("huixinma.json").provenance.grade == "published"
    assert _rule("ningbo_shipping_rongque.json").provenance.grade == "published"
    # the structure of 九鼎分 and Huangpu A-D is published, their values are not
    assert _rule("jiuding.json").provenance.grade == "illustrative"
    assert _rule("huangpu.json").provenance.grade == "illustrative"


# --- validation: bad input --------------------------------------------------------------


def _bad(mutate: Any) -> str:
    v = copy.deepcopy(_file("huixinma.json"))
    mutate(v["rules"])
    with pytest.raises(RuleDefinitionError) as e:
        validate_rule(v["name"], v["version"], v["rules"])
    msg = str(e.value)
    assert msg.startswith("rule: ") and "\n" not in msg
    return msg


def test_a_rule_without_a_final_otherwise_is_not_total() -> None:
    msg = _bad(lambda r: r["decide"].pop())
    assert "not total" in msg


def test_otherwise_must_be_last() -> None:
    assert "must be the last" in _bad(lambda r: r["decide"].insert(0, r["decide"][-1]))


def test_unknown_and_unreadable_kinds_are_refused() -> None:
    assert "unknown kind 'penalty.adm'" in _bad(
        lambda r: r["facts"]["negative"]["count"].__setitem__("kinds", ["penalty.adm"])
    )
    msg = _bad(lambda r: r["facts"]["negative"]["count"].__setitem__("kinds", ["derived.score"]))
    assert "not 'derived.score'" in msg


def test_fields_must_belong_to_every_kind_named() -> None:
    msg = _bad(
        lambda r: r["facts"]["tax_a"]["count"].__setitem__(
            "kinds", ["rating.enterprise", "list.red"]
        )
    )
    assert "'scheme'" in msg and "list.red" in msg
    msg = _bad(lambda r: r["facts"]["tax_a"]["count"]["where"].__setitem__("score", "90"))
    assert "not a text or list field" in msg


def test_undefined_facts_undeclared_results_and_floats() -> None:
    assert "undefined fact 'nope'" in _bad(
        lambda r: r["decide"][0]["when"].__setitem__("fact", "nope")
    )
    assert "'purple' is not one of" in _bad(lambda r: r["decide"][0].__setitem__("then", "purple"))
    assert "floats are not allowed" in _bad(
        lambda r: r["decide"][0]["when"].__setitem__("value", 1.0)
    )
    assert "unknown fields: extra" in _bad(lambda r: r.__setitem__("extra", 1))
    assert "integer in" in _bad(lambda r: r["decide"][0]["when"].__setitem__("value", 10**9))


def test_provenance_and_result_shapes() -> None:
    assert "grade" in _bad(lambda r: r["provenance"].__setitem__("grade", "official"))
    assert "needs rules.scheme" in _bad(lambda r: r.pop("scheme"))
    v = _file("restricted_high_consumption.json")
    v["rules"]["results"] = ["allow", "deny"]
    with pytest.raises(RuleDefinitionError, match="purpose rule's results"):
        validate_rule(v["name"], v["version"], v["rules"])


def test_conditions_nest_at_most_six_levels() -> None:
    def deep(r: dict[str, Any]) -> None:
        cond = r["decide"][0]["when"]
        for _ in range(7):
            cond = {"not": cond}
        r["decide"][0]["when"] = cond

    assert "deeper than 6" in _bad(deep)


def test_names_must_be_ids() -> None:
    v = _file("huixinma.json")
    with pytest.raises(RuleDefinitionError, match="name must match"):
        validate_rule("惠信码", 1, v["rules"])
    with pytest.raises(RuleDefinitionError, match="version"):
        validate_rule("X", 0, v["rules"])


# --- evaluation -------------------------------------------------------------------------


def test_huixinma_green_blue_red() -> None:
    rule = _rule("huixinma.json")
    assert evaluate(rule, ORG, [], AS_OF).result == "blue"
    green = evaluate(rule, ORG, [_ev(_red(), "r"), _ev(_rating("TAX_NSXY", "A"), "t")], AS_OF)
    assert green.result == "green" and green.facts["red_list"] == 1 and green.facts["tax_a"] == 1
    red = evaluate(rule, ORG, [_ev(_red(), "r"), _ev(_penalty("2026-10-01"), "p")], AS_OF)
    assert red.result == "red" and red.because.startswith("红码")


def test_records_not_in_force_do_not_count() -> None:
    rule = _rule("huixinma.json")
    repaired = _ev(_penalty("2026-10-01"), "p", state="repaired")
    assert evaluate(rule, ORG, [repaired], AS_OF).result == "blue"
    later = _ev(_penalty("2026-12-20"), "q")  # valid from after the evaluation time
    assert evaluate(rule, ORG, [later], AS_OF).result == "blue"
    tax_b = _ev(_rating("TAX_NSXY", "B"), "t")  # not an honour
    assert evaluate(rule, ORG, [tax_b], AS_OF).result == "blue"


def test_jiuding_points_and_the_b_to_c_downgrade_after_a_year() -> None:
    rule = _rule("jiuding.json")
    assert evaluate(rule, ORG, [], AS_OF).result == "A"  # base 80
    fresh = [_ev(_penalty("2026-06-01"), "p")]
    b = evaluate(rule, ORG, fresh, AS_OF)
    assert (b.result, b.facts["points"]) == ("B", 68)
    old = [_ev(_penalty("2025-11-30"), "p")]  # 366 days before AS_OF, never corrected
    c = evaluate(rule, ORG, old, AS_OF)
    assert c.result == "C" and c.facts["uncorrected_days"] == 366 and "一年后" in c.because
    just = [_ev(_penalty("2025-12-01"), "p")]  # exactly 365 days: the year is up
    assert evaluate(rule, ORG, just, AS_OF).result == "C"
    not_yet = [_ev(_penalty("2025-12-02"), "p")]
    assert evaluate(rule, ORG, not_yet, AS_OF).result == "B"
    honours = [_ev(_red(), "r1"), _ev(_red("2026-02-01"), "r2"), _ev(_rating("TAX_NSXY", "A"), "t")]
    assert evaluate(rule, ORG, honours, AS_OF).facts["points"] == 95  # caps: 2 red lists, 1 A


def test_points_are_clamped_and_capped() -> None:
    rule = _rule("jiuding.json")
    many = [_ev(_penalty(f"2026-0{m}-01"), f"p{m}") for m in range(1, 8)]
    assert evaluate(rule, ORG, many, AS_OF).facts["points"] == 80 - 3 * 12  # cap 3
    court = Record(
        "court.dishonest-debtor",
        "cn-zj-ningbo",
        ORG,
        {
            "court": "示例法院",
            "case_no": "执1号",
            "filed_on": "2026-01-01",
            "listed_on": "2026-02-01",
        },
        date_to_unix(date(2026, 2, 1)),
    )
    lists = [_ev(court, f"c{i}") for i in range(3)]
    assert evaluate(rule, ORG, lists, AS_OF).facts["points"] == 0  # clamped at min


def test_rank_takes_the_latest_record() -> None:
    rule = _rule("ningbo_shipping_rongque.json")
    older = _ev(_rating("NINGBO_SHIPPING", "C", "2025-03-01"), "old")
    newer = _ev(_rating("NINGBO_SHIPPING", "B", "2026-03-01"), "new")
    assert evaluate(rule, ORG, [older, newer], AS_OF).result == "allow"
    assert evaluate(rule, ORG, [newer, older], AS_OF).result == "allow"
    assert evaluate(rule, ORG, [older], AS_OF).result == "deny"
    none = evaluate(rule, ORG, [], AS_OF)
    assert none.result == "deny" and "no shipping credit grade" in none.because
    odd = _ev(_rating("NINGBO_SHIPPING", "Z"), "z")  # unknown grade ranks 0
    assert evaluate(rule, ORG, [odd], AS_OF).facts["shipping"] == 0


def test_commitment_outcome_selector() -> None:
    v = _file("huixinma.json")
    v["rules"]["facts"]["breached"] = {"count": {"kinds": ["commitment"], "outcome": "BREACHED"}}
    v["rules"]["decide"].insert(
        0,
        {
            "when": {"fact": "breached", "op": ">=", "value": 1},
            "then": "red",
            "because": "breached a commitment",
        },
    )
    rule = validate_rule(v["name"], v["version"], v["rules"])
    body = {"commitment_type": "容缺受理", "matter": "补证", "made_on": "2026-10-01"}
    c = Record("commitment", "cn-zj-ningbo", ORG, body, date_to_unix(date(2026, 10, 1)))
    assert evaluate(rule, ORG, [_ev(c, "c", outcome="BREACHED")], AS_OF).result == "red"
    assert evaluate(rule, ORG, [_ev(c, "c", outcome="KEPT")], AS_OF).result == "blue"
    with pytest.raises(RuleDefinitionError, match="outcome applies to commitment"):
        v["rules"]["facts"]["bad"] = {"count": {"kinds": ["list.red"], "outcome": "KEPT"}}
        validate_rule(v["name"], v["version"], v["rules"])


def test_evaluation_refuses_evidence_that_does_not_fit() -> None:
    rule = _rule("huixinma.json")
    with pytest.raises(EvaluationError, match="another subject"):
        evaluate(rule, ORG, [_ev(_penalty("2026-01-01", OTHER), "p")], AS_OF)
    with pytest.raises(EvaluationError, match="given twice"):
        evaluate(rule, ORG, [_ev(_red(), "r"), _ev(_red(), "r")], AS_OF)
    score = Record(
        "score.city",
        "cn-zj-ningbo",
        ORG,
        {"scheme": "X", "score": 1, "band": "b", "as_of": "2026-01-01"},
        0,
    )
    with pytest.raises(EvaluationError, match="does not read"):
        evaluate(rule, ORG, [_ev(score, "s")], AS_OF)
    with pytest.raises(EvaluationError, match="for person subjects"):
        evaluate(_rule("deposit_free.json"), ORG, [], AS_OF)


_KINDS = st.sampled_from(["penalty", "red", "tax_a", "tax_b", "ship_b", "ship_c"])
_STATES = st.sampled_from(["active", "active", "repaired", "expired", "under-objection"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_KINDS, _STATES, st.integers(0, 800)), max_size=12))
def test_every_rule_is_total_over_any_evidence(items: list[tuple[str, str, int]]) -> None:
    make = {
        "penalty": lambda d: _penalty(d),
        "red": lambda d: _red(d),
        "tax_a": lambda d: _rating("TAX_NSXY", "A", d),
        "tax_b": lambda d: _rating("TAX_NSXY", "B", d),
        "ship_b": lambda d: _rating("NINGBO_SHIPPING", "B", d),
        "ship_c": lambda d: _rating("NINGBO_SHIPPING", "C", d),
    }
    evidence = []
    for i, (kind, state, back) in enumerate(items):
        day = date.fromordinal(date(2026, 12, 1).toordinal() - back).isoformat()
        evidence.append(_ev(make[kind](day), f"{i}", state))
    for name in (
        "huixinma.json",
        "jiuding.json",
        "huangpu.json",
        "ningbo_port.json",
        "huangpu_policy_funds.json",
        "ningbo_shipping_rongque.json",
        "commitment_gate.json",
    ):
        rule = _rule(name)
        usable = [e for e in evidence if e.record.kind in rule.kinds]
        got = evaluate(rule, ORG, usable, AS_OF)
        assert got.result in rule.results
        assert evaluate(rule, ORG, list(reversed(usable)), AS_OF) == got  # order-free


# --- the derived record and its replay --------------------------------------------------


def _evaluation(name: str, evidence: list[Evidence]) -> tuple[Any, Record]:
    rule = _rule(name)
    rec = build_evaluation_record(rule, _leaf("rule"), ORG, evidence, AS_OF, "cn-gd-huizhou")
    return rule, rec


def test_the_evaluation_record_replays() -> None:
    evidence = [_ev(_red(), "r"), _ev(_rating("TAX_NSXY", "A"), "t")]
    rule, rec = _evaluation("huixinma.json", evidence)
    assert rec.kind == "derived.grade" and rec.body["grade"] == "green"
    assert rec.body["provenance"] == "published" and rec.body["as_of"] == AS_OF
    assert rec.refs == (_leaf("r"), _leaf("t"), _leaf("rule"))
    assert (rec.valid_from, rec.valid_until) == (AS_OF, AS_OF + 30 * DAY)
    replay_evaluation(rule, rec, evidence, AS_OF + 60)


def _tampered(rec: Record, **body: Any) -> Record:
    return Record(
        rec.kind,
        rec.region,
        rec.subject,
        {**rec.body, **body},
        rec.valid_from,
        rec.valid_until,
        rec.refs,
    )


def test_a_wrong_grade_or_fact_is_named() -> None:
    evidence = [_ev(_penalty("2026-10-01"), "p")]
    rule, rec = _evaluation("huixinma.json", evidence)
    with pytest.raises(DerivationMismatchError, match="field 'grade'"):
        replay_evaluation(rule, _tampered(rec, grade="green"), evidence, AS_OF)
    with pytest.raises(DerivationMismatchError, match=r"field 'facts\.negative'"):
        replay_evaluation(
            rule, _tampered(rec, facts={**rec.body["facts"], "negative": 0}), evidence, AS_OF
        )
    with pytest.raises(DerivationMismatchError, match="field 'provenance'"):
        replay_evaluation(rule, _tampered(rec, provenance="published "), evidence, AS_OF)


def test_omitting_in_force_evidence_changes_the_result_and_fails() -> None:
    evidence = [_ev(_penalty("2026-10-01"), "p")]
    rule, rec = _evaluation("huixinma.json", evidence)
    with pytest.raises(DerivationMismatchError):
        replay_evaluation(rule, rec, [], AS_OF)


def test_evidence_not_in_force_or_a_future_as_of_fails() -> None:
    evidence = [_ev(_penalty("2026-10-01"), "p")]
    rule, rec = _evaluation("huixinma.json", evidence)
    repaired = [_ev(_penalty("2026-10-01"), "p", state="repaired")]
    with pytest.raises(DerivationMismatchError, match="not in force"):
        replay_evaluation(rule, rec, repaired, AS_OF)
    with pytest.raises(DerivationMismatchError, match="after it was signed"):
        replay_evaluation(rule, rec, evidence, AS_OF - 1)
    later = Record(
        rec.kind, rec.region, rec.subject, rec.body, rec.valid_from, rec.valid_until + 1, rec.refs
    )
    with pytest.raises(DerivationMismatchError, match="valid_until"):
        replay_evaluation(rule, later, evidence, AS_OF)
    with pytest.raises(EvaluationError, match="not in force"):
        build_evaluation_record(rule, _leaf("rule"), ORG, repaired, AS_OF, "cn-gd-huizhou")
