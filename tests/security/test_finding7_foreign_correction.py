"""Finding 7: foreign correction.

Any trusted issuer could void another region's record: it objected to the record, then
resolved its own objection as ``CORRECTED``. Repairs needed the finding issuer or a
delegation; objections, resolutions and withdrawals did not follow the same rule. Now one
authority rule applies to every status-changing statement (objection, resolution, repair,
withdrawal, commitment outcome): it counts only when signed by the issuer of the record,
or by an issuer a manifest delegation of the record's region authorises for its kind at
the statement's time — in ``validate_lifecycle`` (a node refuses to log it) and in
``status_at`` (a verifier or a node ignores it, with the reason).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from credex.ledger.errors import UnauthorisedLifecycleError
from credex.ledger.lifecycle import status_at, validate_lifecycle
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.verify import run_verification
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle, status_of

from .support import T0, db_of, make_home

DAY = 86_400
FOREIGN = "cn-zj-hangzhou/platform"
COMPANY = Subject("org", "91330100MA0YX0016X")


def _penalty(region: str) -> Record:
    body: dict[str, object] = {
        "decision_no": "甬市监罚〔2026〕7号",
        "decision_date": "2026-05-10",
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", region, COMPANY, body, T0 - 20 * DAY)


def _foreign(home: NodeHome, target: Statement, kind: str, body: dict, iat: int) -> Statement:
    """A lifecycle statement about Ningbo's record signed by Hangzhou's platform key."""
    rec = Record(kind, "cn-zj-hangzhou", COMPANY, body, iat, refs=(target.leaf_hash,))
    key = home.issuer_signing_key(FOREIGN, kind, iat)
    return sign_statement(rec, FOREIGN, key, iat)


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    h = make_home(tmp_path / "ningbo", db=db_of(store_url))
    # Hangzhou's platform key is trusted here (a federation member), with no delegation
    h.add_issuer(
        FOREIGN,
        [
            "lifecycle.objection",
            "lifecycle.objection-resolved",
            "lifecycle.withdrawal",
            "lifecycle.repair",
        ],
        valid_from=0,
        valid_until=None,
    )
    return h


OBJECTION = {"raised_on": "2026-06-01"}
CORRECTED = {"outcome": "CORRECTED", "closed_on": "2026-06-01"}


def test_a_foreign_objection_and_correction_do_not_change_the_status(home: NodeHome) -> None:
    with LocalNode(home) as node:
        [r] = node.issue([_penalty(home.region)], iat=T0 - 20 * DAY)
        target = node.statement_at(r.index)
        obj = _foreign(home, target, "lifecycle.objection", OBJECTION, T0)
        res = _foreign(home, target, "lifecycle.objection-resolved", CORRECTED, T0 + 1)
        # the rules refuse both before logging ...
        with pytest.raises(UnauthorisedLifecycleError, match="only the issuer that made"):
            validate_lifecycle(target, obj)
        with pytest.raises(UnauthorisedLifecycleError):
            validate_lifecycle(target, res, prior=[obj])
        for kind, body in (
            ("lifecycle.withdrawal", {"reason": "x", "withdrawn_on": "2026-06-01"}),
            ("lifecycle.repair", {"route": "x", "decided_on": "2026-06-01"}),
        ):
            with pytest.raises(UnauthorisedLifecycleError):
                validate_lifecycle(target, _foreign(home, target, kind, body, T0))
        # ... and a log that holds them anyway (an attacker's, or one logged before this
        # rule) changes nothing: the record stays active, the two are listed as ignored
        node.append([obj, res])
        st = status_at(target, [obj, res], T0 + DAY)
        assert st.state == "active" and st.usable_for["punitive"]
        assert len(st.ignored) == 2 and all(FOREIGN in why for why in st.ignored)
        assert status_of(node, target.leaf_hash, T0 + DAY)[1].state == "active"
        # a bank verifying the record's bundle (which carries both) sees it active
        data = node.bundle_with_status(r.index, T0 + DAY, with_body=True).to_bytes()
        report = run_verification(data, home.trust())
        assert report.ok and report.status == "active", report.to_json_value()


def test_bad_input_a_foreign_objection_is_refused_and_nothing_stored(home: NodeHome) -> None:
    with LocalNode(home) as node:
        [r] = node.issue([_penalty(home.region)], iat=T0 - 20 * DAY)
        size = node.log.size
        with pytest.raises(UnauthorisedLifecycleError) as e:
            add_lifecycle(
                node, r.leaf_hash, "lifecycle.objection", OBJECTION, issuer_id=FOREIGN, now=T0
            )
        assert "\n" not in str(e.value) and e.value.code == "lifecycle_unauthorised"
        assert node.log.size == size  # bad input: nothing stored
        # the record's own issuer may object and correct it
        add_lifecycle(node, r.leaf_hash, "lifecycle.objection", OBJECTION, now=T0)
        add_lifecycle(node, r.leaf_hash, "lifecycle.objection-resolved", CORRECTED, now=T0 + 1)
        assert status_of(node, r.leaf_hash, T0 + 2)[1].state == "corrected"
