"""Attacks on codes, grades and purpose decisions (issue #12), each refused offline at
verification step 8 by a bank holding only the node's trust file. The forged records are
*validly signed* by a trusted issuer: only the replay catches them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import credex.adapters
from credex.ledger.bundle import Bundle
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import RuleDefinitionError
from credex.ledger.record import Record, Subject
from credex.ledger.rules import validate_rule
from credex.ledger.trust import TrustStore
from credex.ledger.verify import VerificationReport, run_verification
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import repair
from credex.node.services.rules import add_rule, log_evaluation, prepare_evaluation

RULES = Path(credex.adapters.__file__).parent / "rules"
T0 = date_to_unix(date(2026, 6, 1)) + 3600
DAY = 86_400
ORG = Subject("org", "91441300MA0YX0016F")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    home = NodeHome.init(
        tmp_path / "hz",
        region="cn-gd-huizhou",
        origin="credex.huizhou.example/log",
        db=None,
        now=T0,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )
    with LocalNode(home) as n:
        for name in ("huixinma.json", "restricted_high_consumption.json"):
            add_rule(n, json.loads((RULES / name).read_text(encoding="utf-8")), now=T0)
        yield n


def _penalty(decided: str = "2025-12-01") -> Record:
    body = {
        "decision_no": "惠市监罚〔2025〕1号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "惠州市市场监督管理局",
        "authority_uscc": "11441300MA0YX8018P",
        "severity": "一般",
    }
    return Record(
        "penalty.admin", "cn-gd-huizhou", ORG, body, date_to_unix(date.fromisoformat(decided))
    )


def _rule_leaf(node: LocalNode, name: str) -> bytes:
    from credex.node.services.rules import find_rule

    return find_rule(node, name)[1].leaf_hash


def _forge(node: LocalNode, done: Any, record: Record, now: int, **sources: Any) -> bytes:
    """Sign + log ``record`` (a forged evaluation) and bundle it like ``log_evaluation``."""
    r = node.issue([record], iat=now)[0]
    node.publish_checkpoint(now)
    own = node.bundle(r.index, now)
    bundle = Bundle(
        own.statement,
        own.checkpoint,
        sources=sources.get("sources", done.bundle.sources),
        policy=sources.get("policy", done.bundle.policy),
    )
    return bundle.to_bytes()


def _verify(node: LocalNode, data: bytes) -> VerificationReport:
    return run_verification(data, TrustStore.from_json(node.home.trust().to_json()))


def _honest(node: LocalNode, now: int) -> Any:
    prepared = prepare_evaluation(
        node, ORG, _rule_leaf(node, "HUIZHOU_HUIXINMA"), as_of=now, now=now
    )
    return log_evaluation(node, prepared, now=now)


def test_a_green_code_signed_over_an_in_force_penalty_fails_step_8(node: LocalNode) -> None:
    node.issue([_penalty()], iat=T0)
    done = _honest(node, T0 + 10)
    assert done.prepared.result == "red"
    forged = Record(
        **{
            **_fields(done.prepared.record),
            "body": {**done.prepared.record.body, "grade": "green", "because": "绿码"},
        }
    )
    report = _verify(node, _forge(node, done, forged, T0 + 20))
    assert report.failed_step == 8 and "field 'grade' does not replay" in str(report.error)
    assert _verify(node, done.bundle.to_bytes()).ok


def _fields(r: Record) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "region": r.region,
        "subject": r.subject,
        "body": dict(r.body),
        "valid_from": r.valid_from,
        "valid_until": r.valid_until,
        "refs": r.refs,
    }


def test_hiding_the_negative_evidence_fails_step_8(node: LocalNode) -> None:
    """Dropping the penalty from the bundle and its refs: the signed red code no longer
    replays (the facts say one negative record, the evidence shows none)."""
    node.issue([_penalty()], iat=T0)
    done = _honest(node, T0 + 10)
    data = Bundle.from_bytes(done.bundle.to_bytes())
    report = _verify(node, replace(data, sources=()).to_bytes())
    assert report.failed_step == 8 and "refs count" in str(report.error)


def test_an_evaluation_counting_a_repaired_record_fails_step_8(node: LocalNode) -> None:
    pen = node.issue([_penalty("2025-01-10")], iat=T0)[0]
    done = _honest(node, T0 + 10)  # red while the penalty was in force
    repair(node, pen.leaf_hash, route="终止公示", now=T0 + 100)
    # a later evaluation claiming the old red, citing the now repaired penalty
    stale = Record(
        **{
            **_fields(done.prepared.record),
            "body": {**done.prepared.record.body, "as_of": T0 + 200},
            "valid_from": T0 + 200,
            "valid_until": T0 + 200 + 30 * DAY,
        }
    )
    status_bundle = node.bundle_with_status(pen.index, T0 + 300)
    data = _forge(node, done, stale, T0 + 300, sources=(status_bundle,))
    report = _verify(node, data)
    assert report.failed_step == 8, report.error
    assert "source 0 (penalty.admin" in str(report.error)
    assert "is repaired as of its checkpoint" in str(report.error)


def test_an_evaluation_dated_after_its_signature_fails_step_8(node: LocalNode) -> None:
    done = _honest(node, T0 + 10)
    ahead = Record(
        **{
            **_fields(done.prepared.record),
            "body": {**done.prepared.record.body, "as_of": T0 + 10 * DAY},
            "valid_from": T0 + 10 * DAY,
            "valid_until": T0 + 40 * DAY,
        }
    )
    report = _verify(node, _forge(node, done, ahead, T0 + 20))
    assert report.failed_step == 8 and "after it was signed" in str(report.error)


def test_a_swapped_rule_fails_step_8(node: LocalNode) -> None:
    done = _honest(node, T0 + 10)
    other = node.bundle(node.log.index_of(_rule_leaf(node, "RESTRICTED_HIGH_CONSUMPTION")), T0)
    data = replace(Bundle.from_bytes(done.bundle.to_bytes()), policy=other).to_bytes()
    report = _verify(node, data)
    assert report.failed_step == 8 and "ref 0 (rule) does not match" in str(report.error)


def test_a_conversion_without_sources_is_still_refused(node: LocalNode) -> None:
    done = _honest(node, T0 + 10)
    rec = Record(
        "derived.score",
        "cn-gd-huizhou",
        ORG,
        {"scheme": "X", "level": "L5"},
        T0,
        refs=(done.prepared.rule_leaf,),
    )
    data = _forge(node, done, rec, T0 + 30, sources=())
    report = _verify(node, data)
    assert report.failed_step == 8 and "must carry its sources" in str(report.error)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            lambda r: r["facts"]["negative"]["count"].__setitem__("kinds", ["derived.grade"]),
            "not 'derived.grade'",
        ),
        (
            lambda r: r["facts"]["negative"]["count"].__setitem__("kinds", ["policy.rule"]),
            "not 'policy.rule'",
        ),
        (lambda r: r["decide"][0]["when"].__setitem__("value", 0.5), "floats are not allowed"),
        (
            lambda r: r["decide"][0].__setitem__(
                "when", {"fact": "__import__('os')", "op": ">", "value": 0}
            ),
            "undefined fact",
        ),
        (lambda r: r["decide"][0]["when"].__setitem__("op", "in"), "op must be one of"),
    ],
    ids=["reads-evaluations", "reads-rules", "float", "code-as-fact", "unknown-op"],
)
def test_rules_that_smuggle_code_or_other_evaluations_are_refused(patch: Any, message: str) -> None:
    value = json.loads((RULES / "huixinma.json").read_text(encoding="utf-8"))
    patch(value["rules"])
    with pytest.raises(RuleDefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_rule(value["name"], value["version"], value["rules"])
