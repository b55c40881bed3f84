"""The JSON API against its OpenAPI document: docs/openapi.json is the app's current
document (regenerate: python scripts/gen_openapi.py), and schemathesis, driven by the
document, sends generated requests (valid and not) to a real served node and checks every
answer: no 5xx, a documented status and content type, a body matching its schema. Bounded
examples per operation, so the run stays well under a minute."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from credex.node.local import LocalNode
from credex.node.services.lifecycle import repair

from .nodes import T0, issue_penalties, issue_scores, make_home, served

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from gen_openapi import openapi_text  # noqa: E402


def test_committed_openapi_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_text(), "docs/openapi.json is stale: python scripts/gen_openapi.py"


def test_no_person_body_field_in_the_document() -> None:
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert "preimage" not in json.dumps(doc)
    assert "422" not in json.dumps(doc["paths"])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = make_home(tmp_path_factory.mktemp("api") / "home")
    with LocalNode(home) as node:
        issue_penalties(node, 3)
        issue_scores(node, 2)
        repair(node, node.log.entry(0).leaf_hash, route="fine paid", now=T0)
        node.publish_checkpoint(T0)
        issue_penalties(node, 2, seed=1)
        node.publish_checkpoint(T0 + 60)
        with served(node) as s:
            yield s.url


def test_every_operation_answers_as_documented(base_url: str) -> None:
    schema = schemathesis.openapi.from_dict(json.loads(openapi_text()))
    # tile paths hold slashes, which no generated path parameter does: the tiles have
    # their own tests (test_tiles.py: golang.org/x/mod's tlog, the grammar, the limits)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path != "/tile/{path}"]
    assert len(operations) >= 15
    seen: dict[str, set[int]] = {}
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    runs = [
        (op, mode)
        for op in operations
        for mode in modes
        if mode is GenerationMode.POSITIVE or op.definition.raw.get("parameters")
    ]
    for op, mode in runs:

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(base_url=base_url, timeout=30)
            assert response.status_code < 500, response.text
            # an organisation id's check character (GB 32100) is beyond any schema: a
            # schema-valid subject may still be malformed (400)
            subject = "{subject}" in case.operation.path
            case.validate_response(
                response, excluded_checks=[positive_data_acceptance] if subject else None
            )
            seen.setdefault(case.operation.label, set()).add(response.status_code)

        check()
    assert seen["GET /api/v1/log"] == {200}
    assert 400 in seen["GET /api/v1/reports/subject/{subject}"]
    assert 400 in seen["GET /api/v1/proofs/inclusion"] | seen["GET /api/v1/entries/{index}"]
